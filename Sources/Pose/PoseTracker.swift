import Imaging
import PoseData

/// Video mode: each person's region of interest is tracked from an earlier frame's landmarks, so
/// most frames run only the landmark model. The detector runs when no one is tracked, when a track
/// is lost (presence below `minTrackingPresence`), and every `redetectInterval` frames to pick up
/// people who walk in (the lifter may enter after the camera starts).
///
/// With the model's lanes (`BlazePose.Options.lanes`, borrowed on the first frame), landmark runs go
/// side by side: `submit` starts a frame's runs while the previous frame's are still going, so a
/// frame's regions come from the last frame whose landmarks are known — two frames back with two
/// lanes, one back with one lane (MediaPipe's tracking). Frames come out of `submit`/`finish` in
/// order, each once, a frame or two after they went in.
public final class PoseTracker: @unchecked Sendable {
    public struct Options: Sendable {
        /// Most people tracked at once (each costs one landmark inference per frame).
        public var maxPeople: Int = 3
        /// A track whose pose presence falls below this is dropped and the detector runs again.
        public var minTrackingPresence: Double = 0.5
        /// Run the detector at least this often (frames) while fewer than maxPeople are tracked.
        public var redetectInterval: Int = 30
        /// Overlap (IoU of ROI squares) above which two regions are the same person.
        public var sameRegionOverlap: Double = 0.4
        public init(maxPeople: Int = 3) { self.maxPeople = maxPeople }
    }

    public struct Person: Sendable {
        /// Stable id of the track across frames.
        public var trackID: Int
        public var pose: PersonPose
        public var roi: RotatedRect
    }

    public let model: BlazePose
    public let options: Options
    private var tracks: [(id: Int, roi: RotatedRect)] = []
    private var nextID = 0
    private var framesSinceDetection = Int.max
    /// How many times the detector and the landmark model ran (for benchmarks and tests).
    public private(set) var detectorRuns = 0
    public private(set) var landmarkRuns = 0

    /// One landmark run of an admitted frame.
    private struct Job {
        var trackID: Int
        var roi: RotatedRect
        var result: LandmarkResult?
    }
    /// A frame whose runs are not all back yet.
    private final class Pending {
        let image: RGBImage
        var jobs: [Job]
        var started = 0
        var returned = 0
        init(image: RGBImage, jobs: [Job]) { self.image = image; self.jobs = jobs }
        var complete: Bool { returned == jobs.count }
    }
    private var lanes: LandmarkLanes?
    private var freeLanes: [Int] = []
    /// Admitted frames, oldest first, and the runs going, in the order they started.
    private var pending: [Pending] = []
    private var inFlight: [(frame: Pending, job: Int, lane: Int)] = []

    public init(model: BlazePose, options: Options = Options()) {
        self.model = model
        self.options = options
    }

    /// Whether this tracker's landmark runs go side by side (known after the first video frame).
    public var sideBySide: Bool { lanes?.sideBySide ?? false }

    /// Forgets all tracks and any frames still in flight, and gives the lanes back (call between
    /// unrelated videos).
    public func reset() {
        abandonInFlight()
        tracks.removeAll()
        framesSinceDetection = Int.max
        lanes = nil
        freeLanes = []
    }

    /// The people in the next frame of a video, all runs finished (frames still in flight from
    /// `submit` are finished first, and their results dropped: use one way or the other).
    public func process(_ image: RGBImage) throws -> [Person] {
        let done = try submit(image) + finish()
        return done.last ?? []
    }

    /// Admits the next frame of a video and starts its landmark runs; returns the people of the
    /// frames that are now finished, oldest first (none, one, or a few). After an error the frames
    /// in flight are dropped; `reset()` before using the tracker again.
    public func submit(_ image: RGBImage) throws -> [[Person]] {
        do {
            if lanes == nil {
                let borrowed = model.borrowLanes()
                lanes = borrowed
                freeLanes = Array(0..<borrowed.count)
            }
            try admit(image)
            return try pump(draining: false)
        } catch {
            abandonInFlight()
            throw error
        }
    }

    /// Waits for every run still going; returns the people of the remaining frames, oldest first.
    public func finish() throws -> [[Person]] {
        do { return try pump(draining: true) } catch {
            abandonInFlight()
            throw error
        }
    }

