import FluentKit
public import Logging
import SQLKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Applies and reverts migrations, records them in `keel_migrations`, and makes sure two instances migrating at once
/// never both run the same migration.
///
/// Every step runs in its own transaction that first takes the database's lock (a PostgreSQL transaction-level
/// advisory lock; SQLite's write lock) and then re-checks whether the step is still needed, so a second migrator
/// waits for the first and skips what it did. A failing step rolls back completely and stops the run.
public struct Migrator: Sendable {
    /// Where to migrate to.
    public enum Target: Sendable, Equatable {
        /// Every migration applied.
        case latest
        /// Every migration up to and including this one applied, every later one reverted.
        case named(String)
        /// Every migration reverted.
        case zero
    }

    public enum Direction: String, Sendable, Codable {
        case apply
        case revert
    }

    /// One planned step.
    public struct Step: Sendable, Equatable, Codable {
        public let module: String
        public let name: String
        public let direction: Direction

        public init(module: String, name: String, direction: Direction) {
            self.module = module
            self.name = name
            self.direction = direction
        }
    }

    /// What happened to a step.
    public enum Outcome: String, Sendable, Codable {
        case done
        /// Another instance did it first.
        case skipped
    }

    /// A migration's state for `showmigrations`.
    public struct Status: Sendable, Equatable, Codable {
        public let module: String
        public let name: String
        /// ISO 8601 time of application, or `nil` when pending.
        public let appliedAt: String?
    }

    static let table = "keel_migrations"

    public let database: KeelDatabase
    public let migrations: [RegisteredMigration]
    let logger: Logger

    /// - Throws: `MigrationError.duplicateName` when two migrations share a name.
    public init(database: KeelDatabase, migrations: [RegisteredMigration], logger: Logger) throws {
        var seen: [String: String] = [:]
        for migration in migrations {
            if let owner = seen[migration.name] {
                throw MigrationError(kind: .duplicateName, migration: migration.name, reason: "modules \(owner) and \(migration.module)")
            }
            seen[migration.name] = migration.module
        }
        self.database = database
        self.migrations = migrations
        self.logger = logger
    }

    /// The connection pool without recording: migrations are not request work.
    private var db: any Database { database.rawDatabase(on: database.eventLoopGroup.any()) }

    /// Creates the bookkeeping tables if needed (under the lock, so concurrent first runs do not collide).
    public func prepareTables() async throws {
        let kind = database.kind
        try await MaintenanceLock.prepare(db.sql, kind: kind)
        try await db.transaction { tx in
            let sql = tx.sql
            try await MaintenanceLock.take(sql, kind: kind, holder: "prepare")
            try await sql.create(table: Self.table).ifNotExists()
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("module", type: .text, .notNull)
                .column("applied_at", type: .text, .notNull)
                .run()
        }
    }

    /// Whether `keel_migrations` exists (read-only: readiness probes call this path).
    func tableExists() async throws -> Bool {
        let sql = db.sql
        switch database.kind {
        case .sqlite:
            return try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(bind: Self.table)").first() != nil
        case .postgres:
            return try await sql.raw("SELECT 1 AS present FROM pg_tables WHERE schemaname = current_schema() AND tablename = \(bind: Self.table)")
                .first() != nil
        }
    }

    /// Applied migration names with their application times. Read-only: it takes no lock and creates nothing, so
    /// readiness probes never wait on a migration in progress.
    public func applied() async throws -> [String: String] {
        guard try await tableExists() else { return [:] }
        struct Row: Decodable {
            let name: String
            let applied_at: String
        }
        let rows = try await db.sql.select().column("name").column("applied_at").from(Self.table).all(decoding: Row.self)
        return Dictionary(rows.map { ($0.name, $0.applied_at) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every known migration with its state, in order, followed by applied names the code no longer declares.
    public func status() async throws -> (migrations: [Status], unknownApplied: [String]) {
        let done = try await applied()
        let known = Set(migrations.map(\.name))
        let statuses = migrations.map { Status(module: $0.module, name: $0.name, appliedAt: done[$0.name]) }
        return (statuses, done.keys.filter { !known.contains($0) }.sorted())
    }

    /// Migrations not applied yet, in order.
    public func pending() async throws -> [RegisteredMigration] {
        let done = try await applied()
        return migrations.filter { done[$0.name] == nil }
    }

    /// The steps that would bring the database to `target`.
    public func plan(to target: Target = .latest) async throws -> [Step] {
        let done = try await applied()
        let keepCount: Int
        switch target {
        case .latest:
            keepCount = migrations.count
        case .zero:
            keepCount = 0
        case .named(let name):
            guard let index = migrations.firstIndex(where: { $0.name == name }) else {
                throw MigrationError(kind: .unknownTarget, migration: name,
                                     reason: "Use a name from `showmigrations`, or `zero` to revert everything.")
            }
            keepCount = index + 1
        }
        let forward = migrations.prefix(keepCount).filter { done[$0.name] == nil }
            .map { Step(module: $0.module, name: $0.name, direction: .apply) }
        let backward = migrations.dropFirst(keepCount).reversed().filter { done[$0.name] != nil }
            .map { Step(module: $0.module, name: $0.name, direction: .revert) }
        return backward + forward
    }

    /// Runs the steps towards `target`, reporting each as it starts and ends.
    ///
    /// - Throws: `MigrationError.failed` naming the migration and the cause; that migration left no trace and the
    ///   run stops there (earlier steps stay applied).
    @discardableResult
    public func migrate(
        to target: Target = .latest,
        progress: @Sendable (Step, Outcome?, Duration?) -> Void = { _, _, _ in }
    ) async throws -> [(Step, Outcome)] {
        try await prepareTables()
        let steps = try await plan(to: target)
        var results: [(Step, Outcome)] = []
        for step in steps {
            progress(step, nil, nil)
            let start = ContinuousClock.now
            let outcome = try await run(step)
            let elapsed = ContinuousClock.now - start
            logger.info("migration", metadata: [
                "migration.name": .string(step.name), "migration.direction": .string(step.direction.rawValue),
                "migration.outcome": .string(outcome.rawValue),
            ])
            progress(step, outcome, elapsed)
            results.append((step, outcome))
        }
        return results
    }

    private func run(_ step: Step) async throws -> Outcome {
        guard let migration = migrations.first(where: { $0.name == step.name })?.migration else {
            throw MigrationError(kind: .unknownTarget, migration: step.name, reason: "")
        }
        let kind = database.kind
        do {
            return try await db.transaction { tx in
                let sql = tx.sql
                // Take the lock before reading anything, so the check below sees the other migrator's commit.
                try await MaintenanceLock.take(sql, kind: kind, holder: step.name)
                let exists = try await sql.select().column("name").from(Self.table).where("name", .equal, step.name).first() != nil
                switch step.direction {
                case .apply:
                    if exists { return .skipped }
                    try await migration.prepare(on: tx)
                    try await sql.insert(into: Self.table).columns("name", "module", "applied_at")
                        .values(SQLBind(step.name), SQLBind(step.module), SQLBind(Date().ISO8601Format()))
                        .run()
                case .revert:
                    if !exists { return .skipped }
                    try await migration.revert(on: tx)
                    try await sql.delete(from: Self.table).where("name", .equal, step.name).run()
                }
                return .done
            }
        } catch let error as MigrationError {
            throw MigrationError(kind: error.kind == .irreversible ? .irreversible : .failed, migration: step.name, reason: error.description)
        } catch {
            throw MigrationError(kind: .failed, migration: step.name, reason: DatabaseErrorReport.describe(error))  // the server's words, never the binds
        }
    }
}
