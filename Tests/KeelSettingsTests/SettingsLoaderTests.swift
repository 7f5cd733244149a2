import Configuration
import Foundation
import KeelSettings
import Testing

/// A small schema exercising every value type, per-profile defaults, required keys and secrets.
enum Sample {
    static let port = Setting<Int>("http.port", default: 8080, allowed: .range(1...65535), doc: "Port.")
    static let timeout = Setting<Duration>("http.shutdownTimeout", default: .seconds(30), allowed: .range(.zero ... .seconds(3600)), doc: "Timeout.")
    static let format = Setting<String>("log.format", default: "text", profiles: [.production: "json"], allowed: .oneOf(["text", "json"]), doc: "Format.")
    static let verbose = Setting<Bool>("log.verbose", default: false, doc: "Verbose.")
    static let ratio = Setting<Double>("cache.ratio", default: 0.5, allowed: .range(0...1), doc: "Ratio.")
    static let hosts = Setting<[String]>("http.allowedHosts", default: ["localhost"], doc: "Hosts.")
    static let key = Setting<String>("signing.key", default: "dev-key", requiredIn: [.staging, .production], secret: true, allowed: .nonEmpty, doc: "Key.")
    static let token = Setting<String?>("metrics.token", default: nil, secret: true, doc: "Token.")
    static let limit = Setting<Int?>("db.poolLimit", default: nil, doc: "Limit.")

    static var schema: SettingsSchema {
        SettingsSchema(sections: [.init(module: "sample", settings: [port, timeout, format, verbose, ratio, hosts, key, token, limit])])
    }

    static func load(_ input: SettingsInput) async throws -> ResolvedSettings {
        try await SettingsLoader(schema: schema).load(input)
    }

    static func problems(_ input: SettingsInput) async -> [SettingsProblem] {
        do {
            _ = try await SettingsLoader(schema: schema).load(input)
            return []
        } catch {
            return error.problems
        }
    }
}

/// A scratch directory removed at the end of the test.
struct Scratch {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "keel-settings-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct SettingsLoaderTests {
    let noDotEnv = "/nonexistent/.env"

    @Test func defaultsApplyInDevelopmentWithTheirSource() async throws {
        let settings = try await Sample.load(SettingsInput(dotEnvPath: noDotEnv))
        #expect(settings.profile == .development)
        #expect(settings[Sample.port] == 8080)
        #expect(settings[Sample.timeout] == .seconds(30))
        #expect(settings[Sample.format] == "text")
        #expect(settings[Sample.token] == nil)
        #expect(settings.entry("http.port")?.source == .defaultValue)
    }

    @Test func profileDefaultsDifferWhereDeclared() async throws {
        let settings = try await Sample.load(SettingsInput(profile: "production", environment: ["SIGNING_KEY": "k"], dotEnvPath: noDotEnv))
        #expect(settings[Sample.format] == "json")
        #expect(settings.entry("log.format")?.source == .profileDefault(.production))
    }

    @Test func profileComesFromFlagThenEnvironment() async throws {
        let fromEnvironment = try await Sample.load(SettingsInput(environment: ["KEEL_PROFILE": "test"], dotEnvPath: noDotEnv))
        #expect(fromEnvironment.profile == .test)
        let fromFlag = try await Sample.load(SettingsInput(profile: "development", environment: ["KEEL_PROFILE": "test"], dotEnvPath: noDotEnv))
        #expect(fromFlag.profile == .development)
    }

    @Test func unknownProfileIsAProblem() async {
        let problems = await Sample.problems(SettingsInput(profile: "prod", dotEnvPath: noDotEnv))
        #expect(problems.map(\.key) == ["profile"])
        #expect(problems[0].allowed == "development, test, staging, production")
    }

    @Test func environmentNamesFollowTheKey() {
        #expect(SettingsSchema.environmentVariable(for: "database.url") == "DATABASE_URL")
        #expect(SettingsSchema.environmentVariable(for: "http.port") == "HTTP_PORT")
        #expect(SettingsSchema.environmentVariable(for: "http.shutdownTimeout") == "HTTP_SHUTDOWN_TIMEOUT")
        #expect(SettingsSchema.environmentVariable(for: "security.csrf.cookieName") == "SECURITY_CSRF_COOKIE_NAME")
    }

    @Test func environmentValuesOfEveryType() async throws {
        let settings = try await Sample.load(SettingsInput(environment: [
            "HTTP_PORT": "9090", "HTTP_SHUTDOWN_TIMEOUT": "500ms", "LOG_FORMAT": "json", "LOG_VERBOSE": "yes",
            "CACHE_RATIO": "0.25", "HTTP_ALLOWED_HOSTS": "a.example, b.example,", "METRICS_TOKEN": "t", "DB_POOL_LIMIT": "",
        ], dotEnvPath: noDotEnv))
        #expect(settings[Sample.port] == 9090)
        #expect(settings[Sample.timeout] == .milliseconds(500))
        #expect(settings[Sample.format] == "json")
        #expect(settings[Sample.verbose] == true)
        #expect(settings[Sample.ratio] == 0.25)
        #expect(settings[Sample.hosts] == ["a.example", "b.example"])
        #expect(settings[Sample.token] == "t")
        #expect(settings[Sample.limit] == nil)
        #expect(settings.entry("http.port")?.source == .environment("HTTP_PORT"))
    }