    /// Detection if due, then one run per track, on the regions known now.
    private func admit(_ image: RGBImage) throws {
        guard image.width > 0, image.height > 0 else { throw PoseError.invalidImage("empty image") }
        let wantDetection = tracks.isEmpty
            || (tracks.count < options.maxPeople && framesSinceDetection >= options.redetectInterval)
        if wantDetection {
            detectorRuns += 1
            framesSinceDetection = 0
            for d in try model.detect(image) where tracks.count < options.maxPeople {
                if !tracks.contains(where: { $0.roi.overlap(d.roi) > options.sameRegionOverlap }) {
                    tracks.append((nextID, d.roi))
                    nextID += 1
                }
            }
        } else {
            framesSinceDetection += 1
        }
        pending.append(Pending(image: image, jobs: tracks.map { Job(trackID: $0.id, roi: $0.roi) }))
    }

    /// Starts waiting runs on free lanes and collects the oldest until, when not `draining`, a lane
    /// is free with nothing waiting for it (the next frame's runs can start at once) and fewer than
    /// `lanes` frames are unfinished (frames without runs, e.g. with nobody in them, do not pile up
    /// behind one that is still running).
    private func pump(draining: Bool) throws -> [[Person]] {
        guard let lanes else { return [] }
        var finished: [[Person]] = []
        while true {
            while !freeLanes.isEmpty, let frame = pending.first(where: { $0.started < $0.jobs.count }) {
                let lane = freeLanes.removeFirst()
                let job = frame.started
                frame.started += 1
                landmarkRuns += 1
                inFlight.append((frame, job, lane))
                try lanes.submit(lane: lane, image: frame.image, roi: frame.jobs[job].roi)
            }
            while let head = pending.first, head.complete {
                pending.removeFirst()
                finished.append(conclude(head))
            }
            let waiting = pending.contains { $0.started < $0.jobs.count }
            if inFlight.isEmpty || (!draining && !waiting && !freeLanes.isEmpty && pending.count < lanes.count) { break }
            let run = inFlight.removeFirst()
            freeLanes.append(run.lane)
            run.frame.jobs[run.job].result = try lanes.collect(lane: run.lane)
            run.frame.returned += 1
        }
        return finished
    }

    /// A frame's people from its runs, and the tracks moved to the regions they give.
    private func conclude(_ frame: Pending) -> [Person] {
        var people: [Person] = []
        var kept: [RotatedRect] = []
        for job in frame.jobs {
            guard let r = job.result else { continue }
            let index = tracks.firstIndex(where: { $0.id == job.trackID })
            guard r.presence >= options.minTrackingPresence, r.nextROI.size.isFinite, r.nextROI.size > 1 else {
                if let index {
                    tracks.remove(at: index)
                    framesSinceDetection = options.redetectInterval // lost: look again
                }
                continue
            }
            // Two tracks that converged on the same person: keep the one found first.
            if kept.contains(where: { $0.overlap(r.nextROI) > options.sameRegionOverlap }) {
                if let index { tracks.remove(at: index) }
                continue
            }
            kept.append(r.nextROI)
            people.append(Person(trackID: job.trackID, pose: PersonPose(score: r.presence, landmarks: r.landmarks), roi: r.roi))
            if let index {
                tracks[index].roi = r.nextROI
            } else if tracks.count < options.maxPeople,
                      !tracks.contains(where: { $0.roi.overlap(r.nextROI) > options.sameRegionOverlap }) {
                // Its track was dropped by the frame before (side by side, this run had already
                // started): the person is back, under the same id unless a detection took them meanwhile.
                tracks.append((job.trackID, r.nextROI))
            }
        }
        return people
    }

    /// Waits out the runs still going (their requests may then be reused) and drops the frames.
    private func abandonInFlight() {
        if let lanes {
            for run in inFlight {
                _ = try? lanes.collect(lane: run.lane)
                freeLanes.append(run.lane)
            }
        }
        inFlight.removeAll()
        pending.removeAll()
    }

    /// A still image: detect everyone and run the landmark model once per person on the detector's
    /// region — MediaPipe's static-image mode. (A second pass on the landmarks' own region was
    /// measured on bus.jpg and made the points slightly worse, 5.9 px against 5.5 px.)
    public func processStill(_ image: RGBImage) throws -> [Person] {
        reset()
        detectorRuns += 1
        var people: [Person] = []
        var regions: [RotatedRect] = []
        for d in try model.detect(image).prefix(options.maxPeople) {
            guard !regions.contains(where: { $0.overlap(d.roi) > options.sameRegionOverlap }) else { continue }
            landmarkRuns += 1
            let r = try model.landmarks(image, roi: d.roi)
            guard r.presence >= options.minTrackingPresence else { continue }
            regions.append(r.roi)
            people.append(Person(trackID: people.count, pose: PersonPose(score: r.presence, landmarks: r.landmarks),
                                 roi: r.roi))
        }
        return people
    }
}
