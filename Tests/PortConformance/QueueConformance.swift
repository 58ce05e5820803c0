import Fleet
import Foundation
import Testing

/// What a queue factory is asked for. `deadLetterQueue` is a logical name that the factory created
/// earlier (a factory for a shared service maps names to unique ones).
public struct QueueOptions: Sendable {
    public var visibilityTimeout = 30
    public var maxReceiveCount: Int? = nil
    public var deadLetterQueue: String? = nil

    public init(visibilityTimeout: Int = 30, maxReceiveCount: Int? = nil, deadLetterQueue: String? = nil) {
        self.visibilityTimeout = visibilityTimeout
        self.maxReceiveCount = maxReceiveCount
        self.deadLetterQueue = deadLetterQueue
    }
}

/// The `JobQueue` behaviour every implementation must have (SQS's), as plain functions that @Test
/// functions call with a factory. Implementation-specific choices (what a stale receipt handle does to
/// the message, which error `changeVisibility` throws) are tested next to each implementation.
public struct QueueConformance: Sendable {
    /// A new, empty queue with this (logical, unique per test) name.
    public let make: @Sendable (_ name: String, _ options: QueueOptions) async throws -> any JobQueue
    /// Another handle on the same queue (same options) through a separate connection / client, as
    /// another process would have.
    public let reopen: @Sendable (_ name: String, _ options: QueueOptions) async throws -> any JobQueue

    public init(make: @escaping @Sendable (_ name: String, _ options: QueueOptions) async throws -> any JobQueue,
                reopen: @escaping @Sendable (_ name: String, _ options: QueueOptions) async throws -> any JobQueue) {
        self.make = make
        self.reopen = reopen
    }

