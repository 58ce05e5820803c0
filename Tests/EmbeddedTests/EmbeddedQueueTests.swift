@testable import Embedded
import Fleet
import PortConformance
import Foundation
import Testing

/// The queue conformance suite on `SQLiteQueue`, plus the embedded-only behaviour.
@Suite struct EmbeddedQueueTests {
    /// Every queue of a test lives in one data directory; `reopen` opens a second `EmbeddedState` (its
    /// own connections) on the same file, as another process would.
    static func conformance(in directory: TemporaryDirectory) throws -> QueueConformance {
        let state = try EmbeddedState(directory: directory.path)
        return QueueConformance(
            make: { name, options in try state.queue(named: name, options) },
            reopen: { name, options in try EmbeddedState(directory: directory.path).queue(named: name, options) })
    }

    static func run(_ test: (QueueConformance) async throws -> Void, _ label: String = #function) async throws {
        let directory = try TemporaryDirectory(label)
        defer { directory.remove() }
        try await test(try conformance(in: directory))
    }

    @Test func sendReceiveDelete() async throws { try await Self.run { try await $0.sendReceiveDelete() } }
    @Test func batchLimits() async throws { try await Self.run { try await $0.batchLimits() } }
    @Test func oversizeBodyFailsAlone() async throws { try await Self.run { try await $0.oversizeBodyFailsAlone() } }
    @Test func visibilityTimeoutRedelivers() async throws { try await Self.run { try await $0.visibilityTimeoutRedelivers() } }
    @Test func changeVisibilityZeroMakesVisible() async throws { try await Self.run { try await $0.changeVisibilityZeroMakesVisible() } }
    @Test func longPollReturnsWhenAnotherConnectionSends() async throws {
        try await Self.run { try await $0.longPollReturnsWhenAnotherConnectionSends() }
    }
    @Test func longPollWaitsWhenEmpty() async throws { try await Self.run { try await $0.longPollWaitsWhenEmpty() } }
    @Test func longPollCancellation() async throws { try await Self.run { try await $0.longPollCancellation() } }
    @Test func redriveToDeadLetterQueue() async throws { try await Self.run { try await $0.redriveToDeadLetterQueue() } }
    @Test func staleDeleteIsHarmless() async throws { try await Self.run { try await $0.staleDeleteIsHarmless() } }
    @Test func depthCounts() async throws { try await Self.run { try await $0.depthCounts() } }
    @Test func concurrentReceiversGetEachMessageOnce() async throws {
        try await Self.run { try await $0.concurrentReceiversGetEachMessageOnce() }
    }
    @Test func rejectsOutOfRangeArguments() async throws { try await Self.run { try await $0.rejectsOutOfRangeArguments() } }

    // MARK: - Embedded choices

