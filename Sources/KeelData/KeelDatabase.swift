public import FluentKit
public import Logging
public import ServiceLifecycle
public import SQLKit
#if PostgreSQL
import FluentPostgresDriver
#endif
import FluentSQLiteDriver
import NIOCore
import NIOPosix
import Synchronization
public import KeelSettings
import SystemPackage

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The application's database: FluentKit's connection pools for SQLite or PostgreSQL, chosen by `database.url`.
///
/// A ServiceLifecycle service: it waits for graceful shutdown and then closes the pools, after the HTTP server has
/// drained. Handles from `db` and `sql` report every statement to the current `QueryRecorder`.
/// ```swift
/// let users = try await User.query(on: app.database.db).all()
/// let rows = try await app.database.sql.select().column("id").from("users").all()
/// ```
public final class KeelDatabase: Service, Sendable, CustomStringConvertible {
    /// Which store `database.url` chose.
    public enum Kind: String, Sendable {
        case sqlite
        case postgres
    }

    public let kind: Kind
    public let url: DatabaseURL
    let databases: Databases
    let eventLoopGroup: any EventLoopGroup
    /// SQLite's statements run on this pool, one thread per connection (one connection per event loop), so a
    /// statement waiting for another connection's write lock (`database.busyTimeout`) blocks only its own thread.
    /// A pool shared between databases (NIO's singleton) would let the waiters of one database take every thread
    /// while the connection holding the lock waits for one to commit: each waits until the busy timeout fails it
    /// (seen with three applications migrating one file in one process). Nil for PostgreSQL.
    let threadPool: NIOThreadPool?
    let logger: Logger
    /// One handle per event loop, made on first use (or at shutdown), so using the database after shutdown fails
    /// with the pool's error instead of stopping the process; `closed` records that the pools were shut down.
    private let state = Mutex<(handles: [any Database]?, closed: Bool)>((nil, false))
    let slowThreshold: Duration
    let busyTimeout: Duration
    /// The change observers and what they track (`attach(observers:)`, once at assembly).
    let observationState = Mutex(Observation())
    /// SQLite's write transactions take turns here before they take the database's write lock (`WriteGate`).
    let writeGate = WriteGate()

    /// Creates the pools (connections open lazily, on first use or in `prepare()`).
    public init(settings: ResolvedSettings, logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        let text = settings[DatabaseSettings.url]
        guard let url = DatabaseURL(text) else {
            preconditionFailure("database.url was validated at start-up")
        }
        self.url = url
        // FluentKit logs queries with their values at debug and trace: never let those through.
        var databaseLogger = logger
        databaseLogger.logLevel = max(logger.logLevel, .info)
        self.logger = databaseLogger
        self.eventLoopGroup = eventLoopGroup
        self.slowThreshold = settings[DatabaseSettings.slowQueryThreshold]
        self.busyTimeout = settings[DatabaseSettings.busyTimeout]
        let poolTimeout = TimeAmount(settings[DatabaseSettings.poolTimeout])
        switch url {
        case .sqliteFile, .sqliteMemory:
            let pool = NIOThreadPool(numberOfThreads: max(1, Array(eventLoopGroup.makeIterator()).count))
            pool.start()
            threadPool = pool
        case .postgres:
            threadPool = nil
        }
        databases = Databases(threadPool: threadPool ?? NIOThreadPool.singleton, on: eventLoopGroup)
        switch url {
        case .sqliteFile(let path):
            kind = .sqlite
            databases.use(.sqlite(.file(path), connectionPoolTimeout: poolTimeout, sqlLogLevel: nil), as: .sqlite)
        case .sqliteMemory:
            kind = .sqlite
            databases.use(.sqlite(.memory, connectionPoolTimeout: poolTimeout, sqlLogLevel: nil), as: .sqlite)
        #if PostgreSQL
        case .postgres(let text):
            kind = .postgres
            do {
                databases.use(
                    try .postgres(url: text, maxConnectionsPerEventLoop: settings[DatabaseSettings.poolSize],
                                  connectionPoolTimeout: poolTimeout, sqlLogLevel: .trace),
                    as: .psql)
            } catch {
                preconditionFailure("database.url was validated at start-up")
            }
        #else
        case .postgres:
            preconditionFailure("database.url was validated at start-up: this build has no PostgreSQL driver")
        #endif
        }
    }

    deinit {
        // Pools must be closed before they are released. `run()` and `shutdown()` do it; an application dropped
        // without either (a test, a failed start) is closed here, unless this is an event loop, which must not block.
        let (handles, closed) = state.withLock { ($0.handles, $0.closed) }
        if handles != nil, !closed, MultiThreadedEventLoopGroup.currentEventLoop == nil {
            databases.shutdown()
        }
        if !closed { threadPool?.shutdownGracefully { _ in } }
    }

    private var handles: [any Database] {
        state.withLock { state in
            if let handles = state.handles { return handles }
            var made: [any Database] = []
            for eventLoop in eventLoopGroup.makeIterator() {
                if let database = databases.database(logger: logger, on: eventLoop) { made.append(database) }
            }
            state.handles = made
            return made
        }
    }

    public var description: String { "KeelDatabase(\(kind.rawValue), \(url.redacted))" }

    /// A FluentKit handle that records its statements.
    public var db: any Database {
        RecordingDatabase(base: rawDatabase(on: eventLoopGroup.any()), slowThreshold: slowThreshold)
    }

    /// An SQLKit handle (binds only: never interpolate values into SQL) that records its statements.
    public var sql: any SQLDatabase {
        RecordingDatabase(base: rawDatabase(on: eventLoopGroup.any()), slowThreshold: slowThreshold)
    }

    func rawDatabase(on eventLoop: any EventLoop) -> any Database {
        let handles = self.handles
        return handles.first { $0.eventLoop === eventLoop } ?? handles[0]
    }

    /// Opens the store: creates the SQLite file's folder, turns on WAL, and sets each connection's busy timeout and
    /// `synchronous=NORMAL` (durable across process crashes in WAL mode). Safe to call more than once.
    public func prepare() async throws {
        guard kind == .sqlite else {
            try await ping()
            return
        }
        if case .sqliteFile(let path) = url {
            let folder = FilePath(path).removingLastComponent().string
            if !folder.isEmpty && folder != "." {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
        }
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        // SQLite pools hold one connection per event loop: visit each so every connection gets its settings.
        for eventLoop in eventLoopGroup.makeIterator() {
            let database = rawDatabase(on: eventLoop)
            try await database.withConnection { connection in
                let sql = connection.sql
                try await sql.raw("PRAGMA busy_timeout = \(literal: milliseconds)").run()
                if case .sqliteFile = self.url {
                    try await sql.raw("PRAGMA journal_mode = WAL").run()
                    try await sql.raw("PRAGMA synchronous = NORMAL").run()
                }
                try await sql.raw("PRAGMA foreign_keys = ON").run()
            }
        }
    }

    /// Runs `SELECT 1`; throws when the database does not answer.
    public func ping() async throws {
        try await rawDatabase(on: eventLoopGroup.any()).sql.raw("SELECT 1").run()
    }

    /// Waits for graceful shutdown, then closes every connection.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes every connection (for commands that do not run the service group).
    public func shutdown() async {
        // Make the handles first, so that any use after this fails with the pool's error.
        _ = handles
        let alreadyClosed = state.withLock { state in
            defer { state.closed = true }
            return state.closed
        }
        if !alreadyClosed {
            await databases.shutdownAsync()
            try? await threadPool?.shutdownGracefully()
        }
    }
}
