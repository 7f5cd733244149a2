public import Keel
import Foundation
import Hummingbird
import HTTPTypes

/// Conduit's staff area, `/staff`, for staff only (`createsuperuser` makes the first): users (search, activate and
/// deactivate, end sessions, groups), groups and their permissions, the access review with the elevation log, and
/// the deploy checks. Reading needs staff status; every change needs elevated access (password and reason again,
/// `/staff/elevate`), and every request made under it is logged. Written only against Keel's public API.
///
/// Other modules add staff pages without editing this one: they register routes on `Staff.reading` or
/// `Staff.changing` and list them as a `StaffAreaModule`; the home page shows every module's.
public struct Staff: StaffAreaModule {
    public init() {}

    public var name: String { "staff" }

    /// Users listed on one page of the search.
    static let pageSize = 50

    /// Staff pages that read: signed in (sent to sign in otherwise), a new password chosen when one is required, staff.
    public static let reading = RoutePolicy.web.requiringSignIn(at: Pages.signInPath).choosingNewPasswordFirst().requiringStaff()
    /// Staff pages that change something: the same, with elevated access (sent to `/staff/elevate` otherwise).
    public static let changing = reading.requiringElevation(at: "/staff/elevate")

    public var staffLinks: [StaffLink] {
        [
            StaffLink(title: "Users", path: "/staff/users", summary: "search, deactivate, end sessions, groups."),
            StaffLink(title: "Active sessions", path: "/staff/sessions", summary: "who is signed in, where to end it."),
            StaffLink(title: "Groups and permissions", path: "/staff/groups", summary: "what each group may do."),
            StaffLink(title: "Access review", path: "/staff/review", summary: "who holds what, and who is stale."),
            StaffLink(title: "Deploy checks", path: "/staff/checks", summary: "what check --deploy finds here."),
            StaffLink(title: "Audit trail", path: "/staff/audit", summary: "who changed what, when, from where."),
        ]
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let staff = routes.group(Self.reading)
        let changes = routes.group(Self.changing)
        let pages = StaffPages(service: StaffService(app: app), templates: app.templates, elevate: { context, password, reason in
            try await app.elevate(context, password: password, reason: reason)
        })
        staff.get("/staff", use: pages.home)
        staff.get("/staff/elevate", use: pages.elevateForm)
        staff.post("/staff/elevate", use: pages.elevate)
        staff.get("/staff/users", use: pages.users)
        staff.get("/staff/users/{id}", use: pages.user)
        staff.get("/staff/groups", use: pages.groups)
        staff.get("/staff/review", use: pages.review)
        staff.get("/staff/checks", use: pages.checks)
        staff.get("/staff/sessions", use: pages.sessions)
        staff.get("/staff/audit", use: pages.audit)
        staff.get("/staff/articles/{id}", use: pages.article)
        changes.post("/staff/users/{id}/active", use: pages.setActive)
        changes.post("/staff/users/{id}/sessions/end", use: pages.endSessions)
        changes.post("/staff/users/{id}/password-reset", use: pages.requirePasswordReset)
        changes.post("/staff/users/{id}/groups", use: pages.setMembership)
        changes.post("/staff/groups", use: pages.createGroup)
        changes.post("/staff/groups/permissions", use: pages.setGrant)
    }
}

/// The staff area's handlers: each reads its input, asks the service, and renders a page model.
struct StaffPages {
    let service: StaffService
    let templates: Templates
    let elevate: @Sendable (KeelContext, String, String) async throws -> Date

    var access: AccessControl { service.access }

    /// The user the path names (`/staff/users/{id}`), or a 404.
    func requestedUser(_ context: KeelContext) async throws -> UserRow {
        try await service.user(try context.parameters.require("id", as: Int.self))
    }

    @Sendable func home(_ request: Request, context: KeelContext) async throws -> Response {
        let review = try await service.review()
        return try templates.page("staff/home", StaffHomePage(
            links: service.links, holders: review.holders.count, stale: review.staleCount, warnings: service.deployFindings().count),
            context: context)
    }

    @Sendable func elevateForm(_ request: Request, context: KeelContext) async throws -> Response {
        try templates.page("staff/elevate", ElevatePage(next: request.uri.queryParameters.get("next"), reason: nil, problems: .none), context: context)
    }

    @Sendable func elevate(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        return try await templates.form("staff/elevate", context: context, page: {
            ElevatePage(next: form["next"], reason: form["reason"], problems: $0)
        }) {
            let until = try await elevate(context, form["password"] ?? "", form["reason"] ?? "")
            context.session.flash("Elevated access until \(shown(until, .minute)) UTC. Every request you make until then is logged.", level: .warning)
            return SafeRedirect.seeOther(SafeRedirect.path(form["next"], fallback: "/staff"))
        }
    }

    @Sendable func users(_ request: Request, context: KeelContext) async throws -> Response {
        let query = request.uri.queryParameters.get("q").map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        var found = try await service.search(query, limit: Staff.pageSize + 1)
        let more = found.count > Staff.pageSize
        if more { found.removeLast() }
        return try templates.page("staff/users", UsersPage(query: query, users: found.map(StaffUser.init), more: more), context: context)
    }

