import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An answer as the response cache keeps it: four bytes giving the length of a JSON head (status, the handler's
/// headers, when it was stored), the head, then the body as it was sent, its CSP nonce replaced by a placeholder.
struct CachedResponse: Codable {
    let status: Int
    let headers: [[String]]
    let storedAt: Double
    var body: [UInt8] = []

    private enum CodingKeys: String, CodingKey {
        case status, headers, storedAt
    }

    init(status: Int, headers: [[String]], storedAt: Double, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.storedAt = storedAt
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
        if !nonce.isEmpty { bytes = bytes.replacing(ResponseCacheStage.noncePlaceholder, with: Array(nonce.utf8)) }
        let buffer = ByteBuffer(bytes: bytes)
        return (Response(status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: buffer)), buffer)
    }
}
