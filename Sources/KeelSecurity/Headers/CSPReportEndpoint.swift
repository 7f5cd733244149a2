public import Hummingbird
import HTTPTypes
import KeelCore
public import Foundation
import Logging

/// Receives Content-Security-Policy violation reports: logs each (a few fields, truncated) at `warning`, at most
/// `perMinute` a minute per instance; beyond that answers 429 and drops them.
public struct CSPReportEndpoint: Sendable {
    let path: String
    let limiter: RateLimiter

    /// - Parameter clock: the application's clock (`app.clock`), whose minutes the limit counts.
    public init(path: String, perMinute: Int, clock: @escaping @Sendable () -> Date) {
        self.path = path
        self.limiter = RateLimiter(perMinute: perMinute, clock: clock)
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