    public static func uniqueName(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8))" }

    public func sendReceiveDelete() async throws {
        let queue = try await make(Self.uniqueName("roundtrip"), QueueOptions())
        let before = Date()
        let failures = try await queue.send([OutgoingMessage(id: "a", body: "{\"hello\":\"wörld\"}",
                                                             attributes: ["kind": "job", "trace": "t-1"])])
        #expect(failures.isEmpty)
        let received = try await queue.receive(maxMessages: 10, waitSeconds: 0, visibilityTimeout: nil)
        try #require(received.count == 1)
        let message = received[0]
        #expect(message.body == "{\"hello\":\"wörld\"}")
        #expect(message.attributes == ["kind": "job", "trace": "t-1"])
        #expect(message.receiveCount == 1)
        #expect(!message.messageId.isEmpty && !message.receiptHandle.isEmpty)
        #expect(abs(message.sentAt.timeIntervalSince(before)) < 5)
        #expect(try await queue.receive(maxMessages: 10, waitSeconds: 0, visibilityTimeout: nil).isEmpty)
        try await queue.delete(receiptHandle: message.receiptHandle)
        #expect(try await queue.depth() == QueueDepth(visible: 0, inFlight: 0, delayed: 0))
        // Deleting again is not an error.
        try await queue.delete(receiptHandle: message.receiptHandle)
    }

    public func batchLimits() async throws {
        let queue = try await make(Self.uniqueName("batch"), QueueOptions())
        let ten = (0..<10).map { OutgoingMessage(id: "m\($0)", body: "body \($0)") }
        #expect(try await queue.send(ten).isEmpty)
        let eleven = (0..<11).map { OutgoingMessage(id: "m\($0)", body: "body \($0)") }
        await #expect(throws: (any Error).self) { _ = try await queue.send(eleven) }
        await #expect(throws: (any Error).self) { _ = try await queue.send([]) }
        await #expect(throws: (any Error).self) {
            _ = try await queue.send([OutgoingMessage(id: "x", body: "1"), OutgoingMessage(id: "x", body: "2")])
        }
        var bodies: Set<String> = []
        var handles: [(id: String, receiptHandle: String)] = []
        for _ in 0..<5 where bodies.count < 10 {
            for message in try await queue.receive(maxMessages: 10, waitSeconds: 1, visibilityTimeout: nil) {
                bodies.insert(message.body)
                handles.append((id: "d\(handles.count)", receiptHandle: message.receiptHandle))
            }
        }
        #expect(bodies == Set((0..<10).map { "body \($0)" }))
        #expect(try await queue.deleteBatch(handles).isEmpty)
        #expect(try await queue.depth().total == 0)
    }

    public func oversizeBodyFailsAlone() async throws {
        let queue = try await make(Self.uniqueName("oversize"), QueueOptions())
        let limit = String(repeating: "x", count: maximumMessageBytes)
        let over = String(repeating: "y", count: maximumMessageBytes + 1)
        let failures = try await queue.send([
            OutgoingMessage(id: "big", body: over),
            OutgoingMessage(id: "ok", body: "small"),
        ])
        #expect(failures.map(\.id) == ["big"])
        #expect(failures.first?.senderFault == true)
        #expect(try await queue.send([OutgoingMessage(id: "limit", body: limit)]).isEmpty)
        let received = try await queue.receive(maxMessages: 10, waitSeconds: 1, visibilityTimeout: nil)
        #expect(Set(received.map(\.body.utf8.count)) == [5, maximumMessageBytes])
    }

    public func visibilityTimeoutRedelivers() async throws {
        let queue = try await make(Self.uniqueName("visibility"), QueueOptions(visibilityTimeout: 1))
        try await queue.send(body: "again")
        let first = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil)
        try #require(first.count == 1)
        #expect(try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil).isEmpty)
        #expect(try await queue.depth() == QueueDepth(visible: 0, inFlight: 1, delayed: 0))
        try await Task.sleep(for: .milliseconds(1300))
        let second = try await queue.receive(maxMessages: 1, waitSeconds: 2, visibilityTimeout: nil)
        try #require(second.count == 1)
        #expect(second[0].messageId == first[0].messageId)
        #expect(second[0].receiveCount == 2)
        #expect(second[0].receiptHandle != first[0].receiptHandle)
        #expect(second[0].sentAt == first[0].sentAt)
    }

    public func changeVisibilityZeroMakesVisible() async throws {
        let queue = try await make(Self.uniqueName("changevis"), QueueOptions(visibilityTimeout: 600))
        try await queue.send(body: "m")
        let first = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil)
        try #require(first.count == 1)
        try await queue.changeVisibility(receiptHandle: first[0].receiptHandle, seconds: 0)
        let second = try await queue.receive(maxMessages: 1, waitSeconds: 1, visibilityTimeout: nil)
        try #require(second.count == 1)
        #expect(second[0].receiveCount == 2)
        // Extending the current receive works; out-of-range seconds are rejected.
        try await queue.changeVisibility(receiptHandle: second[0].receiptHandle, seconds: 300)
        #expect(try await queue.depth().inFlight == 1)
        await #expect(throws: (any Error).self) {
            try await queue.changeVisibility(receiptHandle: second[0].receiptHandle, seconds: 43_201)
        }
    }

    public func longPollReturnsWhenAnotherConnectionSends() async throws {
        let name = Self.uniqueName("longpoll")
        let queue = try await make(name, QueueOptions())
        let other = try await reopen(name, QueueOptions())
        let start = ContinuousClock.now
        let waiter = Task { try await queue.receive(maxMessages: 1, waitSeconds: 10, visibilityTimeout: nil) }
        try await Task.sleep(for: .milliseconds(500))
        try await other.send(body: "wake up")
        let received = try await waiter.value
        let elapsed = ContinuousClock.now - start
        #expect(received.map(\.body) == ["wake up"])
        #expect(elapsed >= .milliseconds(450))
        #expect(elapsed < .seconds(4), "long poll should end soon after the send, took \(elapsed)")
    }

    public func longPollWaitsWhenEmpty() async throws {
        let queue = try await make(Self.uniqueName("empty"), QueueOptions())
        let start = ContinuousClock.now
        let received = try await queue.receive(maxMessages: 1, waitSeconds: 1, visibilityTimeout: nil)
        let elapsed = ContinuousClock.now - start
        #expect(received.isEmpty)
        #expect(elapsed >= .milliseconds(950))
        #expect(elapsed < .seconds(5))
    }

    /// Cancelling the task ends a long poll promptly (with CancellationError or an empty result).
    public func longPollCancellation() async throws {
        let queue = try await make(Self.uniqueName("cancel"), QueueOptions())
        let start = ContinuousClock.now
        let waiter = Task { try await queue.receive(maxMessages: 1, waitSeconds: 20, visibilityTimeout: nil) }
        try await Task.sleep(for: .milliseconds(300))
        waiter.cancel()
        let result = await waiter.result
        let elapsed = ContinuousClock.now - start
        if case .success(let messages) = result { #expect(messages.isEmpty) }
        #expect(elapsed < .seconds(3), "cancelled long poll took \(elapsed)")
    }

    public func redriveToDeadLetterQueue() async throws {
        let dlqName = Self.uniqueName("dlq")
        let dlq = try await make(dlqName, QueueOptions())
        let queue = try await make(Self.uniqueName("redrive"),
                                   QueueOptions(visibilityTimeout: 30, maxReceiveCount: 2, deadLetterQueue: dlqName))
        try await queue.send(body: "poison", attributes: ["jobId": "j1"])
        var ids: Set<String> = []
        for expected in 1...2 {
            let received = try await queue.receive(maxMessages: 1, waitSeconds: 2, visibilityTimeout: 0)
            try #require(received.count == 1)
            #expect(received[0].receiveCount == expected)
            ids.insert(received[0].messageId)
        }
        let sent = try #require(ids.first)
        // The third receive moves it to the dead-letter queue instead of delivering it.
        #expect(try await queue.receive(maxMessages: 1, waitSeconds: 1, visibilityTimeout: 0).isEmpty)
        #expect(try await queue.depth().total == 0)
        let dead = try await dlq.receive(maxMessages: 1, waitSeconds: 2, visibilityTimeout: nil)
        try #require(dead.count == 1)
        #expect(dead[0].messageId == sent)
        #expect(dead[0].body == "poison")
        #expect(dead[0].attributes == ["jobId": "j1"])
        // SQS (moto) carries the receive count over into the DLQ; the embedded queue restarts it. Both
        // count this receive.
        #expect(dead[0].receiveCount >= 1)
    }

    /// Deleting with a handle from an earlier receive never throws (what happens to the message is
    /// implementation-defined); deleting with the current handle deletes.
    public func staleDeleteIsHarmless() async throws {
        let queue = try await make(Self.uniqueName("stale"), QueueOptions())
        try await queue.send(body: "m")
        let first = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: 0)
        try #require(first.count == 1)
        let second = try await queue.receive(maxMessages: 1, waitSeconds: 1, visibilityTimeout: 60)
        try #require(second.count == 1)
        try await queue.delete(receiptHandle: first[0].receiptHandle)
        try await queue.delete(receiptHandle: second[0].receiptHandle)
        #expect(try await queue.depth().total == 0)
    }

    public func depthCounts() async throws {
        let queue = try await make(Self.uniqueName("depth"), QueueOptions())
        #expect(try await queue.send([
            OutgoingMessage(id: "1", body: "a"),
            OutgoingMessage(id: "2", body: "b"),
            OutgoingMessage(id: "3", body: "c", delaySeconds: 120),
        ]).isEmpty)
        #expect(try await queue.depth() == QueueDepth(visible: 2, inFlight: 0, delayed: 1))
        let received = try await queue.receive(maxMessages: 1, waitSeconds: 0, visibilityTimeout: nil)
        #expect(received.count == 1)
        #expect(try await queue.depth() == QueueDepth(visible: 1, inFlight: 1, delayed: 1))
    }

    /// Several receivers over two connections: every message is delivered, and — where the queue promises
    /// it (`exactlyOnce`, the embedded queue) — exactly once while invisible. SQS standard queues promise
    /// at-least-once only: a message can come twice even while invisible (moto shows it under load).
    public func concurrentReceiversGetEachMessageOnce(exactlyOnce: Bool = true) async throws {
        let name = Self.uniqueName("concurrent")
        let queue = try await make(name, QueueOptions(visibilityTimeout: 120))
        let other = try await reopen(name, QueueOptions(visibilityTimeout: 120))
        for batch in 0..<5 {
            let messages = (0..<10).map { OutgoingMessage(id: "\($0)", body: "message \(batch * 10 + $0)") }
            #expect(try await queue.send(messages).isEmpty)
        }
        let receivers = [queue, other, queue, other]
        let bodies = try await withThrowingTaskGroup(of: [String].self) { group in
            for receiver in receivers {
                group.addTask {
                    var mine: [String] = []
                    var emptyInARow = 0
                    while emptyInARow < 2 {
                        let received = try await receiver.receive(maxMessages: 3, waitSeconds: 0, visibilityTimeout: nil)
                        if received.isEmpty { emptyInARow += 1 } else { emptyInARow = 0 }
                        mine += received.map(\.body)
                    }
                    return mine
                }
            }
            var all: [String] = []
            for try await part in group { all += part }
            return all
        }
        if exactlyOnce {
            #expect(bodies.count == 50)
        } else {
            #expect(bodies.count >= 50)
        }
        #expect(Set(bodies).count == 50)
        #expect(try await queue.depth() == QueueDepth(visible: 0, inFlight: 50, delayed: 0))
    }

    public func rejectsOutOfRangeArguments() async throws {
        let queue = try await make(Self.uniqueName("args"), QueueOptions())
        await #expect(throws: (any Error).self) { _ = try await queue.receive(maxMessages: 0, waitSeconds: 0, visibilityTimeout: nil) }
        await #expect(throws: (any Error).self) { _ = try await queue.receive(maxMessages: 11, waitSeconds: 0, visibilityTimeout: nil) }
        await #expect(throws: (any Error).self) { _ = try await queue.receive(maxMessages: 1, waitSeconds: 21, visibilityTimeout: nil) }
    }
}
