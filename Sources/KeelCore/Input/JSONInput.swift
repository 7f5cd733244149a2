public import Hummingbird
import Foundation

/// A JSON request body read as an object, with typed field access that turns every mistake into a 422 naming the
/// field, never a 500: an empty body, malformed JSON or JSON that is not an object is a 400; a missing envelope, a key
/// beside it or a wrong type a 422.
///
/// ```swift
/// let input = try await JSONInput.read(request, context: context, envelope: "user")   // {"user": {...}}
/// var problems = ValidationProblems()
/// let email = input.string("email", problems: &problems, required: true)
/// try problems.throwIfAny()
/// ```
public struct JSONInput: FieldInput, Sendable {
    let object: [String: JSONValue]

    init(object: [String: JSONValue]) {
        self.object = object
    }

    /// Reads the body (up to `context.maxUploadSize`) and returns the object under `envelope`.
    public static func read(_ request: Request, context: some RequestContext, envelope: String) async throws -> JSONInput {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let parsed: JSONValue
        do {
            // Fragments parse, so `null`, `0` or `"text"` are told they are not an object rather than not JSON.
            // JSONDecoder, not JSONSerialization: on Linux the latter drops a U+FEFF that starts a string.
            parsed = try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw KeelError(.badRequest, message: buffer.readableBytes == 0 ? "The body is empty; a JSON object is expected."
                : "The body is not valid JSON.")
        }
        guard case .object(let root) = parsed else {
            throw KeelError(.badRequest, message: "The body is JSON but not an object; {\"\(envelope)\": {…}} is expected.")
        }
        // The envelope is the whole body: a key beside it is a client's mistake (a field sent one level too high), said
        // rather than ignored. Inside the envelope unknown fields are ignored (clients echo what they were sent).
        let strays = root.keys.filter { $0 != envelope }.sorted()
        if !strays.isEmpty {
            // Names are cut to 100 characters for the answer, so two long ones may meet: one message each way.
            throw KeelError.validation(Dictionary(strays.prefix(20).map {
                (String($0.prefix(100)), ["is not allowed beside \"\(envelope)\"; the body is {\"\(envelope)\": {…}}"])
            }, uniquingKeysWith: { first, _ in first }))
        }
        guard case .object(let inner)? = root[envelope] else {
            throw KeelError.validation(field: envelope, "is required")
        }
        return JSONInput(object: inner)
    }

    /// Whether the key is present (even as `null`).
    public func contains(_ key: String) -> Bool { object[key] != nil }

    /// A string field: `nil` when absent or `null` (a problem if `required`), a problem when of another type.
    /// Leading and trailing whitespace is kept; callers decide.
    public func string(_ key: String, problems: inout ValidationProblems, required: Bool = false) -> String? {
        switch object[key] {
        case nil, .null?:
            if required { problems.add(key, "can't be blank") }
            return nil
        case .string(let value)?:
            if required && TextRules.isBlank(value) {
                problems.add(key, "can't be blank")
                return nil
            }
            return value
        default:
            problems.add(key, "must be a string")
            return nil
        }
    }

    /// A list of strings; a problem when it is not one.
    public func strings(_ key: String, problems: inout ValidationProblems) -> [String]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let values)?:
            let strings = values.compactMap { value -> String? in
                if case .string(let text) = value { return text }
                return nil
            }
            guard strings.count == values.count else {
                problems.add(key, "must be a list of strings")
                return nil
            }
            return strings
        default:
            problems.add(key, "must be a list of strings")
            return nil
        }
    }
}

/// Any JSON value, as a request body holds it before its fields are judged.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let object = try? container.decode([String: JSONValue].self) {
            self = .object(object)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else {
            self = .number(try container.decode(Double.self))
        }
    }
}

/// Field problems collected during validation, thrown together as one 422.
/// Named text fields of a request body, read the same way whatever encoded them (a JSON object, an HTML form), so
/// one piece of logic serves the API and the pages.
public protocol FieldInput {
    /// A text field: `nil` when absent (a problem if `required`, as is one that is only whitespace); whitespace is
    /// kept.
    func string(_ key: String, problems: inout ValidationProblems, required: Bool) -> String?
    /// A list of text values (a JSON array; a form's comma-separated field); `nil` when absent.
    func strings(_ key: String, problems: inout ValidationProblems) -> [String]?
    /// Whether the field was sent at all (a partial update changes only what was sent).
    func contains(_ key: String) -> Bool
}

extension FieldInput {
    /// An optional text field.
    public func string(_ key: String, problems: inout ValidationProblems) -> String? {
        string(key, problems: &problems, required: false)
    }
}

public struct ValidationProblems: Sendable {
    public private(set) var messages: [String: [String]] = [:]

    public init() {}

    public var isEmpty: Bool { messages.isEmpty }

    public mutating func add(_ field: String, _ message: String) {
        messages[field, default: []].append(message)
    }

    /// Throws `KeelError.validation` with every message, if there are any.
    public func throwIfAny() throws {
        if !messages.isEmpty { throw KeelError.validation(messages) }
    }
}
