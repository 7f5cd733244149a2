import FluentKit
import Foundation
import Keel
import KeelCLI
import KeelTesting
import Logging
import Synchronization
import Testing

/// An application with two migrations, for the data commands.
enum LedgerApp: KeelApp {
    static var name: String { "ledger" }
    static var modules: [any KeelModule] { [Ledger()] }
    /// The ledger's users, kept across the commands of a test run (each builds the application again).
    static let users = MemoryUserAccounts()

    struct Ledger: KeelModule {
        var name: String { "ledger" }
        var permissions: [Permission] { [Permission("ledger.void_entry", "Void an entry")] }
        func install(into parts: inout KeelApplication.Parts) throws { parts.install(UserDirectory(LedgerApp.users)) }
        var migrations: [any KeelMigration] {
            [
                NamedMigration("ledger.0001_create_entries", prepare: { db in
                    try await db.schema("entries").field("id", .int, .identifier(auto: true)).field("amount", .int, .required).create()
                }, revert: { db in try await db.schema("entries").delete() }),
                NamedMigration("ledger.0002_index_amount", prepare: { db in
                    try await db.createIndex("entries_amount_idx", on: "entries", columns: ["amount"])
                }, revert: { db in try await db.dropIndex("entries_amount_idx") }),
            ]
        }
    }
}

func runLedger(
    _ arguments: [String], url: String, environment extra: [String: String] = [:], answers: [String]? = nil
) async -> (code: Int32, output: String, errors: String) {
    let out = Mutex<[String]>([])
    let err = Mutex<[String]>([])
    // Typed answers, in order, as if at a terminal; `nil`: not a terminal.
    let typed = Mutex(answers)
    let environment = CommandEnvironment(
        environment: ["DATABASE_URL": url].merging(extra) { _, new in new },
        output: { line in out.withLock { $0.append(line) } },
        errorOutput: { line in err.withLock { $0.append(line) } },
        bootstrap: { _, _ in Logger(label: "cli-test") { _ in SwiftLogNoOpLogHandler() } },
        input: { prompt, _ in
            typed.withLock { answers -> String? in
                guard answers != nil, !answers!.isEmpty else { return nil }
                out.withLock { $0.append(prompt) }
                return answers!.removeFirst()
            }
        }
    )
    let code = await KeelCommandLine<LedgerApp>.execute(arguments: arguments, in: environment)
    return (code, out.withLock { $0.joined(separator: "\n") }, err.withLock { $0.joined(separator: "\n") })
}

@Suite struct MigrateCommandTests {
    @Test(arguments: TestDatabase.available)
    func theMigrationWorkflowOfADeployPipeline(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let gate = await runLedger(["migrate", "--check"], url: url)
            #expect(gate.code == 1)
            #expect(gate.output.contains("10 migrations pending"))

            let plan = await runLedger(["migrate", "--plan"], url: url)
            #expect(plan.code == 0)
            #expect(plan.output.contains("Apply  ledger.0001_create_entries"))
            #expect(plan.output.contains("Apply  ledger.0002_index_amount"))

            let planJSON = await runLedger(["migrate", "--plan", "--json"], url: url)
            let steps = try #require(try JSONSerialization.jsonObject(with: Data(planJSON.output.utf8)) as? [[String: String]])
            #expect(steps.map { $0["name"] } == ["keel.0001_sessions", "keel.0002_login_failures", "keel.0003_login_checks", "auth.0006_token_revocations", "auth.0004_access", "auth.0005_elevation_log", "audit.0001_trail", "cache.0001_entries", "ledger.0001_create_entries", "ledger.0002_index_amount"])

            let applied = await runLedger(["migrate"], url: url)
            #expect(applied.code == 0, "\(applied.errors)")
            #expect(applied.output.contains("[9/10] Applying ledger.0001_create_entries... OK"))
            #expect(applied.output.contains("[10/10] Applying ledger.0002_index_amount... OK"))
            #expect(!applied.output.contains("keel:keel@"))
            #expect(applied.output.contains("Added permission ledger.void_entry"))

            #expect(await runLedger(["migrate", "--check"], url: url).code == 0)
            let again = await runLedger(["migrate"], url: url)
            #expect(again.output.contains("No migrations to apply."))
            #expect(!again.output.contains("Added permission"), "recorded once")

            let shown = await runLedger(["showmigrations"], url: url)
            #expect(shown.output.contains("[X] ledger.0001_create_entries"))
            #expect(shown.output.contains("[X] ledger.0002_index_amount"))

            let back = await runLedger(["migrate", "--to", "ledger.0001_create_entries"], url: url)
            #expect(back.code == 0)
            #expect(back.output.contains("Reverting ledger.0002_index_amount... OK"))
            let after = await runLedger(["showmigrations", "--json"], url: url)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(after.output.utf8)) as? [String: Any])
            let rows = try #require(document["migrations"] as? [[String: Any]])
            #expect(rows.map { $0["appliedAt"] != nil } == [true, true, true, true, true, true, true, true, true, false])

            let zero = await runLedger(["migrate", "--to", "zero"], url: url)
            #expect(zero.code == 0)
            #expect(await runLedger(["migrate", "--check"], url: url).code == 1)
        }
    }

    @Test func anUnknownTargetFailsClearly() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let result = await runLedger(["migrate", "--to", "ledger.9999_nope"], url: url)
            #expect(result.code == 1)
            #expect(result.errors.contains("No migration is named 'ledger.9999_nope'"))
        }
    }

    @Test func aBadDatabaseURLIsASettingsError() async {
        let result = await runLedger(["showmigrations"], url: "oracle://nope")
        #expect(result.code == 78)
        #expect(result.errors.contains("database.url (DATABASE_URL)"))
    }

    /// A build without the `PostgreSQL` trait (`--disable-default-traits`) refuses a PostgreSQL URL at start-up and
    /// says why; the default build accepts the same URL's syntax.
    @Test func aPostgresURLNeedsTheDriverAndSaysSo() async {
        let url = "postgres://keel:secret-pw@127.0.0.1:1/none"
        #expect(DatabaseURL(url) == .postgres(url: url))
        let result = await runLedger(["showmigrations"], url: url)
        #expect(!result.errors.contains("secret-pw"))
        if DatabaseURL.postgresAvailable {
            // The setting is accepted; what fails is reaching a server on port 1.
            #expect(result.code != 0)
            #expect(!result.errors.contains("no PostgreSQL driver"))
        } else {
            #expect(result.code == 78)
            #expect(result.errors.contains("this build has no PostgreSQL driver"))
            #expect(result.errors.contains("built without the package trait PostgreSQL"))
        }
    }
}

