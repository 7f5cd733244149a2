import ArgumentParser
import Hummingbird
import KeelData
import KeelSettings

/// The foundation every application has, always first: where the server listens and how it shuts down (`http.*`,
/// `checks.silenced`), the database (`database.*`, its checks, the `database` and `migrations` readiness checks;
/// its one table, `keel_migrations`, and the lock table `keel_migration_lock` on SQLite), the route options
/// `SessionLoading` and `HandlerBudget`, the stage `data.queries` (the query recorder, slot `handler`, groups that
/// `runsHandlersUnderBudget`), and the commands every application has: `migrate`, `showmigrations`, `check`,
/// `settings show|docs`.
struct KeelCoreModule: KeelModule {
    let applicationName: String
    var name: String { "keel" }
    var settings: [any AnySetting] { CoreSettings.all + DatabaseSettings.all(defaultName: applicationName) }
    var checks: [SystemCheck] { DatabaseChecks.all }
    var commands: [any ParsableCommand.Type] {
        [MigrateCommand.self, ShowMigrationsCommand.self, SettingsCommand.self, CheckCommand.self]
    }

    func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        guard group.runsHandlersUnderBudget else { return [] }
        let settings = app.settings
        return [.wrapper(.handler, "data.queries", QueryRecordingStage(recording: QueryRecording(
            serverTiming: settings[DatabaseSettings.serverTiming],
            nPlusOneThreshold: settings[DatabaseSettings.nPlusOneThreshold],
            nPlusOne: settings[DatabaseSettings.nPlusOneAction],
            slowQueryThreshold: settings[DatabaseSettings.slowQueryThreshold])))]
    }

    func readinessChecks(app: KeelApplication) -> [ReadinessCheck] {
        let database = app.database
        let migrator = app.migrator
        return [
            ReadinessCheck("database") { try await database.ping() },
            ReadinessCheck("migrations") {
                let pending = try await migrator.pending().count
                if pending > 0 { throw ReadinessFailure(pending == 1 ? "1 migration pending" : "\(pending) migrations pending") }
            },
        ]
    }
}
