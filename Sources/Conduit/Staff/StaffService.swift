import Foundation
import HTTPTypes
import Keel
import SQLKit

/// What the staff pages read and change, in one place: users (searched, found, activated, required to choose a new
/// password), their standing and sessions, groups and grants, the access review and the deploy findings. The pages
/// only turn its answers into page models.
struct StaffService: Sendable {
    let access: AccessControl
    let accounts: AccountService
    let sessions: any SessionStore
    let auth: AuthModule.Parts
    /// The audit trail (history pages, `/staff/audit`).
    let audit: AuditTrail
    let database: KeelDatabase
    let users: (any UserAccounts)?
    let idleTimeout: Duration
    let staleAfter: Duration
    let clock: @Sendable () -> Date
    /// `check --deploy` on this instance's settings, run when a page asks (the template check reads the folder, which
    /// can change under a running development server; nothing is run at start-up for the staff area).
    let deployFindings: @Sendable () -> [CheckFinding]
    /// Every module's staff pages (`StaffAreaModule`).
    let links: [StaffLink]
    /// The settings profile this instance runs (the checks page says which).
    let profile: String

    init(app: KeelApplication) {
        access = app.access
        accounts = AccountService(app: app)
        sessions = app.sessions
        auth = app.auth
        audit = app.audit
        database = app.database
        users = app.users
        idleTimeout = app.settings[AuthSettings.sessionIdleTimeout]
        staleAfter = app.settings[AccessSettings.reviewStaleAfter]
        clock = app.clock
        let (checks, settings) = (app.systemChecks, app.settings)
        deployFindings = { checks.report(settings, deploy: true).findings }
        links = app.staffLinks
        profile = app.settings.profile.rawValue
    }

    // MARK: - Users

    /// Users whose username or e-mail contains the text (any case, matched literally), by id; everyone without one.
    func search(_ text: String?, limit: Int) async throws -> [UserRow] {
        let columns = SQLList(AccountService.columns.map { SQLIdentifier($0) })
        guard let text else {
            return try await accounts.sql.select().column(columns).from("users").orderBy("id").limit(limit).all(decoding: UserRow.self)
        }
        let pattern = LikePattern.containing(text.lowercased().prefix(200))
        return try await accounts.sql.raw("""
            SELECT \(columns) FROM users
            WHERE LOWER(username) LIKE \(bind: pattern) \(LikePattern.escapeClause)
               OR LOWER(email) LIKE \(bind: pattern) \(LikePattern.escapeClause)
            ORDER BY id LIMIT \(literal: limit)
            """).all(decoding: UserRow.self)
    }

    /// The user with this id, or a 404.
    func user(_ id: Int) async throws -> UserRow {
        guard let row = try await accounts.find("id", id) else { throw KeelError(.notFound, message: "There is no such user.") }
        return row
    }

    /// Everything the user's page shows beside the row.
    struct UserDetails {
        let standing: UserAccess
        let permissions: [String]
        let groups: [AccessGroup]
        let log: [ElevationLogEntry]
        let sessions: [SessionSummary]
    }

    func details(of id: Int) async throws -> UserDetails {
        let userID = String(id)
        return UserDetails(
            standing: try await access.account(userID), permissions: try await access.permissions(of: userID).sorted(),
            groups: try await access.groups(), log: try await access.elevationLog(of: userID, limit: 20),
            sessions: try await liveSessions(of: userID))
    }

    func setActive(_ id: Int, _ active: Bool) async throws { try await accounts.setActive(id, active) }

    // MARK: - History

    /// The newest entries about an object (`users`, `7`): who changed it, when, what.
    func history(of table: String, key: String, limit: Int = 20) async throws -> [AuditRecord] {
        try await audit.entries(matching: AuditFilter(objectTable: table, objectKey: key), limit: limit)
    }

    /// An article for its staff page: id, title, slug, author (a 404 when there is none).
    func article(_ id: Int) async throws -> (title: String, slug: String, author: String, authorID: Int) {
        guard let row = try await database.sql.raw("""
            SELECT a.title, a.slug, u.username, a.author_id FROM articles a JOIN users u ON u.id = a.author_id WHERE a.id = \(bind: id)
            """).first() else { throw KeelError(.notFound, message: "There is no such article.") }
        return (try row.decode(column: "title", as: String.self), try row.decode(column: "slug", as: String.self),
                try row.decode(column: "username", as: String.self), try row.decode(column: "author_id", as: Int.self))
    }
    func requirePasswordReset(_ id: Int) async throws { try await accounts.requirePasswordReset(id) }

    // MARK: - Sessions

    /// Signed-in sessions still within the idle timeout, most recently used first (at most 200), with their users'
    /// names.
    func liveSessions(of userID: String?) async throws -> [SessionSummary] {
        try await sessions.signedIn(userID: userID, seenAfter: clock().addingTimeInterval(-idleTimeout.inSeconds), limit: 200)
    }

    /// Ends every session of the user but `keeping` (the staff member's own, when they end their own).
    func endSessions(of id: Int, keeping current: Session?) async throws {
        try await auth.endSessions(of: String(id), except: current)
    }

    /// What people call these users.
    func names(of userIDs: [String]) async throws -> [String: String] {
        try await users?.names(of: Array(Set(userIDs))) ?? [:]
    }

    // MARK: - Groups, the review

    /// Every group, its members by name, and every declared permission.
    func groups() async throws -> (groups: [AccessGroup], names: [String: String], declared: [Permission]) {
        let groups = try await access.groups()
        return (groups, try await names(of: groups.flatMap(\.members)), try await access.declared())
    }

    /// The access review, with names.
    func review() async throws -> AccessReview {
        try await access.review(staleAfter: staleAfter, names: users)
    }

    /// The latest requests made under elevated access, anyone's.
    func elevationLog() async throws -> [ElevationLogEntry] {
        try await access.elevationLog(limit: 50)
    }
}
