import Foundation
import Imaging
import PoseData

/// Where the two BlazePose models live: `REFVISION_MODELS_DIR`, else `.deps/models` found by walking
/// up from the executable and the working directory (where scripts/bootstrap puts them).
public enum ModelLocator {
    public static let detectorFile = "pose_detection.tflite"
    public static let landmarkFile = "pose_landmark_full.tflite"
    /// The landmark model without its unused outputs (scripts/bootstrap writes it; same results,
    /// a third less work). Used when present.
    public static let prunedLandmarkFile = "pose_landmark_full_pruned.xml"

    public static func defaultDirectory() -> String {
        if let dir = ProcessInfo.processInfo.environment["REFVISION_MODELS_DIR"], !dir.isEmpty { return dir }
        var starts = [FileManager.default.currentDirectoryPath]
        if let exe = Bundle.main.executablePath { starts.append((exe as NSString).deletingLastPathComponent) }
        for start in starts {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent(".deps/models")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(detectorFile).path) {
                    return candidate.path
                }
                dir.deleteLastPathComponent()
            }
        }
        return ".deps/models"
    }
}

/// Where OpenVINO keeps compiled networks between runs: `REFVISION_MODEL_CACHE` (a directory, or
/// `off`), else `$XDG_CACHE_HOME/refvision/openvino`, else `~/.cache/refvision/openvino`.
public enum ModelCache {
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let dir = environment["REFVISION_MODEL_CACHE"] {
            return dir.isEmpty || dir.lowercased() == "off" ? nil : dir
        }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/refvision/openvino" }
        if let home = environment["HOME"], home.hasPrefix("/") { return home + "/.cache/refvision/openvino" }
        return nil
    }

    /// `directory`, created (mode 0700) when missing, if it is a writable directory; else nil.
    static func usable(_ directory: String) -> String? {
        let fm = FileManager.default
        try? fm.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                attributes: [.posixPermissions: 0o700])
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue,
              fm.isWritableFile(atPath: directory) else { return nil }
        return directory
    }
}

/// A person candidate from the detector, in image pixels.
public struct PersonDetection: Sendable, Equatable {
    public var score: Double
    /// Axis-aligned box: minX, minY, width, height.
    public var box: (x: Double, y: Double, width: Double, height: Double)
    /// The detector's 4 keypoints: mid-hip, full-body scale point, mid-shoulder, upper-body scale point.
    public var keypoints: [(x: Double, y: Double)]
    /// The landmark model's region of interest derived from the keypoints.
    public var roi: RotatedRect

    public static func == (a: PersonDetection, b: PersonDetection) -> Bool {
        a.score == b.score && a.roi == b.roi
    }
}

/// The landmark model's result for one region of interest.
public struct LandmarkResult: Sendable {
    /// Pose presence in [0, 1].
    public var presence: Double
    /// The 33 body landmarks in image pixels, with visibility.
    public var landmarks: [Landmark]
    /// Region of interest for the next frame (from the model's auxiliary hip-centre/scale points).
    public var nextROI: RotatedRect
    public var roi: RotatedRect
}

/// The two BlazePose networks, compiled once. `detect` and `landmarks` are serialised by a lock (they
/// share one inference request per network). With `Options.lanes` > 1 the landmark network also has
/// that many requests that run side by side, lent to one `PoseTracker` at a time (`borrowLanes`).
public final class BlazePose: @unchecked Sendable {
    let lock = NSLock()

    public struct Options: Sendable {
        /// OpenVINO inference threads per network (0 = OpenVINO's default).
        public var threads: Int = 2
        /// Landmark inferences a video tracker keeps running side by side, each on `threads / lanes`
        /// threads (1 with fewer threads than lanes). Two single-thread runs do ≈1.3× the work of one
        /// run on two threads; the price is that a frame's region comes from the frame two back, not
        /// the one before (`PoseTracker`). 1 = strictly sequential tracking, as MediaPipe does it.
        public var lanes: Int = 2
        /// Minimum detector score for a person candidate.
        public var minDetectionScore: Double = 0.5
        /// Overlap above which the detector's candidates are merged (weighted NMS).
        public var nmsThreshold: Double = 0.3
        /// Load pose_landmark_full_pruned.xml instead of the .tflite when it exists.
        public var usePrunedLandmarkModel = true
        /// Where compiled networks are cached between runs (nil: compile every time).
        public var cacheDirectory: String?
        public init(threads: Int = 2, lanes: Int = 2, usePrunedLandmarkModel: Bool = true,
                    cacheDirectory: String? = ModelCache.defaultDirectory()) {
            self.threads = threads
            self.lanes = lanes
            self.usePrunedLandmarkModel = usePrunedLandmarkModel
            self.cacheDirectory = cacheDirectory
        }
    }

