public import ArgumentParser
public import KeelData
public import KeelKernel
import KeelSecurity
public import KeelSettings
import Hummingbird
import HTTPTypes
import KeelCore
import Logging

/// Keel's authentication capability as a module: the `security.session.*`, `security.loginThrottle.*` and `auth.*`
/// keys with their checks, the session and login-throttle tables, the shared parts (`app.sessions`,
/// `app.loginThrottle`, `app.passwordHasher`, `app.passwordPolicy`, `app.apiTokens`) and two stages:
///
/// | stage | slot | groups |
/// |---|---|---|
/// | `auth.session`: load the cookie's session; save, rotate or clear it after the route | session | `loadsSessions` |
/// | `auth.identity`: `context.identity` from the API token, else the session's user | identity | `authenticatesTokens` or `loadsSessions` |
///
/// Needs `SecurityModule` before it (API tokens are signed with its keyring).
public struct AuthModule: KeelModule {
    public init() {}

    public var name: String { "auth" }
    public var settings: [any AnySetting] { AuthSettings.all }
    public var checks: [SystemCheck] { AuthSettings.checks }
    public var migrations: [any KeelMigration] { [SQLSessionStore.migration] + LoginThrottle.migrations + [Tables.migration, Tables.elevationLogMigration] }
    /// `sessions clear-expired`, `permissions review|list|grant|revoke|groups`, `createsuperuser`, `changepassword`.
    public var commands: [any ParsableCommand.Type] {
        [SessionsCommand.self, PermissionsCommand.self, CreateSuperuserCommand.self, ChangePasswordCommand.self]
    }

    /// Records every module's declared permissions once the schema is current, reporting what was added and removed.
    public func afterMigrate(app: KeelApplication) async throws -> [String] {
        let (added, removed) = try await app.access.synchronize(app.permissions)
        return added.map { "  Added permission \($0)" } + removed.map { "  Removed permission \($0) (no module declares it; its grants are gone)" }
    }

    /// What the module builds once per application.
    public struct Parts: ApplicationPart {
        /// Where sessions live (`security.session.store`).
        public let sessions: any SessionStore
        /// Failed-login counters shared by every instance (`security.loginThrottle.*`).
        public let loginThrottle: LoginThrottle
        /// Password hashing (`auth.passwordIterations`).
        public let passwordHasher: PasswordHasher
        /// Password policy (`auth.passwordMinLength`, `auth.passwordRejectCommon`).
        public let passwordPolicy: PasswordPolicy
        /// API tokens (JWT) signed with the keyring (`auth.tokenLifetime`).
        public let apiTokens: APITokens
        /// Permissions, groups, grants, staff and superuser flags (`docs/permissions.md`).
        public let access: AccessControl
        let lifecycle: SessionLifecycle
    }

    public func install(into parts: inout KeelApplication.Parts) throws {
        let settings = parts.settings
        let clock = parts.clock
        let sessions: any SessionStore = settings[AuthSettings.sessionStore] == .memory ? MemorySessionStore() : SQLSessionStore(database: parts.database)
        parts.install(Parts(
            sessions: sessions,
            loginThrottle: LoginThrottle(
                database: parts.database,
                limits: .init(
                    maxFailures: settings[AuthSettings.throttleMaxFailures], maxClientFailures: settings[AuthSettings.throttleMaxClientFailures],
                    window: settings[AuthSettings.throttleWindow], lockout: settings[AuthSettings.throttleLockout]),
                clock: clock),
            passwordHasher: PasswordHasher(iterations: settings[AuthSettings.passwordIterations]),
            passwordPolicy: PasswordPolicy(
                minimumLength: settings[AuthSettings.passwordMinLength], rejectCommon: settings[AuthSettings.passwordRejectCommon]),
            apiTokens: APITokens(keyring: parts.part(Keyring.self), lifetime: settings[AuthSettings.tokenLifetime], clock: clock),
            access: AccessControl(database: parts.database, tokenLifetime: settings[AuthSettings.tokenLifetime], clock: clock),
            lifecycle: SessionLifecycle(
                store: sessions,
                configuration: .init(
                    cookieName: settings[AuthSettings.sessionCookieName], secure: settings[AuthSettings.sessionCookieSecure],
                    sameSite: settings[AuthSettings.sessionCookieSameSite] == .strict ? .strict : .lax,
                    idleTimeout: settings[AuthSettings.sessionIdleTimeout], absoluteTimeout: settings[AuthSettings.sessionAbsoluteTimeout]),
                clock: clock)))
    }

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        let parts = app.part(Parts.self)
        var stages: [PipelineStage] = []
        if group.loadsSessions {
            stages.append(.asyncHook(.session, "auth.session", SessionLoader(sessions: parts.lifecycle)))
            stages.append(.finisher(.session, "auth.session.save", SessionSaver(sessions: parts.lifecycle, access: parts.access)))
            stages.append(.finisher(.permissions, "auth.elevation.log", ElevationLogger(access: parts.access, clock: app.clock)))
        }
        if group.authenticatesTokens || group.loadsSessions {
            stages.append(.asyncHook(.identity, "auth.identity", IdentityHook(
                tokens: group.authenticatesTokens ? parts.apiTokens : nil, access: parts.access, fromSession: group.loadsSessions)))
        }
        let required = group.requiredPermissions
        if !required.isEmpty || group.requiresStaff || group.elevationRequirement != nil {
            let declared = Set(app.permissions.map(\.codename))
            let undeclared = required.subtracting(declared).sorted()
            precondition(undeclared.isEmpty, "Route group \(group) requires \(undeclared.joined(separator: ", ")), which no module declares (KeelModule.permissions).")
            stages.append(.asyncHook(.permissions, "auth.permissions", AccessHook(
                staff: group.requiresStaff, required: required, elevation: group.elevationRequirement, format: group.errorFormat,
                access: parts.access, clock: app.clock)))
        }
        return stages
    }
}

