import ArgumentParser
import Foundation
import Keel
import KeelCLI
import Logging
import SQLKit
import Synchronization
import Testing

/// A module of its own, declared here, contributing a command: nothing in KeelKernel or KeelCLI names it.
struct WidgetsModule: KeelModule {
    var name: String { "widgets" }
    var commands: [any ParsableCommand.Type] { [WidgetsCommand.self] }
}

struct WidgetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "widgets", abstract: "Widget maintenance.", subcommands: [WidgetsCountCommand.self])
}

struct WidgetsCountCommand: ModuleCommand {
    struct Locked: Error, CustomStringConvertible {
        var description: String { "The widgets are locked." }
    }

    static let configuration = CommandConfiguration(commandName: "count", abstract: "Count the applied migrations, or fail on purpose.")

    @OptionGroup var settings: SettingsOptions
    @Flag(help: "Throw inside the application.") var fail = false

    func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            if fail { throw Locked() }
            try await app.migrator.migrate()
            let applied = try await app.migrator.applied().count
            context.output("\(context.appName): \(applied) migrations, profile \(app.settings.profile.rawValue)")
            return 0
        }
    }
}

enum WidgetsApp: KeelApp {
    static let name = "widgets-app"
    static var modules: [any KeelModule] { [WidgetsModule()] }
}

@Suite struct ModuleCommandTests {
    static func run(_ arguments: [String]) async -> (code: Int32, output: String, errors: String) {
        let out = Mutex<[String]>([])
        let err = Mutex<[String]>([])
        let environment = CommandEnvironment(
            environment: [:],
            output: { line in out.withLock { $0.append(line) } },
            errorOutput: { line in err.withLock { $0.append(line) } },
            bootstrap: { _, _ in Logger(label: "cli-test") { _ in SwiftLogNoOpLogHandler() } })
        let code = await KeelCommandLine<WidgetsApp>.execute(arguments: arguments, in: environment)
        return (code, out.withLock { $0.joined(separator: "\n") }, err.withLock { $0.joined(separator: "\n") })
    }

    @Test func aModulesCommandRunsWithItsApplication() async {
        let result = await Self.run(["widgets", "count", "--profile", "test", "--set", "database.url=sqlite://:memory:"])
        #expect(result.code == 0, "\(result.errors)")
        // Keel's own migrations (sessions, login throttle) were applied to the application the command opened.
        #expect(result.output.hasPrefix("widgets-app: "), "\(result.output)")
        #expect(!result.output.hasPrefix("widgets-app: 0 "), "\(result.output)")
        #expect(result.output.hasSuffix("profile test"), "\(result.output)")
    }

    @Test func settingsProblemsExit78AndErrorsExit1WithTheirMessage() async {
        let badSettings = await Self.run(["widgets", "count", "--set", "database.url=nonsense://x"])
        #expect(badSettings.code == 78)
        #expect(badSettings.errors.contains("database.url"), "\(badSettings.errors)")
        let failing = await Self.run(["widgets", "count", "--fail", "--set", "database.url=sqlite://:memory:"])
        #expect(failing.code == 1)
        #expect(failing.errors.contains("The widgets are locked."), "\(failing.errors)")
    }

    /// Keel's standard modules contribute theirs the same way: `keys` from security, `sessions` from auth.
    @Test func theStandardModulesCommandsAreListedBesideTheApplications() async {
        let help = await Self.run(["--help"])
        #expect(help.code == 0)
        for command in ["widgets", "keys", "sessions", "serve", "migrate"] {
            #expect(help.output.contains(command), "\(command) missing from: \(help.output)")
        }
        let key = await Self.run(["keys", "generate"])
        #expect(key.code == 0)
        #expect(key.output.count >= 64, "\(key.output)")
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("keel-cli-\(UUID().uuidString).sqlite3").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        #expect(await Self.run(["migrate", "--set", "database.url=sqlite://\(database)"]).code == 0)
        let cleared = await Self.run(["sessions", "clear-expired", "--set", "database.url=sqlite://\(database)"])
        #expect(cleared.code == 0, "\(cleared.errors)")
        #expect(cleared.output == "Deleted 0 expired sessions.", "\(cleared.output)")
    }

    /// Run outside the command line, a command only shows its help (ArgumentParser's own `run()`): it does its work
    /// in `execute(in:)`, with a context only the command line makes. No command declares a `run()` of its own.
    @Test func runningOutsideTheCommandLineShowsTheHelp() async throws {
        var command = try WidgetsCountCommand.parse([])
        #expect(throws: CleanExit.self) { try command.run() }
    }

    /// The kernel's commands, operations' serve and the application's are one kind: a test module adds one with no
    /// edit outside its own files, and it is listed and run like the built-in ones.
    @Test func everyCommandIsAModuleCommand() {
        let commands = KeelApplication.commands(name: WidgetsApp.name, modules: WidgetsApp.modules)
        let names = commands.map { $0.configuration.commandName ?? "" }
        #expect(Array(names.prefix(4)) == ["migrate", "showmigrations", "settings", "check"], "the core module's come first: \(names)")
        #expect(names.contains("serve") && names.last == "widgets", "\(names)")
        for command in commands {
            let leaves = command.configuration.subcommands.isEmpty ? [command] : command.configuration.subcommands
            for leaf in leaves {
                #expect(leaf is any ModuleCommand.Type, "\(leaf) is not a ModuleCommand")
            }
        }
    }
}
