import Foundation
import KeelCore
import Testing

@Suite struct UTCTimestampTests {
    @Test(arguments: [0, 951_782_400.25, 1_767_255_540.5, 1_767_255_540.123, 4_102_444_799.999, 1_700_000_000.0004])
    func matchesFoundationsISO8601WithMilliseconds(seconds: Double) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let rounded = (seconds * 1000).rounded() / 1000
        #expect(UTCTimestamp.string(secondsSince1970: seconds) == formatter.string(from: Date(timeIntervalSince1970: rounded)))
    }

    @Test func nowIsCurrentAndWellFormed() throws {
        let text = UTCTimestamp.now()
        #expect(text.count == 24 && text.hasSuffix("Z"))
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: text))
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
    }

    /// The one way a time is shown to people: a day, a minute or a second, in UTC, a space between date and time.
    @Test func readableTimesAreCutAtTheirPrecision() {
        let moment = 1_765_000_987.6  // 2025-12-06T06:03:07.600Z
        #expect(UTCTimestamp.readable(secondsSince1970: moment, to: .day) == "2025-12-06")
        #expect(UTCTimestamp.readable(secondsSince1970: moment, to: .minute) == "2025-12-06 06:03")
        #expect(UTCTimestamp.readable(secondsSince1970: moment, to: .second) == "2025-12-06 06:03:07")
    }
}
