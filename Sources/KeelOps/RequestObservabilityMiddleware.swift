public import Hummingbird
import HTTPTypes
public import KeelCore
public import CoreMetrics
import Logging

/// Request id, access log and request metrics: the outermost middleware.
///
/// - Accepts a well-formed incoming `X-Request-ID` (1–128 characters of `A-Z a-z 0-9 - _ . : /`), else generates one;
///   sets it on the context (`requestID`), on every log line of the request (`keel.request.id`) and on the response.
/// - Logs one access line per request at `info`: method, route template, status, duration, request id.
/// - Durations run from the request head to the response being ready (a buffered body is complete by then; a
///   streamed body's transfer is not included), so buffered responses keep Hummingbird's single-write fast path.
/// - Records `keel_http_requests_total` and `keel_http_request_duration_seconds` labelled by route template (never the
///   raw path: unmatched paths are labelled `unmatched`), method and status, and `keel_http_requests_in_flight`.
///
/// Put `ErrorRenderingMiddleware` directly inside it so the log and metrics see the status clients see.
public struct RequestObservabilityMiddleware<Context: RequestIDRequestContext>: RouterMiddleware {
    let metrics: RequestMetrics?
    let accessLog: Bool

    /// - Parameters:
    ///   - metricsFactory: where request metrics go; `nil` records none.
    ///   - accessLog: whether to log one line per request.
    public init(metricsFactory: (any MetricsFactory)?, accessLog: Bool = true) {
        self.metrics = metricsFactory.map(RequestMetrics.init(factory:))
        self.accessLog = accessLog
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = request.headers[.xRequestID].flatMap(Self.accept) ?? Self.generate()
        var context = context
        context.requestID = requestID
        context.logger[metadataKey: "keel.request.id"] = .string(requestID)
        metrics?.inFlight.increment()
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // Only reached when nothing inside rendered the error: keep the id and the accounting right anyway.
            response = ErrorRenderingMiddleware<Context>.render(error, request: request, context: context)
        }
        response.headers[.xRequestID] = requestID
        let route = context.endpointPath ?? "unmatched"
        let status = response.status.code
        let method = request.method.rawValue
        let elapsed = ContinuousClock.now - start
        let nanoseconds = UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        if let metrics {
            metrics.record(route: route, method: method, status: status, nanoseconds: nanoseconds)
            metrics.inFlight.decrement()
        }
        if accessLog {
            context.logger.info(
                "request",
                metadata: [
                    "http.method": .string(method),
                    "http.route": .string(route),
                    "http.status": .stringConvertible(status),
                    "http.duration_ms": .string(Self.milliseconds(nanoseconds)),
                ]
            )
        }
        return response
    }

    /// The incoming id if it is well formed, else `nil`.
    static func accept(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count) else { return nil }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"):
                continue
            default:
                return nil
            }
        }
        return value
    }

    /// 128 random bits as 32 lowercase hex characters.
    static func generate() -> String {
        Hex.encode(SecureRandom.bytes(16))
    }



    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let micros = nanoseconds / 1000
        let whole = micros / 1000
        let fraction = micros % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(whole).\(padded)"
    }
}