extension KeelApplication {
    /// What `AuthModule` installed.
    public var auth: AuthModule.Parts { part(AuthModule.Parts.self) }
    /// Where sessions live (`security.session.store`).
    public var sessions: any SessionStore { auth.sessions }
    /// Failed-login counters shared by every instance (`security.loginThrottle.*`).
    public var loginThrottle: LoginThrottle { auth.loginThrottle }
    /// Password hashing (`auth.passwordIterations`).
    public var passwordHasher: PasswordHasher { auth.passwordHasher }
    /// Password policy (`auth.passwordMinLength`, `auth.passwordRejectCommon`).
    public var passwordPolicy: PasswordPolicy { auth.passwordPolicy }
    /// Permissions, groups, grants, staff and superuser flags (`docs/permissions.md`).
    public var access: AccessControl { auth.access }
    /// API tokens (JWT) signed with the keyring (`auth.tokenLifetime`).
    public var apiTokens: APITokens { auth.apiTokens }

    /// Ends every session of a user except, if given, the current one: call it when a password changes, an account
    /// is disabled, or a user asks to log out everywhere.
    public func endSessions(of userID: String, except current: Session? = nil) async throws {
        try await sessions.deleteAll(userID: userID, except: current?.key)
    }
}

/// Loads the session the cookie names before the rest of the pipeline (no cookie, no work).
struct SessionLoader: AsyncRequestHook {
    let sessions: SessionLifecycle

    func enter(_ request: inout Request, context: inout KeelContext) async throws -> Response? {
        try await sessions.load(request, into: context.session)
        return nil
    }
}

/// Saves the session once the response exists (rotating the key and setting the cookie as needed): after an error
/// page has rendered, so what rendering took from the session (its flash messages) is saved too. Below 500 it commits,
/// error responses included (a logout before a 403 sticks), as Django saves; a server error commits nothing.
struct SessionSaver: RequestFinisher {
    let sessions: SessionLifecycle
    let access: AccessControl

    func finish(_ request: Request, response: inout Response, context: KeelContext) async throws {
        guard response.status.code < 500 else { return }
        try await sessions.finish(context.session, response: &response)
        // A sign-in that stuck: the access review shows when each user last signed in. Failing to note it never
        // fails the sign-in.
        if let userID = context.session.withState({ $0.loggedIn ? $0.record?.userID : nil }) {
            do {
                try await access.recordLogin(of: userID)
            } catch {
                context.logger.warning("could not record a sign-in", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}

/// One identity: the token's when the group takes tokens and `Authorization` is sent (a bad one is `.invalid`, never
/// the session's user instead), else the loaded session's logged-in user.
struct IdentityHook: AsyncRequestHook {
    let tokens: APITokens?
    let access: AccessControl
    let fromSession: Bool

    func enter(_ request: inout Request, context: inout KeelContext) async throws -> Response? {
        if let tokens, request.headers[.authorization] != nil, let identity = await tokens.identity(for: request, revocations: access) {
            context.identity = identity
        } else if fromSession, let identity = context.session.identity {
            context.identity = identity
        }
        return nil
    }
}
