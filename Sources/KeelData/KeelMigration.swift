public import FluentKit

/// A schema or data change with an explicit, stable name, owned by a module.
///
/// The name is recorded in `keel_migrations` when the migration is applied, so it must never change and is never
/// derived from a Swift type name. By convention it is `<module>.<NNNN>_<what>`, such as
/// `accounts.0001_create_users`. Each migration runs in its own transaction.
/// ```swift
/// struct CreateUsers: KeelMigration {
///     var name: String { "accounts.0001_create_users" }
///     func prepare(on database: any Database) async throws {
///         try await database.schema("users").id().field("email", .string, .required).unique(on: "email").create()
///         try await database.createIndex("users_created_at_idx", on: "users", columns: ["created_at"])
///     }
///     func revert(on database: any Database) async throws {
///         try await database.schema("users").delete()
///     }
/// }
/// ```
public protocol KeelMigration: Sendable {
    /// The stable, unique name recorded when applied.
    var name: String { get }
    /// Applies the change.
    func prepare(on database: any Database) async throws
    /// Undoes `prepare`; throw `MigrationError.irreversible(name)` if it cannot be undone.
    func revert(on database: any Database) async throws
}

/// A migration from closures, for small changes that need no type of their own.
public struct NamedMigration: KeelMigration {
    public let name: String
    let up: @Sendable (any Database) async throws -> Void
    let down: @Sendable (any Database) async throws -> Void

    public init(
        _ name: String,
        prepare: @escaping @Sendable (any Database) async throws -> Void,
        revert: @escaping @Sendable (any Database) async throws -> Void
    ) {
        self.name = name
        self.up = prepare
        self.down = revert
    }

    public func prepare(on database: any Database) async throws { try await up(database) }
    public func revert(on database: any Database) async throws { try await down(database) }
}

/// A migration together with the module that owns it.
public struct RegisteredMigration: Sendable {
    public let module: String
    public let migration: any KeelMigration

    public init(module: String, migration: any KeelMigration) {
        self.module = module
        self.migration = migration
    }

    public var name: String { migration.name }
}

/// Why migrating failed. The message names the migration and the cause; it never contains connection secrets.
public struct MigrationError: Error, CustomStringConvertible, Sendable, Equatable {
    enum Kind: String, Sendable {
        case duplicateName = "migration.duplicate_name"
        case unknownTarget = "migration.unknown_target"
        case failed = "migration.failed"
        case irreversible = "migration.irreversible"
    }

    let kind: Kind
    /// The migration at fault.
    public let migration: String
    /// What went wrong (the database's message; never a query's values).
    public let reason: String

    /// The stable code: `migration.duplicate_name`, `migration.unknown_target`, `migration.failed` or
    /// `migration.irreversible`.
    public var code: String { kind.rawValue }

    public static func == (lhs: MigrationError, rhs: MigrationError) -> Bool { lhs.code == rhs.code }

    public var description: String {
        switch kind {
        case .duplicateName: "Migration name '\(migration)' is declared more than once: \(reason)"
        case .unknownTarget: "No migration is named '\(migration)'. \(reason)"
        case .failed: "Migration '\(migration)' failed and was rolled back: \(reason)"
        case .irreversible: "Migration '\(migration)' cannot be reverted."
        }
    }

    public static func irreversible(_ name: String) -> MigrationError {
        MigrationError(kind: .irreversible, migration: name, reason: "")
    }
}
