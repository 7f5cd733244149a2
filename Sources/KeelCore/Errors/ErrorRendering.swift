package import Hummingbird
package import HTTPTypes
import Logging

/// How a route group shows errors: Keel's JSON error body (API routes), an HTML page (pages people look at), or
/// whichever the request's `Accept` prefers (requests that matched no route).
public enum ErrorFormat: Sendable, Hashable {
    case json
    case html
    /// HTML when `Accept` names `text/html` and not `application/json` before it; JSON otherwise (wildcards, no
    /// `Accept`). Media types are compared as media types (`MediaType`): case and parameters do not matter.
    case negotiated

    /// The concrete format for a request.
    package func resolved(for request: Request) -> ErrorFormat {
        guard self == .negotiated else { return self }
        guard let accept = request.headers[.accept] else { return .json }
        for type in MediaType.accepted(accept) {
            if type.names(.applicationJson) { return .json }
            if type.names(.textHtml) { return .html }
        }
        return .json
    }
}

/// What an error becomes: its status, the headers it carries, its stable code and its client-facing messages.
package struct ClassifiedError {
    package var status: HTTPResponse.Status
    package var headers: HTTPFields
    package var code: ErrorCode
    package var messages: [String: [String]]
}

/// Turns every thrown error into Keel's one error response: the JSON error body (see `ErrorBody`), or the same
/// content as an HTML page for `web` routes.
///
/// - A `KeelError` renders as itself.
/// - Any other `HTTPResponseError` (Hummingbird's `HTTPError`, body-size errors, decoding failures reported by
///   `request.decode`) keeps its status and headers; an `HTTPError`'s client-error message becomes `errors.body`,
///   anything else shows the status's reason phrase.
/// - Anything else is a 500 whose body says only that an error happened and gives the request id; the error itself
///   is logged at `error` level with that id, never sent to the client. `describe` gives the logged message: the
///   kernel passes KeelData's `DatabaseErrorReport.describe`, so a database error is logged in the server's words
///   (its SQLSTATE, message and the table or constraint it names), not as a driver's generic text.
///
/// The one place an error becomes Keel's error response (Keel's request pipeline calls it).
package func renderError(
    _ error: any Error, request: Request, context: some RequestContext, requestID: String, format: ErrorFormat = .json,
    describe: (any Error) -> String
) -> Response {
    let classified = classifyError(error, request: request, context: context, requestID: requestID, describe: describe)
    switch format.resolved(for: request) {
    case .html:
        return HTMLErrorPage.response(classified, requestID: requestID)
    case .json, .negotiated:
        return ErrorBody(messages: classified.messages, code: classified.code).response(status: classified.status, headers: classified.headers)
    }
}

package func classifyError(
    _ error: any Error, request: Request, context: some RequestContext, requestID: String, describe: (any Error) -> String
) -> ClassifiedError {
    switch error {
    case let error as KeelError:
        return ClassifiedError(status: error.status, headers: error.headers, code: error.code, messages: error.messages)
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
        return ClassifiedError(status: error.status, headers: headers, code: .forStatus(error.status), messages: ["body": [message]])
    default:
        context.logger.error(
            "unhandled error",
            metadata: ["error.type": "\(String(reflecting: type(of: error)))", "error.message": .string(describe(error))]
        )
        let reference = requestID.isEmpty ? "" : " (request id \(requestID))"
        return ClassifiedError(status: .internalServerError, headers: [:], code: .internalError, messages: ["body": ["Internal server error\(reference)"]])
    }
}

