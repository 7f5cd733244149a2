import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import NIOCore

/// An answer as the response cache keeps it, in a binary form read without a decoder (an answer from the cache is
/// mostly this read): a version byte, the status, when it was stored (milliseconds since 1970), whether the body
/// holds the nonce placeholder, the handler's headers (each name and value with a two-byte length), then the body
/// as it was sent, its CSP nonce replaced by the placeholder.
struct CachedResponse {
    let status: Int
    let headers: [(name: String, value: String)]
    let storedAt: Double
    /// Whether the body holds the nonce placeholder (most answers, every JSON one, do not: nothing to replace).
    let hasNonce: Bool
    var body: [UInt8] = []

    static let version: UInt8 = 1

    init(status: Int, headers: [(name: String, value: String)], storedAt: Double, hasNonce: Bool, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.storedAt = storedAt
        self.hasNonce = hasNonce
        self.body = body
    }

    init?(decoding bytes: [UInt8]) {
        var cursor = 0
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, cursor + count <= bytes.count else { return nil }
            defer { cursor += count }
            return bytes[cursor ..< cursor + count]
        }
        func number(_ width: Int) -> Int? {
            take(width).map { $0.reduce(0) { $0 << 8 | Int($1) } }
        }
        func text() -> String? {
            guard let length = number(2), let slice = take(length) else { return nil }
            return String(decoding: slice, as: UTF8.self)
        }
        guard take(1)?.first == Self.version, let status = number(2), let stored = number(8), let flags = take(1)?.first,
              let count = number(2) else { return nil }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(count)
        for _ in 0..<count {
            guard let name = text(), let value = text() else { return nil }
            headers.append((name, value))
        }
        self.init(status: status, headers: headers, storedAt: Double(stored) / 1000, hasNonce: flags & 1 == 1, body: Array(bytes[cursor...]))
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.version]
        out.reserveCapacity(body.count + 64 + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        func number(_ value: Int, _ width: Int) {
            for index in stride(from: width - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (index * 8))) }
        }
        func text(_ value: String) {
            let utf8 = Array(value.utf8.prefix(65_535))
            number(utf8.count, 2)
            out += utf8
        }
        number(status, 2)
        number(Int(storedAt * 1000), 8)
        out.append(hasNonce ? 1 : 0)
        number(headers.count, 2)
        for header in headers {
            text(header.name)
            text(header.value)
        }
        out += body
        return out
    }

    /// The answer for a request now: its nonce in the body, and `Age`; with the body it sends.
    func response(nonce: String, now: Date) -> (Response, ByteBuffer) {
        var fields = HTTPFields()
        for header in headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        fields[.age] = String(max(0, Int(now.timeIntervalSince1970 - storedAt)))
        var bytes = body
        if hasNonce, !nonce.isEmpty, let replaced = Bytes.replacingAll(ResponseCacheStage.noncePlaceholder, with: Array(nonce.utf8), in: bytes) {
            bytes = replaced
        }
        let buffer = ByteBuffer(bytes: bytes)
        return (Response(status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: buffer)), buffer)
    }
}

/// Byte searches for the response cache, by `memchr` and `memcmp` (a page is tens of kilobytes; a generic search was the slowest
/// part of an answer from the cache).
enum Bytes {
    /// `bytes` with every `needle` replaced, or `nil` when there is none.
    static func replacingAll(_ needle: [UInt8], with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8]? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var found: [Int] = []
        bytes.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                // memchr for the first byte, memcmp for the rest (glibc exports no memmem to Swift).
                let base = haystack.baseAddress!
                let first = Int32(needle[0])
                var offset = 0
                let last = haystack.count - pattern.count
                while offset <= last, let hit = memchr(base + offset, first, last - offset + 1) {
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + position, pattern.baseAddress!, pattern.count) == 0 {
                        found.append(position)
                        offset = position + pattern.count
                    } else {
                        offset = position + 1
                    }
                }
            }
        }
        guard !found.isEmpty else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + found.count * (replacement.count - needle.count))
        var start = 0
        for position in found {
            result.append(contentsOf: bytes[start ..< position])
            result.append(contentsOf: replacement)
            start = position + needle.count
        }
        result.append(contentsOf: bytes[start...])
        return result
    }
}
