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
}
