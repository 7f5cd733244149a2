import FluentKit
import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import SQLKit
import Testing

/// A module that audits its one table the way an application does.
struct Ledger: AuditedModule {
    var name: String { "ledger" }

    var audited: [AuditedTable] {
        [AuditedTable("accounts", key: "id", subject: .column("owner_id"), personal: ["email"], secret: ["api_token"])]
    }

    var migrations: [any KeelMigration] {
        [NamedMigration("ledger.0001_accounts", prepare: { db in
            try await db.schema("accounts").field("id", .int, .identifier(auto: true)).field("owner_id", .int, .required)
                .field("email", .string, .required).field("balance", .int, .required).field("api_token", .string).create()
        }, revert: { db in try await db.schema("accounts").delete() })]
    }
}

extension KeelTestApplication {
    static func ledger(_ url: String, values: [String: String] = [:], clock: ManualClock? = nil) async throws -> KeelTestApplication {
        var all = values
        all["database.url"] = url
        if all["audit.checkpointFile"] == nil {
            all["audit.checkpointFile"] = FileManager.default.temporaryDirectory.appendingPathComponent("keel-audit-\(UUID().uuidString).jsonl").path
        }
        let app = try await make(modules: [Ledger()], profile: .test, values: all, clock: clock)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }
}

@discardableResult
func open(_ app: KeelTestApplication, owner: Int, email: String, balance: Int = 0) async throws -> Int {
    try await app.keel.database.write { tx in
        try #require(try await tx.insert(into: "accounts", ["owner_id": owner, "email": email, "balance": balance, "api_token": "tok-\(owner)"])?.integer("id"))
    }
}

