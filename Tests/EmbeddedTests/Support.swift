@testable import Embedded
import Fleet
import PortConformance
import Foundation

/// A fresh directory under the system temp directory, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let path: String

    init(_ label: String = #function) throws {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        path = (NSTemporaryDirectory() as NSString)
            .appendingPathComponent("refvision-embedded-\(safe.prefix(40))-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func sub(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension EmbeddedState {
    func queue(named name: String, _ options: QueueOptions) throws -> SQLiteQueue {
        try queue(named: name, visibilityTimeout: options.visibilityTimeout, maxReceiveCount: options.maxReceiveCount,
                  deadLetterQueue: options.deadLetterQueue)
    }
}
