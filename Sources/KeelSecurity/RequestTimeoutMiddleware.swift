public import Hummingbird
import KeelCore
import Logging
import HTTPTypes

/// Bounds how long a handler may work on a request: past `timeout` the handler's task is cancelled and the client gets
/// a 503 `http.timeout` with `Retry-After`.
///
/// Cancellation is cooperative: sleeping, awaiting a database query or reading a body stops at once, but code that
/// ignores cancellation (a tight CPU loop) finishes before the 503 goes out. `http.idleTimeout` separately closes
/// connections whose client stops sending. Put it inside `ErrorRenderingMiddleware` and the security headers, so the
/// 503 has the usual body and headers.
public struct RequestTimeoutMiddleware<Context: RequestContext>: RouterMiddleware {
    let timeout: Duration

    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Carries Hummingbird's `next` into the handler's child task. `next` is not declared `Sendable`, but it only
    /// captures the (Sendable) middleware chain and is called exactly once, in that child, while this frame waits:
    /// there is no concurrent use to race.
    private struct Next: @unchecked Sendable {
        let call: (Request, Context) async throws -> Response
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard timeout > .zero else { return try await next(request, context) }
        let timeout = self.timeout
        return try await withoutActuallyEscaping(next) { escapable in
            let next = Next(call: escapable)
            return try await withThrowingTaskGroup(of: Response?.self) { group in
                group.addTask { try await next.call(request, context) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    context.logger.warning("request timed out", metadata: ["http.timeout_ms": .stringConvertible(timeout.components.seconds * 1000)])
                    throw KeelError(.serviceUnavailable, code: "http.timeout", message: "The request took too long.", headers: [.retryAfter: "5"])
                }
                return response
            }
        }
    }
}
