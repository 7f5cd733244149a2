public import ArgumentParser
import KeelData
import KeelSettings
import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `migrate`: applies pending migrations, or moves to a named one, or shows the plan, or gates a deploy.
public struct MigrateCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "migrate",
            abstract: "Apply pending migrations (or move to --to NAME), each in its own transaction.",
            discussion: """
                Two instances migrating at once never both run a migration: each step takes a database lock and \
                re-checks. A failing migration is rolled back and named with its cause (exit 1). \
                --check exits 1 while anything is pending, for a deploy pipeline gate.
                """
        )
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Show what would run, change nothing.")
    public var plan = false

    @Option(help: "Move forward or back to this migration (applied, with everything after it reverted); `zero` reverts all.")
    public var to: String?

    @Flag(help: "Exit 1 when any migration is pending; change nothing.")
    public var check = false

    @Flag(help: "Print JSON instead of text (with --plan or --check).")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let target: Migrator.Target = to.map { $0 == "zero" ? .zero : .named($0) } ?? .latest
            if check {
                let pending = try await app.migrator.pending()
                if json {
                    try context.outputJSON(pending.map { ["module": $0.module, "name": $0.name] })
                } else if pending.isEmpty {
                    context.output("No migrations pending.")
                } else {
                    context.output("\(pending.count) migration\(pending.count == 1 ? "" : "s") pending:")
                    for migration in pending { context.output("  \(migration.name)") }
                }
                return pending.isEmpty ? 0 : 1
            }
            let steps = try await app.migrator.plan(to: target)
            if plan {
                if json {
                    try context.outputJSON(steps)
                } else if steps.isEmpty {
                    context.output("Nothing to do: the database is at the target.")
                } else {
                    context.output("Planned operations:")
                    for step in steps {
                        context.output("  \(step.direction == .apply ? "Apply " : "Revert") \(step.name)  (\(step.module))")
                    }
                }
                return 0
            }
            if steps.isEmpty {
                context.output("No migrations to apply.")
            } else {
                context.output("Operations to perform: \(steps.count) (database: \(app.database.url.redacted))")
            }
            let total = steps.count
            let position = StepCounter()
            do {
                // The modules' own records (permissions) follow the schema: reported after the steps.
                let (_, notes) = try await app.migrate(to: target) { step, outcome, elapsed in
                    guard let outcome else { return }
                    let index = position.next()
                    let verb = step.direction == .apply ? "Applying" : "Reverting"
                    let result = outcome == .done ? "OK" : "skipped (another instance did it)"
                    let ms = elapsed.map { " (\(Int(($0.components.seconds * 1000) + $0.components.attoseconds / 1_000_000_000_000_000)) ms)" } ?? ""
                    context.output("  [\(index)/\(total)] \(verb) \(step.name)... \(result)\(ms)")
                }
                for note in notes { context.output(note) }
            } catch {
                let report = CommandContext.describe(error)
                app.logger.error("migrate failed", metadata: ["error.message": .string(report)])
                context.errorOutput(report)
                return 1
            }
            return 0
        }
    }
}

/// A step counter shared with the progress callback.
final class StepCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}

struct MigrationsDocument: Encodable {
    let migrations: [Migrator.Status]
    let unknownApplied: [String]
}

/// `showmigrations`: applied and pending migrations per module.
public struct ShowMigrationsCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "showmigrations", abstract: "List each module's migrations: [X] applied, [ ] pending.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let (statuses, unknown) = try await app.migrator.status()
            if json {
                try context.outputJSON(MigrationsDocument(migrations: statuses, unknownApplied: unknown))
                return 0
            }
            for module in app.modules {
                let owned = statuses.filter { $0.module == module.name }
                context.output(module.name)
                if owned.isEmpty { context.output("  (no migrations)") }
                for status in owned {
                    let mark = status.appliedAt == nil ? "[ ]" : "[X]"
                    let when = status.appliedAt.map { "  applied \($0)" } ?? ""
                    context.output("  \(mark) \(status.name)\(when)")
                }
            }
            if !unknown.isEmpty {
                context.output("applied but no longer declared")
                for name in unknown { context.output("  [?] \(name)") }
            }
            return 0
        }
    }
}
