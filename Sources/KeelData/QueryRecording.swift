public import Hummingbird
public import KeelCore
public import KeelSettings
import HTTPTypes
package import Logging

/// What an N+1 does.
public enum NPlusOneAction: String, Sendable, SettingEnum {
    /// Log a warning naming the fingerprint and count.
    case warn
    /// Log an error and fail the request with a 500 (`database.n_plus_one`): the test profile's default.
    case error
    /// Do nothing.
    case ignore
}

/// Records every statement a request runs (a task-local `QueryRecorder`), then reports on them.
///
/// - `Server-Timing: db;dur=<ms>;desc="<n> queries"` when `serverTiming` is on (development).
/// - An N+1: the same fingerprint `nPlusOneThreshold` times or more in one request, handled as `nPlusOne` says.
/// - Slow statements are logged by `RecordingDatabase` with the request's logger, so they carry its id.
package struct QueryRecording: Sendable {
    let serverTiming: Bool
    let threshold: Int
    let action: NPlusOneAction
    let slowThreshold: Duration

    package init(serverTiming: Bool, nPlusOneThreshold: Int, nPlusOne: NPlusOneAction, slowQueryThreshold: Duration) {
        self.serverTiming = serverTiming
        self.threshold = nPlusOneThreshold
        self.action = nPlusOne
        self.slowThreshold = slowQueryThreshold
    }

    /// Runs `body` with a recorder bound, then reports: `Server-Timing`, and an N+1 as configured. `route` is read
    /// after `body` (the router sets it).
    package func run(logger: Logger, route: () -> String?, _ body: () async throws -> Response) async throws -> Response {
        let recorder = QueryRecorder(
            parent: QueryRecorder.current, logger: logger, slowThreshold: slowThreshold, tracksStatements: action != .ignore)
        var response = try await QueryRecorder.$current.withValue(recorder) {
            try await body()
        }
        let stats = recorder.stats
        if serverTiming {
            let milliseconds = (stats.totalMilliseconds * 1000).rounded() / 1000
            // Appended: other stages name their own metrics in Server-Timing too (the response cache's lookup).
            response.headers.append(HTTPField(name: .serverTiming, value: "db;dur=\(milliseconds);desc=\"\(stats.count) queries\""))
        }
        if action != .ignore {
            for repeated in stats.repeated(atLeast: threshold) {
                let metadata: Logger.Metadata = [
                    "db.fingerprint": .string(repeated.fingerprint), "db.count": .stringConvertible(repeated.count),
                    "http.route": .string(route() ?? "unmatched"),
                ]
                if action == .warn {
                    logger.warning("N+1 query", metadata: metadata)
                } else {
                    logger.error("N+1 query", metadata: metadata)
                    // The fingerprint goes to the log only: a response never carries SQL.
                    throw KeelError(.internalServerError, code: .nPlusOne,
                                    message: "N+1 query detected (\(repeated.count) runs of one statement); see the log.")
                }
            }
        }
        return response
    }
}

extension HTTPField.Name {
    /// `Server-Timing` (W3C): per-response timings shown by browser developer tools.
    public static let serverTiming = HTTPField.Name("Server-Timing")!
}

extension ErrorCode {
    /// `database.n_plus_one`: A request ran the same statement fingerprint too often (`database.nPlusOne` is `error`, the test profile).
    public static let nPlusOne: ErrorCode = "database.n_plus_one"
}