    @Test func staleHandleDeletesNothingAndCannotChangeVisibility() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let queue = try EmbeddedState(directory: directory.path).queue(named: "jobs")
        try await queue.send(body: "m")
        let first = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: 0)
        let second = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: 60)
        try #require(first.count == 1 && second.count == 1)
        try await queue.delete(receiptHandle: first[0].receiptHandle)
        try await queue.delete(receiptHandle: "never-issued")
        #expect(try await queue.depth() == QueueDepth(visible: 0, inFlight: 1, delayed: 0))
        await #expect(throws: EmbeddedError.receiptHandleInvalid(first[0].receiptHandle)) {
            try await queue.changeVisibility(receiptHandle: first[0].receiptHandle, seconds: 0)
        }
        await #expect(throws: EmbeddedError.receiptHandleInvalid("never-issued")) {
            try await queue.changeVisibility(receiptHandle: "never-issued", seconds: 0)
        }
        #expect(try await queue.deleteBatch([(id: "a", receiptHandle: first[0].receiptHandle),
                                             (id: "b", receiptHandle: second[0].receiptHandle)]).isEmpty)
        #expect(try await queue.depth().total == 0)
    }

    @Test func handleOfAnotherQueueDoesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        let jobs = try state.queue(named: "jobs"), results = try state.queue(named: "results")
        try await jobs.send(body: "m")
        let received = try await jobs.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil)
        try await results.delete(receiptHandle: received[0].receiptHandle)
        #expect(try await jobs.depth().inFlight == 1)
    }

    @Test func invalidEntriesFailAlone() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let queue = try EmbeddedState(directory: directory.path).queue(named: "jobs")
        let failures = try await queue.send([
            OutgoingMessage(id: "empty", body: ""),
            OutgoingMessage(id: "control", body: "bell \u{07}"),
            OutgoingMessage(id: "delay", body: "x", delaySeconds: 901),
            OutgoingMessage(id: "ok", body: "fine\ttab\nnewline"),
        ])
        #expect(failures.map(\.id) == ["empty", "control", "delay"])
        #expect(failures.allSatisfy { $0.senderFault })
        #expect(try await queue.depth().visible == 1)
    }

    @Test func peekMessagePurgeAndQueueNames() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        let queue = try state.queue(named: "jobs", visibilityTimeout: 30, maxReceiveCount: 3, deadLetterQueue: "jobs-dlq")
        #expect(try state.queueNames() == ["jobs", "jobs-dlq"])
        #expect(try await queue.send((0..<3).map { OutgoingMessage(id: "\($0)", body: "m\($0)", attributes: ["n": "\($0)"]) }).isEmpty)
        let peeked = try queue.peek(limit: 2)
        #expect(peeked.map(\.body) == ["m0", "m1"])
        #expect(peeked.allSatisfy { $0.receiptHandle.isEmpty && $0.receiveCount == 0 })
        #expect(try await queue.depth().visible == 3)  // peeking receives nothing
        let received = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil)
        #expect(received.map(\.body) == ["m0"])
        let byId = try #require(try queue.message(id: received[0].messageId))
        #expect(byId.receiveCount == 1 && byId.attributes == ["n": "0"])
        #expect(try state.queue(named: "jobs-dlq").message(id: received[0].messageId) == nil)
        try queue.purge()
        #expect(try await queue.depth().total == 0)
        #expect(try queue.peek(limit: 10).isEmpty)
    }

    @Test func settingsAreUpdatedAndSharedAcrossHandles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        let old = try state.queue(named: "jobs", visibilityTimeout: 600)
        _ = try EmbeddedState(directory: directory.path).queue(named: "jobs", visibilityTimeout: 0)
        try await old.send(body: "m")
        // The handle vended with 600 s receives with the row's current setting (0 s): visible again at once.
        #expect(try await old.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil).count == 1)
        #expect(try await old.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil).first?.receiveCount == 2)
        #expect(throws: EmbeddedError.self) { _ = try state.queue(named: "bad name!") }
        #expect(throws: EmbeddedError.self) { _ = try state.queue(named: "q", visibilityTimeout: 43_201) }
        #expect(throws: EmbeddedError.self) { _ = try state.queue(named: "q", deadLetterQueue: "q") }
    }

    @Test func delayedMessageBecomesVisible() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let queue = try EmbeddedState(directory: directory.path).queue(named: "jobs")
        try await queue.send(body: "later", delaySeconds: 1)
        #expect(try await queue.depth() == QueueDepth(visible: 0, inFlight: 0, delayed: 1))
        #expect(try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil).isEmpty)
        let received = try await queue.receive(maxMessages: 1, waitSeconds: 3, visibilityTimeout: nil)
        #expect(received.map(\.body) == ["later"])
    }

    @Test func receiveFillsBatchPastRedrivenMessages() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = try EmbeddedState(directory: directory.path)
        let queue = try state.queue(named: "jobs", visibilityTimeout: 30, maxReceiveCount: 1, deadLetterQueue: "dead")
        try await queue.send(body: "poison")
        _ = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: 0)
        #expect(try await queue.send([OutgoingMessage(id: "1", body: "a"), OutgoingMessage(id: "2", body: "b")]).isEmpty)
        let received = try await queue.receive(maxMessages: 2, waitSeconds: 0, visibilityTimeout: nil)
        #expect(received.map(\.body) == ["a", "b"])
        #expect(try state.queue(named: "dead").peek(limit: 10).map(\.body) == ["poison"])
    }
}
