import Foundation
import Keel
import Logging
import SQLKit

/// A database backend for data-layer tests: every such test runs on SQLite and, when `KEEL_TEST_POSTGRES_URL` is set
/// (`.ci/run` always sets it), on PostgreSQL.
///
/// ```swift
/// @Test(arguments: TestDatabase.available)
/// func savesAnArticle(backend: TestDatabase) async throws {
///     try await backend.withFreshDatabase { url in … "database.url": url … }
/// }
/// ```
public enum TestDatabase: String, Sendable, CustomStringConvertible, CaseIterable {
    case sqlite
    case postgres

    /// The variable naming a PostgreSQL database the tests may create databases from.
    public static let postgresVariable = "KEEL_TEST_POSTGRES_URL"

    /// SQLite always; PostgreSQL when `KEEL_TEST_POSTGRES_URL` is set and the build has the driver (the package trait
    /// `PostgreSQL`, on by default).
    public static var available: [TestDatabase] {
        postgresURL == nil || !DatabaseURL.postgresAvailable ? [.sqlite] : [.sqlite, .postgres]
    }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment[postgresVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    public var description: String { rawValue }

    /// Runs `body` with the URL of a new, empty database that is removed afterwards: a temporary SQLite file, or a
    /// PostgreSQL database created for this call (so parallel tests never share tables).
    public func withFreshDatabase<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let folder = NSTemporaryDirectory() + "keel-test-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            return try await body("sqlite://\(folder)/test.sqlite3")
        case .postgres:
            guard let base = Self.postgresURL else {
                preconditionFailure("\(Self.postgresVariable) is not set; use TestDatabase.available")
            }
            let name = "keel_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
            let admin = try await Self.adminDatabase(url: base)
            do {
                try await admin.sql.raw("CREATE DATABASE \(ident: name)").run()
            } catch {
                await admin.shutdown()
                throw error
            }
            let url = Self.replacingDatabase(in: base, with: String(name))
            let result: Result<T, any Error>
            do {
                result = .success(try await body(url))
            } catch {
                result = .failure(error)
            }
            try? await admin.sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
            await admin.shutdown()
            return try result.get()
        }
    }

    static func adminDatabase(url: String) async throws -> KeelDatabase {
        let settings = try await KeelTestApplication.resolveSettings(values: ["database.url": url])
        return KeelDatabase(settings: settings, logger: Logger(label: "keel.test.admin") { _ in SwiftLogNoOpLogHandler() })
    }

    static func replacingDatabase(in url: String, with name: String) -> String {
        var base = url
        var query = ""
        if let mark = base.firstIndex(of: "?") {
            query = String(base[mark...])
            base = String(base[..<mark])
        }
        guard let slash = base.lastIndex(of: "/"), base[..<slash].hasSuffix("/") == false else { return base + "/" + name + query }
        return String(base[...slash]) + name + query
    }
}
