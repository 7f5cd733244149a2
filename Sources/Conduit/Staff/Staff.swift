public import Keel
import Foundation
import Hummingbird
import HTTPTypes
import SQLKit

/// Conduit's staff area, `/staff`, for staff only (`createsuperuser` makes the first): users (search, activate and
/// deactivate, end sessions, groups), groups and their permissions, the access review with the elevation log, and
/// the deploy checks. Reading needs staff status; every change needs elevated access (password and reason again,
/// `/staff/elevate`), and every request made under it is logged. Written only against Keel's public API.
public struct Staff: KeelModule {
    public init() {}

    public var name: String { "staff" }

    /// Users listed on one page of the search.
    static let pageSize = 50

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let staff = routes.group(.web.requiringSignIn(at: Pages.signInPath).choosingNewPasswordFirst().requiringStaff())
        let changes = routes.group(
            .web.requiringSignIn(at: Pages.signInPath).choosingNewPasswordFirst().requiringStaff().requiringElevation(at: "/staff/elevate"))
        let pages = StaffPages(app: app, templates: app.templates, accounts: AccountService(app: app))
        staff.get("/staff", use: pages.home)
        staff.get("/staff/elevate", use: pages.elevateForm)
        staff.post("/staff/elevate", use: pages.elevate)
        staff.get("/staff/users", use: pages.users)
        staff.get("/staff/users/{id}", use: pages.user)
        staff.get("/staff/groups", use: pages.groups)
        staff.get("/staff/review", use: pages.review)
        staff.get("/staff/checks", use: pages.checks)
        staff.get("/staff/sessions", use: pages.sessions)
        changes.post("/staff/users/{id}/active", use: pages.setActive)
        changes.post("/staff/users/{id}/sessions/end", use: pages.endSessions)
        changes.post("/staff/users/{id}/password-reset", use: pages.requirePasswordReset)
        changes.post("/staff/users/{id}/groups", use: pages.setMembership)
        changes.post("/staff/groups", use: pages.createGroup)
        changes.post("/staff/groups/permissions", use: pages.setGrant)
    }
}

/// The staff area's handlers.
struct StaffPages {
    let app: KeelApplication
    let templates: Templates
    let accounts: AccountService

    var access: AccessControl { app.access }
    func elevation(_ context: KeelContext) -> Elevation { Elevation(context, now: app.clock()) }

    @Sendable func home(_ request: Request, context: KeelContext) async throws -> Response {
        let review = try await access.review(staleAfter: app.settings[AccessSettings.reviewStaleAfter])
        let findings = deployFindings()
        return try templates.page("staff/home", StaffHomePage(
            elevation: elevation(context), holders: review.holders.count, stale: review.staleCount,
            warnings: findings.count), context: context)
    }

    @Sendable func elevateForm(_ request: Request, context: KeelContext) async throws -> Response {
        try templates.page("staff/elevate", ElevatePage(
            elevation: elevation(context), next: request.uri.queryParameters.get("next"), reason: nil, problems: .none), context: context)
    }

    @Sendable func elevate(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        return try await templates.form("staff/elevate", context: context, page: {
            ElevatePage(elevation: elevation(context), next: form["next"], reason: form["reason"], problems: $0)
        }) {
            let until = try await app.elevate(context, password: form["password"] ?? "", reason: form["reason"] ?? "")
            let time = String(UTCTimestamp.string(secondsSince1970: until.timeIntervalSince1970).dropFirst(11).prefix(5))
            context.session.flash("Elevated access until \(time) UTC. Every request you make until then is logged.", level: .warning)
            return SafeRedirect.seeOther(SafeRedirect.path(form["next"], fallback: "/staff"))
        }
    }

