import Configuration
import SystemPackage

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the settings are resolved from. Tests build one by hand; the CLI builds it from its flags and the process.
public struct SettingsInput: Sendable {
    /// One value given on the command line.
    public struct CommandLineValue: Sendable, Equatable {
        public let key: String
        public let value: String
        /// The flag as the user typed it, shown as the source (`--port`, `--set http.port=…`).
        public let flag: String
        public init(key: String, value: String, flag: String) {
            self.key = key
            self.value = value
            self.flag = flag
        }
    }

    /// `--profile`, if given; else `KEEL_PROFILE`; else `development`.
    public var profile: String?
    /// Command-line values, highest precedence.
    public var commandLine: [CommandLineValue]
    /// The process environment (never read by Keel outside this loader).
    public var environment: [String: String]
    /// A JSON or YAML file (`--config`, else `KEEL_CONFIG_FILE`).
    public var configFile: String?
    /// The `.env` file read in the development profile only.
    public var dotEnvPath: String

    public init(
        profile: String? = nil,
        commandLine: [CommandLineValue] = [],
        environment: [String: String] = [:],
        configFile: String? = nil,
        dotEnvPath: String = ".env"
    ) {
        self.profile = profile
        self.commandLine = commandLine
        self.environment = environment
        self.configFile = configFile
        self.dotEnvPath = dotEnvPath
    }
}

/// Resolves every key of a schema from the sources, in order: command line, environment (and `<VAR>_FILE` secret
/// files), `.env` (development only), config file, defaults.
///
/// Every problem is collected, then thrown at once as a `SettingsError`: a value that does not convert is an error,
/// never a silent fallback to the default.
public struct SettingsLoader: Sendable {
    /// The variable that chooses the profile.
    public static let profileVariable = "KEEL_PROFILE"
    /// The variable that names a config file.
    public static let configFileVariable = "KEEL_CONFIG_FILE"

    public let schema: SettingsSchema

    public init(schema: SettingsSchema) {
        self.schema = schema
    }

    public func load(_ input: SettingsInput) async throws(SettingsError) -> ResolvedSettings {
        var problems: [SettingsProblem] = []
        for duplicate in schema.duplicateKeys {
            problems.append(.init(key: duplicate.key, environmentVariable: nil, value: nil,
                                  message: "is declared by more than one module (\(duplicate.modules.joined(separator: ", ")))",
                                  allowed: nil, source: nil))
        }

        // Profile.
        var profile = Profile.development
        let profileText = input.profile ?? input.environment[Self.profileVariable]
        if let profileText {
            if let chosen = Profile(rawValue: profileText.trimmingWhitespace().lowercased()) {
                profile = chosen
            } else {
                problems.append(.init(key: "profile", environmentVariable: Self.profileVariable, value: profileText,
                                      message: "is not a known profile",
                                      allowed: Profile.allCases.map(\.rawValue).joined(separator: ", "),
                                      source: input.profile != nil ? "command line (--profile)" : "environment"))
            }
        }

        // Command line: unknown keys are an error, not ignored.
        let known = Set(schema.settings.map(\.key))
        var commandLine: [String: SettingsInput.CommandLineValue] = [:]
        for value in input.commandLine {
            if known.contains(value.key) {
                commandLine[value.key] = value
            } else {
                problems.append(.init(key: value.key, environmentVariable: nil, value: nil, message: "is not a known setting",
                                      allowed: nil, source: "command line (\(value.flag))"))
            }
        }

        // Environment, with `<VAR>_FILE` secret files folded in.
        var environment = input.environment
        var secretFiles: [String: String] = [:]
        for setting in schema.settings {
            let variable = SettingsSchema.environmentVariable(for: setting.key)
            guard let path = input.environment[variable + "_FILE"] else { continue }
            if input.environment[variable] != nil {
                problems.append(.init(key: setting.key, environmentVariable: variable, value: nil,
                                      message: "is set both by \(variable) and by \(variable)_FILE; set only one", allowed: nil, source: nil))
                continue
            }
            guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
                problems.append(.init(key: setting.key, environmentVariable: variable + "_FILE", value: path,
                                      message: "names a file that cannot be read as UTF-8 text", allowed: nil, source: "environment"))
                continue
            }
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            environment[variable] = text
            secretFiles[variable] = path
        }
        let environmentProvider = EnvironmentVariablesProvider(environmentVariables: environment)

        // `.env`, development only.
        var dotEnvProvider: EnvironmentVariablesProvider?
        if profile == .development, FileManager.default.fileExists(atPath: input.dotEnvPath) {
            do {
                dotEnvProvider = try await EnvironmentVariablesProvider(environmentFilePath: FilePath(input.dotEnvPath), allowMissing: true)
            } catch {
                problems.append(.init(key: input.dotEnvPath, environmentVariable: nil, value: nil,
                                      message: "cannot be read: \(error)", allowed: nil, source: nil))
            }
        }

