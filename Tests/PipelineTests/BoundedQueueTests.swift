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

    /// Sets its flag when released.
    final class Owned: @unchecked Sendable {
        let released: LockedBox<Bool>
        init(_ released: LockedBox<Bool>) { self.released = released }
        deinit { released.value = true }
    }

    @Test("what a worker's work captured is released before join returns, not when the thread exits")
    func releasesWorkBeforeJoin() {
        // Busy threads on every core and the worker at background priority: a worker that still held
        // its work after signalling would, most rounds, be waiting for a core when `join` returns.
        let stop = LockedBox(false)
        let hogs = (0..<ProcessInfo.processInfo.activeProcessorCount).map { i in
            Worker(name: "hog-\(i)") { while !stop.value {} }
        }
        defer {
            stop.value = true
            hogs.forEach { $0.join() }
        }
        var held: [Int] = []
        for round in 0..<50 {
            let released = LockedBox(false)
            let worker: Worker = {
                let owned = Owned(released)
                return Worker(name: "owner", priority: .background) { withExtendedLifetime(owned) {} }
            }()
            worker.join()
            if !released.value { held.append(round) }
        }
        #expect(held.isEmpty, "still held after join in rounds \(held)")
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