@Suite struct AuditTrailTests {
    /// Each row written is one entry (a bulk update of three rows is three), with the actor, how they acted, the
    /// request, the changed fields before and after; secrets are only "changed"; a failed write makes none.
    @Test(arguments: TestDatabase.available)
    func everyWriteMakesItsEntries(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.ledger(url)
            let audit = app.keel.audit
            let staff = ChangeAttribution(actor: "42", via: .session, requestID: "req-7", client: "198.51.100.4")
            try await ChangeAttribution.$current.withValue(staff) {
                for owner in 1...3 { try await open(app, owner: owner, email: "p\(owner)@example.com") }
                try await app.keel.database.write { tx in
                    try await tx.update("accounts", set: ["balance": 10, "api_token": "rotated"], where: RowFilter("balance", .equal, 0))
                }
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await app.keel.database.write { tx in
                    try await tx.update("accounts", set: ["balance": 99], where: RowFilter("owner_id", .equal, 1))
                    throw Abort()
                }
            }
            #expect(try await audit.seal() == 6)
            let records = Array(try await audit.entries(matching: AuditFilter(objectTable: "accounts")).reversed())
            #expect(records.map(\.entry.action) == ["insert", "insert", "insert", "update", "update", "update"])
            #expect(records.map(\.entry.seq) == [1, 2, 3, 4, 5, 6])
            let first = try #require(records.first)
            #expect(first.entry.actor == "42" && first.entry.via == "session" && first.entry.requestID == "req-7")
            #expect(first.client == "198.51.100.4", "the client address opens with the actor's key")
            #expect(first.entry.client?.hasPrefix("sealed:") == true, "and is stored sealed")
            #expect(first.fields["email"]?.after == .text("p1@example.com"))
            #expect(first.fields["api_token"] == AuditField(changed: true))
            #expect(!first.entry.fields.contains("tok-1") && !first.entry.fields.contains("p1@example.com"),
                    "secrets are never stored, personal values only sealed")
            let update = records[3]
            #expect(update.fields.keys.sorted() == ["api_token", "balance"])
            #expect(update.fields["balance"] == AuditField(before: .integer(0), after: .integer(10)))
            #expect(update.entry.subject == "1")
            #expect(try await audit.count() == 6, "the failed write made no entry")
        }
    }

    /// `verify` passes on an untouched chain and names the first entry changed, removed, inserted or reordered, and
    /// the newest entries deleted (by the head, and by a signed checkpoint once the head is rewritten too).
    @Test(arguments: TestDatabase.available)
    func verifyFindsEveryKindOfTampering(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.ledger(url)
            let audit = app.keel.audit
            let sql = app.keel.database.sql
            for owner in 1...6 { try await open(app, owner: owner, email: "p\(owner)@example.com", balance: owner) }
            let checkpoint = try #require(try await audit.checkpoint())
            #expect(checkpoint.seq == 6)
            #expect(try await audit.verify().intact)
            #expect(try await audit.verify().checkpoints == 1)

            // Changed: one value in entry 3.
            let original = try #require(try await sql.select().column("fields").from("keel_audit").where("seq", .equal, 3).first()?
                .decode(column: "fields", as: String.self))
            try await sql.update("keel_audit").set("fields", to: original.replacingOccurrences(of: "3", with: "4")).where("seq", .equal, 3).run()
            var report = try await audit.verify()
            #expect(report.problem?.kind == .changed && report.problem?.seq == 3)
            #expect(report.entries == 2)
            try await sql.update("keel_audit").set("fields", to: original).where("seq", .equal, 3).run()
            #expect(try await audit.verify().intact)

            // Reordered: entries 2 and 3 change places.
            try await sql.update("keel_audit").set("seq", to: -2).where("seq", .equal, 2).run()
            try await sql.update("keel_audit").set("seq", to: 2).where("seq", .equal, 3).run()
            try await sql.update("keel_audit").set("seq", to: 3).where("seq", .equal, -2).run()
            report = try await audit.verify()
            #expect(report.problem?.kind == .reordered && report.problem?.seq == 2)
            try await sql.update("keel_audit").set("seq", to: -2).where("seq", .equal, 2).run()
            try await sql.update("keel_audit").set("seq", to: 2).where("seq", .equal, 3).run()
            try await sql.update("keel_audit").set("seq", to: 3).where("seq", .equal, -2).run()
            #expect(try await audit.verify().intact)

            // Inserted: a forged entry at 4, the rest renumbered (one at a time, from the end, for the primary key).
            for seq in stride(from: 6, through: 4, by: -1) {
                try await sql.update("keel_audit").set("seq", to: seq + 1).where("seq", .equal, seq).run()
            }
            try await sql.raw("""
                INSERT INTO keel_audit (seq, at, actor, via, action, fields, hash)
                VALUES (4, 0, 'system', 'system', 'insert', '{}', \(bind: String(repeating: "a", count: 64)))
                """).run()
            report = try await audit.verify()
            #expect(report.problem?.kind == .inserted && report.problem?.seq == 4)
            try await sql.delete(from: "keel_audit").where("seq", .equal, 4).run()
            for seq in 5...7 { try await sql.update("keel_audit").set("seq", to: seq - 1).where("seq", .equal, seq).run() }
            #expect(try await audit.verify().intact)

            // Removed: entry 2.
            try await sql.delete(from: "keel_audit").where("seq", .equal, 2).run()
            report = try await audit.verify()
            #expect(report.problem?.kind == .removed && report.problem?.seq == 2)
            #expect(report.problem?.message == "Entry 2 was removed.")
        }
    }

    /// Deleting the newest entries is caught by the head, and, when the head is rewritten to match, by the signed
    /// checkpoint; a forged checkpoint is refused.
    @Test(arguments: TestDatabase.available)
    func deletingTheNewestEntriesIsCaughtByTheCheckpoint(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.ledger(url)
            let audit = app.keel.audit
            let sql = app.keel.database.sql
            for owner in 1...5 { try await open(app, owner: owner, email: "p\(owner)@example.com") }
            let checkpoint = try #require(try await audit.checkpoint())
            try await sql.delete(from: "keel_audit").where("seq", .greaterThan, 3).run()
            var report = try await audit.verify(checkpoints: [])
            #expect(report.problem?.kind == .missingNewest && report.problem?.seq == 4, "the head still says 5")
            // Whoever deletes them rewrites the head too: only the checkpoint outside the database knows.
            let third = try #require(try await sql.select().column("hash").from("keel_audit").where("seq", .equal, 3).first()?
                .decode(column: "hash", as: String.self))
            try await sql.update("keel_audit_head").set("seq", to: 3).set("hash", to: third).where("id", .equal, 1).run()
            #expect(try await audit.verify(checkpoints: []).intact)
            report = try await audit.verify()
            #expect(report.problem?.kind == .missingNewest && report.problem?.seq == 4)
            #expect(report.problem?.message.contains("Entries 4 to 5 are missing") == true)
            #expect(report.problem?.message.contains(checkpoint.at) == true)

            let forged = try JSONDecoder().decode(AuditCheckpoint.self, from: Data(#"{"seq":3,"hash":"\#(third)","at":"\#(checkpoint.at)","key_id":"\#(checkpoint.keyID)","signature":"forged"}"#.utf8))
            report = try await audit.verify(checkpoints: [forged])
            #expect(report.problem?.kind == .badCheckpoint)
        }
    }

    /// Erasing a person makes their sealed values `[erased]` (the client address they acted from too) and leaves
    /// the chain intact; someone else's values stay readable.
    @Test(arguments: TestDatabase.available)
    func erasedValuesShowErasedAndTheChainVerifies(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.ledger(url)
            let audit = app.keel.audit
            try await ChangeAttribution.$current.withValue(ChangeAttribution(actor: "1", via: .session, client: "203.0.113.9")) {
                try await open(app, owner: 1, email: "erase-me@example.com")
            }
            try await open(app, owner: 2, email: "keep-me@example.com")
            try await audit.checkpoint()
            #expect(try await audit.erase(subject: "1"))
            let records = try await audit.entries(matching: AuditFilter(objectTable: "accounts"))
            let erased = try #require(records.first { $0.entry.subject == "1" })
            #expect(erased.fields["email"]?.after == .erased)
            #expect(erased.fields["email"]?.summary == "[erased]")
            #expect(erased.fields["balance"]?.after == .integer(0), "values that are not personal stay")
            #expect(erased.client == "[erased]")
            let kept = try #require(records.first { $0.entry.subject == "2" })
            #expect(kept.fields["email"]?.after == .text("keep-me@example.com"))
            let report = try await audit.verify()
            #expect(report.intact, "\(String(describing: report.problem))")
            #expect(try await audit.entries(matching: AuditFilter(action: "audit.subject_erased")).count == 1)
        }
    }

    /// Two applications on one database (two instances) writing and sealing at once keep one chain: every entry
    /// sealed once, in one line with no gaps.
    @Test(arguments: TestDatabase.available)
    func concurrentWritersKeepOneChain(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let first = try await KeelTestApplication.ledger(url)
            let second = try await KeelTestApplication.ledger(url)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, app) in [first, second].enumerated() {
                    group.addTask {
                        for round in 0..<15 {
                            try await open(app, owner: index * 100 + round, email: "w\(index)-\(round)@example.com")
                            if round % 4 == 0 { try await app.keel.audit.seal() }
                        }
                        try await app.keel.audit.seal()
                    }
                }
                try await group.waitForAll()
            }
            let report = try await first.keel.audit.verify()
            #expect(report.intact, "\(String(describing: report.problem))")
            #expect(report.entries == 30 && report.lastSeq == 30)
            #expect(try await second.keel.audit.count(matching: AuditFilter(action: "insert")) == 30)
        }
    }

    /// Pruning removes the old entries behind a signed anchor: `verify` passes on what remains and says where the
    /// pruned part ended; removing more from the start, or forging the anchor, is caught.
    @Test(arguments: TestDatabase.available)
    func pruningLeavesAChainThatVerifies(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock()
            let app = try await KeelTestApplication.ledger(url, clock: clock)
            let audit = app.keel.audit
            let sql = app.keel.database.sql
            for owner in 1...3 { try await open(app, owner: owner, email: "old\(owner)@example.com") }
            clock.advance(by: .seconds(10 * 86_400))
            for owner in 4...5 { try await open(app, owner: owner, email: "new\(owner)@example.com") }
            let pruned = try await audit.prune(before: clock.now.addingTimeInterval(-5 * 86_400))
            #expect(pruned.removed == 3 && pruned.throughSeq == 3 && pruned.anchorSeq == 6)
            var report = try await audit.verify(checkpoints: [])
            #expect(report.intact, "\(String(describing: report.problem))")
            #expect(report.prunedThrough == 3 && report.firstSeq == 4 && report.lastSeq == 6)
            let anchor = try #require(try await audit.entries(matching: AuditFilter(action: "audit.pruned")).first)
            #expect(anchor.fields["through_seq"]?.value == .integer(3))
            #expect(try await audit.prune(before: clock.now.addingTimeInterval(-5 * 86_400)).removed == 0, "nothing older is left")

            // The first remaining entry removed as well: the anchor no longer meets the chain.
            try await sql.delete(from: "keel_audit").where("seq", .equal, 4).run()
            report = try await audit.verify(checkpoints: [])
            #expect(report.problem?.kind == .removed && report.problem?.seq == 1)
        }
    }

    /// A checkpoint goes to the log as well as the file; a file line that is not one stops verify, naming the line.
    @Test func checkpointsAreLoggedAndABrokenFileIsNamed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-audit-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let app = try await KeelTestApplication.ledger("sqlite://:memory:", values: ["audit.checkpointFile": path])
        try await open(app, owner: 1, email: "p1@example.com")
        let checkpoint = try #require(try await app.keel.audit.checkpoint())
        let logged = try #require(app.logObjects.first { $0["event"] == "audit.checkpoint" })
        #expect(logged["keel.audit.seq"] == String(checkpoint.seq) && logged["keel.audit.hash"] == checkpoint.hash)
        #expect(logged["keel.audit.signature"] == checkpoint.signature)
        try "not a checkpoint\n".write(toFile: path, atomically: true, encoding: .utf8)
        await #expect(throws: AuditError.badCheckpointFile("")) { try await app.keel.audit.verify() }
    }

    /// `audit.W001` fires when the trail is off under the deploy checks, and stays quiet by default.
    @Test func turningTheTrailOffIsADeployFinding() async throws {
        func ids(_ values: [String: String]) async throws -> [String] {
            let settings = try await KeelTestApplication.resolveSettings(values: values)
            return CheckRegistry(checks: [AuditChecks.disabled]).run(settings, deploy: true, silenced: []).map(\.id.rawValue)
        }
        #expect(try await ids(["audit.enabled": "false"]) == ["audit.W001"])
        #expect(try await ids([:]).isEmpty)
    }
}
