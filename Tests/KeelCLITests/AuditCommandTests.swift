import Foundation
import Keel
import KeelCLI
import KeelTesting
import SQLKit
import Testing

@Suite struct AuditCommandTests {
    /// `audit verify` exits 0 on an intact chain (and signs a checkpoint), 1 naming the first changed entry; `audit
    /// log` prints a table or JSON lines and refuses filters it cannot read with exit 64; `audit prune` removes old
    /// entries behind an anchor that `verify` accepts.
    @Test(arguments: TestDatabase.available)
    func verifyLogAndPruneFromTheCommandLine(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let checkpoints = FileManager.default.temporaryDirectory.appendingPathComponent("keel-audit-cli-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: checkpoints) }
            let environment = ["AUDIT_CHECKPOINT_FILE": checkpoints]
            #expect(await runLedger(["migrate"], url: url, environment: environment).code == 0)
            #expect(await runLedger(["permissions", "grant", "ledger.void_entry", "--user", "7"], url: url, environment: environment).code == 0)

            let verified = await runLedger(["audit", "verify"], url: url, environment: environment)
            #expect(verified.code == 0, "\(verified.errors)")
            #expect(verified.output.contains("Audit trail intact: 2 entries"))
            #expect(verified.output.contains("Signed checkpoint at entry 2"))
            #expect(try String(contentsOfFile: checkpoints, encoding: .utf8).contains(#""seq":2"#))

            let log = await runLedger(["audit", "log"], url: url, environment: environment)
            #expect(log.code == 0)
            #expect(log.output.contains("access.permission_granted"))
            #expect(log.output.contains("command:permissions grant"))
            let lines = await runLedger(["audit", "log", "--json", "--action", "keel.migrated"], url: url, environment: environment)
            let objects = lines.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == 1)
            #expect(objects.first?["actor"] as? String == "command:migrate")

            let shown = await runLedger(["audit", "show", "1"], url: url, environment: environment)
            #expect(shown.code == 0)
            #expect(shown.output.contains("Entry 1 · "))
            #expect(shown.output.contains("Actor:   command:migrate (command)"))
            #expect(shown.output.contains("Action:  keel.migrated"))
            #expect(await runLedger(["audit", "show", "999"], url: url, environment: environment).code == 1)
            let about = await runLedger(["audit", "log", "--subject", "7", "--json"], url: url, environment: environment)
            #expect(about.output.split(separator: "\n").count == 1 && about.output.contains("access.permission_granted"))

            for bad in [["--object", "no such table"], ["--since", "last tuesday"], ["--limit", "0"]] {
                let refused = await runLedger(["audit", "log"] + bad, url: url, environment: environment)
                #expect(refused.code == 64, "\(bad)")
                #expect(refused.errors.contains("Error:"))
            }

            // Changed behind the application's back: exit 1, naming the entry.
            let app = try await KeelTestApplication.make(modules: LedgerApp.modules, values: ["database.url": url])
            let sql = app.keel.database.sql
            try await sql.update("keel_audit").set("actor", to: "someone-else").where("seq", .equal, 1).run()
            let broken = await runLedger(["audit", "verify"], url: url, environment: environment)
            #expect(broken.code == 1)
            #expect(broken.output.contains("Audit trail BROKEN: Entry 1 was changed"))
            try await sql.update("keel_audit").set("actor", to: "command:migrate").where("seq", .equal, 1).run()

            let pruned = await runLedger(["audit", "prune", "--before", "2999-01-01"], url: url, environment: environment)
            #expect(pruned.code == 0, "\(pruned.errors)")
            #expect(pruned.output.contains("Removed"))
            let after = await runLedger(["audit", "verify", "--json"], url: url, environment: environment)
            #expect(after.code == 0, "\(after.output)")
            #expect(after.output.contains(#""pruned_through""#))
            #expect(await runLedger(["audit", "prune", "--before", "soon"], url: url, environment: environment).code == 64)
            await app.keel.database.shutdown()
        }
    }
}
