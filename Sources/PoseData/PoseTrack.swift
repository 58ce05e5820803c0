// The pose track of a video: what `refvision pose --json` writes and what `refvision judge
// --from-pose` reads. Pure data, no I/O beyond Codable; other tools parse this format, so its JSON
// shape is fixed:
// {"source":…,"width":W,"height":H,"fps":F,"frames":[{"index":i,"time":t,
//   "people":[{"score":s,"landmarks":[[x,y,visibility], …33]}]}]}

/// One BlazePose landmark in pixels of the upright frame. Encoded as `[x, y, visibility]`.
public struct Landmark: Sendable, Equatable, Codable {
    public var x: Double
    public var y: Double
    /// Probability in [0, 1] that the point is visible (not occluded, inside the frame).
    public var visibility: Double

    public init(x: Double, y: Double, visibility: Double) {
        self.x = x
        self.y = y
        self.visibility = visibility
    }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        x = try c.decode(Double.self)
        y = try c.decode(Double.self)
        visibility = try c.decode(Double.self)
        guard c.isAtEnd else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a landmark is [x, y, visibility]")
        }
        guard x.isFinite, y.isFinite, visibility.isFinite else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "landmark values must be finite")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(Self.rounded(x, 2))
        try c.encode(Self.rounded(y, 2))
        try c.encode(Self.rounded(visibility, 4))
    }

    private static func rounded(_ v: Double, _ places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (v * scale).rounded() / scale
    }
}

/// One person found in a frame.
public struct PersonPose: Sendable, Equatable, Codable {
    /// Pose presence score in [0, 1] from the landmark model.
    public var score: Double
    /// Exactly 33 landmarks in BlazePose order (see `BlazePoseLandmark`).
    public var landmarks: [Landmark]

    public init(score: Double, landmarks: [Landmark]) {
        self.score = score
        self.landmarks = landmarks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        score = try c.decode(Double.self, forKey: .score)
        landmarks = try c.decode([Landmark].self, forKey: .landmarks)
        guard landmarks.count == BlazePoseLandmark.count else {
            throw DecodingError.dataCorruptedError(
                forKey: .landmarks, in: c,
                debugDescription: "expected \(BlazePoseLandmark.count) landmarks, got \(landmarks.count)")
        }
    }

    public subscript(_ l: BlazePoseLandmark) -> Landmark { landmarks[l.rawValue] }
}

/// The people found in one video frame.
public struct PoseFrame: Sendable, Equatable, Codable {
    public var index: Int
    /// Presentation time in seconds from the start of the video.
    public var time: Double
    public var people: [PersonPose]

    public init(index: Int, time: Double, people: [PersonPose]) {
        self.index = index
        self.time = time
        self.people = people
    }
}

/// The pose track of a whole video.
public struct PoseTrack: Sendable, Equatable, Codable {
    public var source: String
    public var width: Int
    public var height: Int
    public var fps: Double
    public var frames: [PoseFrame]

    public init(source: String, width: Int, height: Int, fps: Double, frames: [PoseFrame]) {
        self.source = source
        self.width = width
        self.height = height
        self.fps = fps
        self.frames = frames
    }
}

/// BlazePose's 33 landmarks, in model order.
public enum BlazePoseLandmark: Int, CaseIterable, Sendable {
    case nose = 0
    case leftEyeInner, leftEye, leftEyeOuter, rightEyeInner, rightEye, rightEyeOuter
    case leftEar, rightEar, mouthLeft, mouthRight
    case leftShoulder, rightShoulder, leftElbow, rightElbow, leftWrist, rightWrist
    case leftPinky, rightPinky, leftIndex, rightIndex, leftThumb, rightThumb
    case leftHip, rightHip, leftKnee, rightKnee, leftAnkle, rightAnkle
    case leftHeel, rightHeel, leftFootIndex, rightFootIndex

    public static let count = 33

    /// The bones drawn for a skeleton, as pairs of landmarks.
    public static let bones: [(BlazePoseLandmark, BlazePoseLandmark)] = [
        (.leftShoulder, .rightShoulder), (.leftShoulder, .leftElbow), (.leftElbow, .leftWrist),
        (.rightShoulder, .rightElbow), (.rightElbow, .rightWrist),
        (.leftShoulder, .leftHip), (.rightShoulder, .rightHip), (.leftHip, .rightHip),
        (.leftHip, .leftKnee), (.leftKnee, .leftAnkle), (.rightHip, .rightKnee), (.rightKnee, .rightAnkle),
        (.leftAnkle, .leftHeel), (.leftHeel, .leftFootIndex), (.leftAnkle, .leftFootIndex),
        (.rightAnkle, .rightHeel), (.rightHeel, .rightFootIndex), (.rightAnkle, .rightFootIndex),
    ]
}
