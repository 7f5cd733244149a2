public import Mustache
import Foundation
import Synchronization

/// A folder of Mustache templates, checked and compiled as a whole: every file parses, and every template another
/// includes (`{{> name}}`) or extends (`{{< name}}`) exists. A file's path without `.mustache` is its name
/// (`layout`, `errors/404`).
///
/// Values are HTML-escaped (`{{title}}`); a raw value is written `{{{html}}}`, which stays easy to find.
public struct TemplateSet: Sendable {
    /// The compiled templates.
    public let library: MustacheLibrary
    /// Every template's name, sorted.
    public let names: [String]

    /// Reads and checks every `.mustache` file under `directory`.
    public static func load(directory: String) throws(TemplateError) -> TemplateSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .folderMissing(directory)
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        let paths = (FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".mustache") }.sorted()
        var texts: [String: String] = [:]
        for path in paths {
            guard let data = FileManager.default.contents(atPath: base + path) else { continue }
            texts[String(path.dropLast(".mustache".count))] = String(decoding: data, as: UTF8.self)
        }
        return try compile(texts)
    }

    /// Compiles templates given by name (tests, templates built into a module).
    public static func compile(_ texts: [String: String]) throws(TemplateError) -> TemplateSet {
        // Keel's own partials (`keel/csrf`, `keel/flash`), unless the folder has its own of the same name.
        let texts = KeelPartials.all.merging(texts) { _, own in own }
        _ = KeelHTMLContentType.registered
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in texts.sorted(by: { $0.key < $1.key }) {
            do {
                templates[name] = try MustacheTemplate(string: KeelHTMLContentType.pragma + text)
            } catch let error as MustacheTemplate.ParserError {
                // The pragma in front of the text is on line 1: columns there are the file's once it is taken off.
                let column = error.context.lineNumber == 1 ? max(1, error.context.columnNumber - KeelHTMLContentType.pragma.count)
                    : error.context.columnNumber
                throw .parse(name + ".mustache", line: error.context.lineNumber, column: column, "\(error.error)")
            } catch {
                throw .parse(name + ".mustache", line: 0, column: 0, "\(error)")
            }
        }
        for (name, text) in texts.sorted(by: { $0.key < $1.key }) {
            for partial in Self.references(in: text) where texts[partial] == nil {
                throw .missingPartial(name, partial)
            }
        }
        return TemplateSet(library: MustacheLibrary(templates: templates), names: texts.keys.sorted())
    }

    /// The templates a text includes or extends by a fixed name (`{{> name}}`, `{{< name}}`; not `{{>*dynamic}}`).
    static func references(in text: String) -> [String] {
        text.matches(of: /\{\{\s*[<>]\s*([^}\s*][^}\s]*)\s*\}\}/).map { String($0.output.1) }
    }
}

/// The application's templates (`web.templates`), installed by `WebModule`: compiled once at start, or read again for
/// every page when `web.templatesReload` is on (development).
public struct Templates: Sendable {
    public let directory: String
    public let reloads: Bool
    /// Whether a name the model lacks fails the render (`web.strictVariables`).
    public let strict: Bool
    let compiled: TemplateSet

    /// Loads and checks the folder now: a template that does not parse or includes one that does not exist is an
    /// error at start, not a blank page later.
    public init(directory: String, reloads: Bool = false, strict: Bool = true) throws(TemplateError) {
        self.directory = directory
        self.reloads = reloads
        self.strict = strict
        self.compiled = try TemplateSet.load(directory: directory)
    }

    /// Templates from text (tests, a module's own).
    public init(_ set: TemplateSet, strict: Bool = true) {
        self.directory = ""
        self.reloads = false
        self.strict = strict
        self.compiled = set
    }

    /// The templates as they are now: the compiled set, or the folder read again.
    public func current() throws(TemplateError) -> TemplateSet {
        reloads ? try TemplateSet.load(directory: directory) : compiled
    }

    /// Whether a template exists.
    public func contains(_ name: String) -> Bool {
        (try? current())?.names.contains(name) ?? false
    }

