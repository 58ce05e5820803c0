import Fleet
import Foundation
import Testing

/// The `ObjectStore` behaviour every implementation must have (S3's).
public struct ObjectStoreConformance: Sendable {
    /// A store and an existing, empty bucket.
    public let make: @Sendable () async throws -> (store: any ObjectStore, bucket: String)
    /// A local directory for source and destination files.
    let scratch: String

    public init(make: @escaping @Sendable () async throws -> (store: any ObjectStore, bucket: String), scratch: String) {
        self.make = make
        self.scratch = scratch
    }

    public func file(_ name: String, _ content: Data) throws -> String {
        let path = (scratch as NSString).appendingPathComponent(name)
        try content.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Keys that are awkward but legal everywhere: spaces, unicode, `+`, `%`, `#`, parentheses.
    static let awkwardKeys = [
        "plain.mp4",
        "meet 2026/squat attempt 1.mp4",
        "unicodé/ñandú/日本語 ファイル.mp4",
        "a+b/c%20d.mp4",
        "flight#2 (final)/bench=1&x=2.mov",
    ]

    public func roundTripAwkwardKeys() async throws {
        let (store, bucket) = try await make()
        for (index, key) in Self.awkwardKeys.enumerated() {
            let content = Data("content \(index) of \(key)".utf8)
            let source = try file("source-\(index)", content)
            try await store.upload(file: source, bucket: bucket, key: key, contentType: "video/mp4",
                                   metadata: ["Athlete": "Ana N", "attempt": "\(index)"])
            let head = try await store.head(bucket: bucket, key: key)
            #expect(head.key == key && head.bucket == bucket)
            #expect(head.size == Int64(content.count))
            #expect(head.contentType == "video/mp4")
            #expect(head.metadata == ["athlete": "Ana N", "attempt": "\(index)"])
            #expect(head.eTag?.isEmpty == false)
            #expect(head.lastModified != nil)
            let destination = (scratch as NSString).appendingPathComponent("downloaded-\(index)")
            let downloaded = try await store.download(bucket: bucket, key: key, to: destination)
            #expect(try Data(contentsOf: URL(fileURLWithPath: destination)) == content)
            #expect(downloaded.eTag == head.eTag)
            #expect(downloaded.size == head.size)
        }
        let listed = try await store.list(bucket: bucket, prefix: "")
        #expect(listed.map(\.key) == Self.awkwardKeys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(listed.allSatisfy { $0.eTag?.isEmpty == false })
    }

    public func missingObject() async throws {
        let (store, bucket) = try await make()
        await #expect(throws: FleetError.objectNotFound(bucket: bucket, key: "nope.mp4")) {
            _ = try await store.head(bucket: bucket, key: "nope.mp4")
        }
        let destination = (scratch as NSString).appendingPathComponent("never")
        await #expect(throws: FleetError.objectNotFound(bucket: bucket, key: "dir/nope.mp4")) {
            _ = try await store.download(bucket: bucket, key: "dir/nope.mp4", to: destination)
        }
        #expect(!FileManager.default.fileExists(atPath: destination))
    }

    public func listPrefixInKeyOrder() async throws {
        let (store, bucket) = try await make()
        let keys = ["b/2", "a/1", "a/10", "a/2", "a.txt", "ab", "a-b/x"]
        let source = try file("small", Data("x".utf8))
        for key in keys {
            try await store.upload(file: source, bucket: bucket, key: key, contentType: "text/plain", metadata: [:])
        }
        #expect(try await store.list(bucket: bucket, prefix: "a").map(\.key) == ["a-b/x", "a.txt", "a/1", "a/10", "a/2", "ab"])
        #expect(try await store.list(bucket: bucket, prefix: "a/").map(\.key) == ["a/1", "a/10", "a/2"])
        #expect(try await store.list(bucket: bucket, prefix: "a/1").map(\.key) == ["a/1", "a/10"])
        #expect(try await store.list(bucket: bucket, prefix: "zzz").isEmpty)
        #expect(try await store.list(bucket: bucket, prefix: "").count == keys.count)
    }

    public func eTagFollowsContent() async throws {
        let (store, bucket) = try await make()
        let first = try file("one", Data("first content".utf8))
        let second = try file("two", Data("second content".utf8))
        try await store.upload(file: first, bucket: bucket, key: "clip.mp4", contentType: "video/mp4", metadata: [:])
        let a = try await store.head(bucket: bucket, key: "clip.mp4")
        #expect(try await store.head(bucket: bucket, key: "clip.mp4").eTag == a.eTag)
        try await store.upload(file: second, bucket: bucket, key: "clip.mp4", contentType: "video/mp4", metadata: [:])
        let b = try await store.head(bucket: bucket, key: "clip.mp4")
        #expect(b.eTag != a.eTag)
        try await store.upload(file: first, bucket: bucket, key: "other.mp4", contentType: "video/mp4", metadata: [:])
        #expect(try await store.head(bucket: bucket, key: "other.mp4").eTag == a.eTag)
    }
}
