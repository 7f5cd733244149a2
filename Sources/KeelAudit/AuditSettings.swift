public import KeelSettings

/// The audit module's settings keys.
public enum AuditSettings {
    public static let enabled = Setting<Bool>(
        "audit.enabled", default: true,
        doc: "Record every write to audited tables and every security event in the audit trail. Turning it off is flagged by check --deploy.")
    public static let sealInterval = Setting<Duration>(
        "audit.sealInterval", default: .seconds(2), allowed: .range(.milliseconds(100) ... .seconds(300)),
        doc: "How often the sealer also looks for entries it was not told about (another instance's); each commit wakes it at once.")
    public static let checkpointInterval = Setting<Duration>(
        "audit.checkpointInterval", default: .seconds(3600), allowed: .range(.seconds(60) ... .seconds(7 * 86_400)),
        doc: "How often the chain's head is signed and written to the log and the checkpoint file (and at every audit verify).")
    public static let checkpointFile = Setting<String?>(
        "audit.checkpointFile", default: nil,
        doc: "The file signed checkpoints are appended to, where the database cannot rewrite them. Default: beside the SQLite file (NAME.audit-checkpoints.jsonl), or var/audit-checkpoints.jsonl for PostgreSQL.")

    public static let retention = Setting<Duration?>(
        "audit.retention", default: nil,
        allowed: .init(allowed: "1d...3650d") { value in
            value.map { (Duration.seconds(86_400) ... Duration.seconds(3650 * 86_400)).contains($0) } == false ? "must be within 1d...3650d" : nil
        },
        doc: "Keep entries this long: once a day the sealer prunes older ones behind a signed anchor (audit prune does it by hand). Unset: keep every entry.")

    public static var all: [any AnySetting] { [enabled, sealInterval, checkpointInterval, checkpointFile, retention] }
}