    /// ROI margin when tracking from the previous frame's landmarks. Measured on bus.jpg against the
    /// official output: 1.25 keeps the error at the detector-ROI level; 1.4–1.5 doubled it.
    static let trackingScale = 1.25

    let detector: CompiledNetwork
    let landmarker: CompiledNetwork
    /// Landmark runs a tracker can keep going at once (1: no side-by-side runs).
    public let lanes: Int
    /// Whether the side-by-side requests are lent out (under `lock`).
    private var lanesLent = false
    /// The landmark model file in use.
    public var landmarkModelPath: String { landmarker.path }
    let options: Options
    private let anchors: [(x: Float, y: Float)]

    /// Compiles both models, at the same time (≈0.8 s; ≈0.11–0.15 s when imported from the model cache, against 0.17–0.23 s one after the other). `modelsDirectory` holds pose_detection.tflite and
    /// pose_landmark_full.tflite.
    public init(modelsDirectory: String = ModelLocator.defaultDirectory(), options: Options = Options()) throws {
        self.options = options
        let dir = URL(fileURLWithPath: modelsDirectory)
        let detectorPath = dir.appendingPathComponent(ModelLocator.detectorFile).path
        let pruned = dir.appendingPathComponent(ModelLocator.prunedLandmarkFile).path
        let landmarkPath = options.usePrunedLandmarkModel && FileManager.default.fileExists(atPath: pruned)
            ? pruned : dir.appendingPathComponent(ModelLocator.landmarkFile).path
        // The two networks compile (or import from the cache) at the same time, the detector on a
        // second thread: each is mostly one thread's work, and OpenVINO's core compiles concurrently.
        let lanes = options.threads >= 2 ? max(1, min(options.lanes, options.threads)) : 1
        self.lanes = lanes
        let (threads, cache) = (options.threads, options.cacheDirectory)
        // With lanes, the detector runs beside a landmark run: it gets one lane's share of threads.
        let detectorThreads = lanes > 1 ? max(1, threads / lanes) : threads
        let detectorResult = LoadResult()
        let detectorLoad = Thread {
            detectorResult.finish(Result { try CompiledNetwork(path: detectorPath, threads: detectorThreads, cacheDirectory: cache) })
        }
        detectorLoad.start()
        let landmarkResult = Result {
            try CompiledNetwork(path: landmarkPath, threads: threads, streams: lanes, cacheDirectory: cache)
        }
        detector = try detectorResult.wait().get()
        landmarker = try landmarkResult.get()
        guard detector.inputShape == [1, 224, 224, 3] else {
            throw PoseError.unexpectedModel(path: detector.path, reason: "input shape \(detector.inputShape)")
        }
        guard landmarker.inputShape == [1, 256, 256, 3] else {
            throw PoseError.unexpectedModel(path: landmarker.path, reason: "input shape \(landmarker.inputShape)")
        }
        anchors = Self.ssdAnchors()
    }

    /// The detector's compile result, handed from its thread.
    private final class LoadResult: @unchecked Sendable {
        private let done = NSCondition()
        private var result: Result<CompiledNetwork, any Error>?
        func finish(_ r: Result<CompiledNetwork, any Error>) {
            done.lock(); result = r; done.broadcast(); done.unlock()
        }
        func wait() -> Result<CompiledNetwork, any Error> {
            done.lock(); defer { done.unlock() }
            while result == nil { done.wait() }
            return result!
        }
    }

    // MARK: Detector