    @Sendable func user(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requestedUser(context)
        let details = try await service.details(of: row.id)
        let history = try await service.history(of: "users", key: String(row.id)).map(AuditLine.init)
        return try templates.page("staff/user", UserPage(row, details, viewer: context.identity.userID, history: history), context: context)
    }

    /// `/staff/audit`: filters from the query (`actor`, `object` as TABLE:KEY, `action`, `since`, `until`, `before`
    /// for the next page); a filter that cannot be read is a 400 saying which and why.
    @Sendable func audit(_ request: Request, context: KeelContext) async throws -> Response {
        let query = request.uri.queryParameters
        func value(_ name: String) -> String { query.get(name)?.trimmingCharacters(in: .whitespaces) ?? "" }
        let (actor, object, action, since, until) = (value("actor"), value("object"), value("action"), value("since"), value("until"))
        var filter = AuditFilter()
        var before: Int64?
        do {
            if !actor.isEmpty { filter.actor = actor }
            if !action.isEmpty { filter.action = action }
            if !object.isEmpty { (filter.objectTable, filter.objectKey) = try AuditFilter.object(object) }
            if !since.isEmpty { filter.since = try AuditFilter.date(since, name: "since") }
            if !until.isEmpty { filter.until = try AuditFilter.date(until, name: "until") }
            let page = value("before")
            if !page.isEmpty {
                guard let seq = Int64(page), seq > 0 else { throw AuditError.badFilter("before must be an entry number, not \(page.debugDescription)") }
                before = seq
            }
        } catch {
            throw KeelError(.badRequest, code: "audit.bad_filter", message: String(describing: error))
        }
        var records = try await service.audit.entries(matching: filter, limit: Staff.pageSize + 1, before: before)
        var older: String?
        if records.count > Staff.pageSize {
            records.removeLast()
            let parameters = [("actor", actor), ("object", object), ("action", action), ("since", since), ("until", until)]
                .filter { !$0.1.isEmpty }.map { "\($0.0)=\(URLEncoding.component($0.1))" }
            older = "/staff/audit?" + (parameters + ["before=\(records.last!.entry.seq)"]).joined(separator: "&")
        }
        return try templates.page("staff/audit", AuditPage(
            actor: actor, object: object, action: action, since: since, until: until, entries: records.map(AuditLine.init), older: older,
            total: try await service.audit.count(matching: filter)), context: context)
    }

    /// `/staff/articles/{id}`: the article and its history.
    @Sendable func article(_ request: Request, context: KeelContext) async throws -> Response {
        let id = try context.parameters.require("id", as: Int.self)
        let article = try await service.article(id)
        let history = try await service.history(of: "articles", key: String(id)).map(AuditLine.init)
        return try templates.page("staff/article", StaffArticlePage(
            id: id, title: article.title, slug: article.slug, author: article.author, authorID: article.authorID, entries: history,
            historyLink: "/staff/audit?object=articles:\(id)"), context: context)
    }

    @Sendable func setActive(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requestedUser(context)
        let form = try await FormInput.read(request, context: context)
        let active = form["on"] == "1"
        if !active, context.identity.userID == String(row.id) {
            context.session.flash("You cannot deactivate your own account here.", level: .error)
        } else {
            try await service.setActive(row.id, active)
            context.session.flash(active ? "\(row.username) can sign in again." : "\(row.username) is deactivated; their sessions ended.", level: .success)
        }
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func endSessions(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requestedUser(context)
        // Your own: every other session ends, this one stays.
        try await service.endSessions(of: row.id, keeping: context.identity.userID == String(row.id) ? context.session : nil)
        context.session.flash("The sessions of \(row.username) ended.", level: .success)
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func requirePasswordReset(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requestedUser(context)
        try await service.requirePasswordReset(row.id)
        context.session.flash("\(row.username) must choose a new password at their next sign-in; their sessions ended.", level: .success)
        return SafeRedirect.seeOther("/staff/users/\(row.id)")
    }

    @Sendable func setMembership(_ request: Request, context: KeelContext) async throws -> Response {
        let row = try await requestedUser(context)
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
        try templates.page("staff/groups", GroupsPage(try await service.groups(), problems: .none), context: context)
    }

    @Sendable func createGroup(_ request: Request, context: KeelContext) async throws -> Response {
        let form = try await FormInput.read(request, context: context)
        let found = try await service.groups()
        return try await templates.form("staff/groups", context: context, page: { GroupsPage(found, problems: $0) }) {
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
        return try templates.page("staff/review", ReviewPage(try await service.review(), log: try await service.elevationLog()), context: context)
    }

    @Sendable func checks(_ request: Request, context: KeelContext) async throws -> Response {
        try templates.page("staff/checks", ChecksPage(findings: service.deployFindings().map {
            ChecksPage.Finding(id: $0.id.rawValue, level: $0.level.rawValue, message: $0.message, hint: $0.hint)
        }, profile: service.profile), context: context)
    }

    @Sendable func sessions(_ request: Request, context: KeelContext) async throws -> Response {
        let live = try await service.liveSessions(of: nil)
        let names = try await service.names(of: live.map(\.userID))
        return try templates.page("staff/sessions", SessionsPage(
            sessions: live.map { SessionLine($0, name: names[$0.userID]) }, users: Set(live.map(\.userID)).count), context: context)
    }
}
