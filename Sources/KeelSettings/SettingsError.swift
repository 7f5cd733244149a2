/// One thing wrong with the settings: which key, through which variable, with what value, and what is allowed.
public struct SettingsProblem: Sendable, Equatable, CustomStringConvertible {
    /// The dotted key (or `profile`, or a file path for a source that could not be read).
    public let key: String
    /// The environment variable that sets the key, when there is one.
    public let environmentVariable: String?
    /// The offending value as given, or `********` for a secret; `nil` when the problem is a missing value.
    public let value: String?
    /// What is wrong.
    public let message: String
    /// What is allowed, when the schema says.
    public let allowed: String?
    /// Where the offending value came from.
    public let source: String?

    public init(key: String, environmentVariable: String?, value: String?, message: String, allowed: String?, source: String?) {
        self.key = key
        self.environmentVariable = environmentVariable
        self.value = value
        self.message = message
        self.allowed = allowed
        self.source = source
    }

    public var description: String {
        var line = key
        if let environmentVariable { line += " (\(environmentVariable))" }
        line += ": \(message)"
        if let value { line += "; got \"\(value)\"" }
        if let source { line += " from \(source)" }
        if let allowed, !allowed.isEmpty { line += "; allowed: \(allowed)" }
        return line
    }
}

/// The settings could not be resolved; `problems` lists every problem at once.
///
/// The CLI prints `description` and exits with status 78 (`EX_CONFIG`).
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    /// The exit status for a configuration error (sysexits.h `EX_CONFIG`).
    public static let exitCode: Int32 = 78

    public let profile: Profile
    public let problems: [SettingsProblem]

    public init(profile: Profile, problems: [SettingsProblem]) {
        self.profile = profile
        self.problems = problems
    }

    public var description: String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        var text = "Settings are invalid for profile '\(profile)' (\(count)):\n"
        for problem in problems {
            text += "  - \(problem)\n"
        }
        text += "Fix the values above; `settings docs` lists every key with its environment variable and allowed values."
        return text
    }
}
