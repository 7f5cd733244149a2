public import Hummingbird
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

/// Receives Content-Security-Policy violation reports: logs each (a few fields, truncated) at `warning`, at most
/// `perMinute` a minute per instance; beyond that answers 429 and drops them.
public struct CSPReportEndpoint: Sendable {
    let path: String
    let limiter: RateLimiter

    public init(path: String, perMinute: Int) {
        self.path = path
        self.limiter = RateLimiter(perMinute: perMinute)
    }

    struct Report: Decodable {
        struct Body: Decodable {
            let documentURI: String?
            let violatedDirective: String?
            let blockedURI: String?
            enum CodingKeys: String, CodingKey {
                case documentURI = "document-uri", violatedDirective = "violated-directive", blockedURI = "blocked-uri"
            }
        }
        let cspReport: Body?
        enum CodingKeys: String, CodingKey { case cspReport = "csp-report" }
    }

    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        router.post(RouterPath(path)) { request, context -> Response in
            guard limiter.allow() else {
                throw KeelError(.tooManyRequests, message: "Too many reports.", headers: [.retryAfter: "60"])
            }
            let body = try await request.body.collect(upTo: 16_384)
            let report = try? JSONDecoder().decode(Report.self, from: Data(body.readableBytesView))
            func clip(_ text: String?) -> Logger.MetadataValue { .string(String((text ?? "").prefix(200))) }
            context.logger.warning("csp violation", metadata: [
                "csp.document": clip(report?.cspReport?.documentURI), "csp.directive": clip(report?.cspReport?.violatedDirective),
                "csp.blocked": clip(report?.cspReport?.blockedURI),
            ])
            return Response(status: .noContent)
        }
    }
}

/// A fixed-window counter: at most `perMinute` events per wall-clock minute, per instance.
final class RateLimiter: Sendable {
    private let state = Mutex<(window: Int64, count: Int)>((0, 0))
    let perMinute: Int

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    func allow(now: Date = Date()) -> Bool {
        let window = Int64(now.timeIntervalSince1970 / 60)
        return state.withLock { state in
            if state.window != window { state = (window, 0) }
            guard state.count < perMinute else { return false }
            state.count += 1
            return true
        }
    }
}

extension ErrorCode {
    /// `http.uri_too_long`: The request target exceeds `http.maxURLLength`.
    public static let uriTooLong: ErrorCode = "http.uri_too_long"
    /// `http.headers_too_large`: The header fields exceed `http.maxHeaderBytes`.
    public static let headersTooLarge: ErrorCode = "http.headers_too_large"
}
