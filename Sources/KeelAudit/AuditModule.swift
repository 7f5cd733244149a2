public import ArgumentParser
public import KeelData
public import KeelKernel
public import KeelSettings
import KeelSecurity
import Logging
public import ServiceLifecycle

/// Keel's audit trail as a module: who changed what, when, from where.
///
/// - Settings: `audit.enabled`, `audit.sealInterval`, `audit.checkpointInterval`, `audit.checkpointFile` (`AuditSettings`).
/// - Tables (`audit.0001_trail`): `keel_audit`, `keel_audit_pending`, `keel_audit_head`, `keel_audit_keys`.
/// - Parts: `app.audit` (`AuditTrail`), a `ChangeObserver`: every write through `KeelDatabase.write` to a table an
///   `AuditedModule` lists, and every `ChangeEvent`, is recorded in the write's own transaction.
/// - Services: the sealer (`AuditSealer`), which chains and seals recorded entries and signs checkpoints.
/// - Commands: `audit verify|log|checkpoint`.
/// - Checks: `audit.W001` (the trail is off in a deployed profile).
///
/// Needs `SecurityModule` before it (checkpoints are signed with its keyring).
public struct AuditModule: KeelModule {
    public init() {}

    public var name: String { "audit" }
    public var settings: [any AnySetting] { AuditSettings.all }
    public var migrations: [any KeelMigration] { [AuditTables.migration] }
    public var commands: [any ParsableCommand.Type] { [AuditCommand.self] }
    public var checks: [SystemCheck] { [AuditChecks.disabled] }

    public func install(into parts: inout KeelApplication.Parts) throws {
        let settings = parts.settings
        let tables = parts.modules.compactMap { $0 as? any AuditedModule }.flatMap(\.audited)
        parts.install(AuditTrail(
            database: parts.database, tables: tables, isEnabled: settings[AuditSettings.enabled], clock: parts.clock, logger: parts.logger,
            keyring: parts.part(Keyring.self),
            checkpointPath: CheckpointFile.path(setting: settings[AuditSettings.checkpointFile], database: parts.database.url)))
    }

    public func services(app: KeelApplication) throws -> [any Service] {
        guard app.audit.isEnabled else { return [] }
        return [AuditSealer(trail: app.audit, interval: app.settings[AuditSettings.sealInterval],
                            checkpointInterval: app.settings[AuditSettings.checkpointInterval],
                            retention: app.settings[AuditSettings.retention], logger: app.logger)]
    }
}

extension KeelApplication {
    /// The audit trail (`AuditModule`).
    public var audit: AuditTrail { part(AuditTrail.self) }
}

/// The audit module's system checks.
public enum AuditChecks {
    /// `audit.W001`: the audit trail is turned off.
    public static let disabled = SystemCheck(ids: ["audit.W001"], deploy: true) { settings in
        guard !settings[AuditSettings.enabled] else { return [] }
        return [CheckFinding(id: "audit.W001", level: .warning,
                             message: "The audit trail is off (audit.enabled = false): changes and security events are not recorded, so nobody can answer who changed what.",
                             hint: "Set audit.enabled = true (the default).")]
    }
}
