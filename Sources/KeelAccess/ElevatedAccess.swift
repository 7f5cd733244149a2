public import Foundation
public import KeelCore
public import KeelKernel
import Hummingbird
import HTTPTypes
import Logging
import SQLKit
import KeelAuth
import KeelData
import KeelSettings
import KeelWeb

/// Routes for staff only (`RoutePolicy.requiringStaff()`): staff status is read from the database on each request.
public enum StaffRequired: RoutePolicyOption {
    public static func defaultValue(for base: RoutePolicy.Base) -> Bool { false }
}

/// Routes that need elevated access (`RoutePolicy.requiringElevation(at:)`): the user re-entered their password and
/// gave a reason within `auth.elevation.ttl`.
public enum ElevationRequired: RoutePolicyOption {
    /// Required, sending people without it to `page` (on HTML groups), or refusing them (403) when `page` is `nil`.
    public struct Requirement: Hashable, Sendable {
        public let page: String?
    }

    public static func defaultValue(for base: RoutePolicy.Base) -> Requirement? { nil }
}

extension RoutePolicy {
    /// The same group, for staff only: someone signed out gets a 401 (sent to sign in first on a group that requires
    /// it), a signed-in user who is not staff a 403 (`staff.required`).
    public func requiringStaff() -> RoutePolicy {
        with(StaffRequired.self, true, named: "staff")
    }

    /// The same group, whose routes need elevated access ("sudo mode"): without it, people are sent to `page` with
    /// `?next=` on HTML groups (the page asks for the password and a reason and calls `app.elevate`), and get a 403
    /// (`auth.elevation_required`) on JSON groups or when there is no page. API tokens are never elevated.
    public func requiringElevation(at page: String? = nil) -> RoutePolicy {
        precondition(page.map { $0.hasPrefix("/") && !$0.hasPrefix("//") } ?? true, "The elevation page must be a path on this site")
        return with(ElevationRequired.self, .init(page: page), named: "elevated")
    }

    /// Whether the group's routes are for staff only.
    public var requiresStaff: Bool { self[StaffRequired.self] }
    /// The group's elevation requirement, if it has one.
    public var elevationRequirement: ElevationRequired.Requirement? { self[ElevationRequired.self] }
}

extension ErrorCode {
    /// `staff.required`: the route is for staff.
    public static let staffRequired: ErrorCode = "staff.required"
    /// `auth.elevation_required`: the route needs elevated access (password and reason again).
    public static let elevationRequired: ErrorCode = "auth.elevation_required"
}

/// What the access module knows of the signed-in user of a session request, without a query: the staff and
/// superuser flags as they were at sign-in (a snapshot, for pages: the nav link to the staff area), and elevated
/// access. Requirements never trust the snapshot: `requiringStaff()` and `requiring(_:)` read the database on each
/// request, so a demotion takes effect on the next request, while the snapshot follows at the next sign-in
/// (`docs/permissions.md`). API tokens carry none of it: a token is never staff in a page and never elevated.
public struct AccessStanding: Sendable, Equatable {
    /// Staff at sign-in.
    public var isStaff = false
    /// Superuser at sign-in.
    public var isSuperuser = false
    /// Until when the user has elevated access ("sudo mode"), if they entered it during this login.
    public var elevatedUntil: Date?
    /// The reason they gave for it.
    public var elevationReason: String?

    public init(isStaff: Bool = false, isSuperuser: Bool = false, elevatedUntil: Date? = nil, elevationReason: String? = nil) {
        self.isStaff = isStaff
        self.isSuperuser = isSuperuser
        self.elevatedUntil = elevatedUntil
        self.elevationReason = elevationReason
    }

    /// Whether sensitive actions are allowed without asking for the password again.
    public func isElevated(at now: Date) -> Bool {
        elevatedUntil.map { now < $0 } ?? false
    }
}

