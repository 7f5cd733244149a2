public import ArgumentParser
public import KeelData
public import KeelKernel
import KeelSecurity
public import KeelSettings
import Hummingbird
import HTTPTypes
import KeelCore
import Logging

/// Keel's authentication capability as a module: who a request is from, and how they prove it.
///
/// - Settings: `security.session.*`, `security.loginThrottle.*`, `auth.password*`, `auth.tokenLifetime`,
///   `auth.tokenScheme`, with their checks (`security.W012`, `security.W107`, `security.W108`).
/// - Tables (migrations): `keel_sessions` (`auth.0001_sessions`), `keel_login_failures` (`auth.0002_login_failures`,
///   `auth.0003_login_checks`), `keel_token_revocations` (`auth.0006_token_revocations`). The first three are stored
///   as `keel.0001_sessions`…: a migration's name never changes once applied.
/// - Parts: `app.sessions`, `app.loginThrottle`, `app.passwordHasher`, `app.passwordPolicy`, `app.apiTokens`,
///   `app.tokenRevocations`; it reads the application's users (`UserDirectory`) when one is installed.
/// - Commands: `sessions clear-expired`, `changepassword`.
/// - Stages:
///
/// | stage | slot | kind | groups |
/// |---|---|---|---|
/// | `auth.session`: load the cookie's session | session | async hook | `loadsSessions` |
/// | `auth.session.save`: save, rotate or clear it once the response exists | session | finisher | `loadsSessions` |
/// | `auth.identity`: `context.identity` from the API token (`context.apiToken`), else the session's user; a 401 gets `WWW-Authenticate: <auth.tokenScheme>` | identity | async hook | `authenticatesTokens` or `loadsSessions` |
///
/// Needs `SecurityModule` before it (API tokens are signed with its keyring).
public struct AuthModule: KeelModule {
    public init() {}

    public var name: String { "auth" }
    public var settings: [any AnySetting] { AuthSettings.all }
    public var checks: [SystemCheck] { AuthSettings.checks }
    public var migrations: [any KeelMigration] { [SQLSessionStore.migration] + LoginThrottle.migrations + [TokenRevocations.migration] }
    /// `sessions clear-expired`, `changepassword`.
    public var commands: [any ParsableCommand.Type] { [SessionsCommand.self, ChangePasswordCommand.self] }

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
        /// Tokens revoked per user (`app.revokeTokens(of:)`).
        public let tokenRevocations: TokenRevocations
        let lifecycle: SessionLifecycle
        let database: KeelDatabase

        /// Ends every session of a user except, if given, the current one, and records `auth.sessions_ended` (who
        /// did it is the request's or command's actor): call it when a password changes, an account is disabled,
        /// or a user asks to log out everywhere.
        public func endSessions(of userID: String, except current: Session? = nil) async throws {
            try await sessions.deleteAll(userID: userID, except: current?.key)
            try await database.record(ChangeEvent("auth.sessions_ended", subject: userID, details: current == nil ? [:] : ["kept": "the current session"]))
        }

        /// Ends every API token already issued to the user and records `auth.tokens_revoked`.
        public func revokeTokens(of userID: String) async throws {
            try await tokenRevocations.revoke(userID: userID)
            try await database.record(ChangeEvent("auth.tokens_revoked", subject: userID))
        }
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
            tokenRevocations: TokenRevocations(database: parts.database, lifetime: settings[AuthSettings.tokenLifetime], clock: clock),
            lifecycle: SessionLifecycle(
                store: sessions,
                configuration: .init(
                    cookieName: settings[AuthSettings.sessionCookieName], secure: settings[AuthSettings.sessionCookieSecure],
                    sameSite: settings[AuthSettings.sessionCookieSameSite] == .strict ? .strict : .lax,
                    idleTimeout: settings[AuthSettings.sessionIdleTimeout], absoluteTimeout: settings[AuthSettings.sessionAbsoluteTimeout]),
                clock: clock),
            database: parts.database))
    }

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        let parts = app.part(Parts.self)
        var stages: [PipelineStage] = []
        if group.loadsSessions {
            stages.append(.asyncHook(.session, "auth.session", SessionLoader(sessions: parts.lifecycle)))
            stages.append(.finisher(.session, "auth.session.save", SessionSaver(sessions: parts.lifecycle, database: app.database)))
        }
        if group.authenticatesTokens || group.loadsSessions {
            stages.append(.asyncHook(.identity, "auth.identity", IdentityHook(
                tokens: group.authenticatesTokens ? parts.apiTokens : nil, revocations: parts.tokenRevocations, fromSession: group.loadsSessions,
                challenge: group.authenticatesTokens ? app.settings[AuthSettings.tokenScheme] : nil)))
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
    /// API tokens (JWT) signed with the keyring (`auth.tokenLifetime`).
    public var apiTokens: APITokens { auth.apiTokens }

    /// Ends every session of a user except, if given, the current one: call it when a password changes, an account
    /// is disabled, or a user asks to log out everywhere.
    public func endSessions(of userID: String, except current: Session? = nil) async throws {
        try await auth.endSessions(of: userID, except: current)
    }

    /// Ends every API token already issued to the user (they sign in again for a new one): for a deactivated
    /// account, a required new password, "sign out everywhere". Counts at once on this instance and within seconds
    /// on the others (`TokenRevocations`).
    public func revokeTokens(of userID: String) async throws {
        try await auth.revokeTokens(of: userID)
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
    let database: KeelDatabase

    func finish(_ request: Request, response: inout Response, context: KeelContext) async throws {
        guard response.status.code < 500 else { return }
        // A sign-out is recorded as the user who signed out, in this request. Finishers run outside the handler's
        // attribution, and the context they are given can be the copy from before the identity stage (a wrapper such as
        // the request deadline runs the rest on its own copy), so both are set here.
        if let userID = context.session.withState({ $0.destroy ? $0.loggedOutUserID : nil }) {
            var attribution = ChangeAttribution(context)
            attribution.actor = userID
            attribution.via = .session
            try await ChangeAttribution.$current.withValue(attribution) {
                try await database.record(ChangeEvent("auth.sign_out", subject: userID))
            }
        }
        try await sessions.finish(context.session, response: &response)
    }
}

/// One identity: the token's when the group takes tokens and `Authorization` is sent (a bad one is `.invalid`, never
/// the session's user instead), else the loaded session's logged-in user. On groups that take tokens, every 401 on the
/// way out names the scheme (`WWW-Authenticate`, RFC 7235), whoever refused the request.
struct IdentityHook: AsyncRequestHook {
    let tokens: APITokens?
    let revocations: TokenRevocations
    let fromSession: Bool
    /// `auth.tokenScheme`, on groups that take tokens.
    let challenge: String?

    func enter(_ request: inout Request, context: inout KeelContext) async throws -> Response? {
        if let tokens, request.headers[.authorization] != nil, let (identity, token) = await tokens.identity(for: request, revocations: revocations) {
            context.identity = identity
            if let token { context.state[PresentedToken.self] = token }
        } else if fromSession, let identity = context.session.identity {
            context.identity = identity
        }
        return nil
    }

    func leave(_ request: Request, response: inout Response, context: KeelContext) {
        if let challenge, response.status == .unauthorized, response.headers[.wwwAuthenticate] == nil {
            response.headers[.wwwAuthenticate] = challenge
        }
    }
}