    /// SSD anchors of BlazePose's detector (MediaPipe's SsdAnchorsCalculator with the pose options:
    /// 5 layers, strides 8/16/32/32/32, aspect ratio 1, fixed anchor size, 224×224) — 2254 anchors.
    static func ssdAnchors() -> [(x: Float, y: Float)] {
        let strides = [8, 16, 32, 32, 32]
        var anchors: [(x: Float, y: Float)] = []
        var layer = 0
        while layer < strides.count {
            var perCell = 0
            var last = layer
            // Layers with the same stride share one feature map; each contributes 2 anchors
            // (aspect ratio 1 plus the interpolated scale).
            while last < strides.count && strides[last] == strides[layer] {
                perCell += 2
                last += 1
            }
            let fm = Int((224.0 / Double(strides[layer])).rounded(.up))
            for y in 0..<fm {
                for x in 0..<fm {
                    let ax = (Float(x) + 0.5) / Float(fm), ay = (Float(y) + 0.5) / Float(fm)
                    for _ in 0..<perCell { anchors.append((ax, ay)) }
                }
            }
            layer = last
        }
        return anchors
    }

    /// Every person the detector finds in `image` (after weighted NMS), best first.
    public func detect(_ image: RGBImage) throws -> [PersonDetection] {
        guard image.width > 0, image.height > 0 else { throw PoseError.invalidImage("empty image") }
        lock.lock()
        defer { lock.unlock() }
        let n: Double = 224
        let scale = n / Double(max(image.width, image.height))
        let padX = (n - Double(image.width) * scale) / 2, padY = (n - Double(image.height) * scale) / 2
        // Letterbox into 224×224, values in [-1, 1].
        warpAffine(image, into: detector.input, width: 224, height: 224,
                   ax: 1 / scale, bx: 0, cx: -padX / scale, ay: 0, by: 1 / scale, cy: -padY / scale,
                   scale: 2.0 / 255.0, offset: -1)
        try detector.infer()
        let count = anchors.count
        let boxes = try detector.output(elements: count * 12)
        let scores = try detector.output(elements: count)

        var candidates: [(score: Double, values: [Double])] = []
        for i in 0..<count {
            let raw = min(100, max(-100, Double(scores[i])))
            let score = 1 / (1 + exp(-raw))
            guard score >= options.minDetectionScore else { continue }
            let b = boxes + i * 12
            let a = anchors[i]
            var v = [Double](repeating: 0, count: 12)
            // Box centre/size and 4 keypoints, normalised to the 224 letterbox.
            v[0] = Double(b[0]) / n + Double(a.x)
            v[1] = Double(b[1]) / n + Double(a.y)
            v[2] = Double(b[2]) / n
            v[3] = Double(b[3]) / n
            for k in 0..<4 {
                v[4 + 2 * k] = Double(b[4 + 2 * k]) / n + Double(a.x)
                v[5 + 2 * k] = Double(b[5 + 2 * k]) / n + Double(a.y)
            }
            candidates.append((score, v))
        }
        let merged = Self.weightedNMS(candidates, threshold: options.nmsThreshold)
        // Undo the letterbox: normalised 224 coordinates → image pixels.
        func px(_ x: Double) -> Double { (x * n - padX) / scale }
        func py(_ y: Double) -> Double { (y * n - padY) / scale }
        return merged.map { c in
            let v = c.values
            let kps = (0..<4).map { (x: px(v[4 + 2 * $0]), y: py(v[5 + 2 * $0])) }
            let w = v[2] * n / scale, h = v[3] * n / scale
            return PersonDetection(
                score: c.score,
                box: (px(v[0]) - w / 2, py(v[1]) - h / 2, w, h),
                keypoints: kps,
                roi: RotatedRect.aligned(center: kps[0], scalePoint: kps[1]))
        }
    }

