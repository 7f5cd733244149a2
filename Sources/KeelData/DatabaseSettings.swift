public import KeelSettings
#if PostgreSQL
import PostgresKit
#endif

/// The data layer's settings keys (see `docs/settings.md` and `docs/data.md`).
public enum DatabaseSettings {
    /// The key of the database URL; its default names the application (`sqlite://var/<app>.sqlite3`).
    public static let urlKey = "database.url"

    /// `database.url` with the default for an application name.
    public static func url(defaultName: String) -> Setting<String> {
        Setting<String>(
            urlKey, default: "sqlite://var/\(defaultName).sqlite3", profiles: [.test: "sqlite://:memory:"], secret: true,
            allowed: .init(allowed: "sqlite://PATH, sqlite://:memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE") { value in
                guard let url = DatabaseURL(value) else {
                    return "must be sqlite://PATH, sqlite://:memory: or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
                }
                if case .postgres = url, !DatabaseURL.postgresAvailable {
                    return "is a PostgreSQL URL, but this build has no PostgreSQL driver (it was built without the package trait PostgreSQL, which is on by default)"
                }
                return nil
            },
            doc: "The database: an SQLite file (created on first use; WAL, foreign keys on) or a PostgreSQL server.")
    }

    /// For reading the resolved value; the schema declares it through `url(defaultName:)`.
    public static let url = url(defaultName: "app")

    public static let poolSize = Setting<Int>(
        "database.poolSize", default: 2, allowed: .range(1...64),
        doc: "PostgreSQL connections per event loop (one loop per core). SQLite always uses one connection per loop.")
    public static let poolTimeout = Setting<Duration>(
        "database.poolTimeout", default: .seconds(10), allowed: .range(.milliseconds(100) ... .seconds(120)),
        doc: "How long a request waits for a free connection before failing.")
    public static let busyTimeout = Setting<Duration>(
        "database.busyTimeout", default: .seconds(5), allowed: .range(.zero ... .seconds(120)),
        doc: "SQLite: how long a statement waits for another connection's write lock before failing.")
    public static let slowQueryThreshold = Setting<Duration>(
        "database.slowQueryThreshold", default: .milliseconds(200), allowed: .range(.zero ... .seconds(3600)),
        doc: "Queries slower than this are logged with their fingerprint and duration (never their bound values).")
    public static let nPlusOneThreshold = Setting<Int>(
        "database.nPlusOneThreshold", default: 5, allowed: .range(2...10_000),
        doc: "The same query fingerprint run this many times in one request is reported as an N+1.")
    public static let nPlusOneAction = Setting<NPlusOneAction>(
        "database.nPlusOne", default: .warn, profiles: [.test: .error, .staging: .ignore, .production: .ignore],
        doc: "What an N+1 does: `warn` logs a warning, `error` logs an error and fails the request with a 500, `ignore` does nothing.")
    public static let serverTiming = Setting<Bool>(
        "database.serverTiming", default: true, profiles: [.staging: false, .production: false],
        doc: "Add a Server-Timing header with each response's query count and time (development aid; off when deployed).")

    /// Every key, for the core module's schema section.
    public static func all(defaultName: String) -> [any AnySetting] {
        [url(defaultName: defaultName), poolSize, poolTimeout, busyTimeout, slowQueryThreshold, nPlusOneThreshold, nPlusOneAction, serverTiming]
    }
}

/// A parsed `database.url`.
public enum DatabaseURL: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// An SQLite file (relative to the working directory, or absolute with `sqlite:///abs/path`).
    case sqliteFile(path: String)
    /// An in-memory SQLite database, shared by the process's connections.
    case sqliteMemory
    /// A PostgreSQL server, as a `postgres://` or `postgresql://` URL.
    case postgres(url: String)

    public init?(_ text: String) {
        if text.hasPrefix("sqlite://") {
            let path = String(text.dropFirst("sqlite://".count))
            if path == ":memory:" {
                self = .sqliteMemory
            } else if path.isEmpty || path.hasSuffix("/") {
                return nil
            } else {
                self = .sqliteFile(path: path)
            }
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            #if PostgreSQL
            // The same parser the driver uses, so a URL accepted here never fails at start-up.
            guard (try? SQLPostgresConfiguration(url: text)) != nil else { return nil }
            #endif
            // Without the driver the URL is still recognised, so the setting's check can say what is missing.
            self = .postgres(url: text)
        } else {
            return nil
        }
    }

    /// Whether this build has the PostgreSQL driver (the package trait `PostgreSQL`, on by default). Without it a
    /// `postgres://` URL fails the settings check at start-up with a message that says so.
    public static var postgresAvailable: Bool {
        #if PostgreSQL
        true
        #else
        false
        #endif
    }

    public var description: String { redacted }
    public var debugDescription: String { redacted }
    public var customMirror: Mirror { Mirror(self, children: ["url": redacted]) }

    /// Whether a PostgreSQL URL asks for TLS that cannot silently fall back to plain text.
    public var requiresTLS: Bool {
        guard case .postgres(let url) = self, let query = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return false }
        return query.split(separator: "&").contains { parameter in
            let lowered = parameter.lowercased()
            return ["sslmode=require", "sslmode=verify-ca", "sslmode=verify-full", "tlsmode=require"].contains(lowered)
        }
    }

    /// Whether the server is on this machine (a socket path or a loopback host).
    public var isLocal: Bool {
        guard case .postgres(let url) = self else { return true }
        let afterCredentials = url.split(separator: "@").last.map(String.init) ?? url
        return ["localhost", "127.0.0.1", "[::1]", "/"].contains { afterCredentials.hasPrefix($0) || afterCredentials.contains("://\($0)") }
    }

    /// The URL with any password replaced, safe to log.
    public var redacted: String {
        switch self {
        case .sqliteFile(let path): return "sqlite://\(path)"
        case .sqliteMemory: return "sqlite://:memory:"
        case .postgres(let url):
            guard let at = url.lastIndex(of: "@") else { return url }
            let afterScheme = url.hasPrefix("postgresql://") ? "postgresql://".count : "postgres://".count
            let credentials = url[url.index(url.startIndex, offsetBy: afterScheme)..<at]
            guard let colon = credentials.firstIndex(of: ":") else { return url }
            return String(url[..<colon]) + ":********" + String(url[at...])
        }
    }
}

/// KeelData's system checks. Ids are append-only; see `docs/checks.md`.
public enum DatabaseChecks {
    /// `database.W001`: a PostgreSQL server off this machine reached without required TLS.
    public static let databaseTLS = SystemCheck(ids: [.databaseWithoutTLS], deploy: true) { settings in
        guard let url = DatabaseURL(settings[DatabaseSettings.url]), case .postgres = url, !url.isLocal, !url.requiresTLS else { return [] }
        return [CheckFinding(
            id: .databaseWithoutTLS, level: .warning,
            message: "database.url reaches a PostgreSQL server on another machine without sslmode=require (or verify-full): the connection may silently fall back to plain text.",
            hint: "Add ?sslmode=verify-full (or require) to DATABASE_URL.")]
    }

    public static var all: [SystemCheck] { [databaseTLS] }
}

/// The ids `DatabaseChecks` reports (see `docs/checks.md`).
extension CheckID {
    /// `database.W001`: a remote PostgreSQL without TLS required.
    public static let databaseWithoutTLS: CheckID = "database.W001"
}
