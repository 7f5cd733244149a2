import Conduit
import Foundation
import Keel
import Testing

/// Writes to an audited table go through `KeelDatabase.write`, where they are recorded; a raw statement or an SQLKit
/// builder aimed at one would bypass the trail. Checked over every Swift file in `Sources/` for every table an
/// `AuditedModule` of Conduit lists (the way `unsafeRaw` is banned).
@Suite struct AuditSourcePolicyTests {
    /// The writes that bypass the trail on purpose, each with its reason.
    static let exemptions: [(path: String, line: String, reason: String)] = [
        ("Sources/Conduit/SeedCommand.swift", "", "demo data for an empty database, recorded as one conduit.seeded event"),
        ("Sources/Conduit/Articles/Articles.swift", "UPDATE articles SET tag_names", "the articles.0002/0003 migrations backfill a derived column"),
    ]

    static func sources() throws -> [(path: String, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let base = root.appendingPathComponent("Sources")
        var found: [(String, String)] = []
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in walker where url.pathExtension == "swift" {
            found.append(("Sources" + url.path.dropFirst(base.path.count), try String(contentsOf: url, encoding: .utf8)))
        }
        return found
    }

    @Test func noWriteToAnAuditedTableBypassesTheTrail() throws {
        let tables = ConduitApp.modules.compactMap { $0 as? any AuditedModule }.flatMap(\.audited).map(\.name)
        #expect(Set(tables) == ["users", "articles", "comments", "favorites", "follows"])
        var bypasses: [String] = []
        for file in try Self.sources() {
            for (number, line) in file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = String(line)
                for table in tables {
                    let patterns = [
                        "INSERT INTO \(table) ", "INSERT INTO \(table)(", "INSERT INTO \"\(table)\"", "UPDATE \(table) ", "UPDATE \"\(table)\"",
                        "DELETE FROM \(table) ", "DELETE FROM \(table)\"", "DELETE FROM \"\(table)\"",
                        ".insert(into: \"\(table)\")", ".update(\"\(table)\")", ".delete(from: \"\(table)\")",
                    ]
                    guard patterns.contains(where: { text.contains($0) }) else { continue }
                    if Self.exemptions.contains(where: { file.path == $0.path && ($0.line.isEmpty || text.contains($0.line)) }) { continue }
                    bypasses.append("\(file.path):\(number + 1): \(text.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(bypasses.isEmpty, "write through KeelDatabase.write instead:\n\(bypasses.joined(separator: "\n"))")
    }

    /// The check itself finds what it is for (a raw insert, a builder update), so an empty result means something.
    @Test func thePatternsFindABypass() {
        let samples = ["try await sql.raw(\"INSERT INTO users (username) VALUES ('x')\")", "sql.update(\"articles\").set(\"title\", to: t)"]
        let found = samples.filter { sample in
            ["INSERT INTO users ", ".update(\"articles\")"].contains { sample.contains($0) }
        }
        #expect(found.count == 2)
    }
}
