#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ISO 8601 timestamps in UTC with milliseconds (`2026-11-25T18:33:26.728Z`), formatted by hand: they are written for
/// every log line and twice for every article in a list, and Foundation's formatters cost more than the rest of it.
public enum UTCTimestamp {
    /// Now.
    public static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return format(seconds: Int(now.tv_sec), milliseconds: Int(now.tv_nsec / 1_000_000))
    }

    /// A time given as seconds since 1970, rounded to the millisecond.
    public static func string(secondsSince1970 value: Double) -> String {
        let totalMilliseconds = (value * 1000).rounded()
        guard totalMilliseconds.isFinite, abs(totalMilliseconds) < 9e15 else { return "1970-01-01T00:00:00.000Z" }
        let milliseconds = Int64(totalMilliseconds)
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        return format(seconds: Int(seconds), milliseconds: Int(milliseconds - seconds * 1000))
    }

    /// How much of a time a person is shown (`readable(secondsSince1970:to:)`).
    public enum Precision: Sendable {
        /// `2026-12-05`
        case day
        /// `2026-12-05 14:03`
        case minute
        /// `2026-12-05 14:03:27`
        case second
    }

    /// A time for people to read on a page or in a message, in UTC: `2026-12-05 14:03` at `.minute`. The one way Keel
    /// and Conduit show a time, so no caller cuts an ISO string apart itself.
    public static func readable(secondsSince1970 value: Double, to precision: Precision) -> String {
        let iso = string(secondsSince1970: value)
        let length = switch precision {
        case .day: 10
        case .minute: 16
        case .second: 19
        }
        return String(iso.prefix(length).map { $0 == "T" ? " " : $0 })
    }

    static func format(seconds: Int, milliseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int, at offset: Int, digits: Int) {
            var value = value
            for position in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(Int(parts.tm_year) + 1900, at: 0, digits: 4)
        bytes[4] = UInt8(ascii: "-")
        put(Int(parts.tm_mon) + 1, at: 5, digits: 2)
        bytes[7] = UInt8(ascii: "-")
        put(Int(parts.tm_mday), at: 8, digits: 2)
        bytes[10] = UInt8(ascii: "T")
        put(Int(parts.tm_hour), at: 11, digits: 2)
        bytes[13] = UInt8(ascii: ":")
        put(Int(parts.tm_min), at: 14, digits: 2)
        bytes[16] = UInt8(ascii: ":")
        put(Int(parts.tm_sec), at: 17, digits: 2)
        bytes[19] = UInt8(ascii: ".")
        put(milliseconds, at: 20, digits: 3)
        bytes[23] = UInt8(ascii: "Z")
        return String(decoding: bytes, as: UTF8.self)
    }
}