extension Session {
    /// The access module's keys, kept for one login (`Session.loginScopedPrefix`: a login removes them).
    enum AccessKey {
        static let staff = Session.loginScopedPrefix + "staff"
        static let superuser = Session.loginScopedPrefix + "superuser"
        static let elevatedUntil = Session.loginScopedPrefix + "elevated_until"
        static let elevationReason = Session.loginScopedPrefix + "elevation_reason"
    }

    /// The signed-in user's standing as this session knows it; nothing for a session nobody is signed in to. Read
    /// under one lock: every `web` request asks (`access.standing`, `access.elevation.log`).
    public var standing: AccessStanding {
        withState { state in
            guard let record = state.record, record.userID != nil else { return AccessStanding() }
            let data = record.data
            return AccessStanding(
                isStaff: data[AccessKey.staff] == "1", isSuperuser: data[AccessKey.superuser] == "1",
                elevatedUntil: data[AccessKey.elevatedUntil].flatMap(Double.init).map(Date.init(timeIntervalSince1970:)),
                elevationReason: data[AccessKey.elevationReason])
        }
    }

    /// Writes the staff and superuser snapshot (at sign-in, when the session is being written anyway).
    func recordStanding(staff: Bool, superuser: Bool) {
        self[AccessKey.staff] = staff ? "1" : nil
        self[AccessKey.superuser] = superuser ? "1" : nil
    }

    /// Marks the session as elevated until `until`, for `reason`, with a new key: a privilege change.
    func elevate(until: Date, reason: String) {
        self[AccessKey.elevatedUntil] = String(until.timeIntervalSince1970)
        self[AccessKey.elevationReason] = reason
        cycleKey()
    }
}

extension KeelContext {
    /// The signed-in user's standing from the session (`AccessStanding`); nothing for a token or nobody.
    public var standing: AccessStanding {
        identity.method == .session ? session.standing : AccessStanding()
    }
}

extension KeelApplication {
    /// Grants the signed-in user of this request elevated access for `auth.elevation.ttl`, after checking their
    /// password (through the application's `UserAccounts`, throttled as a sign-in is) and that they gave a reason.
    /// The session gets a new key; the grant and every request made under it are logged (`AccessControl.elevationLog`).
    ///
    /// - Throws: 401 when nobody is signed in; 422 naming `password` or `reason`; 429 after repeated wrong passwords.
    /// - Returns: when the elevation ends.
    @discardableResult
    public func elevate(_ context: KeelContext, password: String, reason: String) async throws -> Date {
        guard let userID = context.session.userID else { throw KeelError.signInRequired }
        guard let users else {
            throw KeelError(.internalServerError, message: "Elevated access needs the application's users: install a UserDirectory.")
        }
        // Judged by the same rules as every other input (`TextRules`): blank is only whitespace, length in scalars.
        var problems = ValidationProblems()
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if TextRules.isBlank(reason) { problems.add("reason", "can't be blank") }
        if TextRules.length(reason) > 500 { problems.add("reason", "is too long (at most 500 characters)") }
        if password.isEmpty { problems.add("password", "can't be blank") }
        try problems.throwIfAny()
        let valid = try await loginThrottle.check(
            account: "elevate:" + userID, client: context.security.clientAddress, logger: context.logger, subject: userID,
            events: LoginEvents(failure: "access.elevation_refused", lockout: "access.elevation_locked_out")
        ) {
            try await users.verifyPassword(password, of: userID)
        }
        guard valid else { throw KeelError.validation(field: "password", "is not correct") }
        let until = clock().addingTimeInterval(settings[AccessSettings.elevationTTL].inSeconds)
        context.session.elevate(until: until, reason: reason)
        try await access.recordElevation(of: userID, reason: reason)
        context.logger.notice("elevated access granted", metadata: [
            "keel.security.event": "elevation", "user": .string(userID), "reason": .string(reason),
        ])
        return until
    }
}

/// Refuses a request that lacks what its group requires: staff status, permissions, elevated access. Runs in the
/// `permissions` slot, after the identity and after sign-in.
struct AccessHook: AsyncRequestHook {
    let staff: Bool
    let required: Set<String>
    let elevation: ElevationRequired.Requirement?
    let format: ErrorFormat
    let access: AccessControl
    let clock: @Sendable () -> Date

