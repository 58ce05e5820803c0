import Fleet
import Foundation
import Testing

/// The `DecisionStore` behaviour every implementation must have (DynamoDB-style conditional writes).
public struct DecisionStoreConformance: Sendable {
    public let make: @Sendable () async throws -> any DecisionStore

    public init(make: @escaping @Sendable () async throws -> any DecisionStore) { self.make = make }

    /// Dates with whole milliseconds (what the stores keep).
    public static func date(_ offset: Double) -> Date {
        Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + offset) * 1000).rounded(.down) / 1000)
    }

    public static func record(key: String = UUID().uuidString, meet: String? = nil, created: Date = date(0)) -> DecisionRecord {
        let job = JobMessage(bucket: "raw", key: "\(key).mp4", version: "etag-\(key)", size: 1234, lift: "squat",
                             meet: meet, athlete: "Ana", attempt: 1, source: "submit", createdAt: created)
        return DecisionRecord(job: job, now: created)
    }

    public func createIsConditional() async throws {
        let store = try await make()
        var record = Self.record()
        #expect(try await store.create(record))
        record.state = .failed
        #expect(try await store.create(record) == false)
        let stored = try #require(try await store.get(jobId: record.jobId))
        #expect(stored.state == .queued)
        #expect(stored.revision == 0)
        record.state = .queued
        #expect(stored == record)
        #expect(try await store.get(jobId: "no-such-job") == nil)
    }

    public func updateIsConditional() async throws {
        let store = try await make()
        let record = Self.record()
        #expect(try await store.create(record))
        var next = record
        next.state = .processing
        next.lease = "worker-1"
        next.leaseUntil = Self.date(60)
        next.attempts = 1
        try await store.update(next, expectedRevision: 0)
        let stored = try #require(try await store.get(jobId: record.jobId))
        #expect(stored.revision == 1)
        #expect(stored.state == .processing && stored.lease == "worker-1" && stored.leaseUntil == next.leaseUntil)
        var late = record
        late.state = .judged
        await #expect(throws: FleetError.self) { try await store.update(late, expectedRevision: 0) }
        #expect(try await store.get(jobId: record.jobId)?.state == .processing)
        var missing = Self.record()
        missing.state = .judged
        await #expect(throws: FleetError.self) { try await store.update(missing, expectedRevision: 0) }
    }

    /// `modify` from several tasks at once: every increment lands exactly once.
    public func concurrentModifyIncrementsExactly(stores: Int = 1) async throws {
        let handles = try await (0..<max(1, stores)).asyncMap { _ in try await make() }
        let record = Self.record()
        #expect(try await handles[0].create(record))
        let tasks = 6, increments = 5
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<tasks {
                let store = handles[index % handles.count]
                group.addTask {
                    for _ in 0..<increments {
                        try await store.modify(jobId: record.jobId, attempts: 1000) { current in
                            var next = current
                            next.attempts += 1
                            return next
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let stored = try #require(try await handles[0].get(jobId: record.jobId))
        #expect(stored.attempts == tasks * increments)
        #expect(stored.revision == tasks * increments)
    }

    public func listNewestFirstAndByMeet() async throws {
        let store = try await make()
        let meetA = "meet-a-\(UUID().uuidString.prefix(6))", meetB = "meet-b-\(UUID().uuidString.prefix(6))"
        var records: [DecisionRecord] = []
        for index in 0..<6 {
            let record = Self.record(meet: index.isMultiple(of: 2) ? meetA : meetB, created: Self.date(Double(index)))
            records.append(record)
            #expect(try await store.create(record))
        }
        let newestFirst = records.reversed().map(\.jobId)
        let all = try await store.list(meet: nil, limit: 1000).map(\.jobId).filter { newestFirst.contains($0) }
        #expect(all == newestFirst)
        #expect(try await store.list(meet: meetA, limit: 10).map(\.jobId) == records.filter { $0.meet == meetA }.reversed().map(\.jobId))
        #expect(try await store.list(meet: meetB, limit: 2).map(\.jobId) == [records[5].jobId, records[3].jobId])
    }
}

extension Sequence {
    public func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