        // Config file.
        var fileProvider: (any ConfigProvider)?
        let configPath = input.configFile ?? input.environment[Self.configFileVariable]
        if let configPath {
            do {
                fileProvider = try await Self.fileProvider(path: configPath)
            } catch let problem as SettingsProblem {
                problems.append(problem)
            } catch {
                problems.append(.init(key: configPath, environmentVariable: input.configFile == nil ? Self.configFileVariable : nil,
                                      value: nil, message: "cannot be read as a config file: \(error)", allowed: nil, source: nil))
            }
        }

        // Resolve each key.
        var entries: [ResolvedSetting] = []
        for setting in schema.settings {
            let variable = SettingsSchema.environmentVariable(for: setting.key)
            let configKey = AbsoluteConfigKey(setting.key.split(separator: ".").map(String.init))
            var raw: (value: (any SettingValue)?, text: String, source: SettingSource)?

            if let given = commandLine[setting.key] {
                raw = (setting.parse(string: given.value), given.value, .commandLine(given.flag))
            } else if let text = Self.string(environmentProvider, configKey) {
                let source: SettingSource = secretFiles[variable].map { .secretFile(variable: variable, path: $0) } ?? .environment(variable)
                raw = (setting.parse(string: text), text, source)
            } else if let dotEnvProvider, let text = Self.string(dotEnvProvider, configKey) {
                raw = (setting.parse(string: text), text, .dotEnv(path: input.dotEnvPath, variable: variable))
            } else if let fileProvider, let configPath {
                if let content = try? fileProvider.value(forKey: configKey, type: setting.configType).value?.content {
                    raw = (setting.parse(content: content), "\(content)", .configFile(configPath))
                } else if let text = Self.string(fileProvider, configKey) {
                    raw = (setting.parse(string: text), text, .configFile(configPath))
                } else if Self.hasAnyValue(fileProvider, configKey) {
                    raw = (nil, "(a value of another type)", .configFile(configPath))
                }
            }

            let value: any SettingValue
            let source: SettingSource
            if let raw {
                guard let parsed = raw.value else {
                    problems.append(.init(key: setting.key, environmentVariable: variable,
                                          value: setting.isSecret ? SettingsRedaction.placeholder : raw.text,
                                          message: "is not a valid \(setting.typeName)", allowed: setting.allowed,
                                          source: raw.source.description))
                    continue
                }
                value = parsed
                source = raw.source
            } else if let fallback = setting.defaultValueErased(in: profile) {
                value = fallback
                source = setting.hasProfileDefault(profile) ? .profileDefault(profile) : .defaultValue
            } else {
                problems.append(.init(key: setting.key, environmentVariable: variable, value: nil,
                                      message: "is required in the \(profile) profile but not set", allowed: setting.allowed, source: nil))
                continue
            }
            if let message = setting.validate(value) {
                problems.append(.init(key: setting.key, environmentVariable: variable,
                                      value: setting.isSecret ? SettingsRedaction.placeholder : (raw?.text ?? value.settingDescription),
                                      message: message, allowed: setting.allowed, source: source.description))
                continue
            }
            entries.append(ResolvedSetting(key: setting.key, environmentVariable: variable, value: value, source: source,
                                           isSecret: setting.isSecret))
        }

        if !problems.isEmpty { throw SettingsError(profile: profile, problems: problems) }
        return ResolvedSettings(profile: profile, entries: entries)
    }

    private static func string(_ provider: some ConfigProvider, _ key: AbsoluteConfigKey) -> String? {
        guard case .string(let text)? = try? provider.value(forKey: key, type: .string).value?.content else { return nil }
        return text
    }

    private static func hasAnyValue(_ provider: some ConfigProvider, _ key: AbsoluteConfigKey) -> Bool {
        let types: [ConfigType] = [.string, .int, .double, .bool, .stringArray, .intArray, .doubleArray, .boolArray]
        for type in types {
            do {
                if try provider.value(forKey: key, type: type).value != nil { return true }
            } catch {
                return true  // a value is there, of another type
            }
        }
        return false
    }

    private static func fileProvider(path: String) async throws -> any ConfigProvider {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SettingsProblem(key: path, environmentVariable: nil, value: nil, message: "config file does not exist",
                                  allowed: nil, source: nil)
        }
        let lowered = path.lowercased()
        if lowered.hasSuffix(".json") {
            return try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
        } else if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") {
            return try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
        }
        throw SettingsProblem(key: path, environmentVariable: nil, value: nil, message: "config file must end in .json, .yaml or .yml",
                              allowed: nil, source: nil)
    }
}

extension SettingsProblem: Error {}

