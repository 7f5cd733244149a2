import KeelSettings
import Testing

@Suite struct SettingsDocumentationTests {
    @Test func referenceListsEveryKeyWithVariableDefaultsAndRequirement() {
        let text = SettingsDocumentation(schema: Sample.schema, applicationName: "app").markdown()
        #expect(text.hasPrefix("# Settings reference"))
        #expect(text.contains("`app settings docs`"))
        #expect(text.contains("| `http.port` | `HTTP_PORT` | integer | `8080` | — | 1...65535 | Port. |"))
        #expect(text.contains("| `log.format` | `LOG_FORMAT` | string | `text`; production: `json` |"))
        #expect(text.contains("| `signing.key` | `SIGNING_KEY` | string (secret) | `********` | staging, production |"))
        #expect(!text.contains("dev-key"))
    }
}

@Suite struct CheckRegistryTests {
    static func finding(_ id: String, _ level: CheckLevel) -> CheckFinding { CheckFinding(id: CheckID(rawValue: id), level: level, message: "m", hint: "h") }

    @Test func deployChecksRunOnlyWhenAskedAndSilencedIdsDrop() async throws {
        let settings = try await Sample.load(SettingsInput(dotEnvPath: "/nonexistent"))
        let registry = CheckRegistry(checks: [
            SystemCheck(ids: ["a.W001"], deploy: false) { _ in [Self.finding("a.W001", .warning)] },
            SystemCheck(ids: ["a.E002"], deploy: true) { _ in [Self.finding("a.E002", .error)] },
        ])
        #expect(registry.run(settings, deploy: false, silenced: []).map(\.id) == ["a.W001"])
        #expect(registry.run(settings, deploy: true, silenced: []).map(\.id) == ["a.E002", "a.W001"])
        #expect(registry.run(settings, deploy: true, silenced: ["a.E002"]).map(\.id) == ["a.W001"])
    }
}
