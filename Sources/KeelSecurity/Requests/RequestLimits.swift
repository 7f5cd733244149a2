package import Hummingbird
import HTTPTypes
public import KeelCore
import Foundation
import Logging
import Synchronization

/// Input limits applied before any handler reads the request.
///
/// - a request target longer than `maxURLLength` → 414 (`http.uri_too_long`);
/// - header fields larger than `maxHeaderBytes` in total → 431 (`http.headers_too_large`);
/// - a `Content-Length` over `maxBodySize` → 413 (`http.payload_too_large`) without reading the body, and the same
///   limit on `context.maxUploadSize`, which `request.decode` and `collect(upTo:)` enforce for chunked bodies.
package struct RequestLimits: Sendable {
    package let maxBodySize: Int
    let maxURLLength: Int
    let maxHeaderBytes: Int

    package init(maxBodySize: Int, maxURLLength: Int, maxHeaderBytes: Int) {
        self.maxBodySize = maxBodySize
        self.maxURLLength = maxURLLength
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Throws the 414, 431, 400 or 413 the request has earned, before anything reads it.
    package func check(_ request: Request) throws {
        if (request.head.path?.utf8.count ?? 0) > maxURLLength {
            throw KeelError(.uriTooLong, code: .uriTooLong, message: "The URL is longer than \(maxURLLength) bytes.")
        }
        var headerBytes = 0
        for field in request.headers {
            headerBytes += field.name.rawName.utf8.count + field.value.utf8.count + 4
        }
        if headerBytes > maxHeaderBytes {
            throw KeelError(.requestHeaderFieldsTooLarge, code: .headersTooLarge, message: "The request headers are too large.")
        }
        if let length = request.headers[.contentLength] {
            guard let bytes = Int(length), bytes >= 0 else {
                throw KeelError(.badRequest, message: "Invalid Content-Length.")
            }
            if bytes > maxBodySize {
                throw KeelError(.contentTooLarge, code: .payloadTooLarge, message: "The request body is larger than \(maxBodySize) bytes.")
            }
        }
    }
}

extension ErrorCode {
    /// `http.uri_too_long`: The request target exceeds `http.maxURLLength`.
    public static let uriTooLong: ErrorCode = "http.uri_too_long"
    /// `http.headers_too_large`: The header fields exceed `http.maxHeaderBytes`.
    public static let headersTooLarge: ErrorCode = "http.headers_too_large"
}
