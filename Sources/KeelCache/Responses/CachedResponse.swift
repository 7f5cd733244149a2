import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import NIOCore

/// An answer as the response cache keeps it: four bytes giving the length of a JSON head (status, the handler's
/// headers, when it was stored), the head, then the body as it was sent, its CSP nonce replaced by a placeholder.
struct CachedResponse: Codable {
    let status: Int
    let headers: [[String]]
    let storedAt: Double
    /// Whether the body holds the nonce placeholder (most answers, every JSON one, do not: nothing to replace).
    let hasNonce: Bool
    var body: [UInt8] = []

    private enum CodingKeys: String, CodingKey {
        case status, headers, storedAt, hasNonce
    }

    init(status: Int, headers: [[String]], storedAt: Double, hasNonce: Bool, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.storedAt = storedAt
        self.hasNonce = hasNonce
        self.body = body
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 4 else { return nil }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard length <= bytes.count - 4, let head = try? JSONDecoder().decode(CachedResponse.self, from: Data(bytes[4 ..< 4 + length])) else {
            return nil
        }
        self = head
        self.body = Array(bytes[(4 + length)...])
    }

    func encoded() -> [UInt8] {
        let head = (try? JSONEncoder().encode(self)).map(Array.init) ?? []
        let length = head.count
        return [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + head + body
    }

    /// The answer for a request now: its nonce in the body, and `Age`; with the body it sends.
    func response(nonce: String, now: Date) -> (Response, ByteBuffer) {
        var fields = HTTPFields()
        for pair in headers where pair.count == 2 {
            if let name = HTTPField.Name(pair[0]) { fields.append(HTTPField(name: name, value: pair[1])) }
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
