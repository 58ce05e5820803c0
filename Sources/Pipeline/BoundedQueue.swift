import CThreadSched
import Foundation

/// A blocking FIFO of bounded capacity between two threads. `push` waits while full, `pop` waits
/// while empty and returns nil once the queue is closed and drained. Closing wakes everyone.
/// A ring buffer: a popped slot is released at once, so at most `capacity` items are ever held.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var slots: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false

    init(capacity: Int) { slots = Array(repeating: nil, count: max(1, capacity)) }

    /// Returns false when the queue was closed (the consumer gave up) and the item was dropped.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == slots.count && !closed { condition.wait() }
        guard !closed else { return false }
        slots[(head + count) % slots.count] = item
        count += 1
        condition.broadcast()
        return true
    }

    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed { condition.wait() }
        guard count > 0 else { return nil }
        let item = slots[head]
        slots[head] = nil
        head = (head + 1) % slots.count
        count -= 1
        condition.broadcast()
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Runs `body` on a new thread; `join()` waits for it to end.
final class Worker: @unchecked Sendable {
    /// How the thread competes for the CPU with the process's other threads.
    enum Priority: Sendable {
        case normal
        /// Work that may wait, beside work that is the critical path (the replay drawn while inference
        /// runs): the thread runs at nice `backgroundNice`, so the scheduler gives it the CPU the
        /// normal threads leave (the inference threads' waits and serial parts) and otherwise lets it
        /// queue instead of sharing a core evenly with them; and, where the kernel allows it (Linux
        /// 6.12+), with a time slice of `backgroundSlice` instead of the default (0.75–3 ms), so that
        /// an inference thread that wakes takes the core back within a tenth of a millisecond rather
        /// than waiting for the slice to run out while its partner spins at the barrier (docs/replay.md).
        /// Linux only; elsewhere like `normal`.
        case background
    }

    /// The nice value of a `.background` thread (CFS weight about a tenth of a nice-0 thread's).
    static let backgroundNice: Int32 = 10
    /// The time slice of a `.background` thread, in nanoseconds (the shortest the kernel accepts).
    static let backgroundSlice: UInt64 = 100_000

    private let done = DispatchSemaphore(value: 0)
    private let kernelID = LockedBox<Int32?>(nil)

    /// The thread's kernel id (Linux), once it has started; nil before (and off Linux, -1).
    var threadID: Int32? { kernelID.value }

    /// `body` and everything it captures is released before `join()` returns: what it owned (an
    /// open file, say) is gone by then, not whenever the thread finally exits.
    init(name: String, priority: Priority = .normal, _ body: @escaping @Sendable () -> Void) {
        let work = LockedBox<(@Sendable () -> Void)?>(body)
        let thread = Thread { [done, kernelID] in
            if priority == .background { Self.lowerOwnPriority() }
            kernelID.value = refv_thread_id()
            var run = work.withLock { w in defer { w = nil }; return w }
            run?()
            run = nil
            done.signal()
        }
        thread.name = name
        thread.stackSize = 4 << 20
        thread.start()
    }

    /// Raises the calling thread's nice value to `backgroundNice` and, where the kernel accepts a
    /// custom slice for SCHED_OTHER, shortens its slice to `backgroundSlice` (one `sched_setattr`);
    /// elsewhere only the nice value changes (`setpriority`: on Linux the nice value belongs to the
    /// thread, and `PRIO_PROCESS` with id 0 names the calling thread). Never lowers the nice value; a
    /// failure (a sandbox without the calls) leaves the thread as it was. Returns whether the slice
    /// was set.
    @discardableResult
    static func lowerOwnPriority() -> Bool {
        #if os(Linux)
        errno = 0
        let current = currentNice()
        guard errno == 0 && current < backgroundNice else { return false }
        if refv_set_thread_sched(backgroundNice, backgroundSlice) == 0 { return true }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, backgroundNice)
        #endif
        return false
    }

    #if os(Linux)
    /// The calling thread's nice value (-1 with `errno` set on failure, as `getpriority`).
    static func currentNice() -> Int32 { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
    #endif

    func join() { done.wait() }
}

/// Time spent busy in one stage.
struct StageClock: Sendable {
    /// Wall time in `measure`.
    private(set) var seconds = 0.0
    /// CPU time of the measuring thread in `measure`: what the work costs, without the time a
    /// thread of background priority spends preempted.
    private(set) var cpuSeconds = 0.0
    private(set) var count = 0
    /// CPU seconds per `measure`; NaN before the first.
    var cpuSecondsPerCall: Double { count > 0 ? cpuSeconds / Double(count) : .nan }

    mutating func measure<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = Self.threadCPUSeconds()
        defer {
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            cpuSeconds += Self.threadCPUSeconds() - cpuStart
            count += 1
        }
        return try body()
    }

    private static func threadCPUSeconds() -> Double {
        var t = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0 else { return 0 }
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
