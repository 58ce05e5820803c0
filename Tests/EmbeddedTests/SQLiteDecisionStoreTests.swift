@testable import Embedded
import Fleet
import PortConformance
import Foundation
import Testing

@Suite struct SQLiteDecisionStoreTests {
    static func run(_ test: (DecisionStoreConformance) async throws -> Void, _ label: String = #function) async throws {
        let directory = try TemporaryDirectory(label)
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        try await test(DecisionStoreConformance(make: { state.decisions }))
    }

    @Test func createIsConditional() async throws { try await Self.run { try await $0.createIsConditional() } }
    @Test func updateIsConditional() async throws { try await Self.run { try await $0.updateIsConditional() } }
    @Test func concurrentModifyIncrementsExactly() async throws {
        try await Self.run { try await $0.concurrentModifyIncrementsExactly() }
    }
    @Test func listNewestFirstAndByMeet() async throws { try await Self.run { try await $0.listNewestFirstAndByMeet() } }

    /// The same, with writers on two `EmbeddedState`s (separate connections) of one file.
    @Test func concurrentModifyAcrossConnections() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let conformance = DecisionStoreConformance(make: { try EmbeddedState(directory: directory.path).decisions })
        try await conformance.concurrentModifyIncrementsExactly(stores: 2)
    }

    @Test func revisionColumnIsAuthoritativeAndRecordRoundTrips() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        let store = state.decisions
        var record = DecisionStoreConformance.record(meet: "nationals")
        record.revision = 7  // ignored by create
        #expect(try await store.create(record))
        var next = try #require(try await store.get(jobId: record.jobId))
        #expect(next.revision == 0)
        next.state = .judged
        next.decision = "good_lift"
        next.reason = "depth ok, lockout ok"
        next.verdict = #"{"decision":"good_lift"}"#
        next.resultSentAt = DecisionStoreConformance.date(1)
        try await store.update(next, expectedRevision: 0)
        let stored = try #require(try await store.get(jobId: record.jobId))
        next.revision = 1
        #expect(stored == next)
        #expect(try await store.countsByState() == [.judged: 1])
    }
}