    @Test func durationsAcceptUnitsAndPlainSeconds() {
        #expect(Duration(settingString: "30") == .seconds(30))
        #expect(Duration(settingString: "1.5s") == .milliseconds(1500))
        #expect(Duration(settingString: "2m") == .seconds(120))
        #expect(Duration(settingString: "1h") == .seconds(3600))
        #expect(Duration(settingString: "250ms") == .milliseconds(250))
        #expect(Duration(settingString: "soon") == nil)
        #expect(Duration(settingString: "") == nil)
        #expect(Duration.seconds(90).settingDescription == "90s")
        #expect(Duration.seconds(120).settingDescription == "2m")
    }

    @Test func aValueThatDoesNotConvertIsAnErrorNotTheDefault() async {
        let problems = await Sample.problems(SettingsInput(environment: ["HTTP_PORT": "abc"], dotEnvPath: noDotEnv))
        #expect(problems.count == 1)
        let problem = try! #require(problems.first)
        #expect(problem.key == "http.port")
        #expect(problem.environmentVariable == "HTTP_PORT")
        #expect(problem.value == "abc")
        #expect(problem.message.contains("integer"))
        #expect(problem.allowed == "1...65535")
    }

    @Test func everyProblemIsReportedAtOnce() async {
        let problems = await Sample.problems(SettingsInput(
            profile: "production",
            environment: ["HTTP_PORT": "abc", "HTTP_SHUTDOWN_TIMEOUT": "-1", "LOG_FORMAT": "xml", "LOG_VERBOSE": "maybe", "CACHE_RATIO": "2"],
            dotEnvPath: noDotEnv))
        #expect(Set(problems.map(\.key)) == ["http.port", "http.shutdownTimeout", "log.format", "log.verbose", "cache.ratio", "signing.key"])
        let timeout = problems.first { $0.key == "http.shutdownTimeout" }
        #expect(timeout?.value == "-1")
        #expect(timeout?.allowed == "0s...1h")
        let missing = problems.first { $0.key == "signing.key" }
        #expect(missing?.message == "is required in the production profile but not set")
        #expect(missing?.environmentVariable == "SIGNING_KEY")
        let rendered = SettingsError(profile: .production, problems: problems).description
        #expect(rendered.contains("6 problems"))
        #expect(rendered.contains("HTTP_PORT"))
    }

    @Test func secretValuesAreRedactedInProblems() async {
        let schema = SettingsSchema(sections: [.init(module: "s", settings: [
            Setting<Int>("secret.number", default: 1, secret: true, allowed: .range(1...5), doc: "n"),
        ])])
        do {
            _ = try await SettingsLoader(schema: schema).load(SettingsInput(environment: ["SECRET_NUMBER": "hunter2"], dotEnvPath: noDotEnv))
            Issue.record("expected a problem")
        } catch {
            #expect(error.problems.first?.value == SettingsRedaction.placeholder)
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func precedenceIsCommandLineThenEnvironmentThenDotEnvThenFileThenDefault() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let dotEnv = try scratch.write(".env", "HTTP_PORT=7003\nLOG_FORMAT=json\nCACHE_RATIO=0.75\n")
        let file = try scratch.write("keel.json", #"{"http": {"port": 7004, "allowedHosts": ["file.example"]}, "log": {"format": "text", "verbose": true}, "cache": {"ratio": 0.1}}"#)

        let all = try await Sample.load(SettingsInput(
            commandLine: [.init(key: "http.port", value: "7001", flag: "--port")],
            environment: ["HTTP_PORT": "7002", "LOG_FORMAT": "text"], configFile: file, dotEnvPath: dotEnv))
        #expect(all[Sample.port] == 7001)
        #expect(all.entry("http.port")?.source == .commandLine("--port"))
        #expect(all[Sample.format] == "text")
        #expect(all.entry("log.format")?.source == .environment("LOG_FORMAT"))
        #expect(all[Sample.ratio] == 0.75)
        #expect(all.entry("cache.ratio")?.source == .dotEnv(path: dotEnv, variable: "CACHE_RATIO"))
        #expect(all[Sample.verbose] == true)
        #expect(all[Sample.hosts] == ["file.example"])
        #expect(all.entry("log.verbose")?.source == .configFile(file))
        #expect(all[Sample.timeout] == .seconds(30))

        let noFlag = try await Sample.load(SettingsInput(environment: ["HTTP_PORT": "7002"], configFile: file, dotEnvPath: dotEnv))
        #expect(noFlag[Sample.port] == 7002)
        let noEnvironment = try await Sample.load(SettingsInput(configFile: file, dotEnvPath: dotEnv))
        #expect(noEnvironment[Sample.port] == 7003)
        let fileOnly = try await Sample.load(SettingsInput(configFile: file, dotEnvPath: noDotEnv))
        #expect(fileOnly[Sample.port] == 7004)
    }

    @Test func dotEnvIsReadInDevelopmentOnly() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let dotEnv = try scratch.write(".env", "HTTP_PORT=7003\n")
        let development = try await Sample.load(SettingsInput(dotEnvPath: dotEnv))
        #expect(development[Sample.port] == 7003)
        let test = try await Sample.load(SettingsInput(profile: "test", dotEnvPath: dotEnv))
        #expect(test[Sample.port] == 8080)
        let production = try await Sample.load(SettingsInput(profile: "production", environment: ["SIGNING_KEY": "k"], dotEnvPath: dotEnv))
        #expect(production[Sample.port] == 8080)
    }

    @Test func yamlConfigFileIsNestedByDots() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("keel.yaml", "http:\n  port: 6000\n  shutdownTimeout: 5s\nlog:\n  format: json\n")
        let settings = try await Sample.load(SettingsInput(configFile: file, dotEnvPath: noDotEnv))
        #expect(settings[Sample.port] == 6000)
        #expect(settings[Sample.timeout] == .seconds(5))
        #expect(settings[Sample.format] == "json")
    }

