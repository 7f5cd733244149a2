public import ArgumentParser
public import Keel

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `check`: runs the system checks.
public struct CheckCommand<App: KeelApp>: AsyncParsableCommand, KeelCommand {
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

    public func execute(in environment: CommandEnvironment) async throws -> Int32 {
        guard let resolved = await settings.resolve(App.self, in: environment) else { return SettingsError.exitCode }
        let silenced = Set(resolved[CoreSettings.checksSilenced])
        let registry = KeelApplication.checks(name: App.name, modules: App.modules)
        let all = registry.run(resolved, deploy: deploy, silenced: [])
        let findings = all.filter { !silenced.contains($0.id.rawValue) }
        let report = CheckReport(findings: findings, silencedCount: all.count - findings.count)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            environment.output(String(decoding: try encoder.encode(findings), as: UTF8.self))
        } else {
            environment.output(report.text())
        }
        let threshold = CheckLevel(rawValue: failLevel) ?? .error
        return findings.contains { $0.level >= threshold } ? 1 : 0
    }
}

/// Findings formatted for people, in the manner of Django's `check`.
struct CheckReport {
    let findings: [CheckFinding]
    let silencedCount: Int

    func text() -> String {
        let silenced = silencedCount == 0 ? "" : " (\(silencedCount) silenced)"
        guard !findings.isEmpty else { return "System check identified no issues\(silenced)." }
        var lines: [String] = []
        for level in CheckLevel.allCases.reversed() {
            let atLevel = findings.filter { $0.level == level }
            guard !atLevel.isEmpty else { continue }
            lines.append("\(level.rawValue.uppercased())S:")
            for finding in atLevel {
                lines.append("?: (\(finding.id)) \(finding.message)")
                lines.append("\tHINT: \(finding.hint)")
            }
        }
        let count = findings.count == 1 ? "1 issue" : "\(findings.count) issues"
        lines.append("\nSystem check identified \(count)\(silenced).")
        return lines.joined(separator: "\n")
    }
}
