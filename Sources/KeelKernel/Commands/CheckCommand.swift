public import ArgumentParser
import KeelSettings

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `check`: runs the system checks.
public struct CheckCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "check",
            abstract: "Run the system checks; --deploy adds the checks for a deployment.",
            discussion: "Exits 1 when any finding is at or above --fail-level, 78 when the settings themselves are invalid. Silence an id with checks.silenced."
        )
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Also run the deploy checks (run them with the deployment's profile and settings).")
    public var deploy = false

    @Option(help: "Lowest level that makes the command fail: debug, info, warning, error or critical.")
    public var failLevel: String = "error"

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    public func validate() throws {
        guard CheckLevel(rawValue: failLevel) != nil else {
            throw ValidationError("--fail-level must be one of debug, info, warning, error, critical; got '\(failLevel)'.")
        }
    }

    public func execute(in context: CommandContext) async throws -> Int32 {
        guard let resolved = await context.settings(settings) else { return SettingsError.exitCode }
        let report = context.checks.report(resolved, deploy: deploy)
        if json {
            try context.outputJSON(report.findings)
        } else {
            context.output(report.text())
        }
        let threshold = CheckLevel(rawValue: failLevel) ?? .error
        return report.findings.contains { $0.level >= threshold } ? 1 : 0
    }
}
