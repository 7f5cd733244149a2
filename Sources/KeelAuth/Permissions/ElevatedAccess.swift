public import Foundation
public import KeelCore
public import KeelKernel
import Hummingbird
import HTTPTypes
import Logging
import SQLKit
import KeelData
import KeelSettings

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

extension Session {
    /// Session keys elevated access keeps its reason under.
    enum ElevationKey {
        static let reason = "_keel.elevation_reason"
    }

    /// Why the user elevated their access, while it lasts.
    public var elevationReason: String? { self[ElevationKey.reason] }
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
        var problems = ValidationProblems()
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty { problems.add("reason", "can't be blank") }
        if reason.count > 500 { problems.add("reason", "is too long (at most 500 characters)") }
        if password.isEmpty { problems.add("password", "can't be blank") }
        try problems.throwIfAny()
        let valid = try await loginThrottle.check(account: "elevate:" + userID, client: context.security.clientAddress, logger: context.logger) {
            try await users.verifyPassword(password, of: userID)
        }
        guard valid else { throw KeelError.validation(field: "password", "is not correct") }
        let until = clock().addingTimeInterval(settings[AuthSettings.elevationTTL].inSeconds)
        context.session.elevate(until: until)
        context.session[Session.ElevationKey.reason] = reason
        try await access.recordElevation(of: userID)
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
        // Only a session is ever elevated: a token's identity has no `elevatedUntil`.
        if let elevation, !context.identity.isElevated(at: clock()) {
            if let page = elevation.page, format.resolved(for: request) == .html {
                let next = request.returnPath(host: context.security.host)
                return Response(status: .seeOther, headers: [.location: page + "?next=" + URLEncoding.component(next)])
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
        guard let identity = session.identity, identity.isElevated(at: clock()) else { return }
        let entry = ElevationLogEntry(
            at: clock(), userID: identity.userID ?? "-", reason: session.elevationReason ?? "", method: request.method.rawValue,
            route: context.endpointPath ?? request.uri.path, requestID: context.requestID, status: Int(response.status.code))
        do {
            try await access.log(entry)
        } catch {
            // The response stands; a log row that could not be written is said loudly.
            context.logger.error("could not log a request made under elevated access", metadata: [
                "error": "\(String(reflecting: error))", "user": .string(entry.userID), "route": .string(entry.route),
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
