public import ArgumentParser
public import KeelSettings

/// Options every command that reads settings takes.
public struct SettingsOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Profile: development, test, staging or production (default: KEEL_PROFILE, else development).")
    public var profile: String?

    @Option(name: .long, help: "A JSON or YAML config file (default: KEEL_CONFIG_FILE).")
    public var config: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Set a key, highest precedence; repeatable.", valueName: "key=value"))
    public var assignments: [String] = []

    public init() {}

    public func validate() throws {
        for assignment in assignments where !assignment.contains("=") {
            throw ValidationError("--set takes key=value, got '\(assignment)'.")
        }
    }

    /// The loader input: these options, extra command-line values (such as `serve --port`) and the environment.
    public func input(extra: [SettingsInput.CommandLineValue] = [], environment: [String: String]) -> SettingsInput {
        var values = assignments.map { assignment -> SettingsInput.CommandLineValue in
            let parts = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            return .init(key: key, value: parts.count > 1 ? String(parts[1]) : "", flag: "--set \(key)")
        }
        values += extra
        return SettingsInput(profile: profile, commandLine: values, environment: environment, configFile: config)
    }
}
