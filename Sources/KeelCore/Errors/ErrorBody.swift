public import HTTPTypes
public import Hummingbird
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Keel's one JSON error body: `{"errors": {"<field or body>": ["message", ...]}, "code": "<stable code>"}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// Messages keyed by the input field at fault, or `body`.
    public var errors: [String: [String]]
    /// The stable error code (see `docs/errors.md`).
    public var code: String

    public init(messages: [String: [String]], code: ErrorCode) {
        self.errors = messages
        self.code = code.rawValue
    }

    /// Encodes the body; keys are sorted so the output is stable.
    public func encoded() -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding [String: [String]] and a String cannot fail.
        let data = (try? encoder.encode(self)) ?? Data(#"{"errors":{"body":["error"]},"code":"internal"}"#.utf8)
        return ByteBuffer(bytes: data)
    }

    /// A complete response with this body.
    public func response(status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: encoded()))
    }
}