    func enter(_ request: inout Request, context: inout KeelContext) async throws -> Response? {
        guard let userID = try context.identity.optionalUserID() else { throw KeelError.signInRequired }
        if staff, !(try await access.account(userID).isStaff) {
            throw KeelError(.forbidden, code: .staffRequired, message: "This is for staff only.")
        }
        if !required.isEmpty { try await access.require(required, of: userID) }
        // Only a session is ever elevated: a token's standing has no elevated access.
        if let elevation, !context.standing.isElevated(at: clock()) {
            if let page = elevation.page, format.resolved(for: request) == .html {
                return SafeRedirect.interruption(to: page, returningFrom: request, context: context)
            }
            throw KeelError(.forbidden, code: .elevationRequired, message: "Confirm your password and give a reason to do this (elevated access).")
        }
        return nil
    }
}

/// Logs every request made under elevated access, with the user, the reason, the route and the request id, once its
/// response exists (`AccessControl.elevationLog`). Runs on every group that loads sessions; a request without
/// elevated access costs a look at the session.
struct ElevationLogger: RequestFinisher {
    let access: AccessControl
    let clock: @Sendable () -> Date

    func finish(_ request: Request, response: inout Response, context: KeelContext) async throws {
        let session = context.session
        let standing = session.standing
        guard let userID = session.userID, standing.isElevated(at: clock()) else { return }
        let entry = ElevationLogEntry(
            at: clock(), userID: userID, reason: standing.elevationReason ?? "", method: request.method.rawValue,
            route: context.endpointPath ?? request.uri.path, requestID: context.requestID, status: Int(response.status.code))
        do {
            try await access.log(entry)
        } catch {
            // The response stands; a log row that could not be written is said loudly.
            context.logger.error("could not log a request made under elevated access", metadata: [
                "error": .string(DatabaseErrorReport.describe(error)), "user": .string(entry.userID), "route": .string(entry.route),
            ])
        }
    }
}

/// One request made under elevated access.
public struct ElevationLogEntry: Sendable, Codable, Equatable {
    public let at: Date
    public let userID: String
    public let reason: String
    public let method: String
    /// The route's path template (`/staff/users/{id}`), or the path when no route matched.
    public let route: String
    public let requestID: String
    public let status: Int

    public init(at: Date, userID: String, reason: String, method: String, route: String, requestID: String, status: Int) {
        self.at = at
        self.userID = userID
        self.reason = reason
        self.method = method
        self.route = route
        self.requestID = requestID
        self.status = status
    }
}

extension AccessControl {
    /// Writes one entry of the elevation log (`keel_elevated_requests`).
    public func log(_ entry: ElevationLogEntry) async throws {
        try await database.sql.insert(into: Tables.elevatedRequests)
            .columns("at", "user_id", "reason", "method", "route", "request_id", "status")
            .values(SQLBind(entry.at.timeIntervalSince1970), SQLBind(entry.userID), SQLBind(entry.reason), SQLBind(entry.method),
                    SQLBind(entry.route), SQLBind(entry.requestID), SQLBind(entry.status))
            .run()
    }

    /// The latest entries of the elevation log, newest first; of one user when given.
    public func elevationLog(of userID: String? = nil, limit: Int = 100) async throws -> [ElevationLogEntry] {
        struct Row: Decodable {
            let at: Double
            let user_id: String
            let reason: String
            let method: String
            let route: String
            let request_id: String
            let status: Int
        }
        var query = database.sql.select().columns("at", "user_id", "reason", "method", "route", "request_id", "status").from(Tables.elevatedRequests)
        if let userID { query = query.where("user_id", .equal, userID) }
        return try await query.orderBy("id", .descending).limit(max(1, min(limit, 10_000))).all(decoding: Row.self).map {
            ElevationLogEntry(at: Date(timeIntervalSince1970: $0.at), userID: $0.user_id, reason: $0.reason, method: $0.method,
                              route: $0.route, requestID: $0.request_id, status: $0.status)
        }
    }
}
