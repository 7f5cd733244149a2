import Keel
import KeelTesting
import Testing

@Suite struct CoreChecksTests {
    static let strongKey = "Zk3pQ9vT7mX2wR8sL4nB6yH1cJ5dF0gA+eK/uI=Vo"

    func findings(_ profile: Profile = .test, _ values: [String: String] = [:]) async throws -> [CheckFinding] {
        var values = values
        if profile.isDeployed { values["http.allowedHosts"] = values["http.allowedHosts"] ?? "example.com" }
        let settings = try await KeelTestApplication.resolveSettings(profile: profile, values: values)
        return CheckRegistry(checks: [SecurityChecks.signingKeys] + OpsChecks.all + DatabaseChecks.all).run(settings, deploy: true, silenced: [])
    }

    @Test func signingKeyCheckFiresOnTheDevelopmentDefault() async throws {
        let found = try await findings(.development)
        #expect(found.map(\.id) == ["security.W009"])
        #expect(found[0].level == .warning)
    }

    @Test(arguments: ["short", String(repeating: "ab", count: 20), "keel-insecure-development-key-but-long-enough-0123"])
    func signingKeyCheckIsAnErrorInProductionForWeakKeys(key: String) async throws {
        let found = try await findings(.production, ["signing.key": key])
        #expect(found.first?.id == "security.W009")
        #expect(found.first?.level == .error)
        #expect(found.first?.hint.contains("SIGNING_KEY") == true)
    }

    @Test func signingKeyCheckIsQuietForAStrongKey() async throws {
        #expect(try await findings(.production, ["signing.key": Self.strongKey]).isEmpty)
    }

    @Test func weakFallbackKeysFire() async throws {
        let found = try await findings(.production, ["signing.key": Self.strongKey, "signing.fallbackKeys": "\(Self.strongKey)x,tiny-secret"])
        #expect(found.map(\.id) == ["security.W025"])
        #expect(found[0].message.contains("positions 1"))
        #expect(!found[0].message.contains("tiny-secret"))
    }

    @Test func verboseLoggingInADeploymentFires() async throws {
        let found = try await findings(.production, ["signing.key": Self.strongKey, "log.level": "debug"])
        #expect(found.map(\.id) == ["ops.W001"])
        #expect(try await findings(.development, ["signing.key": Self.strongKey, "log.level": "debug"]).isEmpty)
    }

    @Test func metricsOpenToTheNetworkWithoutATokenFires() async throws {
        let open = ["signing.key": Self.strongKey, "metrics.port": "9100", "metrics.host": "0.0.0.0"]
        #expect(try await findings(.production, open).map(\.id) == ["ops.W002"])
        var withToken = open
        withToken["metrics.token"] = "a-long-enough-metrics-token"
        #expect(try await findings(.production, withToken).isEmpty)
        #expect(try await findings(.production, ["signing.key": Self.strongKey, "metrics.port": "9100"]).isEmpty)
    }
}
