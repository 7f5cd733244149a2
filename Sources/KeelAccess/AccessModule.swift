public import ArgumentParser
public import KeelData
public import KeelKernel
public import KeelSettings
import Foundation
import Hummingbird
import HTTPTypes
import KeelCore
import KeelWeb
import Logging

/// Keel's access capability as a module: what a signed-in user may do. Authentication (`AuthModule`) says who they
/// are; this module says whether they are staff or superuser, which permissions they hold (directly or through
/// groups), whether they have elevated access, and keeps the access review.
///
/// - Settings: `auth.elevation.ttl`, `auth.review.staleAfter` (`AccessSettings`).
/// - Tables (migrations, named when access was part of authentication): `keel_permissions`, `keel_groups`,
///   `keel_group_permissions`, `keel_group_members`, `keel_user_permissions`, `keel_users` (`auth.0004_access`),
///   `keel_elevated_requests` (`auth.0005_elevation_log`).
/// - After `migrate`: records every module's declared permissions (`AccessControl.synchronize`).
/// - Parts: `app.access` (`AccessControl`).
/// - Commands: `permissions review|list|grant|revoke|groups`, `createsuperuser`.
/// - Request state: `context.standing` (staff, superuser, elevated access: the session's snapshot, see
///   `AccessStanding`), and `keel.user_staff`, `keel.elevated_until`, `keel.elevation_reason` for KeelWeb's pages.
/// - Staff area: modules list their staff pages (`StaffAreaModule`, `app.staffLinks`).
/// - Route options: `requiring(_:)`, `requiringStaff()`, `requiringElevation(at:)`.
/// - Stages:
///
/// | stage | slot | kind | groups |
/// |---|---|---|---|
/// | `access.standing`: the session's snapshot into `keel.user_staff`, `keel.elevated_until`, `keel.elevation_reason` | identity | hook | `loadsSessions` |
/// | `access.permissions`: staff status, permissions (a query each), elevated access; 401, 403 or the elevation page | permissions | async hook | groups with a requirement |
/// | `access.signIn`: at a sign-in, the staff snapshot into the session and `last_login` into the review | permissions | finisher | `loadsSessions` |
/// | `access.elevation.log`: a request made under elevated access is logged | permissions | finisher | `loadsSessions` |
///
/// Needs `AuthModule` before it (elevation checks the password through the application's users and is throttled as
/// a sign-in is).
public struct AccessModule: KeelModule {
    public init() {}

    public var name: String { "access" }
    public var settings: [any AnySetting] { AccessSettings.all }
    public var migrations: [any KeelMigration] { [Tables.migration, Tables.elevationLogMigration] }
    /// `permissions review|list|grant|revoke|groups`, `createsuperuser`.
    public var commands: [any ParsableCommand.Type] { [PermissionsCommand.self, CreateSuperuserCommand.self] }

    /// Records every module's declared permissions once the schema is current, reporting what was added and removed.
    public func afterMigrate(app: KeelApplication) async throws -> [String] {
        let (added, removed) = try await app.access.synchronize(app.permissions)
        return added.map { "  Added permission \($0)" } + removed.map { "  Removed permission \($0) (no module declares it; its grants are gone)" }
    }

    /// What the module builds once per application.
    public struct Parts: ApplicationPart {
        /// Permissions, groups, grants, staff and superuser flags (`docs/permissions.md`).
        public let access: AccessControl
    }

    public func install(into parts: inout KeelApplication.Parts) throws {
        parts.install(Parts(access: AccessControl(database: parts.database, clock: parts.clock)))
    }

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        let access = app.access
        var stages: [PipelineStage] = []
        if group.loadsSessions {
            stages.append(.hook(.identity, "access.standing", StandingHook(clock: app.clock)))
            stages.append(.finisher(.permissions, "access.signIn", SignInRecorder(access: access)))
            stages.append(.finisher(.permissions, "access.elevation.log", ElevationLogger(access: access, clock: app.clock)))
        }
        let required = group.requiredPermissions
        if !required.isEmpty || group.requiresStaff || group.elevationRequirement != nil {
            let declared = Set(app.permissions.map(\.codename))
            let undeclared = required.subtracting(declared).sorted()
            precondition(undeclared.isEmpty, "Route group \(group) requires \(undeclared.joined(separator: ", ")), which no module declares (KeelModule.permissions).")
            stages.append(.asyncHook(.permissions, "access.permissions", AccessHook(
                staff: group.requiresStaff, required: required, elevation: group.elevationRequirement, format: group.errorFormat,
                access: access, clock: app.clock)))
        }
        return stages
    }
}

extension KeelApplication {
    /// Permissions, groups, grants, staff and superuser flags (`docs/permissions.md`), installed by `AccessModule`.
    public var access: AccessControl { part(AccessModule.Parts.self).access }
}

/// Puts what the session knows of the user's standing where every page reads it, a look at the session and no query:
/// `keel.user_staff` (the sign-in's snapshot), and while elevated access lasts `keel.elevated_until` (`2026-12-05
/// 14:03 UTC`) and `keel.elevation_reason`, for a banner in the layout.
struct StandingHook: RequestHook {
    let clock: @Sendable () -> Date

    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
        let standing = context.session.standing
        guard standing.isStaff || standing.elevatedUntil != nil else { return nil }
        let elevated = standing.isElevated(at: clock())
        // What this request writes is recorded as done under elevated access (`ChangeAttribution.acting`).
        if elevated { context.state[ActsElevated.self] = true }
        context.state.update(PageValues.self) { values in
            if standing.isStaff { values["user_staff"] = .bool(true) }
            if let until = standing.elevatedUntil, elevated {
                values["elevated_until"] = .text(UTCTimestamp.readable(secondsSince1970: until.timeIntervalSince1970, to: .minute) + " UTC")
                values["elevation_reason"] = .text(standing.elevationReason ?? "")
            }
        }
        return nil
    }
}

/// At a sign-in that sticks (below 500), writes the user's staff and superuser flags into the session (the snapshot
/// pages show) and notes the sign-in for the access review. Runs before the session is saved (finishers run innermost
/// first), so the snapshot is saved with it. Failing to note it never fails the sign-in.
struct SignInRecorder: RequestFinisher {
    let access: AccessControl

    func finish(_ request: Request, response: inout Response, context: KeelContext) async throws {
        let session = context.session
        guard response.status.code < 500, session.userLoggedInThisRequest, let userID = session.userID else { return }
        do {
            let account = try await access.account(userID)
            session.recordStanding(staff: account.isStaff, superuser: account.isSuperuser)
            try await access.recordLogin(of: userID)
        } catch {
            context.logger.warning("could not record a sign-in", metadata: ["error": .string(DatabaseErrorReport.describe(error))])
        }
    }
}
