public import ArgumentParser
public import KeelKernel
import Foundation
import KeelCore

/// `audit`: verify the chain, read the log, sign a checkpoint (contributed by `AuditModule`).
public struct AuditCommand: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "audit", abstract: "The audit trail: who changed what, when, from where.",
            subcommands: [AuditVerifyCommand.self, AuditLogCommand.self, AuditShowCommand.self, AuditCheckpointCommand.self, AuditPruneCommand.self])
    }

    public init() {}
}

/// `audit verify`: recomputes the chain and checks it against the signed checkpoints; exit 0 when intact, 1 naming
/// the first problem.
public struct AuditVerifyCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "verify", abstract: "Recompute the audit chain and check it against the signed checkpoints.",
            discussion: """
                Exit 0 when intact (a new checkpoint is then signed and written), 1 naming the first entry that was changed, \
                removed, inserted or reordered, or the newest entries found missing. Reads the checkpoint file \
                (audit.checkpointFile) unless --checkpoints names another.
                """)
    }

    @OptionGroup public var settings: SettingsOptions

    @Option(name: .customLong("checkpoints"), help: "A checkpoint file to check against (default: audit.checkpointFile).")
    public var checkpointsFile: String?

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let trail = app.audit
            try await trail.seal()
            let checkpoints = try CheckpointFile(path: checkpointsFile ?? trail.checkpointPath).read()
            let quiet = json
            let report = try await trail.verify(checkpoints: checkpoints) { checked, total in
                if !quiet && total > 1000 { context.errorOutput("Verified \(checked) of \(total) entries…") }
            }
            var checkpoint: AuditCheckpoint?
            if report.intact { checkpoint = try await trail.checkpoint() }
            if json {
                try context.outputJSON(report)
            } else if let problem = report.problem {
                context.output("Audit trail BROKEN: \(problem.message)")
                context.output("\(report.entries) entries verified before it.")
            } else {
                let range = report.lastSeq.map { "entries \(report.firstSeq ?? 1) to \($0)" } ?? "no entries yet"
                context.output("Audit trail intact: \(report.entries) \(report.entries == 1 ? "entry" : "entries") (\(range)), "
                    + "\(report.checkpoints) checkpoint\(report.checkpoints == 1 ? "" : "s") matched.")
                if let checkpoint { context.output("Signed checkpoint at entry \(checkpoint.seq) (key \(checkpoint.keyID)) written to \(trail.checkpointPath).") }
            }
            return report.intact ? 0 : 1
        }
    }
}

/// `audit log`: entries, newest first, filtered; a table for people, JSON lines for machines.
public struct AuditLogCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "log", abstract: "Show audit entries, newest first.",
            discussion: "Personal values of erased people show as [erased]. Exit 64 on a filter that cannot be read.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Option(help: "Only entries by this actor (a user id, command:NAME, system, anonymous).")
    public var actor: String?

    @Option(help: "Only entries about this object: TABLE or TABLE:KEY (articles:7).")
    public var object: String?

    @Option(help: "Only this action: insert, update, delete, or an event (auth.sign_in).")
    public var action: String?

    @Option(help: "Only entries about this person (a user id: the data subject).")
    public var subject: String?

    @Option(help: "Only entries at or after this time (2026-12-08 or 2026-12-08T14:03:00Z, UTC).")
    public var since: String?

    @Option(help: "Only entries before this time.")
    public var until: String?

    @Option(help: "At most this many entries (1 to 1000).")
    public var limit = 50

    @Flag(help: "Print JSON lines instead of a table.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        var filter = AuditFilter(actor: actor, action: action, subject: subject)
        do {
            if let object {
                let (table, key) = try AuditFilter.object(object)
                filter.objectTable = table
                filter.objectKey = key
            }
            if let since { filter.since = try AuditFilter.date(since, name: "--since") }
            if let until { filter.until = try AuditFilter.date(until, name: "--until") }
            guard (1...1000).contains(limit) else { throw AuditError.badFilter("--limit must be 1 to 1000, not \(limit)") }
        } catch {
            context.errorOutput("Error: \(error)")
            return 64
        }
        return try await context.withApplication(settings) { app in
            let records = try await app.audit.entries(matching: filter, limit: limit)
            if json {
                for record in records { context.output(try Self.jsonLine(record)) }
                return 0
            }
            guard !records.isEmpty else {
                context.output("No audit entries match.")
                return 0
            }
            let rows = records.map { record -> [String] in
                let entry = record.entry
                let object = entry.objectTable.map { table in entry.objectKey.map { "\(table):\($0)" } ?? table } ?? "-"
                // A long value (an article's body) is cut in the table; `audit show SEQ` and `--json` print it whole.
                let changes = record.summary.count > 100 ? String(record.summary.prefix(99)) + "…" : record.summary
                return [String(entry.seq), entry.time, entry.actor, entry.via, entry.action, object, changes]
            }
            context.output(TextTable(header: ["SEQ", "TIME (UTC)", "ACTOR", "VIA", "ACTION", "OBJECT", "CHANGES"], rows: rows).render())
            return 0
        }
    }

    static func jsonLine(_ record: AuditRecord) throws -> String {
        struct Line: Encodable {
            let seq: Int64, time: String, actor: String, via: String, requestID: String?, client: String?, action: String
            let object_table: String?, object_key: String?, subject: String?, fields: [String: AuditField], hash: String
            enum CodingKeys: String, CodingKey {
                case seq, time, actor, via, requestID = "request_id", client, action, object_table, object_key, subject, fields, hash
            }
        }
        let entry = record.entry
        let line = Line(seq: entry.seq, time: UTCTimestamp.string(secondsSince1970: Double(entry.at) / 1_000_000), actor: entry.actor,
                        via: entry.via, requestID: entry.requestID, client: record.client, action: entry.action,
                        object_table: entry.objectTable, object_key: entry.objectKey, subject: entry.subject, fields: record.fields, hash: entry.hash)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(line), as: UTF8.self)
    }
}

