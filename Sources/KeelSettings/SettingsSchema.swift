import Configuration

/// Every settings key an application knows, grouped by the module that declares it.
///
/// Built from the application's modules (`KeelApplication.schema`); a value, never a global registry.
public struct SettingsSchema: Sendable {
    /// One module's keys.
    public struct Section: Sendable {
        public let module: String
        public let settings: [any AnySetting]
        public init(module: String, settings: [any AnySetting]) {
            self.module = module
            self.settings = settings
        }
    }

    public let sections: [Section]

    public init(sections: [Section]) {
        self.sections = sections
    }

    /// Every key in declaration order.
    public var settings: [any AnySetting] { sections.flatMap(\.settings) }

    /// Keys declared more than once, with the modules declaring them: a programming error reported at start-up.
    public var duplicateKeys: [(key: String, modules: [String])] {
        var owners: [String: [String]] = [:]
        var order: [String] = []
        for section in sections {
            for setting in section.settings {
                if owners[setting.key] == nil { order.append(setting.key) }
                owners[setting.key, default: []].append(section.module)
            }
        }
        return order.compactMap { key in owners[key]!.count > 1 ? (key, owners[key]!) : nil }
    }

    /// The environment variable a key reads: `http.shutdownTimeout` → `HTTP_SHUTDOWN_TIMEOUT`.
    ///
    /// Asked of swift-configuration's `EnvironmentVariablesProvider`, so the name shown is the name read: camelCase
    /// word boundaries and dots become underscores, everything is upper-cased.
    public static func environmentVariable(for key: String) -> String {
        let provider = EnvironmentVariablesProvider(environmentVariables: [:])
        let configKey = AbsoluteConfigKey(key.split(separator: ".").map(String.init))
        return (try? provider.value(forKey: configKey, type: .string).encodedKey) ?? key.uppercased()
    }
}