    @Test func configFileFromTheEnvironment() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = try scratch.write("keel.json", #"{"http": {"port": 6001}}"#)
        let settings = try await Sample.load(SettingsInput(environment: ["KEEL_CONFIG_FILE": file], dotEnvPath: noDotEnv))
        #expect(settings[Sample.port] == 6001)
    }

    @Test func badConfigFilesAreProblems() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let missing = await Sample.problems(SettingsInput(configFile: scratch.path + "/absent.json", dotEnvPath: noDotEnv))
        #expect(missing.first?.message == "config file does not exist")
        let wrongKind = try scratch.write("keel.toml", "x = 1")
        let kind = await Sample.problems(SettingsInput(configFile: wrongKind, dotEnvPath: noDotEnv))
        #expect(kind.first?.message.contains(".json, .yaml or .yml") == true)
        let broken = try scratch.write("broken.json", "{not json")
        let parse = await Sample.problems(SettingsInput(configFile: broken, dotEnvPath: noDotEnv))
        #expect(parse.count == 1)
        let wrongType = try scratch.write("types.json", #"{"http": {"port": "eighty"}}"#)
        let type = await Sample.problems(SettingsInput(configFile: wrongType, dotEnvPath: noDotEnv))
        #expect(type.first?.key == "http.port")
    }

    @Test func secretFilesFeedTheirVariable() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let secret = try scratch.write("key", "from-a-file\n")
        let settings = try await Sample.load(SettingsInput(profile: "production", environment: ["SIGNING_KEY_FILE": secret], dotEnvPath: noDotEnv))
        #expect(settings[Sample.key] == "from-a-file")
        #expect(settings.entry("signing.key")?.source == .secretFile(variable: "SIGNING_KEY", path: secret))
        #expect(settings.entry("signing.key")?.displayValue == SettingsRedaction.placeholder)

        let both = await Sample.problems(SettingsInput(profile: "production", environment: ["SIGNING_KEY_FILE": secret, "SIGNING_KEY": "x"], dotEnvPath: noDotEnv))
        #expect(both.first?.message.contains("both") == true)
        let unreadable = await Sample.problems(SettingsInput(environment: ["SIGNING_KEY_FILE": scratch.path + "/nope"], dotEnvPath: noDotEnv))
        #expect(unreadable.first?.environmentVariable == "SIGNING_KEY_FILE")
    }

    @Test func unknownCommandLineKeysAreProblems() async {
        let problems = await Sample.problems(SettingsInput(commandLine: [.init(key: "http.prot", value: "1", flag: "--set http.prot")], dotEnvPath: noDotEnv))
        #expect(problems.map(\.message) == ["is not a known setting"])
    }

    @Test func duplicateKeysAcrossModulesAreProblems() async {
        let schema = SettingsSchema(sections: [
            .init(module: "a", settings: [Sample.port]), .init(module: "b", settings: [Sample.port]),
        ])
        do {
            _ = try await SettingsLoader(schema: schema).load(SettingsInput(dotEnvPath: noDotEnv))
            Issue.record("expected a problem")
        } catch {
            #expect(error.problems.first?.message.contains("a, b") == true)
        }
    }

    @Test func configReaderSeesResolvedValues() async throws {
        let settings = try await Sample.load(SettingsInput(environment: ["HTTP_PORT": "9091"], dotEnvPath: noDotEnv))
        let reader = settings.configReader
        #expect(reader.int(forKey: "http.port") == 9091)
        #expect(reader.scoped(to: "log").string(forKey: "format") == "text")
    }

    @Test func secretsAreRedactedForDisplay() async throws {
        let settings = try await Sample.load(SettingsInput(environment: ["SIGNING_KEY": "super-secret-value"], dotEnvPath: noDotEnv))
        #expect(settings.entry("signing.key")?.displayValue == SettingsRedaction.placeholder)
        #expect(settings.entry("metrics.token")?.displayValue == "(not set)")
        #expect(settings.entries.allSatisfy { !$0.displayValue.contains("super-secret-value") })
    }
}
