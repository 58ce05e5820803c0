import Foundation
import Testing
@testable import Pipeline

@Suite("The queue between pipeline stages")
struct BoundedQueueTests {
    final class Tracked: @unchecked Sendable {
        static let lock = NSLock()
        nonisolated(unsafe) static var alive = 0
        init() { Self.lock.lock(); Self.alive += 1; Self.lock.unlock() }
        deinit { Self.lock.lock(); Self.alive -= 1; Self.lock.unlock() }
    }

    @Test("FIFO order across threads, everything delivered, then nil after close")
    func order() {
        let q = BoundedQueue<Int>(capacity: 3)
        let producer = Worker(name: "producer") {
            for i in 0..<1000 { q.push(i) }
            q.close()
        }
        var got: [Int] = []
        while let v = q.pop() { got.append(v) }
        producer.join()
        #expect(got == Array(0..<1000))
        #expect(q.pop() == nil)
    }

    @Test("popped items are released at once: memory stays bounded by the capacity")
    func releasesPopped() {
        let q = BoundedQueue<Tracked>(capacity: 4)
        for _ in 0..<100 {
            q.push(Tracked())
            _ = q.pop()
        }
        #expect(Tracked.alive == 0)
        q.push(Tracked())
        q.push(Tracked())
        #expect(Tracked.alive == 2)
        q.close()
        while q.pop() != nil {}
        #expect(Tracked.alive == 0)
    }

    @Test("closing wakes a blocked producer, whose item is refused")
    func closeWakesProducer() {
        let q = BoundedQueue<Int>(capacity: 1)
        q.push(1)
        let refused = LockedBox(false)
        let producer = Worker(name: "blocked") { refused.value = !q.push(2) }
        Thread.sleep(forTimeInterval: 0.05)
        q.close()
        producer.join()
        #expect(refused.value)
    }
}
