/// What can be wrong with a template folder or a render, said so a person can fix it.
public struct TemplateError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The folder `web.templates` names does not exist.
        case folderMissing
        /// A template does not parse.
        case parse
        /// A template includes (`{{> name}}`) or extends (`{{< name}}`) a template that does not exist.
        case missingPartial
        /// A page asked for a template that does not exist.
        case missingTemplate
        /// The template uses names the page's model does not have.
        case missingVariables
        /// The page's `Encodable` model threw from its own `encode(to:)`.
        case modelEncoding
        /// Partials or parents include each other deeper than Keel renders (a template that includes itself forever).
        case tooDeep
    }

    public let kind: Kind
    public let description: String

    static func folderMissing(_ directory: String) -> TemplateError {
        TemplateError(kind: .folderMissing, description: "The template folder '\(directory)' does not exist (web.templates; relative to the working directory).")
    }

    static func parse(_ file: String, line: Int, column: Int, _ message: String) -> TemplateError {
        TemplateError(kind: .parse, description: "\(file):\(line):\(column): \(message)")
    }

    static func missingPartial(_ template: String, _ partial: String) -> TemplateError {
        TemplateError(kind: .missingPartial, description: "Template '\(template)' includes '\(partial)', which does not exist.")
    }

    static func missingTemplate(_ name: String, known: [String]) -> TemplateError {
        TemplateError(kind: .missingTemplate, description: "No template '\(name)' (known: \(known.joined(separator: ", "))).")
    }

    static func modelEncoding(_ template: String, model: Any.Type, _ error: any Error) -> TemplateError {
        TemplateError(kind: .modelEncoding, description: "Template '\(template)': \(model) failed to encode itself: \(error)")
    }

    static func tooDeep(_ template: String, _ partial: String, limit: Int) -> TemplateError {
        TemplateError(
            kind: .tooDeep,
            description: "Template '\(template)': partials nest more than \(limit) deep at '\(partial)' (does a template include itself?).")
    }

    static func missingVariables(_ template: String, _ names: [String], model: Any.Type) -> TemplateError {
        TemplateError(
            kind: .missingVariables,
            description: "Template '\(template)' uses \(names.map { "'\($0)'" }.joined(separator: ", ")), which \(model) does not have.")
    }
}