/// `audit checkpoint`: seals what is pending and signs the chain's head now.
public struct AuditCheckpointCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "checkpoint", abstract: "Sign the audit chain's head now (the log and the checkpoint file).")
    }

    @OptionGroup public var settings: SettingsOptions

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            if let checkpoint = try await app.audit.checkpoint() {
                context.output("Signed checkpoint at entry \(checkpoint.seq) (key \(checkpoint.keyID)) written to \(app.audit.checkpointPath).")
            } else {
                context.output("The audit trail is empty: nothing to sign.")
            }
            return 0
        }
    }
}

/// `audit prune --before DATE`: removes older entries behind a signed anchor, so `verify` still passes.
public struct AuditPruneCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "prune", abstract: "Remove audit entries older than a date, behind a signed anchor entry.",
            discussion: "verify still passes on what remains and reports where the pruned part ended. Exit 64 on a date that cannot be read.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Option(help: "Remove entries before this time (2026-01-01 or 2026-01-01T00:00:00Z, UTC).")
    public var before: String

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        let date: Date
        do {
            date = try AuditFilter.date(before, name: "--before")
        } catch {
            context.errorOutput("Error: \(error)")
            return 64
        }
        return try await context.withApplication(settings) { app in
            let pruned = try await app.audit.prune(before: date)
            if json {
                try context.outputJSON(pruned)
            } else if let through = pruned.throughSeq, let anchor = pruned.anchorSeq {
                context.output("Removed \(pruned.removed) entries (through entry \(through)); anchor entry \(anchor) records where they ended.")
            } else {
                context.output("No entries older than \(before).")
            }
            return 0
        }
    }
}

/// `audit show SEQ`: one entry in full, personal values opened (or `[erased]`).
public struct AuditShowCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "show", abstract: "Show one audit entry in full.",
                             discussion: "Personal values of erased people show as [erased]. Exit 1 when there is no such entry.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Argument(help: "The entry's number (SEQ in audit log).")
    public var seq: Int64

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            guard let record = try await app.audit.entry(seq: seq) else {
                context.errorOutput("There is no audit entry \(seq).")
                return 1
            }
            if json {
                context.output(try AuditLogCommand.jsonLine(record))
                return 0
            }
            let entry = record.entry
            let object = entry.objectTable.map { table in entry.objectKey.map { "\(table):\($0)" } ?? table }
            var lines = [
                "Entry \(entry.seq) · \(entry.time) UTC",
                "Actor:   \(entry.actor) (\(entry.via))",
                "Action:  \(entry.action)" + (object.map { " on \($0)" } ?? ""),
            ]
            if let subject = entry.subject { lines.append("About:   user \(subject)") }
            if let request = entry.requestID { lines.append("Request: \(request)") }
            if let client = record.client { lines.append("Client:  \(client)") }
            lines.append("Fields:")
            for name in record.fields.keys.sorted() { lines.append("  \(name): \(record.fields[name]!.summary)") }
            if record.fields.isEmpty { lines.append("  (none)") }
            lines.append("Hash:    \(entry.hash)")
            context.output(lines.joined(separator: "\n"))
            return 0
        }
    }
}
