public import FluentKit
public import SQLKit
import Logging
import NIOCore

/// A database handle that reports every statement it runs to the current `QueryRecorder`: FluentKit queries, schema
/// changes and raw SQLKit statements alike (it is both a FluentKit `Database` and an SQLKit `SQLDatabase`).
///
/// Statements slower than the threshold are logged with their fingerprint and duration, never their bound values.
public struct RecordingDatabase: Database, SQLDatabase {
    let base: any Database
    let sqlBase: any SQLDatabase
    let slowThreshold: Duration
    /// The recorder current when the handle was made: drivers run transaction and connection closures in new
    /// tasks, where the task-local is gone, so the handle carries it.
    let recorder: QueryRecorder?

    init(base: any Database, slowThreshold: Duration, recorder: QueryRecorder? = QueryRecorder.current) {
        self.base = base
        self.sqlBase = base.sql
        self.slowThreshold = slowThreshold
        self.recorder = recorder
    }

    /// Wraps a session handed out by `withSession`; FluentKit calls still go to `fluent`.
    private init(sql: any SQLDatabase, threshold: Duration, fluent: any Database, recorder: QueryRecorder?) {
        self.base = (sql as? any Database) ?? fluent
        self.sqlBase = sql
        self.slowThreshold = threshold
        self.recorder = recorder
    }

    // MARK: Database

    public var context: DatabaseContext { base.context }
    public var inTransaction: Bool { base.inTransaction }

    public func execute(query: DatabaseQuery, onOutput: @escaping @Sendable (any DatabaseOutput) -> Void) -> EventLoopFuture<Void> {
        measure({ Self.fingerprint(query) }) { base.execute(query: query, onOutput: onOutput) }
    }

    public func execute(schema: DatabaseSchema) -> EventLoopFuture<Void> {
        measure({ "schema \(schema.schema)" }) { base.execute(schema: schema) }
    }

    public func execute(enum: DatabaseEnum) -> EventLoopFuture<Void> {
        measure({ "enum \(`enum`.name)" }) { base.execute(enum: `enum`) }
    }

    public func transaction<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let (threshold, recorder) = (slowThreshold, recorder)
        return base.transaction { inner in closure(RecordingDatabase(base: inner, slowThreshold: threshold, recorder: recorder)) }
    }

    public func withConnection<T>(_ closure: @escaping @Sendable (any Database) -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        let (threshold, recorder) = (slowThreshold, recorder)
        return base.withConnection { inner in closure(RecordingDatabase(base: inner, slowThreshold: threshold, recorder: recorder)) }
    }

    // MARK: SQLDatabase

    public var logger: Logger { sqlBase.logger }
    public var eventLoop: any EventLoop { sqlBase.eventLoop }
    public var version: (any SQLDatabaseReportedVersion)? { sqlBase.version }
    public var dialect: any SQLDialect { sqlBase.dialect }
    public var queryLogLevel: Logger.Level? { sqlBase.queryLogLevel }

    public func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let sqlBase = self.sqlBase
        return measure({ QueryFingerprint.normalize(sqlBase.serialize(query).sql) }) { sqlBase.execute(sql: query, onRow) }
    }

    public func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await execute(sql: query, onRow).get()
    }

    public func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let (threshold, recorder, base) = (slowThreshold, recorder, base)
        return try await sqlBase.withSession { inner in
            try await closure(RecordingDatabase(sql: inner, threshold: threshold, fluent: base, recorder: recorder))
        }
    }

    // MARK: Recording

    /// Times `run`. The fingerprint (which serializes the statement once more) is only computed when a recorder
    /// keeps fingerprints or the statement turns out slow.
    private func measure(_ fingerprint: @escaping @Sendable () -> String, _ run: () -> EventLoopFuture<Void>) -> EventLoopFuture<Void> {
        let recorder = QueryRecorder.current ?? self.recorder
        let start = NIODeadline.now()
        let future = run()
        let known = recorder?.wantsFingerprints == true ? fingerprint() : nil
        let threshold = slowThreshold
        let fallbackLogger = base.logger
        future.whenComplete { _ in
            let nanoseconds = UInt64(max(0, (NIODeadline.now() - start).nanoseconds))
            recorder?.record(fingerprint: known, nanoseconds: nanoseconds)
            if threshold > .zero, nanoseconds >= UInt64(threshold.components.seconds) * 1_000_000_000 + UInt64(threshold.components.attoseconds / 1_000_000_000) {
                (recorder?.logger ?? fallbackLogger).warning(
                    "slow query",
                    metadata: ["db.fingerprint": .string(known ?? fingerprint()), "db.duration_ms": .stringConvertible(Double(nanoseconds) / 1_000_000)]
                )
            }
        }
        return future
    }

    /// A FluentKit query's shape without its values: action, table, filtered fields and operators, joins, sorts.
    static func fingerprint(_ query: DatabaseQuery) -> String {
        var text = "fluent \(query.action) \(query.schema)"
        if !query.joins.isEmpty { text += " joins \(query.joins.count)" }
        if !query.filters.isEmpty { text += " where " + query.filters.map(describe).joined(separator: " and ") }
        if !query.sorts.isEmpty { text += " sorted \(query.sorts.count)" }
        if !query.limits.isEmpty { text += " limit ?" }
        if !query.offsets.isEmpty { text += " offset ?" }
        return text
    }

    private static func describe(_ filter: DatabaseQuery.Filter) -> String {
        switch filter {
        case .value(let field, let method, let value):
            if case .array = value { return "\(field) \(method) [?]" }
            return "\(field) \(method) ?"
        case .field(let left, let method, let right):
            return "\(left) \(method) \(right)"
        case .group(let filters, let relation):
            return "(" + filters.map(describe).joined(separator: " \(relation) ") + ")"
        case .custom:
            return "custom"
        }
    }
}
