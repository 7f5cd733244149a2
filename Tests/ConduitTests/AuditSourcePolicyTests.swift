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

    /// The audited tables a line writes without the trail: raw SQL or an SQLKit builder naming one.
    static func bypassedTables(in line: String, tables: [String]) -> [String] {
        tables.filter { table in
            [
                "INSERT INTO \(table) ", "INSERT INTO \(table)(", "INSERT INTO \"\(table)\"", "UPDATE \(table) ", "UPDATE \"\(table)\"",
                "DELETE FROM \(table) ", "DELETE FROM \(table)\"", "DELETE FROM \"\(table)\"",
                ".insert(into: \"\(table)\")", ".update(\"\(table)\")", ".delete(from: \"\(table)\")",
            ].contains { line.contains($0) }
        }
    }

    @Test func noWriteToAnAuditedTableBypassesTheTrail() throws {
        let tables = ConduitApp.modules.compactMap { $0 as? any AuditedModule }.flatMap(\.audited).map(\.name)
        #expect(Set(tables) == ["users", "articles", "comments", "favorites", "follows"])
        var bypasses: [String] = []
        for file in try Self.sources() {
            for (number, line) in file.text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = String(line)
                guard !Self.bypassedTables(in: text, tables: tables).isEmpty else { continue }
                if Self.exemptions.contains(where: { file.path == $0.path && ($0.line.isEmpty || text.contains($0.line)) }) { continue }
                bypasses.append("\(file.path):\(number + 1): \(text.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(bypasses.isEmpty, "write through KeelDatabase.write instead:\n\(bypasses.joined(separator: "\n"))")
    }

    /// The check itself finds what it is for (raw statements, builders) and lets the trail's own writes through, so an
    /// empty result means something.
    @Test func theCheckFindsABypassAndPassesTheTrail() {
        let tables = ["users", "articles", "follows"]
        #expect(Self.bypassedTables(in: #"try await sql.raw("INSERT INTO users (username) VALUES ('x')").run()"#, tables: tables) == ["users"])
        #expect(Self.bypassedTables(in: #"sql.update("articles").set("title", to: t)"#, tables: tables) == ["articles"])
        #expect(Self.bypassedTables(in: #"try await sql.delete(from: "follows").where("id", .equal, 1).run()"#, tables: tables) == ["follows"])
        #expect(Self.bypassedTables(in: #"try await tx.insert(into: "users", ["username": name])"#, tables: tables).isEmpty)
        #expect(Self.bypassedTables(in: #"try await sql.insert(into: "tags").columns("name")"#, tables: tables).isEmpty)
    }
}