    @Sendable func users(_ request: Request, context: KeelContext) async throws -> Response {
        let query = request.uri.queryParameters.get("q").map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        var found = try await search(query, limit: Staff.pageSize + 1)
        let more = found.count > Staff.pageSize
        if more { found.removeLast() }
        return try templates.page("staff/users", UsersPage(elevation: elevation(context), query: query, users: found, more: more), context: context)
    }

    @Sendable func user(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requireUser(context)
        let id = String(row.id)
        let standing = try await access.account(id)
        let groups = try await access.groups()
        return try templates.page("staff/user", UserPage(
            elevation: elevation(context), user: row, isStaff: standing.isStaff, isSuperuser: standing.isSuperuser,
            lastLogin: day(standing.lastLogin, "never"), lastElevated: day(standing.lastElevated, "never"),
            permissions: try await access.permissions(of: id).sorted(),
            groups: groups.map { .init(name: $0.name, member: $0.members.contains(id)) },
            log: try await access.elevationLog(of: id, limit: 20).map(LogLine.init),
            sessions: try await liveSessions(of: id).map { SessionLine($0, name: row.username) },
            isSelf: context.identity.userID == id), context: context)
    }

    @Sendable func setActive(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requireUser(context)
        let form = try await FormInput.read(request, context: context)
        let active = form["on"] == "1"
        if !active, context.identity.userID == String(row.id) {
            context.session.flash("You cannot deactivate your own account here.", level: .error)
        } else {
            try await accounts.setActive(row.id, active)
            context.session.flash(active ? "\(row.username) can sign in again." : "\(row.username) is deactivated; their sessions ended.", level: .success)
        }
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func endSessions(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requireUser(context)
        // Your own: every other session ends, this one stays.
        try await app.endSessions(of: String(row.id), except: context.identity.userID == String(row.id) ? context.session : nil)
        context.session.flash("The sessions of \(row.username) ended.", level: .success)
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func requirePasswordReset(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requireUser(context)
        try await accounts.requirePasswordReset(row.id)
        context.session.flash("\(row.username) must choose a new password at their next sign-in; their sessions ended.", level: .success)
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func setMembership(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requireUser(context)
        let form = try await FormInput.read(request, context: context)
        guard let group = form["group"], !group.isEmpty else { throw KeelError.validation(field: "group", "can't be blank") }
        if form["on"] == "1" {
            try await access.add(user: String(row.id), toGroup: group)
            context.session.flash("\(row.username) is in \(group).", level: .success)
        } else {
            try await access.remove(user: String(row.id), fromGroup: group)
            context.session.flash("\(row.username) left \(group).", level: .success)
        }
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func groups(_ request: Request, context: KeelContext) async throws -> Response {
        try templates.page("staff/groups", try await groupsPage(context, problems: .none), context: context)
    }

    @Sendable func createGroup(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        let page = try await groupsPage(context, problems: .none)
        return try await templates.form("staff/groups", context: context, page: { problems in
            GroupsPage(elevation: page.elevation, groups: page.groups, declared: page.declared, problems: problems)
        }) {
            try await access.createGroup(form["name"] ?? "")
            context.session.flash("The group was created.", level: .success)
            return SafeRedirect.seeOther("/staff/groups")
        }
    }

    @Sendable func setGrant(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        guard let group = form["group"], let permission = form["permission"] else {
            throw KeelError.validation(["group": ["can't be blank"], "permission": ["can't be blank"]])
        }
        if form["on"] == "1" {
            try await access.grant(permission, toGroup: group)
            context.session.flash("\(group) holds \(permission).", level: .success)
        } else {
            try await access.revoke(permission, fromGroup: group)
            context.session.flash("\(group) no longer holds \(permission).", level: .success)
        }
        return SafeRedirect.seeOther("/staff/groups")
    }

    @Sendable func review(_ request: Request, context: KeelContext) async throws -> Response {
        let review = try await access.review(staleAfter: app.settings[AccessSettings.reviewStaleAfter], names: app.users)
        let rows = review.holders.map { holder in
            ReviewPage.Row(
                userID: holder.userID, name: holder.name,
                status: holder.status,
                grants: holder.permissions.map { "\($0.codename) (\($0.via.joined(separator: ", ")))" },
                lastLogin: day(holder.lastLogin, "never"), lastElevated: day(holder.lastElevated, "never"), stale: holder.isStale)
        }
        return try templates.page("staff/review", ReviewPage(
            elevation: elevation(context), rows: rows, staleBefore: day(review.staleBefore, ""), staleCount: review.staleCount,
            log: try await access.elevationLog(limit: 50).map(LogLine.init)), context: context)
    }

    @Sendable func checks(_ request: Request, context: KeelContext) async throws -> Response {
        let findings = deployFindings().map {
            ChecksPage.Finding(id: $0.id.rawValue, level: $0.level.rawValue, message: $0.message, hint: $0.hint)
        }
        return try templates.page("staff/checks", ChecksPage(
            elevation: elevation(context), findings: findings, profile: app.settings.profile.rawValue), context: context)
    }

    @Sendable func sessions(_ request: Request, context: KeelContext) async throws -> Response {
        let live = try await liveSessions(of: nil)
        let names = try await app.users?.names(of: Array(Set(live.map(\.userID)))) ?? [:]
        return try templates.page("staff/sessions", SessionsPage(
            elevation: elevation(context), sessions: live.map { SessionLine($0, name: names[$0.userID]) },
            users: Set(live.map(\.userID)).count), context: context)
    }

    // MARK: -

    /// Signed-in sessions still within the idle timeout, most recently used first (at most 200).
    func liveSessions(of userID: String?) async throws -> [SessionSummary] {
        let idle = app.settings[AuthSettings.sessionIdleTimeout]
        return try await app.sessions.signedIn(userID: userID, seenAfter: app.clock().addingTimeInterval(-idle.inSeconds), limit: 200)
    }

    /// What `check --deploy` finds in the running application's settings (silenced ids left out).
    func deployFindings() -> [CheckFinding] {
        CheckRegistry(checks: app.modules.flatMap(\.checks))
            .run(app.settings, deploy: true, silenced: Set(app.settings[CoreSettings.checksSilenced]))
    }

    func groupsPage(_ context: KeelContext, problems: FormProblems) async throws -> GroupsPage {
        let groups = try await access.groups()
        let names = try await app.users?.names(of: groups.flatMap(\.members)) ?? [:]
        return GroupsPage(
            elevation: elevation(context),
            groups: groups.map { .init(name: $0.name, permissions: $0.permissions, members: $0.members.map { names[$0] ?? $0 }) },
            declared: try await access.declared(), problems: problems)
    }

    func requireUser(_ context: KeelContext) async throws -> StaffUser {
        guard let row = try await accounts.find("id", try context.parameters.require("id", as: Int.self)) else {
            throw KeelError(.notFound, message: "There is no such user.")
        }
        return StaffUser(row)
    }

    /// Users whose username or e-mail contains the text (any case), by id; everyone without one.
    func search(_ text: String?, limit: Int) async throws -> [StaffUser] {
        let columns = SQLList(AccountService.columns.map { SQLIdentifier($0) })
        guard let text else {
            return try await accounts.sql.select().column(columns).from("users").orderBy("id").limit(limit)
                .all(decoding: UserRow.self).map(StaffUser.init)
        }
        // The text is matched literally: LIKE's wildcards in it are escaped.
        let escaped = text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let pattern = "%" + String(escaped.prefix(200)) + "%"
        return try await accounts.sql.raw("""
            SELECT \(columns) FROM users
            WHERE LOWER(username) LIKE \(bind: pattern) ESCAPE '\\' OR LOWER(email) LIKE \(bind: pattern) ESCAPE '\\'
            ORDER BY id LIMIT \(bind: limit)
            """).all(decoding: UserRow.self).map(StaffUser.init)
    }
}
