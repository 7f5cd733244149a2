public import Keel
public import Logging
import Metrics
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process a command line runs in: its environment, where output goes, who answers prompts, and how logging and
/// metrics are set up. `KeelCommandLine` makes each command's `CommandContext` from it; tests build one by hand, so no
/// command reads the process environment or writes to the terminal directly.
public struct CommandEnvironment: Sendable {
    /// Sets up logging and metrics backends once settings are resolved, and returns the application's logger.
    /// Called by commands that run the application (`serve`); supplied by the executable's `@main`.
    public typealias Bootstrap = @Sendable (ResolvedSettings, KeelMetrics) -> Logger

    public var environment: [String: String]
    public var output: @Sendable (String) -> Void
    public var errorOutput: @Sendable (String) -> Void
    public var bootstrap: Bootstrap
    /// Asks a person at the terminal (`CommandContext.input`); `nil` when nobody can answer.
    public var input: CommandContext.Input

    public init(
        environment: [String: String],
        output: @escaping @Sendable (String) -> Void,
        errorOutput: @escaping @Sendable (String) -> Void,
        bootstrap: @escaping Bootstrap,
        input: @escaping CommandContext.Input = { _, _ in nil }
    ) {
        self.environment = environment
        self.output = output
        self.errorOutput = errorOutput
        self.bootstrap = bootstrap
        self.input = input
    }

    /// Standard output and error of this process.
    static func process(environment: [String: String], bootstrap: @escaping Bootstrap) -> CommandEnvironment {
        CommandEnvironment(
            environment: environment,
            output: { text in writeAll(text + "\n", to: 1) },
            errorOutput: { text in writeAll(text + "\n", to: 2) },
            bootstrap: bootstrap,
            input: terminalInput
        )
    }

    /// A line typed at the terminal after the prompt, without echo for a secret; `nil` when standard input is not a
    /// terminal (a script, CI) or at end of input.
    static let terminalInput: CommandContext.Input = { prompt, secret in
        guard isatty(0) != 0 else { return nil }
        if secret {
            guard let line = getpass(prompt) else { return nil }
            return String(cString: line)
        }
        writeAll(prompt, to: 1)
        return readLine(strippingNewline: true)
    }

    static func writeAll(_ text: String, to fd: Int32) {
        _ = try? FileDescriptor(rawValue: fd).writeAll(Array(text.utf8))
    }
}

/// Ends the process with a status (a free function, so it does not collide with ArgumentParser's `exit(withError:)`).
func terminateProcess(_ code: Int32) -> Never {
    exit(code)
}

extension CommandEnvironment {
    /// The usual bootstrap, for an executable's `main` to pass to `KeelCommandLine.main`: Keel's log handler
    /// (`log.format`, `log.level`) as the process's logging backend, Keel's Prometheus registry as its metrics backend,
    /// and a logger labelled `label` at `log.level`. JSON lines go through `logs`, which the executable flushes before
    /// it exits (pass `beforeExit: { logs.flush() }` to `KeelCommandLine.main`); without one they are written unbatched.
    public static func standardBootstrap(label: String, logs: LogWriter? = nil) -> Bootstrap {
        { settings, metrics in
            LoggingSystem.bootstrap(KeelLogging.handlerFactory(settings, writer: logs))
            MetricsSystem.bootstrap(metrics.factory)
            var logger = Logger(label: label)
            logger.logLevel = settings[OpsSettings.logLevel]
            return logger
        }
    }
}
