import Logging
public import Hummingbird
public import HTTPTypes
public import KeelKernel
import KeelCore
import KeelSecurity
import NIOCore

extension Templates {
    /// An HTML page: `name` rendered with `model` (an `Encodable` struct whose coding keys the template names, read
    /// through its own `encode(to:)`), plus Keel's values under `keel`:
    ///
    /// | name | what |
    /// |---|---|
    /// | `keel.csrf_token` | a fresh masked CSRF token (the session is created only if a template uses it); put it in every form with `{{> keel/csrf}}` or `<input type="hidden" name="csrf_token" value="{{keel.csrf_token}}">` |
    /// | `keel.csp_nonce` | the request's CSP nonce, for `<script nonce="{{keel.csp_nonce}}">` |
    /// | `keel.flash` | the session's flash messages (`level`, `message`), shown once |
    /// | `keel.user_id` | the signed-in user's id, or nothing |
    /// | `keel.user_name` | the signed-in user's display name (`Session.login(userID:displayName:)`), or nothing |
    /// | `keel.request_id` | the request id |
    /// | `keel.<name>` | what a module put in `context.state[PageValues.self]` (the access module's `keel.user_staff`) |
    ///
    /// ```swift
    /// routes.web.get("/") { _, context in try app.templates.page("home", Home(articles: …), context: context) }
    /// ```
    public func page<Model: Encodable>(
        _ name: String, _ model: Model, context: KeelContext, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) throws -> Response {
        let html: ByteBuffer
        do {
            html = try renderBuffer(name, modelType: Model.self, keel: Self.keelValues(context: context)) { try Self.scope(encoding: model) }
        } catch {
            context.logger.error("template failed", metadata: ["template": .string(name), "error": .string(error.description)])
            throw KeelError(.internalServerError, message: "The page could not be rendered.")
        }
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-cache" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: html))
    }

    static func keelValues(context: KeelContext) -> TemplateScope {
        let session = context.session
        var values: TemplateScope = [
            // Made only when a template renders it: making one creates the session and its cookie.
            Session.csrfTokenField: .lazy(LazyText { session.csrfToken() }),
            "csp_nonce": .text(context.cspNonce),
            "request_id": .text(context.requestID),
            "flash": .list(session.takeFlashes().map { .scope(["level": .text($0.level.rawValue), "message": .text($0.message)]) }),
        ]
        // Error pages render outside the stages that set the identity; the session (loaded by then) still knows the user.
        if let user = context.identity.userID ?? session.userID {
            values.append("user_id", .text(user))
            if let name = session.displayName { values.append("user_name", .text(name)) }
        }
        for (name, value) in context.state[PageValues.self].sorted(by: { $0.key < $1.key }) { _ = values.append(name, value.template) }
        return values
    }
}

/// The partials every template folder gets from Keel (`{{> keel/csrf}}`), unless the folder has its own.
enum KeelPartials {
    static let all: [String: String] = [
        "keel/csrf": #"<input type="hidden" name="\#(Session.csrfTokenField)" value="{{keel.\#(Session.csrfTokenField)}}">"#,
        "keel/flash": #"{{#keel.flash}}<p class="flash flash-{{level}}" role="status">{{message}}</p>{{/keel.flash}}"#,
    ]
}

/// Values a module adds to every page of a request under `keel.` (KeelWeb's own are listed at `Templates.page`): a
/// stage puts them here, the page renders them. The access module's `keel.user_staff` comes this way, so KeelWeb knows
/// nothing of staff.
///
/// ```swift
/// context.state[PageValues.self]["user_staff"] = .bool(true)     // in a stage
/// ```
public enum PageValues: RequestStateKey {
    public static var defaultValue: [String: PageValue] { [:] }
}

/// One value a module adds to pages (`PageValues`): text, or a flag for `{{#keel.name}}…{{/keel.name}}`.
public enum PageValue: Sendable, Equatable {
    case text(String)
    case bool(Bool)

    var template: TemplateValue {
        switch self {
        case .text(let text): .text(text)
        case .bool(let flag): .bool(flag)
        }
    }
}