    /// Renders `name` with `model` (a struct whose stored properties the template names) and Keel's own values under
    /// `keel` (`{{keel.csrf_token}}`, `{{keel.csp_nonce}}`, `{{#keel.flash}}`…).
    ///
    /// - Throws: `TemplateError` for a template that does not exist, and, when `strict`, for names the template uses
    ///   that neither the model nor Keel has.
    public func render(_ name: String, _ model: Any, keel: [String: Any] = [:]) throws(TemplateError) -> String {
        let set = try current()
        guard let template = set.library.getTemplate(named: name) else { throw .missingTemplate(name, known: set.names) }
        let scope: PageScope
        do {
            scope = try PageScope(model: model, keel: keel)
        } catch {
            throw .modelEncoding(name, model: type(of: model), error)
        }
        let text = template.render(scope, library: set.library)
        let missing = scope.missing.names
        if strict, !missing.isEmpty { throw .missingVariables(name, missing, model: type(of: model)) }
        return text
    }
}

/// The outermost scope of a page: the model's stored properties and `keel`. Mustache looks a name up from the
/// innermost section outwards, so this scope is asked last: a name it does not have is nowhere (a typo, a renamed
/// property), and is recorded.
final class PageScope: MustacheParent {
    let scope: Scope
    let keel: [String: Any]
    let missing = MissingNames()

    /// - Throws: what an `Encodable` model's `encode(to:)` throws (a bug in the model, said rather than hidden).
    init(model: Any, keel: [String: Any]) throws {
        // An `Encodable` model is read through its own `encode(to:)` (no reflection); others, and a model that encodes
        // as a single value rather than fields, through `Mirror`.
        if let encodable = model as? any Encodable, let scope = try ScopeEncoder.scope(encodable) as? Scope {
            self.scope = scope
        } else {
            self.scope = Scope(model)
        }
        self.keel = keel
    }

    func child(named name: String) -> Any? {
        if name == "keel" { return keel }
        guard let value = scope.child(named: name) else {
            missing.add(name)
            return nil
        }
        return value
    }
}

/// A struct or class in a page's model, looked up by its stored properties. Unlike Mustache's own reflection it tells
/// a property that is `nil` (found: renders empty, false in a section, the lookup stops here) from a property that is
/// not there (the lookup goes on outwards, and at the page's scope is reported missing). What it hands out is
/// wrapped the same way, so sections over nested values keep the distinction.
///
/// The model is wrapped once, when the page's scope is made, not at each lookup: a template names the fields of
/// every row of a list, and reflecting a value (and asking which protocols it conforms to) at each of those lookups
/// cost the home page three quarters of its throughput. `Encodable` models skip it altogether (`ScopeEncoder`; docs/web.md,
/// "What a page costs").
struct Scope: MustacheParent {
    let values: [String: Any]

    init(values: [String: Any]) {
        self.values = values
    }

    /// Past this depth of nested structs or classes values are handed to Mustache unwrapped (its own reflection,
    /// without the nil/missing distinction), so an object graph with a cycle cannot recurse forever.
    static let maximumDepth = 16

    init(_ model: Any, depth: Int = 0) {
        var values: [String: Any] = [:]
        for child in Mirror(reflecting: model).children {
            if let label = child.label { values[label] = Self.wrap(child.value, depth: depth + 1) }
        }
        self.values = values
    }

    func child(named name: String) -> Any? {
        values[name]
    }

    /// Text, numbers and booleans as they are; optionals unwrapped (`nil` as `NullValue`), structs and classes as
    /// `Scope`, arrays element by element; dictionaries and Mustache's own types as they are.
    static func wrap(_ value: Any, depth: Int) -> Any {
        // The leaves of nearly every model, without reflection or a protocol-conformance lookup.
        switch value {
        case is String, is Int, is Bool, is Double, is Substring: return value
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first?.value else { return NullValue() }
            return wrap(wrapped, depth: depth)
        case .collection, .set:
            return mirror.children.map { wrap($0.value, depth: depth) }
        case .struct, .class:
            if depth > maximumDepth || value is any MustacheParent || value is any MustacheCustomRenderable
                || value is any MustacheCustomRepresentation || value is MustacheLambda || value is any StringProtocol
                || value is Date || value is any Numeric {
                return value
            }
            return Scope(value, depth: depth)
        default:
            return value
        }
    }
}

/// A present value that renders as nothing and is false in a section.
struct NullValue: MustacheCustomRepresentation {
    var representation: Any? { nil }
}

/// Names a render looked up and found nowhere.
final class MissingNames: Sendable {
    private let storage = Mutex<Set<String>>([])
    func add(_ name: String) { storage.withLock { _ = $0.insert(name) } }
    var names: [String] { storage.withLock { $0.sorted() } }
}
