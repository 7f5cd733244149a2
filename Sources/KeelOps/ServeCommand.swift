public import ArgumentParser
public import KeelKernel
import KeelSettings
import Logging
import NIOCore

/// `serve`: runs the HTTP server until SIGTERM or SIGINT, then drains and exits 0 (contributed by `OpsModule`).
///
/// In `staging` and `production` it first runs every check, deploy checks included, and refuses to start (status 78)
/// on any error-level finding.
public struct ServeCommand: ModuleCommand {
    public static var attributesWrites: Bool { false }

    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "serve",
            abstract: "Run the HTTP server until SIGTERM or SIGINT, then shut down gracefully.",
            discussion: "Prints the URL it listens on. Readiness (/health/ready) fails as soon as shutdown begins."
        )
    }

    @OptionGroup public var settings: SettingsOptions

    @Option(help: "Address to bind (sets http.host).")
    public var host: String?

    @Option(help: "Port to listen on (sets http.port; 0 picks a free port).")
    public var port: String?

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        var extra: [SettingsInput.CommandLineValue] = []
        if let host { extra.append(.init(key: CoreSettings.httpHost.key, value: host, flag: "--host")) }
        if let port { extra.append(.init(key: CoreSettings.httpPort.key, value: port, flag: "--port")) }
        guard let resolved = await context.settings(settings, extra: extra) else { return SettingsError.exitCode }

        let report = context.checks.report(resolved, deploy: resolved.profile.isDeployed)
        if !report.findings.isEmpty {
            context.errorOutput(report.text())
        }
        if report.findings.contains(where: { $0.level >= .error }) {
            context.errorOutput("Refusing to serve in the \(resolved.profile) profile: fix the error-level findings above.")
            return SettingsError.exitCode
        }

        let app = try context.application(resolved)
        let logger = app.logger
        let textLogs = resolved[OpsSettings.logFormat] == .text
        let host = resolved[CoreSettings.httpHost]
        let profile = resolved.profile
        let appName = context.appName
        try await app.run(onServerRunning: { channel in
            let port = channel.localAddress?.port ?? resolved[CoreSettings.httpPort]
            let displayHost = host.contains(":") ? "[\(host)]" : host
            let url = "http://\(displayHost):\(port)"
            logger.info("listening", metadata: ["url": .string(url), "profile": .string(profile.rawValue)])
            if textLogs {
                context.output("\(appName) is listening on \(url) (profile: \(profile)). Press Ctrl-C to stop.")
            }
        })
        logger.info("stopped")
        return 0
    }
}
