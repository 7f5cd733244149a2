public import Configuration

/// Where a setting's effective value came from, highest precedence first.
public enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    /// A command-line flag or `--set key=value`.
    case commandLine(String)
    /// A process environment variable.
    case environment(String)
    /// A file named by `<VARIABLE>_FILE` (container secrets).
    case secretFile(variable: String, path: String)
    /// The `.env` file (development profile only).
    case dotEnv(path: String, variable: String)
    /// The JSON or YAML config file.
    case configFile(String)
    /// The schema's default for the profile.
    case profileDefault(Profile)
    /// The schema's default.
    case defaultValue

    public var description: String {
        switch self {
        case .commandLine(let flag): "command line (\(flag))"
        case .environment(let variable): "environment (\(variable))"
        case .secretFile(let variable, let path): "secret file (\(variable)_FILE=\(path))"
        case .dotEnv(let path, let variable): "\(path) (\(variable))"
        case .configFile(let path): "config file (\(path))"
        case .profileDefault(let profile): "default for \(profile)"
        case .defaultValue: "default"
        }
    }
}

/// One key's effective value and its origin.
public struct ResolvedSetting: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let key: String
    public let environmentVariable: String
    public let value: any SettingValue
    public let source: SettingSource
    public let isSecret: Bool

    public var description: String { "\(key)=\(displayValue) (\(source))" }
    public var debugDescription: String { description }
    /// Reflection (`dump`, test failure messages) shows the redacted value only.
    public var customMirror: Mirror { Mirror(self, children: ["key": key, "value": displayValue, "source": source.description]) }

    /// The value as `settings show` prints it: a secret is always redacted, even when unset is shown as such.
    public var displayValue: String {
        // Whether a secret is set at all is not itself secret.
        if isSecret, value.settingDescription.isEmpty || (value as? any OptionalSettingValue)?.isNone == true { return "(not set)" }
        return isSecret ? SettingsRedaction.placeholder : value.settingDescription
    }
}

/// Lets redaction tell an unset optional secret from a set one.
protocol OptionalSettingValue {
    var isNone: Bool { get }
}

extension Optional: OptionalSettingValue {
    var isNone: Bool { self == nil }
}

/// Every key of the schema resolved to a typed, validated value for one profile.
///
/// Read typed values with the key's declaration: `settings[CoreSettings.httpPort]`. Reading a key that is not in the
/// schema is a programming error and stops the process with a message naming the key.
public struct ResolvedSettings: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let profile: Profile
    /// Every key in schema order.
    public let entries: [ResolvedSetting]
    private let index: [String: Int]

    public init(profile: Profile, entries: [ResolvedSetting]) {
        self.profile = profile
        self.entries = entries
        self.index = Dictionary(entries.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var description: String { "ResolvedSettings(\(profile): " + entries.map(\.description).joined(separator: ", ") + ")" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["profile": profile, "entries": entries]) }

    /// The typed value of a key.
    public subscript<Value: SettingValue>(_ setting: Setting<Value>) -> Value {
        guard let position = index[setting.key] else {
            preconditionFailure("Setting '\(setting.key)' is not in the settings schema: list it in a module's `settings`.")
        }
        guard let value = entries[position].value as? Value else {
            preconditionFailure("Setting '\(setting.key)' is declared with another type than \(Value.typeName).")
        }
        return value
    }

    /// The resolved entry for a key, with its source.
    public func entry(_ key: String) -> ResolvedSetting? {
        index[key].map { entries[$0] }
    }

    /// A swift-configuration reader over the resolved values, for configuration structs with `init(reader:)`.
    ///
    /// Values are already validated, so the reader never falls back to a default silently. Secrets are marked secret.
    public var configReader: ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for entry in entries {
            guard let content = entry.value.configContent else { continue }
            values[AbsoluteConfigKey(entry.key.split(separator: ".").map(String.init))] = ConfigValue(content, isSecret: entry.isSecret)
        }
        return ConfigReader(provider: InMemoryProvider(name: "keel.settings", values: values))
    }
}