    /// MediaPipe's weighted non-maximum suppression: each kept detection is the score-weighted mean
    /// of the candidates overlapping it by more than `threshold` (IoU), with the top score.
    static func weightedNMS(_ input: [(score: Double, values: [Double])], threshold: Double)
        -> [(score: Double, values: [Double])] {
        var remaining = input.sorted { $0.score > $1.score }
        var out: [(score: Double, values: [Double])] = []
        func iou(_ a: [Double], _ b: [Double]) -> Double {
            let ax0 = a[0] - a[2] / 2, ax1 = a[0] + a[2] / 2, ay0 = a[1] - a[3] / 2, ay1 = a[1] + a[3] / 2
            let bx0 = b[0] - b[2] / 2, bx1 = b[0] + b[2] / 2, by0 = b[1] - b[3] / 2, by1 = b[1] + b[3] / 2
            let iw = max(0, min(ax1, bx1) - max(ax0, bx0)), ih = max(0, min(ay1, by1) - max(ay0, by0))
            let inter = iw * ih
            let union = a[2] * a[3] + b[2] * b[3] - inter
            return union > 0 ? inter / union : 0
        }
        while let top = remaining.first {
            var group: [(score: Double, values: [Double])] = []
            var rest: [(score: Double, values: [Double])] = []
            for c in remaining {
                if iou(top.values, c.values) > threshold { group.append(c) } else { rest.append(c) }
            }
            remaining = rest
            let total = group.reduce(0) { $0 + $1.score }
            var values = [Double](repeating: 0, count: top.values.count)
            for c in group {
                for k in 0..<values.count { values[k] += c.values[k] * c.score / total }
            }
            out.append((top.score, values))
        }
        return out
    }

    // MARK: Landmarks

    /// Runs the landmark model on `roi` of `image`.
    public func landmarks(_ image: RGBImage, roi: RotatedRect) throws -> LandmarkResult {
        guard image.width > 0, image.height > 0 else { throw PoseError.invalidImage("empty image") }
        lock.lock()
        defer { lock.unlock() }
        let request = landmarker.requests[0]
        Self.warpLandmarkInput(image, roi: roi, into: request.input)
        try request.infer()
        return try Self.decodeLandmarks(request, roi: roi)
    }

    /// Crops `roi` of `image` into the landmark model's 256×256 input, values in [0, 1].
    static func warpLandmarkInput(_ image: RGBImage, roi: RotatedRect, into input: UnsafeMutablePointer<Float>) {
        let n = 256.0
        // Output pixel (i, j) ↦ rect point (i/n, j/n) ↦ image pixels (MediaPipe's corner mapping).
        let c = cos(roi.rotation), s = sin(roi.rotation), k = roi.size / n
        let ox = roi.centerX - (c * roi.size / 2) + (s * roi.size / 2)
        let oy = roi.centerY - (s * roi.size / 2) - (c * roi.size / 2)
        warpAffine(image, into: input, width: 256, height: 256,
                   ax: c * k, bx: -s * k, cx: ox, ay: s * k, by: c * k, cy: oy,
                   scale: 1.0 / 255.0, offset: 0)
    }

    /// The landmarks a finished run of `request` found in `roi`.
    static func decodeLandmarks(_ request: InferRequest, roi: RotatedRect) throws -> LandmarkResult {
        let n = 256.0
        let raw = try request.output(elements: 195)
        let flag = try request.output(elements: 1)
        let heatmap = try request.output(elements: 64 * 64 * 39)

        var points = [(x: Double, y: Double, vis: Double)](repeating: (0, 0, 0), count: 39)
        for i in 0..<39 {
            let p = raw + i * 5
            points[i] = (Double(p[0]) / n, Double(p[1]) / n, sigmoid(Double(p[3])))
        }
        Self.refineFromHeatmap(&points, heatmap: heatmap, size: 64, channels: 39)
        var landmarks: [Landmark] = []
        landmarks.reserveCapacity(33)
        for i in 0..<33 {
            let (x, y) = roi.toImage(points[i].x, points[i].y)
            landmarks.append(Landmark(x: x, y: y, visibility: points[i].vis))
        }
        let hip = roi.toImage(points[33].x, points[33].y)
        let scalePoint = roi.toImage(points[34].x, points[34].y)
        let presence = Double(flag[0])
        return LandmarkResult(
            presence: presence.isFinite ? min(1, max(0, presence)) : 0,
            landmarks: landmarks,
            nextROI: RotatedRect.aligned(center: hip, scalePoint: scalePoint, scale: Self.trackingScale),
            roi: roi)
    }

    // MARK: Lanes

