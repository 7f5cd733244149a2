public import ArgumentParser
public import Keel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The application's command line, the counterpart of Django's `manage.py`: `serve`, `migrate`, `showmigrations`,
/// `settings show|docs`, `check`, plus every module's commands (`ModuleCommand`): Keel's standard modules contribute
/// `keys` (security) and `sessions` (auth), the application's modules their own.
///
/// The executable's `main.swift` runs it and supplies the logging and metrics bootstrap (the standard one, or its own
/// closure), optionally after putting Swift Concurrency on NIO's event loops:
/// ```swift
/// _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
/// let logs = LogWriter(fd: 1)
/// await KeelCommandLine<ConduitApp>.main(bootstrap: .standardBootstrap(label: ConduitApp.name, logs: logs), beforeExit: { logs.flush() })
/// ```
public struct KeelCommandLine<App: KeelApp>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: App.name,
            abstract: "Run and manage \(App.name), a Keel application.",
            discussion: "Settings come from the command line, the environment, .env (development), a config file and defaults; `\(App.name) settings docs` lists every key.",
            subcommands: [
                ServeCommand<App>.self, MigrateCommand<App>.self, ShowMigrationsCommand<App>.self, SettingsCommand<App>.self,
                CheckCommand<App>.self,
            ] + (KeelApplication.standardModules() + App.modules).flatMap(\.commands)
        )
    }

    public init() {}

    public mutating func run() async throws {
        throw CleanExit.helpRequest(self)
    }

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
                return try await moduleCommand.execute(in: environment.context(for: App.self))
            } else if let keelCommand = command as? any KeelCommand {
                return try await keelCommand.execute(in: environment)
            } else if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
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
}

extension KeelCommand {
    /// Keel commands run through `KeelCommandLine.main`, which supplies their environment.
    public func run() async throws {
        throw ValidationError("Run Keel commands through KeelCommandLine.main(bootstrap:), which supplies their environment.")
    }
}

extension ModuleCommand {
    /// Module commands run through `KeelCommandLine.main`, which supplies their context.
    public func run() async throws {
        throw ValidationError("Run module commands through KeelCommandLine.main(bootstrap:), which supplies their context.")
    }
}

extension CommandEnvironment {
    /// The context a module's command runs with, for the application `App`.
    func context<App: KeelApp>(for app: App.Type) -> CommandContext {
        CommandContext(
            appName: App.name, environment: environment, output: output, errorOutput: errorOutput, input: input,
            settings: { options in await options.resolve(App.self, in: self) },
            application: { options, body in try await CommandApplication.with(App.self, settings: options, in: self, body) })
    }
}
