public import Keel
public import Hummingbird
public import HummingbirdTesting
public import Logging
public import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization

/// Builds what a Keel test needs without touching the process: settings from explicit values, an application, and a
/// logger whose lines the test can read.
///
/// ```swift
/// let app = try await KeelTestApplication.make(modules: [Blog()], values: ["blog.pageSize": "5"])
/// try await Application(router: try app.keel.buildRouter()).test(.router) { client in … }
/// #expect(app.logs.lines.contains { $0.contains("keel.request.id") })
/// ```
public struct KeelTestApplication: Sendable {
    public let keel: KeelApplication
    public let logs: CapturedLogs

    /// Resolves settings for `profile` (default `test`) from `values` (keys to textual values, as on the command line)
    /// and `environment`, and assembles the application with a capturing logger.
    public static func make(
        name: String = "test-app",
        modules: [any KeelModule] = [],
        profile: Profile = .test,
        values: [String: String] = [:],
        environment: [String: String] = [:],
        logFormat: LogFormat = .json,
        clock: ManualClock? = nil
    ) async throws -> KeelTestApplication {
        let settings = try await resolveSettings(name: name, modules: modules, profile: profile, values: values, environment: environment)
        let logs = CapturedLogs()
        let logger = logs.logger(label: name, format: logFormat)
        return KeelTestApplication(keel: try KeelApplication(
            name: name, settings: settings, modules: modules, logger: logger, clock: Self.wallClock(clock)), logs: logs)
    }

    static func wallClock(_ clock: ManualClock?) -> @Sendable () -> Date {
        guard let clock else { return { Date() } }
        return { clock.now }
    }

    /// Resolves settings from explicit values only (no process environment, no `.env`, no config file).
    public static func resolveSettings(
        name: String = "test-app",
        modules: [any KeelModule] = [],
        profile: Profile = .test,
        values: [String: String] = [:],
        environment: [String: String] = [:]
    ) async throws -> ResolvedSettings {
        let input = SettingsInput(
            profile: profile.rawValue,
            commandLine: values.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value, flag: "--set \($0.key)") },
            environment: environment,
            dotEnvPath: "/nonexistent/.env"
        )
        return try await SettingsLoader(schema: KeelApplication.schema(name: name, modules: modules)).load(input)
    }
}

/// Log lines captured in memory, for assertions.
public final class CapturedLogs: Sendable {
    private let storage = Mutex<[String]>([])

    public init() {}

    /// Every line written so far.
    public var lines: [String] { storage.withLock { $0 } }

    /// A logger writing into this capture through `KeelLogHandler`, at `trace` level.
    public func logger(label: String, format: LogFormat = .json) -> Logger {
        Logger(label: label) { label in
            KeelLogHandler(label: label, format: format, level: .trace) { line in self.storage.withLock { $0.append(line) } }
        }
    }
}

extension KeelTestApplication {
    /// Runs the whole application (its service group, as `serve` does) on a free loopback port, hands `body` a
    /// connected `TestClient`, then shuts it down gracefully. For tests that need real sockets: the peer address,
    /// any Host header (`TestClient.Request(uri, method:, authority:)`), streamed bodies.
    ///
    /// The settings must have `http.port` set to `0`.
    public func withRunningServer<T: Sendable>(_ body: @Sendable (TestClient) async throws -> T) async throws -> T {
        try await withRunningServer(onPort: { port in
            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            let result: Result<T, any Error>
            do {
                result = .success(try await body(client))
            } catch {
                result = .failure(error)
            }
            try? await client.shutdown()
            return try result.get()
        })
    }

    /// Serves the application on a free loopback port for `body`, which gets the port (to put a proxy in front, or
    /// clients of its own); the server drains and stops afterwards, whether `body` threw or not.
    public func withRunningServer<T: Sendable>(onPort body: @Sendable (Int) async throws -> T) async throws -> T {
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let group = try keel.serviceGroup(gracefulShutdownSignals: []) { channel in
            sink.yield(channel.localAddress?.port ?? 0)
            sink.finish()
        }
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(port))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return try result.get()
        }
    }
}

/// A wall clock a test moves by hand, for idle and absolute timeouts and lockout windows.
public final class ManualClock: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.addingTimeInterval(duration.inSeconds) }
    }
}

extension KeelTestApplication {
    /// The Hummingbird application over `keel.buildRouter()`, for `.router` and `.live` tests.
    public func application() throws -> some ApplicationProtocol {
        Application(router: try keel.buildRouter(), logger: keel.logger)
    }

    /// The captured log lines (JSON format) decoded into string dictionaries.
    public var logObjects: [[String: String]] {
        logs.lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: String] }
    }
}
