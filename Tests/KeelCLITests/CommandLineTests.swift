import Conduit
import Foundation
import Keel
import KeelCLI
import Logging
import Synchronization
import Testing

/// Runs `conduit` in-process with a given environment and captures what it prints.
final class CLIRun: Sendable {
    private let out = Mutex<[String]>([])
    private let err = Mutex<[String]>([])

    var output: String { out.withLock { $0.joined(separator: "\n") } }
    var errors: String { err.withLock { $0.joined(separator: "\n") } }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async -> (code: Int32, run: CLIRun) {
        let capture = CLIRun()
        let commandEnvironment = CommandEnvironment(
            environment: environment,
            output: { line in capture.out.withLock { $0.append(line) } },
            errorOutput: { line in capture.err.withLock { $0.append(line) } },
            bootstrap: { _, _ in Logger(label: "cli-test") { _ in SwiftLogNoOpLogHandler() } }
        )
        let code = await KeelCommandLine<ConduitApp>.execute(arguments: arguments, in: commandEnvironment)
        return (code, capture)
    }
}

@Suite struct CommandLineTests {
    static let strongKey = "Zk3pQ9vT7mX2wR8sL4nB6yH1cJ5dF0gA+eK/uI=Vo"

    @Test func helpListsTheCommands() async {
        let (code, run) = await CLIRun.run(["--help"])
        #expect(code == 0)
        for command in ["serve", "settings", "check"] {
            #expect(run.output.contains(command))
        }
    }

    @Test(arguments: [["serve", "--help"], ["settings", "show", "--help"], ["settings", "docs", "--help"], ["check", "--help"]])
    func everyCommandHasHelp(arguments: [String]) async {
        let (code, run) = await CLIRun.run(arguments)
        #expect(code == 0)
        #expect(run.output.contains("USAGE:"))
    }

    @Test func unknownCommandsAndFlagsFailShortAndNonZero() async {
        let unknown = await CLIRun.run(["frobnicate"])
        #expect(unknown.code == 64)
        #expect(unknown.run.errors.contains("frobnicate"))
        let badFlag = await CLIRun.run(["serve", "--prot", "80"])
        #expect(badFlag.code == 64)
        #expect(badFlag.run.errors.contains("--prot"))
        let badSet = await CLIRun.run(["settings", "show", "--set", "nonsense"])
        #expect(badSet.code == 64)
        let badLevel = await CLIRun.run(["check", "--fail-level", "loud"])
        #expect(badLevel.code == 64)
    }

    @Test func serveWithBadSettingsExits78ListingEveryProblem() async {
        let (code, run) = await CLIRun.run(
            ["serve", "--profile", "production"], environment: ["HTTP_PORT": "abc", "HTTP_SHUTDOWN_TIMEOUT": "-1"])
        #expect(code == 78)
        #expect(run.errors.contains("http.port (HTTP_PORT): is not a valid integer; got \"abc\""))
        #expect(run.errors.contains("http.shutdownTimeout (HTTP_SHUTDOWN_TIMEOUT): must be within 0s...1h; got \"-1\""))
        #expect(run.errors.contains("signing.key (SIGNING_KEY): is required in the production profile but not set"))
        #expect(run.errors.contains("http.allowedHosts (HTTP_ALLOWED_HOSTS): is required in the production profile but not set"))
        #expect(run.errors.contains("4 problems"))
    }

    @Test func servePortFlagIsValidatedLikeAnySetting() async {
        let (code, run) = await CLIRun.run(["serve", "--port", "70000"])
        #expect(code == 78)
        #expect(run.errors.contains("command line (--port)"))
    }

    @Test func serveRefusesProductionWithAWeakKey() async {
        let (code, run) = await CLIRun.run(
            ["serve", "--profile", "production"], environment: ["SIGNING_KEY": "too-short", "HTTP_ALLOWED_HOSTS": "example.com"])
        #expect(code == 78)
        #expect(run.errors.contains("security.W009"))
        #expect(run.errors.contains("HINT:"))
        #expect(run.errors.contains("Refusing to serve"))
        #expect(!run.errors.contains("too-short"))
    }

