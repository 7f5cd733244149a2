public import Logging
import Synchronization

/// What one request (or one test block) ran: how many statements, how long they took, and how often each
/// normalized fingerprint ran.
public struct QueryStats: Sendable, Equatable {
    public var count: Int = 0
    public var totalNanoseconds: UInt64 = 0
    /// Fingerprint → how many times it ran, in first-seen order.
    public var fingerprints: [(fingerprint: String, count: Int)] = []

    public init() {}

    /// Total time in milliseconds.
    public var totalMilliseconds: Double { Double(totalNanoseconds) / 1_000_000 }

    /// Fingerprints that ran at least `threshold` times.
    public func repeated(atLeast threshold: Int) -> [(fingerprint: String, count: Int)] {
        fingerprints.filter { $0.count >= threshold }
    }

    public static func == (lhs: QueryStats, rhs: QueryStats) -> Bool {
        lhs.count == rhs.count && lhs.totalNanoseconds == rhs.totalNanoseconds
            && lhs.fingerprints.map(\.fingerprint) == rhs.fingerprints.map(\.fingerprint)
            && lhs.fingerprints.map(\.count) == rhs.fingerprints.map(\.count)
    }
}

/// Records every statement run in its task (and child tasks): a task-local, never a global.
///
/// Keel's request pipeline binds one per request. Tests bind one around a block with `QueryRecorder.recording`;
/// a request's recorder also reports to the recorder that was current when it started, so a test sees the queries
/// of the requests it makes.
public final class QueryRecorder: Sendable {
    /// The recorder of the current task, if any.
    @TaskLocal public static var current: QueryRecorder?

    private struct State {
        var stats = QueryStats()
        var positions: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let parent: QueryRecorder?
    /// The logger slow queries are reported to (the request's, so they carry its id).
    let logger: Logger?
    let slowThreshold: Duration?
    /// Whether this recorder or one it reports to keeps per-fingerprint counts. When none does (production: no N+1
    /// checks), statements are only counted and timed, and no fingerprint is computed unless a statement is slow.
    public let wantsFingerprints: Bool

    /// - Parameter tracksStatements: keep per-fingerprint counts (for N+1 detection and query budgets).
    public init(parent: QueryRecorder? = QueryRecorder.current, logger: Logger? = nil, slowThreshold: Duration? = nil, tracksStatements: Bool = true) {
        self.parent = parent
        self.logger = logger
        self.slowThreshold = slowThreshold
        self.wantsFingerprints = tracksStatements || (parent?.wantsFingerprints ?? false)
    }

    /// Records one statement; `fingerprint` may be `nil` when `wantsFingerprints` is false.
    public func record(fingerprint: String?, nanoseconds: UInt64) {
        state.withLock { state in
            state.stats.count += 1
            state.stats.totalNanoseconds += nanoseconds
            guard let fingerprint else { return }
            if let position = state.positions[fingerprint] {
                state.stats.fingerprints[position].count += 1
            } else {
                state.positions[fingerprint] = state.stats.fingerprints.count
                state.stats.fingerprints.append((fingerprint, 1))
            }
        }
        parent?.record(fingerprint: fingerprint, nanoseconds: nanoseconds)
    }

    /// What has been recorded so far.
    public var stats: QueryStats { state.withLock { $0.stats } }

    /// Runs `body` outside any recorder: for work a request happens to trigger on behalf of the whole instance (a
    /// shared in-memory list reloaded every few seconds), which is not that request's cost, so it neither counts
    /// against a query budget nor looks like that request's N+1.
    public static func unrecorded<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(nil) { try await body() }
    }

    /// Runs `body` with a fresh recorder and returns its result with the statements it ran.
    public static func recording<T: Sendable>(_ body: () async throws -> T) async rethrows -> (result: T, stats: QueryStats) {
        let recorder = QueryRecorder()
        let result = try await $current.withValue(recorder) { try await body() }
        return (result, recorder.stats)
    }
}

/// Normalizes SQL into a fingerprint: literals become `?`, whitespace collapses, so the same statement with other
/// values has the same fingerprint and no value ever reaches a log.
public enum QueryFingerprint {
    public static func normalize(_ sql: String) -> String {
        var output = ""
        output.reserveCapacity(sql.utf8.count)
        var iterator = Array(sql.unicodeScalars)
        var index = 0
        var lastWasSpace = false
        var previous: Unicode.Scalar = " "
        while index < iterator.count {
            let scalar = iterator[index]
            if scalar == "'" {
                // A string literal: skip to its closing quote ('' escapes a quote).
                index += 1
                while index < iterator.count {
                    if iterator[index] == "'" {
                        if index + 1 < iterator.count && iterator[index + 1] == "'" { index += 2; continue }
                        break
                    }
                    index += 1
                }
                output.append("?")
                lastWasSpace = false
                previous = "?"
            } else if scalar.properties.numericType != nil, !(previous.properties.isAlphabetic || previous == "_" || previous == "$" || previous == "?" || previous == ":"
                || previous.properties.numericType != nil) {
                while index + 1 < iterator.count, iterator[index + 1].properties.numericType != nil || iterator[index + 1] == "." {
                    index += 1
                }
                output.append("?")
                lastWasSpace = false
                previous = "?"
            } else if scalar.properties.isWhitespace {
                if !lastWasSpace && !output.isEmpty { output.append(" ") }
                lastWasSpace = true
                previous = " "
            } else {
                output.unicodeScalars.append(scalar)
                lastWasSpace = false
                previous = scalar
            }
            index += 1
        }
        iterator.removeAll()
        while output.hasSuffix(" ") { output.removeLast() }
        return output
    }
}
