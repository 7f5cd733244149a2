public import ArgumentParser
public import Keel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The application's command line, the counterpart of Django's `manage.py`: every command of the modules the
/// application composes, the core module's first (`migrate`, `showmigrations`, `settings show|docs`, `check`), then
/// Keel's standard modules' (`serve` from operations, `keys` from security, `sessions` and `changepassword` from auth,
/// `permissions` and `createsuperuser` from access), then the application's own. Each is a `ModuleCommand` and runs
/// with one `CommandContext`.
///
/// The executable's `main.swift` runs it and supplies the logging and metrics bootstrap (the standard one, or its own
/// closure), optionally after putting Swift Concurrency on NIO's event loops:
/// ```swift
/// _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
/// let logs = LogWriter(fd: 1)
/// await KeelCommandLine<ConduitApp>.main(bootstrap: .standardBootstrap(label: ConduitApp.name, logs: logs), beforeExit: { logs.flush() })
/// ```
public struct KeelCommandLine<App: KeelApp>: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: App.name,
            abstract: "Run and manage \(App.name), a Keel application.",
            discussion: "Settings come from the command line, the environment, .env (development), a config file and defaults; `\(App.name) settings docs` lists every key.",
            subcommands: KeelApplication.commands(name: App.name, modules: App.modules)
        )
    }

    public init() {}

    /// Parses the arguments, runs the chosen command and exits with its status.
    ///
    /// Unknown commands and bad flags print a short error with the usage and exit 64; settings problems exit 78.
    public static func main(
        arguments: [String]? = nil,
        environment: [String: String]? = nil,
        bootstrap: @escaping CommandEnvironment.Bootstrap,
        beforeExit: @Sendable () -> Void = {}
    ) async -> Never {
        let code = await execute(
            arguments: arguments ?? Array(CommandLine.arguments.dropFirst()),
            in: .process(environment: environment ?? ProcessInfo.processInfo.environment, bootstrap: bootstrap)
        )
        beforeExit()
        terminateProcess(code)
    }

    /// Parses and runs a command line, returning the exit status instead of exiting (for tests).
    public static func execute(arguments: [String], in environment: CommandEnvironment) async -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            if let moduleCommand = command as? any ModuleCommand {
                let commandType = type(of: moduleCommand)
                let attribution = commandType.attributesWrites ? ChangeAttribution.command(commandPath(of: commandType)) : .system
                return try await ChangeAttribution.$current.withValue(attribution) {
                    try await moduleCommand.execute(in: context(in: environment))
                }
            }
            // The root, or a command that only groups subcommands: ArgumentParser's own run() shows the help.
            try command.run()
            return 0
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                code.isSuccess ? environment.output(message) : environment.errorOutput(message)
            }
            return code.rawValue
        }
    }

    /// A command's name as typed after the executable's (`permissions grant`).
    static func commandPath(of command: any ParsableCommand.Type) -> String {
        func search(_ node: any ParsableCommand.Type, path: [String]) -> [String]? {
            if node == command { return path }
            for child in node.configuration.subcommands {
                if let found = search(child, path: path + [child._commandName]) { return found }
            }
            return nil
        }
        return search(Self.self, path: [])?.joined(separator: " ") ?? command._commandName
    }

    /// The context every command of this application runs with: its modules' schema and checks, its settings read
    /// from the process environment, and the application built with the executable's logging and metrics.
    /// The module list is composed once, with the metrics registry the executable's bootstrap is given.
    static func context(in environment: CommandEnvironment) -> CommandContext {
        let metrics = KeelMetrics()
        let modules = KeelApplication.composing(App.modules, metrics: metrics)
        let schema = KeelApplication.schema(name: App.name, composing: modules)
        return CommandContext(
            appName: App.name, environment: environment.environment, output: environment.output, errorOutput: environment.errorOutput,
            input: environment.input, settingsSchema: schema, checks: KeelApplication.checks(name: App.name, composing: modules),
            settings: { options, extra in
                do {
                    return try await SettingsLoader(schema: schema).load(options.input(extra: extra, environment: environment.environment))
                } catch {
                    environment.errorOutput(String(describing: error))
                    return nil
                }
            },
            application: { settings in
                try KeelApplication(name: App.name, settings: settings, composing: modules, logger: environment.bootstrap(settings, metrics))
            })
    }
}
