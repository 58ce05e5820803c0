import Foundation
import Media
import Testing
@testable import Pipeline

#if os(Linux)
@Suite("Worker threads' priority")
struct WorkerPriorityTests {
    /// Runs `body` on a worker of `priority` and returns the nice value it saw.
    private func nice(on priority: Worker.Priority) -> Int32 {
        let seen = LockedBox<Int32>(-100)
        let w = Worker(name: "nice-probe", priority: priority) { seen.value = Worker.currentNice() }
        w.join()
        return seen.value
    }

    @Test("a background worker runs at nice 10; a normal one and the caller keep the caller's nice value")
    func background() {
        let before = Worker.currentNice()
        #expect(nice(on: .normal) == before)
        #expect(nice(on: .background) == max(before, Worker.backgroundNice))
        // Only the worker's own thread changed.
        #expect(Worker.currentNice() == before)
        #expect(nice(on: .normal) == before)
    }

    @Test("the replay drawn after inference keeps its picture settings and gets more encoder threads, never fewer")
    func redrawWriter() {
        let replay = JudgePipeline.replayWriter
        let redraw = JudgePipeline.redrawWriter(replay)
        #expect(redraw.preset == replay.preset && redraw.rateControl == replay.rateControl && redraw.x264Params == replay.x264Params)
        #expect(redraw.threads == max(1, min(4, ProcessInfo.processInfo.activeProcessorCount)))
        #expect(JudgePipeline.redrawWriter(WriterOptions(preset: "medium", rateControl: .crf(18), threads: 8)).threads == 8)
        // A fleet worker's job passes its share of the cores.
        #expect(JudgePipeline.redrawWriter(replay, cores: 1).threads == 1)
        #expect(JudgePipeline.redrawWriter(replay, cores: 3).threads == 3)
        #expect(JudgePipeline.redrawWriter(replay, cores: 16).threads == 4)
    }
}
#endif
