import Foundation
import NIOCore

/// A folder of Mustache templates, checked and compiled as a whole: every file parses, and every template another
/// includes (`{{> name}}`) or extends (`{{< name}}`) exists. A file's path without `.mustache` is its name
/// (`layout`, `errors/404`).
///
/// Values are HTML-escaped (`{{title}}`); a raw value is written `{{{html}}}`, which stays easy to find. The language
/// is Mustache's (the spec's variables, sections, inverted sections, comments, partials, parents and blocks, set
/// delimiters and standalone lines) without lambdas, compiled by Keel (`TemplateParser`) and rendered against typed
/// values (`TemplateValue`); docs/web.md says why.
public struct TemplateSet: Sendable {
    /// The compiled templates by name.
    let templates: [String: [TemplateNode]]
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
        var templates: [String: [TemplateNode]] = [:]
        for (name, text) in texts.sorted(by: { $0.key < $1.key }) {
            do {
                templates[name] = try TemplateParser.parse(text)
            } catch {
                throw .parse(name + ".mustache", line: error.line, column: error.column, error.message)
            }
        }
        for (name, nodes) in templates.sorted(by: { $0.key < $1.key }) {
            for partial in Self.references(in: nodes) where templates[partial] == nil {
                throw .missingPartial(name, partial)
            }
        }
        return TemplateSet(templates: templates, names: texts.keys.sorted())
    }

    /// The templates that nodes include or extend.
    static func references(in nodes: [TemplateNode]) -> [String] {
        nodes.flatMap { node -> [String] in
            switch node {
            case .partial(let name, _): [name]
            case .parent(let name, let blocks): [name] + blocks.values.flatMap { references(in: $0) }
            case .section(_, let body, _), .block(_, let body): references(in: body)
            case .text, .variable, .escaping: []
            }
        }
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
    /// `keel`, as a string: for tests, which compare what a template makes with swift-mustache's output. Handlers
    /// render through `page(_:_:context:)`, which writes into the response's buffer with the request's values.
    ///
    /// - Throws: `TemplateError` for a template that does not exist, and, when `strict`, for names the template uses
    ///   that neither the model nor Keel has.
    func render(_ name: String, _ model: Any, keel: [String: Any] = [:]) throws(TemplateError) -> String {
        let keel = TemplateScope(keel.mapValues { TemplateValue.reflecting($0) })
        return String(buffer: try renderBuffer(name, modelType: type(of: model), keel: keel) { try Self.scope(of: model) })
    }

    /// The page's bytes, written once into the buffer the response sends; `scope` makes the model's values.
    func renderBuffer(
        _ name: String, modelType: Any.Type, keel: TemplateScope, scope: () throws -> TemplateScope
    ) throws(TemplateError) -> ByteBuffer {
        let set = try current()
        guard let template = set.templates[name] else { throw .missingTemplate(name, known: set.names) }
        var root: TemplateScope
        do {
            root = try scope()
        } catch {
            throw .modelEncoding(name, model: modelType, error)
        }
        // `keel` is Keel's: a model's own `keel` is not what the template means by `{{keel.csrf_token}}`.
        root.append("keel", .scope(keel))
        var renderer = TemplateRenderer(templates: set.templates, root: .scope(root), capacity: 16_384)
        renderer.render(template)
        if let loop = renderer.tooDeep { throw .tooDeep(name, loop, limit: TemplateRenderer.maximumNesting) }
        if strict, !renderer.missing.isEmpty { throw .missingVariables(name, renderer.missing.sorted(), model: modelType) }
        return renderer.out
    }

    /// The outermost scope of a page: an `Encodable` model through its own `encode(to:)` (no reflection); others, and
    /// a model that encodes as a single value rather than fields, by reflection.
    ///
    /// - Throws: what an `Encodable` model's `encode(to:)` throws (a bug in the model, said rather than hidden).
    static func scope(of model: Any) throws -> TemplateScope {
        if let encodable = model as? any Encodable { return try scope(encoding: encodable) }
        if case .scope(let values) = TemplateValue.reflecting(model) { return values }
        return TemplateScope()
    }

    /// An `Encodable` model's values, through its own `encode(to:)`; one that encodes as a single value rather than
    /// fields, by reflection.
    static func scope(encoding model: some Encodable) throws -> TemplateScope {
        if case .scope(let values) = try ScopeEncoder.value(model) { return values }
        if case .scope(let values) = TemplateValue.reflecting(model) { return values }
        return TemplateScope()
    }
}

