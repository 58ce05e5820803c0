import Foundation
import Judging

/// What the key (and the object's metadata) say about a lift video.
///
/// Key convention (docs/messages.md): `[PREFIX/]MEET/ATHLETE/LIFT-ATTEMPT.EXT`, e.g.
/// `nationals-2026/j-doe/squat-2.mp4`. The two folders right above the file are the meet and the
/// athlete (fewer folders: those are unknown); the lift is read with `LiftKind.fromKey`; the attempt is
/// the number right after the lift in the file name (`squat-2`, `squat_2`, `squat2`) or an
/// `att2`/`attempt-2` token. User metadata `lift`, `meet`, `athlete`, `attempt` (S3 `x-amz-meta-*`)
/// override the key; metadata `team` (which no key names) lets coaches subscribe by team.
public struct LiftDetails: Sendable, Equatable {
    public var lift: String?
    public var meet: String?
    public var athlete: String?
    public var attempt: Int?
    public var team: String?

    public init(lift: String? = nil, meet: String? = nil, athlete: String? = nil, attempt: Int? = nil, team: String? = nil) {
        self.lift = lift
        self.meet = meet
        self.athlete = athlete
        self.attempt = attempt
        self.team = team
    }

    public static let attempts = 1...4

    public static func from(key: String, metadata: [String: String] = [:]) -> LiftDetails {
        var details = LiftDetails()
        let segments = key.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if segments.count >= 3 {
            details.meet = clean(segments[segments.count - 3])
            details.athlete = clean(segments[segments.count - 2])
        }
        // `squat2`: the attempt glued to the lift name; read the lift without the digits.
        let unglued = segments.map { segment in
            segment.split(separator: ".").first.map { stem in
                stem.split(whereSeparator: { !($0.isLetter || $0.isNumber) })
                    .map { token in token.drop(while: { _ in false }).trimmingSuffix(while: \.isNumber) }
                    .joined(separator: "-")
            } ?? segment
        }.joined(separator: "/")
        details.lift = (LiftKind.fromKey(key) ?? LiftKind.fromKey(unglued))?.rawValue
        if let file = segments.last { details.attempt = attempt(inFileName: file) }
        if let lift = metadata["lift"].flatMap({ LiftKind(rawValue: $0.lowercased()) }) { details.lift = lift.rawValue }
        if let meet = metadata["meet"].flatMap(clean) { details.meet = meet }
        if let athlete = metadata["athlete"].flatMap(clean) { details.athlete = athlete }
        if let team = metadata["team"].flatMap(clean) { details.team = team }
        if let text = metadata["attempt"], let n = Int(text.trimmingCharacters(in: .whitespaces)), attempts.contains(n) {
            details.attempt = n
        }
        return details
    }

    /// Names are kept as written, trimmed, at most 128 characters, without control characters.
    public static func clean(_ text: String) -> String? {
        let trimmed = String(text.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) })
            .trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : String(trimmed.prefix(128))
    }

    static func attempt(inFileName file: String) -> Int? {
        let stem = file.split(separator: ".").first.map(String.init) ?? file
        let tokens = stem.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
        for (index, token) in tokens.enumerated() {
            for word in ["squat", "bench", "deadlift", "attempt", "att"] where token.hasPrefix(word) {
                let rest = token.dropFirst(word.count)
                if !rest.isEmpty {
                    if let n = Int(rest), attempts.contains(n) { return n }
                } else if index + 1 < tokens.count, let n = Int(tokens[index + 1]), attempts.contains(n) {
                    return n
                }
            }
        }
        return nil
    }
}

extension Substring {
    func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return String(self[startIndex..<end])
    }
}

/// Which objects become jobs.
public struct DispatchRules: Sendable, Equatable {
    /// Accepted file name suffixes (lower-case, with the dot).
    public var suffixes: Set<String> = [".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi"]
    /// Objects smaller than this are not videos.
    public var minimumBytes: Int64 = 1024
    /// Larger objects are refused (the worker's limit on file size).
    public var maximumBytes: Int64 = 2 << 30
    /// Only keys under this prefix ("" = all).
    public var prefix: String = ""

    public init() {}

    /// Nil when the object should be judged, else why not.
    public func rejection(key: String, size: Int64?, contentType: String?) -> String? {
        guard key.hasPrefix(prefix) else { return "key is outside the prefix '\(prefix)'" }
        let name = key.split(separator: "/").last.map(String.init) ?? key
        if name.hasPrefix(".") { return "hidden file" }
        guard let dot = name.lastIndex(of: "."), suffixes.contains(name[dot...].lowercased()) else {
            return "suffix is not one of \(suffixes.sorted().joined(separator: " "))"
        }
        if let contentType, !contentType.isEmpty {
            let type = contentType.lowercased()
            if !(type.hasPrefix("video/") || type == "application/octet-stream" || type == "binary/octet-stream") {
                return "content type \(contentType) is not a video"
            }
        }
        if let size {
            if size < minimumBytes { return "\(size) bytes is smaller than \(minimumBytes)" }
            if size > maximumBytes { return "\(size) bytes is larger than \(maximumBytes)" }
        }
        return nil
    }
}

/// ceil(visible ÷ max(running, 1)): the metric the worker service target-tracks (scaling/README.md).
public func backlogPerTask(visible: Int, running: Int) -> Int {
    let tasks = max(running, 1)
    return max(0, (visible + tasks - 1) / tasks)
}
