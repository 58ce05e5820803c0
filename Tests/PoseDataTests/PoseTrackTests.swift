import Foundation
import PoseData
import Testing

@Suite("The pose-track JSON format")
struct PoseTrackTests {
    private func sampleTrack(source: String = "clips/squat 1.mp4") -> PoseTrack {
        let person = PersonPose(score: 0.98765, landmarks: (0..<33).map {
            Landmark(x: Double($0) * 10.123, y: 720 - Double($0) * 3.456, visibility: Double($0) / 33)
        })
        return PoseTrack(source: source, width: 1280, height: 720, fps: 29.97,
                         frames: [PoseFrame(index: 0, time: 0, people: [person]),
                                  PoseFrame(index: 1, time: 0.0333667, people: [])])
    }

    @Test("keys come in the documented order")
    func keyOrder() throws {
        let text = String(decoding: sampleTrack().jsonData(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"source":"clips/squat 1.mp4","width":1280,"height":720,"fps":29.97,"frames":[{"index":0,"time":0,"people":[{"score":0.9877,"landmarks":[[0,720,0],"#))
    }

    @Test("written JSON reads back equal up to the documented rounding")
    func roundTrip() throws {
        let track = sampleTrack()
        let back = try JSONDecoder().decode(PoseTrack.self, from: Data(track.jsonData()))
        #expect(back.frames.count == 2)
        #expect(back.source == track.source && back.width == 1280 && back.fps == 29.97)
        for (a, b) in zip(track.frames[0].people[0].landmarks, back.frames[0].people[0].landmarks) {
            #expect(abs(a.x - b.x) <= 0.00501 && abs(a.y - b.y) <= 0.00501 && abs(a.visibility - b.visibility) <= 0.0000501)
        }
        // Standard JSON: Foundation's parser accepts it too.
        #expect(try JSONSerialization.jsonObject(with: Data(track.jsonData())) is [String: Any])
    }

    @Test("hostile file names are escaped")
    func escaping() throws {
        let name = "a\"b\\c\nd\u{01}é/😀.mp4"
        let back = try JSONDecoder().decode(PoseTrack.self, from: Data(sampleTrack(source: name).jsonData()))
        #expect(back.source == name)
    }

    @Test("bad tracks are decoding errors", arguments: [
        "", "{", "[]", "null", #"{"source":"x"}"#,
        #"{"source":"x","width":1,"height":1,"fps":30,"frames":[{"index":0,"time":0,"people":[{"score":1,"landmarks":[[1,2,3]]}]}]}"#,
        #"{"source":"x","width":1,"height":1,"fps":30,"frames":[{"index":0,"time":0,"people":[{"score":1,"landmarks":[[1,2]]}]}]}"#,
        #"{"source":"x","width":1,"height":1,"fps":30,"frames":[{"index":0,"time":0,"people":[{"score":1,"landmarks":"no"}]}]}"#,
        #"{"source":"x","width":"wide","height":1,"fps":30,"frames":[]}"#,
        #"{"source":"x","width":1,"height":1,"fps":30,"frames":[{"index":0,"time":0,"people":[{"score":1,"landmarks":[[1e999,2,3]]}]}]}"#,
    ])
    func bad(json: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(PoseTrack.self, from: Data(json.utf8)) }
    }

    @Test("a landmark with four values is refused")
    func extraValue() {
        let person = #"{"score":1,"landmarks":[[1,2,3,4]"# + String(repeating: #",[1,2,3]"#, count: 32) + "]}"
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PersonPose.self, from: Data(person.utf8)) }
    }
}