    /// The side-by-side landmark requests if no other tracker has them, else lanes that run each
    /// landmark step through `landmarks` (one at a time, under the lock). They go back when the
    /// returned value is released.
    public func borrowLanes() -> LandmarkLanes {
        lock.lock()
        defer { lock.unlock() }
        guard lanes > 1, !lanesLent else { return LandmarkLanes(model: self, requests: []) }
        lanesLent = true
        return LandmarkLanes(model: self, requests: Array(landmarker.requests.dropFirst()))
    }

    fileprivate func returnLanes() {
        lock.lock()
        lanesLent = false
        lock.unlock()
    }

    /// MediaPipe's RefineLandmarksFromHeatmapCalculator (kernel 7, min confidence 0.5): replaces a
    /// landmark by the confidence-weighted mean position in a 7×7 heatmap window around it.
    static func refineFromHeatmap(_ points: inout [(x: Double, y: Double, vis: Double)],
                                  heatmap: UnsafePointer<Float>, size: Int, channels: Int) {
        let offset = 3
        for i in 0..<min(points.count, channels) {
            let cx = Int((points[i].x * Double(size)).rounded(.towardZero))
            let cy = Int((points[i].y * Double(size)).rounded(.towardZero))
            guard points[i].x >= 0, points[i].y >= 0, cx < size, cy < size else { continue }
            var sum = 0.0, wx = 0.0, wy = 0.0, maxConfidence = 0.0
            for row in max(0, cy - offset)..<min(size, cy + offset + 1) {
                for col in max(0, cx - offset)..<min(size, cx + offset + 1) {
                    let conf = sigmoid(Double(heatmap[(row * size + col) * channels + i]))
                    sum += conf
                    maxConfidence = max(maxConfidence, conf)
                    wx += Double(col) * conf
                    wy += Double(row) * conf
                }
            }
            if maxConfidence >= 0.5 && sum > 0 {
                points[i].x = wx / Double(size) / sum
                points[i].y = wy / Double(size) / sum
            }
        }
    }
}

@inline(__always)
func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// Landmark runs that go on side by side, each on its own request: `submit` crops the region and
/// starts the run, `collect` waits for it. Used from one thread. Without requests of its own (the
/// model's were lent elsewhere, or it has one lane), `submit` only notes the run and `collect` does
/// it on the model's shared request: one at a time, but with as many lanes as the model has, so a
/// tracker's regions, and so its results, do not depend on whether it got the lanes.
public final class LandmarkLanes: @unchecked Sendable {
    let model: BlazePose
    private let requests: [InferRequest]
    /// Each lane's run (nil: idle): its region, and its image while the run is only noted (no
    /// requests of its own).
    private var runs: [(roi: RotatedRect, image: RGBImage?)?]
    /// How many runs can be going at once (the model's lanes).
    public var count: Int { runs.count }
    /// Whether these lanes run side by side (false: the model's shared request, one at a time).
    public var sideBySide: Bool { !requests.isEmpty }

    fileprivate init(model: BlazePose, requests: [InferRequest]) {
        self.model = model
        self.requests = requests
        runs = Array(repeating: nil, count: requests.isEmpty ? model.lanes : requests.count)
    }

    deinit {
        // A run still going (the tracker failed or was dropped mid-video) must end before another
        // tracker may start on the request.
        for r in requests { try? r.wait() }
        if !requests.isEmpty { model.returnLanes() }
    }

    /// Starts the landmark model on `roi` of `image` in `lane` (which must be idle).
    public func submit(lane: Int, image: RGBImage, roi: RotatedRect) throws {
        guard image.width > 0, image.height > 0 else { throw PoseError.invalidImage("empty image") }
        precondition(runs[lane] == nil, "lane \(lane) is busy")
        if requests.isEmpty {
            runs[lane] = (roi, image)
            return
        }
        let request = requests[lane]
        BlazePose.warpLandmarkInput(image, roi: roi, into: request.input)
        try request.start()
        runs[lane] = (roi, nil)
    }

    /// Waits for `lane`'s run and returns what it found.
    public func collect(lane: Int) throws -> LandmarkResult {
        guard let run = runs[lane] else { throw PoseError.invalidImage("no landmark run was submitted") }
        runs[lane] = nil
        if let image = run.image { return try model.landmarks(image, roi: run.roi) }
        let request = requests[lane]
        try request.wait()
        return try BlazePose.decodeLandmarks(request, roi: run.roi)
    }
}
