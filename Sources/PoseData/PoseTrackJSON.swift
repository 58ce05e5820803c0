// The pose-track JSON written with its keys in the documented order (source, width, height, fps,
// frames; index, time, people; score, landmarks). JSONEncoder on Linux does not keep key order, and
// other tools read this format, so it is written by hand. Reading uses Codable.

extension PoseTrack {
    /// The track as compact JSON in the documented key order.
    public func jsonData() -> [UInt8] {
        var out = ""
        out.reserveCapacity(64 + frames.count * (40 + 33 * 24))
        out += "{\"source\":"
        appendJSONString(source, to: &out)
        out += ",\"width\":\(width),\"height\":\(height),\"fps\":"
        appendNumber(fps, places: 4, to: &out)
        out += ",\"frames\":["
        for (fi, f) in frames.enumerated() {
            if fi > 0 { out += "," }
            out += "{\"index\":\(f.index),\"time\":"
            appendNumber(f.time, places: 4, to: &out)
            out += ",\"people\":["
            for (pi, p) in f.people.enumerated() {
                if pi > 0 { out += "," }
                out += "{\"score\":"
                appendNumber(p.score, places: 4, to: &out)
                out += ",\"landmarks\":["
                for (li, l) in p.landmarks.enumerated() {
                    if li > 0 { out += "," }
                    out += "["
                    appendNumber(l.x, places: 2, to: &out)
                    out += ","
                    appendNumber(l.y, places: 2, to: &out)
                    out += ","
                    appendNumber(l.visibility, places: 4, to: &out)
                    out += "]"
                }
                out += "]}"
            }
            out += "]}"
        }
        out += "]}"
        return Array(out.utf8)
    }
}

/// A JSON number rounded to `places` decimals; non-finite values (never produced by Pose) become 0
/// so the output always parses.
func appendNumber(_ v: Double, places: Int, to out: inout String) {
    guard v.isFinite else { out += "0"; return }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let r = (v * scale).rounded() / scale
    if r == r.rounded(), abs(r) < 1e15 {
        out += String(Int64(r))
    } else {
        out += "\(r)"
    }
}

func appendJSONString(_ s: String, to out: inout String) {
    out += "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    out += "\""
}