@Suite struct KeysAndSessionsCommandTests {
    static let strongKey = "Zk3pQ9vT7mX2wR8sL4nB6yH1cJ5dF0gA+eK/uI=Vo"

    @Test func keysGeneratePrintsAStrongKeyAndStatusNeverPrintsOne() async throws {
        let generated = await runLedger(["keys", "generate"], url: "sqlite://:memory:")
        #expect(generated.code == 0)
        #expect(generated.output.count == 64)
        #expect(!SecurityChecks.isWeakKey(generated.output))

        let weak = "weak-fallback"
        let status = await runLedger(["keys", "status", "--set", "signing.key=\(Self.strongKey)", "--set", "signing.fallbackKeys=\(weak)"],
                                     url: "sqlite://:memory:")
        #expect(status.code == 1)  // a weak fallback
        #expect(status.output.contains("current"))
        #expect(status.output.contains("WEAK"))
        #expect(status.output.contains(Keyring(key: Self.strongKey).current.id))
        #expect(!status.output.contains(Self.strongKey) && !status.output.contains(weak))
        let strong = await runLedger(["keys", "status", "--json", "--set", "signing.key=\(Self.strongKey)"], url: "sqlite://:memory:")
        #expect(strong.code == 0)
        #expect(!strong.output.contains(Self.strongKey))
    }

    @Test func clearExpiredDeletesOnlyExpiredSessions() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.make(modules: LedgerApp.modules, values: ["database.url": url])
            try await app.keel.database.prepare()
            try await app.keel.migrator.migrate()
            let now = Date()
            let stale = SessionRecord(key: String(repeating: "a", count: 43), userID: "1", data: [:], csrfSecret: "s",
                                      createdAt: now.addingTimeInterval(-40 * 86_400), lastSeenAt: now.addingTimeInterval(-30 * 86_400))
            let fresh = SessionRecord(key: String(repeating: "b", count: 43), userID: "2", data: [:], csrfSecret: "s",
                                      createdAt: now, lastSeenAt: now)
            try await app.keel.sessions.insert(stale)
            try await app.keel.sessions.insert(fresh)
            let result = await runLedger(["sessions", "clear-expired"], url: url)
            #expect(result.code == 0, "\(result.errors)")
            #expect(result.output.contains("Deleted 1 expired session."))
            #expect(try await app.keel.sessions.load(key: stale.key) == nil)
            #expect(try await app.keel.sessions.load(key: fresh.key) != nil)
            await app.keel.database.shutdown()
        }
    }
}

@Suite struct PermissionsCommandTests {
    @Test func grantsGroupsAndTheReviewFromTheCommandLine() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            #expect(await runLedger(["migrate"], url: url).code == 0)
            let list = await runLedger(["permissions", "list"], url: url)
            #expect(list.output.contains("ledger.void_entry  Void an entry"))

            #expect(await runLedger(["permissions", "review"], url: url).output == "Nobody holds a permission, a group, staff or superuser status.")
            let toGroup = await runLedger(["permissions", "grant", "ledger.void_entry", "--group", "clerks"], url: url)
            #expect(toGroup.code == 0, "\(toGroup.errors)")
            #expect(await runLedger(["permissions", "groups", "--add", "7", "--to", "clerks"], url: url).code == 0)
            #expect(await runLedger(["permissions", "grant", "ledger.void_entry", "--user", "9"], url: url).code == 0)

