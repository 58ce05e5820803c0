import Imaging
import PoseData

/// Video mode: each person's region of interest is tracked from the previous frame's landmarks, so
/// most frames run only the landmark model. The detector runs when no one is tracked, when a track
/// is lost (presence below `minTrackingPresence`), and every `redetectInterval` frames to pick up
/// people who walk in (the lifter may enter after the camera starts).
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

    public init(model: BlazePose, options: Options = Options()) {
        self.model = model
        self.options = options
    }

    /// Forgets all tracks (call between unrelated videos).
    public func reset() {
        tracks.removeAll()
        framesSinceDetection = Int.max
    }

    /// The people in the next frame of a video.
    public func process(_ image: RGBImage) throws -> [Person] {
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

        var people: [Person] = []
        var kept: [(id: Int, roi: RotatedRect)] = []
        for t in tracks {
            landmarkRuns += 1
            let r = try model.landmarks(image, roi: t.roi)
            guard r.presence >= options.minTrackingPresence, r.nextROI.size.isFinite, r.nextROI.size > 1 else {
                framesSinceDetection = options.redetectInterval // lost: look again next frame
                continue
            }
            // Two tracks that converged on the same person: keep the one found first.
            if kept.contains(where: { $0.roi.overlap(r.nextROI) > options.sameRegionOverlap }) { continue }
            kept.append((t.id, r.nextROI))
            people.append(Person(trackID: t.id, pose: PersonPose(score: r.presence, landmarks: r.landmarks), roi: r.roi))
        }
        tracks = kept
        return people
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
