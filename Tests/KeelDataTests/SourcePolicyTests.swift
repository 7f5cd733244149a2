import Foundation
import Testing

/// Rules about the code itself that a review would otherwise have to catch, checked over every file in `Sources/`.
@Suite struct SourcePolicyTests {
    /// Every Swift file under `Sources/` and `Benchmarks/Sources/`, with its path relative to the package.
    static func sources() throws -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var found: [(String, String)] = []
        for folder in ["Sources", "Benchmarks/Sources"] {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where url.pathExtension == "swift" {
                found.append((folder + url.path.dropFirst(base.path.count), try String(contentsOf: url, encoding: .utf8)))
            }
        }
        return found
    }

    /// Lines of the sources that contain `needle`, as `path:line`.
    static func occurrences(of needle: String) throws -> [String] {
        try sources().flatMap { file in
            file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                .filter { $0.element.contains(needle) }.map { "\(file.path):\($0.offset + 1)" }
        }
    }

    @Test func theSourcesAreFound() throws {
        let files = try Self.sources()
        #expect(files.count > 50)
        #expect(files.contains { $0.path == "Sources/KeelData/KeelDatabase.swift" })
    }

    /// SQL text is never built from unescaped strings: values are binds, names are `ident:`, numbers `literal:`.
    @Test func noUnsafeRawSQL() throws {
        #expect(try Self.occurrences(of: "unsafeRaw").isEmpty)
    }

    /// The one cast to `SQLDatabase` is `Database.sql`; transactions come as `KeelDatabase.transaction { sql in … }`.
    @Test func noForceCastToSQLDatabase() throws {
        #expect(try Self.occurrences(of: "as! any SQLDatabase").isEmpty)
        let casts = try Self.occurrences(of: "as? any SQLDatabase").map { $0.prefix { $0 != ":" } }
        #expect(casts == ["Sources/KeelData/Database+SQL.swift"])
    }

    /// Background work runs under ServiceLifecycle or on NIO timers owned by what they serve: no unstructured Swift
    /// tasks, and nothing registered to run at process exit.
    @Test func noUnstructuredTasksOrExitHooks() throws {
        #expect(try Self.occurrences(of: "Task.detached").isEmpty)
        // `Task {` on its own, not `group.addTask {` (structured children are fine).
        let unstructured = try Self.sources().flatMap { file in
            file.text.split(separator: "\n").filter { $0.contains(/(^|[^A-Za-z_.])Task \{/) }.map { "\(file.path): \($0)" }
        }
        #expect(unstructured.isEmpty, "\(unstructured)")
        #expect(try Self.occurrences(of: "atexit").isEmpty)
    }

    /// No process-wide mutable state: no `static var` stored properties, no `nonisolated(unsafe)`.
    @Test func noGlobalMutableState() throws {
        #expect(try Self.occurrences(of: "nonisolated(unsafe)").isEmpty)
        let storedStatics = try Self.sources().flatMap { file in
            file.text.split(separator: "\n").filter { line in
                // `static var x: T { … }` is computed; a stored one has an `=` or no body.
                line.contains("static var ") && !line.contains("{") && !line.contains("@TaskLocal")
            }.map { "\(file.path): \($0)" }
        }
        #expect(storedStatics.isEmpty, "\(storedStatics)")
    }
}