    @Test func settingsShowNeverPrintsASecret() async {
        let secret = "s3cr3t-" + Self.strongKey
        let token = "metrics-token-value-0001"
        for format in [[], ["--json"]] {
            let (code, run) = await CLIRun.run(
                ["settings", "show"] + format, environment: ["SIGNING_KEY": secret, "METRICS_TOKEN": token, "HTTP_PORT": "9001"])
            #expect(code == 0)
            #expect(!run.output.contains(secret))
            #expect(!run.output.contains(token))
            #expect(run.output.contains("********"))
            #expect(run.output.contains("9001"))
            #expect(run.output.contains("environment (HTTP_PORT)"))
        }
    }

    @Test func settingsShowJSONIsMachineReadable() async throws {
        let (code, run) = await CLIRun.run(["settings", "show", "--json", "--set", "http.port=7777"])
        #expect(code == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        #expect(document["profile"] as? String == "development")
        let rows = try #require(document["settings"] as? [[String: Any]])
        let port = try #require(rows.first { $0["key"] as? String == "http.port" })
        #expect(port["value"] as? String == "7777")
        #expect(port["source"] as? String == "command line (--set http.port)")
    }

    @Test func settingsShowWithBadSettingsExits78() async {
        let (code, run) = await CLIRun.run(["settings", "show"], environment: ["LOG_FORMAT": "xml"])
        #expect(code == 78)
        #expect(run.errors.contains("log.format (LOG_FORMAT)"))
    }

    @Test func settingsDocsMatchesTheCommittedReference() async throws {
        let (code, run) = await CLIRun.run(["settings", "docs"])
        #expect(code == 0)
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/settings.md").path
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(run.output + "\n" == committed, "docs/settings.md is stale: run `swift run conduit settings docs > docs/settings.md`")
    }

    @Test func checkPassesOnDefaultsAndFailsDeployWithAWeakKey() async {
        let plain = await CLIRun.run(["check"])
        #expect(plain.code == 0)
        #expect(plain.run.output.contains("System check identified no issues"))

        let deploy = await CLIRun.run(
            ["check", "--deploy", "--profile", "production"], environment: ["SIGNING_KEY": "short", "HTTP_ALLOWED_HOSTS": "example.com"])
        #expect(deploy.code == 1)
        #expect(deploy.run.output.contains("(security.W009)"))
        #expect(deploy.run.output.contains("HINT:"))

        let strong = await CLIRun.run(
            ["check", "--deploy", "--profile", "production"], environment: ["SIGNING_KEY": Self.strongKey, "HTTP_ALLOWED_HOSTS": "example.com"])
        #expect(strong.code == 0)
    }

    @Test func checkFailLevelSilencingAndJSON() async throws {
        // In development the deploy checks find warnings only: the development key, no HTTPS redirect, a cookie without
        // Secure, the profile itself.
        let warning = await CLIRun.run(["check", "--deploy"])
        #expect(warning.code == 0)
        let strict = await CLIRun.run(["check", "--deploy", "--fail-level", "warning"])
        #expect(strict.code == 1)
        let silenced = await CLIRun.run(
            ["check", "--deploy", "--fail-level", "warning"], environment: ["CHECKS_SILENCED": "security.W008,security.W009,security.W012,security.W018"])
        #expect(silenced.code == 0)
        #expect(silenced.run.output.contains("4 silenced"))
        let json = await CLIRun.run(["check", "--deploy", "--json"])
        let findings = try #require(try JSONSerialization.jsonObject(with: Data(json.run.output.utf8)) as? [[String: Any]])
        #expect(findings.map { $0["id"] as? String } == ["security.W008", "security.W009", "security.W012", "security.W018"])
        #expect(findings.allSatisfy { $0["hint"] is String })
    }
}
