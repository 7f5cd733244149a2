public import Hummingbird
public import HTTPTypes
import KeelCore
public import KeelKernel

/// What was wrong with a submitted form, as a page shows it: by field, next to each field
/// (`{{#problems.fields.email}}<p class="error">email {{.}}</p>{{/problems.fields.email}}`), and as sentences at the
/// top (`{{#problems.sentences}}<p class="error">{{.}}</p>{{/problems.sentences}}`: "email can't be blank").
public struct FormProblems: Encodable, Sendable, Equatable {
    /// Messages by field name (`KeelError.messages`, `ValidationProblems.messages`).
    public let fields: [String: [String]]
    /// Every message as a sentence that starts with its field's name, fields in alphabetical order; a `body` message
    /// (about the whole form) as it is.
    public let sentences: [String]

    public init(_ messages: [String: [String]] = [:]) {
        fields = messages
        sentences = KeelError.sentences(messages)
    }

    /// No problems: the form as first shown.
    public static let none = FormProblems()
}

extension Templates {
    /// Handles a submitted form: runs `action`, and when it throws a validation error (422, and any of `statuses`)
    /// renders the form's page again with what was wrong, answering 422: the model `page` makes from the problems
    /// keeps what was typed. Other errors pass through.
    ///
    /// ```swift
    /// routes.web.post("/register") { request, context in
    ///     let form = try await FormInput.read(request, context: context)
    ///     return try await templates.form("register", context: context,
    ///                                     page: { SignUp(email: form["email"], problems: $0) }) {
    ///         let user = try await accounts.register(form)
    ///         …
    ///         return SafeRedirect.seeOther("/")
    ///     }
    /// }
    /// ```
    public func form<Model: Encodable>(
        _ name: String, context: KeelContext, alsoFor statuses: Set<HTTPResponse.Status> = [],
        page: (FormProblems) -> Model, _ action: () async throws -> Response
    ) async throws -> Response {
        do {
            return try await action()
        } catch let error as KeelError where error.status == .unprocessableContent || statuses.contains(error.status) {
            return try self.page(name, page(FormProblems(error.messages)), context: context, status: .unprocessableContent)
        }
    }
}
