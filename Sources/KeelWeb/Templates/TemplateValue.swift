import Foundation

/// What a template sees of a page's model: a tree of values made once per render, before the template runs, so
/// rendering looks names up in dictionaries and switches on cases, with no reflection and no protocol-conformance
/// checks per name (docs/web.md, "What a page costs").
enum TemplateValue {
    case text(String)
    case integer(Int)
    case decimal(Double)
    case bool(Bool)
    /// A value that is there but empty: a `nil` optional. Renders nothing, is false in a section, and stops a lookup
    /// (unlike a name that is not there at all, which is looked for further out).
    case null
    case list([TemplateValue])
    /// A struct, class or dictionary: names to values.
    case scope(TemplateScope)
    /// Text made only if the template renders it (the CSRF token: making one creates the session).
    case lazy(LazyText)

    /// The text a variable shows: text, numbers and booleans; nothing for the rest.
    var text: String? {
        switch self {
        case .text(let text): text
        case .lazy(let lazy): lazy.text
        case .integer(let number): String(number)
        case .decimal(let number): String(describing: number)
        case .bool(let flag): flag ? "true" : "false"
        case .null, .list, .scope: nil
        }
    }

    /// False in a section: `false`, `nil` and empty lists (text, even empty, and numbers, even 0, are true, as the
    /// Mustache spec says).
    var isFalsy: Bool {
        switch self {
        case .bool(let flag): !flag
        case .null: true
        case .list(let values): values.isEmpty
        default: false
        }
    }
}

/// Names and their values, in the order they were given; a name given twice has its last value.
///
/// A list searched from the end rather than a dictionary: a page's scopes have a handful of names each (a row's
/// fields), most of them short enough for Swift to compare as two machine words, so a scan costs less than hashing
/// the name, and building one costs one allocation instead of a table resized as it grows (docs/web.md, "What a page
/// costs").
struct TemplateScope: ExpressibleByDictionaryLiteral {
    private var entries: [(name: String, value: TemplateValue)]

    init(capacity: Int = 0) {
        entries = []
        entries.reserveCapacity(capacity)
    }

    init(dictionaryLiteral elements: (String, TemplateValue)...) {
        entries = elements.map { (name: $0.0, value: $0.1) }
    }

    init(_ dictionary: [String: TemplateValue]) {
        entries = dictionary.map { (name: $0.key, value: $0.value) }
    }

    subscript(name: String) -> TemplateValue? {
        var index = entries.count - 1
        while index >= 0 {
            if entries[index].name == name { return entries[index].value }
            index -= 1
        }
        return nil
    }

    /// Replaces the value at a position `append` returned.
    mutating func replace(at index: Int, with value: TemplateValue) {
        entries[index].value = value
    }

    /// Adds a name's value; returns where it is.
    @discardableResult
    mutating func append(_ name: String, _ value: TemplateValue) -> Int {
        entries.append((name: name, value: value))
        return entries.count - 1
    }
}

/// Text computed at its first render.
final class LazyText {
    private let make: () -> String
    private var made: String?

    init(_ make: @escaping () -> String) {
        self.make = make
    }

    var text: String {
        if let made { return made }
        let text = make()
        made = text
        return text
    }
}

extension TemplateValue {
    /// Past this depth of nested structs or classes a value renders as its description, so an object graph with a
    /// cycle cannot recurse forever.
    static let maximumDepth = 16

    /// Any value, read by reflection: for models that are not `Encodable` (an `Encodable` one goes through
    /// `ScopeEncoder`, which needs no reflection), and for dictionaries of values.
    static func reflecting(_ value: Any, depth: Int = 0) -> TemplateValue {
        switch value {
        case let value as TemplateValue: return value
        case let text as String: return .text(text)
        case let number as Int: return .integer(number)
        case let flag as Bool: return .bool(flag)
        case let number as Double: return .decimal(number)
        case let text as Substring: return .text(String(text))
        case let dictionary as [String: Any]:
            guard depth <= maximumDepth else { return .text(String(describing: value)) }
            return .scope(TemplateScope(dictionary.mapValues { reflecting($0, depth: depth + 1) }))
        case let date as Date: return .text(String(describing: date))
        case let url as URL: return .text(url.absoluteString)
        case let number as any BinaryInteger: return Int(exactly: number).map(TemplateValue.integer) ?? .text(String(describing: number))
        case let number as any BinaryFloatingPoint: return .decimal(Double(number))
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else { return .null }
            return reflecting(wrapped, depth: depth)
        case .collection, .set:
            return .list(mirror.children.map { reflecting($0.value, depth: depth) })
        case .struct, .class:
            guard depth <= maximumDepth else { return .text(String(describing: value)) }
            var values = TemplateScope()
            for child in mirror.children {
                if let label = child.label { values.append(label, reflecting(child.value, depth: depth + 1)) }
            }
            return .scope(values)
        default:
            // Enums and the rest: as Swift describes them (a `String` enum by its case name).
            return .text(String(describing: value))
        }
    }
}
