public import ArgumentParser

/// Keel's one kind of command: what a module contributes (`KeelModule.commands`), the kernel's own (`migrate`,
/// `showmigrations`, `check`, `settings`), operations' `serve`, security's `keys`, an application's `seed` alike. It
/// runs with a `CommandContext` that the command line (`KeelCommandLine<App>` in KeelCLI) makes for the application,
/// so a command never names the application's type.
///
/// It is an ArgumentParser command whose `run()` is ArgumentParser's own (it shows the command's help): the command
/// line calls `execute(in:)` instead. A command that only groups subcommands is a plain `ParsableCommand`.
///
/// ```swift
/// struct ReportCommand: ModuleCommand {
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
public protocol ModuleCommand: ParsableCommand, Sendable {
    /// Runs the command; the result is the process's exit status.
    func execute(in context: CommandContext) async throws -> Int32
    /// Whether what the command writes is recorded as written by it (`command:NAME`, the default). `serve` says no:
    /// its requests carry their own attribution and its background work is `system`.
    static var attributesWrites: Bool { get }
}

extension ModuleCommand {
    public static var attributesWrites: Bool { true }
}
