public import Hummingbird
public import HTTPTypes
import Logging

/// Turns every thrown error into Keel's one JSON error body (see `ErrorBody`).
///
/// - A `KeelError` renders as itself.
/// - Any other `HTTPResponseError` (Hummingbird's `HTTPError`, body-size errors, decoding failures reported by
///   `request.decode`) keeps its status and headers; an `HTTPError`'s client-error message becomes `errors.body`,
///   anything else shows the status's reason phrase.
/// - Anything else is a 500 whose body says only that an error happened and gives the request id; the error itself
///   is logged at `error` level with that id, never sent to the client.
///
/// The one place an error becomes Keel's error response: Keel's request pipeline and `ErrorWithExtraHeaders` (when
/// Hummingbird renders it directly) both come here.
package func renderError(_ error: any Error, request: Request, context: some RequestContext, requestID: String) -> Response {
    switch error {
    case let extra as ErrorWithExtraHeaders:
        var response = renderError(extra.base, request: request, context: context, requestID: requestID)
        response.headers.appendMissing(extra.headers)
        return response
    case let error as KeelError:
        return ErrorBody(messages: error.messages, code: error.code).response(status: error.status, headers: error.headers)
    case let error as any HTTPResponseError:
        // Keep the status and the headers the error carries (WWW-Authenticate, Retry-After); the body becomes
        // Keel's, and for a server error it says nothing of the cause.
        var message = error.status.reasonPhrase
        var headers = HTTPFields()
        if let rendered = try? error.response(from: request, context: context) {
            for field in rendered.headers where field.name != .contentType && field.name != .contentLength {
                headers.append(field)
            }
        }
        if let httpError = error as? HTTPError, error.status.code < 500 {
            message = httpError.body ?? message
        }
        if error.status.code >= 500 && error.status != .serviceUnavailable {
            context.logger.error("server error", metadata: ["error.type": "\(String(reflecting: type(of: error)))", "http.status": "\(error.status.code)"])
        }
        return ErrorBody(messages: ["body": [message]], code: .forStatus(error.status)).response(status: error.status, headers: headers)
    default:
        context.logger.error(
            "unhandled error",
            metadata: ["error.type": "\(String(reflecting: type(of: error)))", "error.message": "\(error)"]
        )
        let reference = requestID.isEmpty ? "" : " (request id \(requestID))"
        return ErrorBody(messages: ["body": ["Internal server error\(reference)"]], code: .internalError)
            .response(status: .internalServerError)
    }
}

/// Wraps an error with headers that must reach the error response too (security headers, request id).
///
/// Rendering it renders the wrapped error and adds these headers without overwriting any it set.
public struct ErrorWithExtraHeaders: Error, HTTPResponseError, Sendable {
    public let base: any Error
    public let headers: HTTPFields

    public init(_ base: any Error, _ headers: HTTPFields) {
        if let nested = base as? ErrorWithExtraHeaders {
            var merged = nested.headers
            merged.appendMissing(headers)
            self.base = nested.base
            self.headers = merged
        } else {
            self.base = base
            self.headers = headers
        }
    }

    public var status: HTTPResponse.Status { (base as? any HTTPResponseError)?.status ?? .internalServerError }

    /// Runs `body` and adds `headers` to what it returns, or to the error it throws, never overwriting a header of
    /// the same name: how a middleware puts its headers on every response, error responses included.
    public static func adding(_ headers: HTTPFields, to body: () async throws -> Response) async throws -> Response {
        do {
            var response = try await body()
            response.headers.appendMissing(headers)
            return response
        } catch {
            throw ErrorWithExtraHeaders(error, headers)
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        renderError(self, request: request, context: context, requestID: (context as? any RequestIDRequestContext)?.requestID ?? "")
    }
}