            let groups = await runLedger(["permissions", "groups"], url: url)
            #expect(groups.output.contains("clerks  ledger.void_entry  7"))

            let review = await runLedger(["permissions", "review"], url: url)
            #expect(review.code == 0)
            let lines = review.output.split(separator: "\n").map(String.init)
            #expect(lines[0].hasPrefix("USER"))
            #expect(lines.contains { $0.hasPrefix("7 ") && $0.contains("ledger.void_entry") && $0.contains("group clerks") && $0.contains("never") && $0.contains("STALE") })
            #expect(lines.contains { $0.hasPrefix("9 ") && $0.contains("direct") })
            #expect(review.output.contains("2 holders, 2 stale"))

            let json = await runLedger(["permissions", "review", "--json"], url: url)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
            let holders = try #require(document["holders"] as? [[String: Any]])
            #expect(holders.map { $0["userID"] as? String } == ["7", "9"])

            // Misuse is a clear error and exit 1, never a crash.
            let unknown = await runLedger(["permissions", "grant", "ledger.nope", "--user", "1"], url: url)
            #expect(unknown.code == 1)
            #expect(unknown.errors.contains("ledger.nope"))
            let both = await runLedger(["permissions", "grant", "ledger.void_entry", "--user", "1", "--group", "x"], url: url)
            #expect(both.code != 0)

            #expect(await runLedger(["permissions", "revoke", "ledger.void_entry", "--user", "9"], url: url).code == 0)
            #expect(await runLedger(["permissions", "groups", "--remove", "7", "--from", "clerks"], url: url).code == 0)
            #expect(await runLedger(["permissions", "review"], url: url).output.hasPrefix("Nobody"))
        }
    }
}

@Suite struct UserCommandsTests {
    @Test func createsuperuserAndChangepasswordWithAndWithoutATerminal() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            #expect(await runLedger(["migrate"], url: url).code == 0)
            let name = "root\(Int.random(in: 1000...9999))"

            // No terminal and nothing given: a clear error, nothing created.
            let missing = await runLedger(["createsuperuser", "--no-input", "--username", name, "--email", "r@example.com"], url: url)
            #expect(missing.code == 1)
            #expect(missing.errors.contains("KEEL_SUPERUSER_PASSWORD"))

            // Scripted: from the environment.
            let scripted = await runLedger(["createsuperuser", "--no-input"], url: url, environment: [
                "KEEL_SUPERUSER_USERNAME": name, "KEEL_SUPERUSER_EMAIL": "r@example.com", "KEEL_SUPERUSER_PASSWORD": "a long password",
            ])
            #expect(scripted.code == 0, "\(scripted.errors)")
            let id = try #require(try await LedgerApp.users.userID(named: name))
            #expect(scripted.output == "Superuser \(name) created (id \(id)).")
            let review = await runLedger(["permissions", "review"], url: url)
            #expect(review.output.contains("\(name) (\(id))"))
            #expect(review.output.contains("superuser, staff"))
            #expect(review.output.contains("ledger.void_entry"))

            // At a terminal: asked for what is missing; a short password is refused and asked again.
            let other = "ann\(Int.random(in: 1000...9999))"
            let typed = await runLedger(["createsuperuser"], url: url, answers: [other, "ann@example.com", "short", "short", "a better one", "a better one"])
            #expect(typed.code == 0, "\(typed.errors)")
            #expect(typed.output.contains("Username: "))
            #expect(typed.output.contains("Password (again): "))
            #expect(typed.errors.contains("password is too short"))
            #expect(try await LedgerApp.users.userID(named: other) != nil)
            let mismatch = await runLedger(["createsuperuser", "--username", other + "x", "--email", "x@example.com"], url: url,
                                           answers: ["one password", "another one", "same again", "same again"])
            #expect(mismatch.code == 0)
            #expect(mismatch.errors.contains("The passwords do not match."))
            let taken = await runLedger(["createsuperuser", "--no-input", "--username", name, "--email", "r@example.com"], url: url,
                                        environment: ["KEEL_SUPERUSER_PASSWORD": "a long password"])
            #expect(taken.code == 1)
            #expect(taken.errors.contains("username has already been taken"))

            // changepassword: from a file, and at a terminal.
            let file = NSTemporaryDirectory() + "keel-pw-\(UUID().uuidString)"
            try "a new long password\n".write(toFile: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let changed = await runLedger(["changepassword", name, "--password-file", file], url: url)
            #expect(changed.code == 0, "\(changed.errors)")
            #expect(try await LedgerApp.users.verifyPassword("a new long password", of: id))
            let atTerminal = await runLedger(["changepassword", name], url: url, answers: ["typed one here", "typed one here"])
            #expect(atTerminal.code == 0)
            #expect(try await LedgerApp.users.verifyPassword("typed one here", of: id))
            let nobody = await runLedger(["changepassword", "nobody-at-all"], url: url)
            #expect(nobody.code == 1)
            #expect(nobody.errors.contains("there is no user nobody-at-all"))
        }
    }
}
