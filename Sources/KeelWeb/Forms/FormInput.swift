public import Hummingbird
public import KeelCore
public import KeelKernel
import Foundation
import KeelSecurity
import HTTPTypes

/// A URL-encoded form (`application/x-www-form-urlencoded`, what a `<form method="post">` sends), read with typed
/// field access that collects every problem by field, for the page to show next to its fields:
///
/// ```swift
/// let form = try await FormInput.read(request, context: context)
/// var problems = ValidationProblems()
/// let email = form.string("email", problems: &problems, required: true)
/// if !problems.isEmpty {
///     return try templates.page("register", Register(email: email, errors: problems.messages), context: context,
///                               status: .unprocessableContent)
/// }
/// ```
/// A body that is not a form is a 415, a malformed one a 400, one past `context.maxUploadSize` a 413: never a 500.
public struct FormInput: Sendable, FieldInput {
    /// The fields as sent; the CSRF token (`Session.csrfTokenField`) is left out.
    public let fields: [String: String]

    public init(fields: [String: String]) {
        var fields = fields
        fields[Session.csrfTokenField] = nil
        self.fields = fields
    }

    /// Reads the request's body as a form.
    public static func read(_ request: Request, context: KeelContext) async throws -> FormInput {
        guard let type = request.headers[.contentType].flatMap(MediaType.init(essenceOf:)), type.names(.applicationUrlEncoded) else {
            throw KeelError(.unsupportedMediaType, message: "Send the form as application/x-www-form-urlencoded.")
        }
        // The CSRF check decoded it already when it looked for the token.
        if let fields = context.state[ParsedForm.self] { return FormInput(fields: fields) }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        return try parse(String(buffer: body))
    }

    /// Parses `a=1&b=two+words` (percent-escapes decoded, `+` as a space) with Hummingbird's `URLEncodedFormDecoder`.
    public static func parse(_ text: String) throws -> FormInput {
        do {
            return FormInput(fields: try URLEncodedFormDecoder().decode([String: String].self, from: text))
        } catch {
            throw KeelError(.badRequest, message: "The form is not correctly encoded.")
        }
    }

    /// A field's value as sent, or `nil`.
    public subscript(name: String) -> String? { fields[name] }

    /// Whether the form has the field.
    public func contains(_ name: String) -> Bool { fields[name] != nil }

    /// The same form without the fields left empty (a settings form's "new password" left blank changes nothing).
    public func droppingEmpty(_ names: String...) -> FormInput {
        FormInput(fields: fields.filter { !(names.contains($0.key) && $0.value.isEmpty) })
    }

    /// A text field as sent (whitespace kept: a password's spaces count); `nil` when absent or empty (a problem when
    /// `required`, as is one that is only whitespace), a problem when longer than `maxLength` characters.
    public func string(_ name: String, problems: inout ValidationProblems, required: Bool = false, maxLength: Int? = nil) -> String? {
        let value = fields[name] ?? ""
        if TextRules.isBlank(value) {
            if required { problems.add(name, "can't be blank") }
            return nil
        }
        if let maxLength, TextRules.length(value) > maxLength {
            problems.add(name, "is too long (at most \(maxLength) characters)")
            return nil
        }
        return value
    }

    public func string(_ name: String, problems: inout ValidationProblems, required: Bool) -> String? {
        string(name, problems: &problems, required: required, maxLength: nil)
    }

    /// A comma-separated field as its parts (`dragons, training` is `["dragons", " training"]`: callers trim);
    /// `nil` when absent or empty.
    public func strings(_ name: String, problems: inout ValidationProblems) -> [String]? {
        guard let value = fields[name], !value.isEmpty else { return nil }
        return value.split(separator: ",").map(String.init)
    }
}
