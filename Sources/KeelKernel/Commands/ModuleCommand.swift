public import KeelSettings

/// A command a module contributes (`KeelModule.commands`), run with the application it belongs to without naming it:
/// the security module's `keys`, the auth module's `sessions`, an application's `seed`. The command line
/// (`KeelCommandLine<App>` in KeelCLI) supplies the context.
///
/// ```swift
/// struct ReportCommand: AsyncParsableCommand, ModuleCommand {
///     static let configuration = CommandConfiguration(commandName: "report", abstract: "Count the widgets.")
///     @OptionGroup var settings: SettingsOptions
///     init() {}
///     func execute(in context: CommandContext) async throws -> Int32 {
///         try await context.withApplication(settings) { app in
///             context.output("\(try await app.database.sql.select().column("id").from("widgets").all().count) widgets")
///             return 0
///         }
///     }
/// }
/// ```
public protocol ModuleCommand: Sendable {
    /// Runs the command; the result is the process's exit status.
    func execute(in context: CommandContext) async throws -> Int32
}

/// What a module's command runs with: the application's name, the process environment, where output goes, and the
/// application itself, with its settings resolved and its database open, on demand.
public struct CommandContext: Sendable {
    /// Runs `body` with the application built from settings, and closes what it opened afterwards.
    public typealias ApplicationRunner = @Sendable (SettingsOptions, _ body: (KeelApplication) async throws -> Int32) async throws -> Int32
    /// Shows the prompt and returns the line a person typed (without echo when `secret`), or `nil` when nobody can
    /// answer (standard input is not a terminal).
    public typealias Input = @Sendable (_ prompt: String, _ secret: Bool) -> String?

    /// The executable's name, as in `conduit keys generate`.
    public let appName: String
    /// The process environment the settings are read from.
    public let environment: [String: String]
    public let output: @Sendable (String) -> Void
    public let errorOutput: @Sendable (String) -> Void
    /// Asks the person at the terminal (`createsuperuser`, `changepassword`); `nil` when nobody can answer.
    public let input: Input
    private let resolver: @Sendable (SettingsOptions) async -> ResolvedSettings?
    private let runner: ApplicationRunner

    public init(
        appName: String,
        environment: [String: String],
        output: @escaping @Sendable (String) -> Void,
        errorOutput: @escaping @Sendable (String) -> Void,
        input: @escaping Input = { _, _ in nil },
        settings resolver: @escaping @Sendable (SettingsOptions) async -> ResolvedSettings?,
        application runner: @escaping ApplicationRunner
    ) {
        self.appName = appName
        self.environment = environment
        self.output = output
        self.errorOutput = errorOutput
        self.input = input
        self.resolver = resolver
        self.runner = runner
    }

    /// The application's settings from these options and the environment, or `nil` once every problem has been
    /// printed (return `SettingsError.exitCode`).
    public func settings(_ options: SettingsOptions) async -> ResolvedSettings? {
        await resolver(options)
    }

    /// Runs `body` with the application (settings resolved, logging and metrics set up, database prepared) and shuts
    /// the database down afterwards, whatever `body` does. Settings problems exit 78, other errors are printed (exit 1).
    public func withApplication(_ options: SettingsOptions, _ body: (KeelApplication) async throws -> Int32) async throws -> Int32 {
        try await runner(options, body)
    }
}
