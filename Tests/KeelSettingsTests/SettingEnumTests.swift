import Foundation
import KeelSettings
import Logging
import Testing

enum Storage: String, Sendable, SettingEnum {
    case database
    case memory
}

enum SameSite: String, Sendable, SettingEnum {
    case lax = "Lax"
    case strict = "Strict"
}

/// Enum-typed settings: allowed values from the cases, no silent fallback.
@Suite struct SettingEnumTests {
    static let store = Setting<Storage>("cache.store", default: .memory, profiles: [.production: .database], doc: "Store.")
    static let sameSite = Setting<SameSite>("session.sameSite", default: .lax, doc: "SameSite.")
    static let level = Setting<Logger.Level>("log.level", default: .info, doc: "Level.")
    static let optional = Setting<Storage?>("cache.secondary", default: nil, doc: "Secondary.")
    static var schema: SettingsSchema {
        SettingsSchema(sections: [.init(module: "sample", settings: [store, sameSite, level, optional])])
    }
    let noDotEnv = "/nonexistent/.env"

    func load(_ environment: [String: String], profile: String? = nil) async throws -> ResolvedSettings {
        try await SettingsLoader(schema: Self.schema).load(SettingsInput(profile: profile, environment: environment, dotEnvPath: noDotEnv))
    }

    @Test func casesAreTheAllowedValuesAndTheDefaultsAreTyped() async throws {
        #expect(Self.store.allowed == "one of database, memory")
        #expect(Self.level.allowed == "one of trace, debug, info, notice, warning, error, critical")
        #expect(Self.optional.allowed == "one of database, memory")
        #expect(Self.store.typeName == "choice")
        let defaults = try await load([:])
        #expect(defaults[Self.store] == .memory)
        #expect(defaults[Self.level] == .info)
        #expect(defaults[Self.optional] == nil)
        #expect(try await load([:], profile: "production")[Self.store] == .database)
    }

    @Test func valuesParseExactlyOrIgnoringCase() async throws {
        let settings = try await load(["CACHE_STORE": "database", "SESSION_SAME_SITE": "strict", "LOG_LEVEL": "WARNING", "CACHE_SECONDARY": "memory"])
        #expect(settings[Self.store] == .database)
        #expect(settings[Self.sameSite] == .strict)
        #expect(settings[Self.level] == .warning)
        #expect(settings[Self.optional] == .memory)
        #expect(settings.entry("cache.store")?.value.settingDescription == "database")
    }

    /// A typo stops start-up naming the key, the value and the cases; it never falls back to the default.
    @Test func aValueThatNamesNoCaseIsAProblem() async throws {
        do {
            _ = try await load(["CACHE_STORE": "redis", "LOG_LEVEL": "verbose"])
            Issue.record("loaded settings with unknown enum values")
        } catch let error as SettingsError {
            let problems = error.problems.sorted { $0.key < $1.key }
            #expect(problems.map(\.key) == ["cache.store", "log.level"])
            #expect(problems[0].value == "redis")
            #expect(problems[0].message == "is not a valid choice")
            #expect(problems[0].allowed == "one of database, memory")
            #expect(problems[1].allowed?.hasPrefix("one of trace, debug") == true)
        }
    }
}
