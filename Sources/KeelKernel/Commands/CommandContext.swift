public import KeelSettings
import KeelCore
import KeelData

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What every command runs with: the application's name, the process environment, where output goes, the
/// application's settings schema and checks, and the application itself, built on demand.
///
/// The command line (`KeelCommandLine<App>`) makes one per run from the modules the application composes (Keel's
/// standard modules and its own), so the kernel's commands, a capability's and an application's see the same
/// context. Tests make one by hand through `KeelCommandLine.execute(arguments:in:)`.
public struct CommandContext: Sendable {
    /// Resolves the settings from the command line's options (and values a command adds, such as `serve --port`), or
    /// prints every problem and returns `nil`.
    public typealias SettingsResolver = @Sendable (SettingsOptions, [SettingsInput.CommandLineValue]) async -> ResolvedSettings?
    /// Builds the application for resolved settings, with the executable's logging and metrics set up.
    public typealias ApplicationBuilder = @Sendable (ResolvedSettings) throws -> KeelApplication
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
    /// Every composed module's settings, one section per module (`settings docs`).
    public let settingsSchema: SettingsSchema
    /// Every composed module's system checks (`check`, and `serve` in deployed profiles).
    public let checks: CheckRegistry
    private let resolver: SettingsResolver
    private let builder: ApplicationBuilder

    public init(
        appName: String,
        environment: [String: String],
        output: @escaping @Sendable (String) -> Void,
        errorOutput: @escaping @Sendable (String) -> Void,
        input: @escaping Input = { _, _ in nil },
        settingsSchema: SettingsSchema,
        checks: CheckRegistry,
        settings resolver: @escaping SettingsResolver,
        application builder: @escaping ApplicationBuilder
    ) {
        self.appName = appName
        self.environment = environment
        self.output = output
        self.errorOutput = errorOutput
        self.input = input
        self.settingsSchema = settingsSchema
        self.checks = checks
        self.resolver = resolver
        self.builder = builder
    }

    /// The application's settings from these options (plus `extra` values, named by the flag that set them) and the
    /// environment, or `nil` once every problem has been printed (return `SettingsError.exitCode`).
    public func settings(_ options: SettingsOptions, extra: [SettingsInput.CommandLineValue] = []) async -> ResolvedSettings? {
        await resolver(options, extra)
    }

    /// The application for these settings, its logging and metrics set up, its database not yet opened (`serve`
    /// runs it; most commands want `withApplication`).
    public func application(_ settings: ResolvedSettings) throws -> KeelApplication {
        try builder(settings)
    }

    /// Runs `body` with the application (settings resolved, logging and metrics set up, database prepared) and shuts
    /// the database down afterwards, whatever `body` does. Settings problems exit 78; any other error is printed
    /// (`describe`) and exits 1.
    public func withApplication(_ options: SettingsOptions, _ body: (KeelApplication) async throws -> Int32) async throws -> Int32 {
        guard let resolved = await settings(options) else { return SettingsError.exitCode }
        let app: KeelApplication
        do {
            app = try application(resolved)
        } catch {
            errorOutput(Self.describe(error))
            return 1
        }
        do {
            try await app.database.prepare()
            let code = try await body(app)
            await app.database.shutdown()
            return code
        } catch {
            await app.database.shutdown()
            errorOutput(Self.describe(error))
            return 1
        }
    }

    /// Prints `value` as the JSON every command's `--json` prints: indented, keys sorted, slashes as they are, dates
    /// in ISO 8601.
    public func outputJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        output(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// An error as a person at a terminal reads it: a `KeelError`'s messages (what a client would see), else the
    /// error's description, a database's in the server's own words (`DatabaseErrorReport`).
    public static func describe(_ error: any Error) -> String {
        (error as? KeelError)?.commandLineText ?? DatabaseErrorReport.describe(error)
    }
}
