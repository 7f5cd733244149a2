public import HTTPTypes
public import Hummingbird

/// A stable, documented error code such as `http.not_found` or `validation.failed`.
///
/// Codes are public API: they are documented in `docs/errors.md`, never renamed and never reused.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// The request was malformed (bad JSON, wrong types, bad parameters).
    public static let badRequest: ErrorCode = "http.bad_request"
    /// A path parameter's percent-escapes do not decode to UTF-8 text.
    public static let badPath: ErrorCode = "http.bad_path"
    /// No credentials, or credentials that do not verify.
    public static let unauthorized: ErrorCode = "http.unauthorized"
    /// Authenticated, but not allowed to do this.
    public static let forbidden: ErrorCode = "http.forbidden"
    /// No such route or resource.
    public static let notFound: ErrorCode = "http.not_found"
    /// The route exists but not for this method.
    public static let methodNotAllowed: ErrorCode = "http.method_not_allowed"
    /// The body is larger than `http.maxBodySize`.
    public static let payloadTooLarge: ErrorCode = "http.payload_too_large"
    /// The input parsed but did not validate; the body names each field at fault.
    public static let validationFailed: ErrorCode = "validation.failed"
    /// Too many requests; `Retry-After` says when to try again.
    public static let tooManyRequests: ErrorCode = "http.too_many_requests"
    /// The service is not ready (starting, migrating, or shutting down).
    public static let unavailable: ErrorCode = "http.unavailable"
    /// An unexpected server error. The body carries only the request id.
    public static let internalError: ErrorCode = "internal"

    /// The generic code for a status that has no more specific one.
    public static func forStatus(_ status: HTTPResponse.Status) -> ErrorCode {
        switch status.code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 413: .payloadTooLarge
        case 422: .validationFailed
        case 429: .tooManyRequests
        case 503: .unavailable
        case 500...: .internalError
        default: ErrorCode(rawValue: "http.\(status.code)")
        }
    }
}

/// An error a client can cause, rendered as Keel's one JSON error body.
///
/// The body has the RealWorld shape, plus the stable code:
/// ```json
/// {"errors": {"email": ["has already been taken"]}, "code": "validation.failed"}
/// ```
/// Messages are shown to clients: never put secrets, tokens, SQL or personal data in them.
///
/// ```swift
/// throw KeelError.validation(["email": ["can't be blank"]])
/// throw KeelError(.notFound, code: .notFound, message: "article not found")
/// ```
public struct KeelError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    /// The HTTP status of the response.
    public var status: HTTPResponse.Status
    /// The stable code, rendered as `code` in the body.
    public var code: ErrorCode
    /// Messages keyed by the input field at fault, or `body` when no one field is.
    public var messages: [String: [String]]
    /// Extra response headers, such as `Retry-After` or `WWW-Authenticate`.
    public var headers: HTTPFields

    /// The messages as sentences for people (a page's list of problems, a command's error lines): each starts with
    /// its field's name ("email can't be blank"), fields in alphabetical order; a `body` message as it is.
    public var sentences: [String] { Self.sentences(messages) }

    /// The error as a command prints it for a person at a terminal: one `error: …` line per sentence.
    public var commandLineText: String { sentences.map { "error: " + $0 }.joined(separator: "\n") }

    /// `sentences` for messages by field (`ValidationProblems.messages`).
    public static func sentences(_ messages: [String: [String]]) -> [String] {
        messages.keys.sorted().flatMap { key in (messages[key] ?? []).map { key == "body" ? $0 : "\(key) \($0)" } }
    }

    public init(_ status: HTTPResponse.Status, code: ErrorCode? = nil, messages: [String: [String]], headers: HTTPFields = [:]) {
        self.status = status
        self.code = code ?? .forStatus(status)
        self.messages = messages
        self.headers = headers
    }

    public init(_ status: HTTPResponse.Status, code: ErrorCode? = nil, message: String? = nil, headers: HTTPFields = [:]) {
        self.init(status, code: code, messages: ["body": [message ?? status.reasonPhrase]], headers: headers)
    }

    /// A 422 naming each field at fault, as RealWorld clients expect.
    public static func validation(_ messages: [String: [String]]) -> KeelError {
        KeelError(.unprocessableContent, code: .validationFailed, messages: messages)
    }

    /// A 422 for one field.
    public static func validation(field: String, _ message: String) -> KeelError {
        validation([field: [message]])
    }

    public var description: String { "KeelError(\(status.code), \(code))" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        ErrorBody(messages: messages, code: code).response(status: status, headers: headers)
    }
}
