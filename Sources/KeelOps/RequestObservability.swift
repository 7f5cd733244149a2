package import Hummingbird
import HTTPTypes
package import KeelCore
package import CoreMetrics
package import Logging

/// Request id, access log and request metrics: the outermost step of Keel's request pipeline.
///
/// - Accepts a well-formed incoming `X-Request-ID` (1–128 characters of `A-Z a-z 0-9 - _ . : /`), else generates one;
///   sets it on the context (`requestID`), on every log line of the request (`keel.request.id`) and on the response.
/// - Logs one access line per request at `info`: method, route template, status, duration, request id.
/// - Durations run from the request head to the response being ready (a buffered body is complete by then; a
///   streamed body's transfer is not included), so buffered responses keep Hummingbird's single-write fast path.
/// - Records `keel_http_requests_total` and `keel_http_request_duration_seconds` labelled by route template (never the
///   raw path: unmatched paths are labelled `unmatched`), method and status, and `keel_http_requests_in_flight`.
package struct RequestObservability: Sendable {
    let metrics: RequestMetrics?
    let accessLog: Bool
    let random: RandomPool

    package init(metricsFactory: (any MetricsFactory)?, accessLog: Bool, random: RandomPool = RandomPool()) {
        self.metrics = metricsFactory.map(RequestMetrics.init(factory:))
        self.accessLog = accessLog
        self.random = random
    }

    /// Accepts or makes the request id, puts it on the logger, counts the request in flight. Returns the id.
    package func begin(_ request: Request, logger: inout Logger) -> String {
        let id = request.headers[.xRequestID].flatMap(Self.accept) ?? random.hex(byteCount: 16)
        logger[metadataKey: "keel.request.id"] = .string(id)
        metrics?.inFlight.increment()
        return id
    }

    /// Echoes the id and records the finished request: metrics, then the access line.
    package func end(_ request: Request, response: inout Response, requestID: String, route: String?, start: ContinuousClock.Instant, logger: Logger) {
        response.headers[.xRequestID] = requestID
        let route = route ?? "unmatched"
        let status = response.status.code
        let method = request.method.rawValue
        let elapsed = ContinuousClock.now - start
        let nanoseconds = UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
        if let metrics {
            metrics.record(route: route, method: method, status: status, nanoseconds: nanoseconds)
            metrics.inFlight.decrement()
        }
        if accessLog {
            let fields: [(key: String, value: Logger.MetadataValue)] = [
                ("http.duration_ms", .string(Self.milliseconds(nanoseconds))),
                ("http.method", .string(method)),
                ("http.route", .string(route)),
                ("http.status", .string(String(status))),  // three digits: a small string, no allocation
            ]
            // Keel's own handler takes the line directly; any other handler gets it through swift-log.
            if let handler = logger.handler as? KeelLogHandler {
                handler.logRoutine("request", event: fields)
            } else {
                logger.info("request", metadata: Logger.Metadata(uniqueKeysWithValues: fields))
            }
        }
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

    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let micros = nanoseconds / 1000
        let whole = micros / 1000
        let fraction = micros % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(whole).\(padded)"
    }
}
