import Testing
@testable import Scaling

@Suite("Arrival trace CSV")
struct TraceTests {
    @Test func parsesSecondsWithHeaderCommentsBlankLinesAndCRLF() throws {
        let csv = "timestamp,duration_s\r\n# morning\r\n\r\n0,10\r\n 30.5 , 8.25 \r\n\"60\",\"12\"\r\n"
        let t = try Trace.parse(csv)
        #expect(t.format == .seconds)
        #expect(t.uploads == [Upload(time: 0, clipSeconds: 10), Upload(time: 30.5, clipSeconds: 8.25),
                              Upload(time: 60, clipSeconds: 12)])
    }

    @Test func parsesISO8601WithZonesAndFractions() throws {
        let csv = """
        \u{FEFF}timestamp,duration_s
        2026-03-14T09:00:00Z,10
        2026-03-14T10:00:00.250+01:00,9
        2026-03-14 08:00:01-0100,11
        """
        let t = try Trace.parse(csv)
        #expect(t.format == .iso8601)
        let nine = Double(20526 * 86_400 + 9 * 3600)
        #expect(t.uploads.map(\.time) == [nine, nine + 0.25, nine + 1])
    }

    @Test func sortsUnsortedRowsStably() throws {
        let t = try Trace.parse("60,1\n0,2\n60,3\n30,4")
        #expect(t.uploads.map(\.clipSeconds) == [2, 4, 1, 3])
    }

    @Test func civilDaysMatchTheCalendar() {
        #expect(Trace.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Trace.daysFromCivil(year: 2000, month: 3, day: 1) == 11017)
        #expect(Trace.daysFromCivil(year: 2026, month: 3, day: 14) == 20526)
    }

    @Test func emptyInputsAreRefused() {
        for text in ["", "\n\n", "   \n\t\n", "timestamp,duration_s\n", "# only a comment\n"] {
            #expect(throws: TraceError.empty) { try Trace.parse(text) }
        }
    }

    @Test func corruptRowsNameTheirLine() {
        #expect(throws: TraceError.wrongFieldCount(line: 3, found: 3)) { try Trace.parse("0,1\n1,2\n2,3,4") }
        #expect(throws: TraceError.wrongFieldCount(line: 1, found: 1)) { try Trace.parse("12") }
        #expect(throws: TraceError.badDuration(line: 2, reason: "not a decimal number")) { try Trace.parse("0,1\n5,abc") }
        #expect(throws: TraceError.self) { try Trace.parse("yesterday,10") }
        #expect(throws: TraceError.mixedTimestampFormats(line: 2)) { try Trace.parse("0,1\n2026-03-14T09:00:00Z,1") }
    }

    @Test func numbersThatDoubleWouldAcceptAreRefused() {
        for bad in ["nan", "inf", "-inf", "0x10", "1e999", "1e", ".", "+", "1..2", "1e5000", "٣"] {
            #expect(throws: TraceError.self, "duration \(bad)") { try Trace.parse("0,\(bad)") }
        }
        for bad in ["0", "-1", "86401"] {
            #expect(throws: TraceError.self, "duration \(bad)") { try Trace.parse("0,\(bad)") }
        }
        #expect(throws: TraceError.self) { try Trace.parse("1e12,5") }
    }

    @Test func badCalendarDatesAndZonesAreRefused() {
        for ts in ["2026-02-30T09:00:00Z", "2025-02-29T09:00:00Z", "2026-13-01T09:00:00Z", "2026-03-14T24:00:00Z",
                   "2026-03-14T09:00:00", "2026-03-14T09:00:00+25:00", "2026-03-14T09:00:00.Z", "1969-12-31T23:59:59Z",
                   "2026-03-14T09:00:00Zjunk", "2026-03-14T09:0"] {
            #expect(throws: TraceError.self, "\(ts)") { try Trace.parse("\(ts),10") }
        }
        #expect(throws: TraceError.badTimestamp(line: 1, reason: "no time zone (add Z for UTC)")) {
            try Trace.parse("2026-03-14T09:00:00,10")
        }
        // 2024 is a leap year.
        #expect((try? Trace.parse("2024-02-29T09:00:00Z,10")) != nil)
    }

    @Test func hostileBytesAreRefused() {
        #expect(throws: TraceError.invalidCharacter(line: 2)) { try Trace.parse("0,1\n1\u{0},2") }
        #expect(throws: TraceError.invalidCharacter(line: 1)) { try Trace.parse("0,1\u{1B}[31m") }
        #expect(throws: TraceError.invalidCharacter(line: 1)) { try Trace.parse("0,1é") }
        let long = String(repeating: "1", count: Trace.maxLineBytes + 1) + ",1"
        #expect(throws: TraceError.lineTooLong(line: 1, limit: Trace.maxLineBytes)) { try Trace.parse(long) }
        // One giant line without newlines is cut off at the first line, not read as one field.
        let giant = String(repeating: "9", count: 5_000_000)
        #expect(throws: TraceError.lineTooLong(line: 1, limit: Trace.maxLineBytes)) { try Trace.parse(giant) }
    }

    @Test func aTraceLongerThanTheSimulatorCanTickIsRefused() {
        #expect(throws: TraceError.spanTooLong(seconds: 40 * 86_400, limit: Trace.maxSpanSeconds)) {
            try Trace.parse("0,1\n\(40 * 86_400),1")
        }
    }

    @Test func hugeTracesParseAndTooManyRowsAreRefused() throws {
        var lines: [String] = ["timestamp,duration_s"]
        for i in 0..<100_000 { lines.append("\(i * 3),\(6 + i % 9)") }
        let t = try Trace.parse(lines.joined(separator: "\n"))
        #expect(t.uploads.count == 100_000)
        #expect(t.uploads.last == Upload(time: 299_997, clipSeconds: Double(6 + 99_999 % 9)))
        #expect(throws: TraceError.tooManyRows(limit: 99_999)) { try Trace.parse(lines.joined(separator: "\n"), maxRows: 99_999) }
    }
}
