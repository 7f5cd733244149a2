public import KeelSettings

/// Where sessions live (`security.session.store`).
public enum SessionStoreKind: String, Sendable, SettingEnum {
    /// In the database: shared by every instance, kept across restarts.
    case database
    /// In this process only: lost on restart, not shared (flagged by `security.W107`).
    case memory
}

/// The session cookie's `SameSite` attribute (`security.session.cookieSameSite`). `None` is not offered: it would send
/// the cookie on cross-site requests.
public enum SameSitePolicy: String, Sendable, SettingEnum {
    case lax = "Lax"
    case strict = "Strict"
}

/// Session, password, API token and login-throttling settings (see `docs/security.md`).
public enum AuthSettings {
    public static let sessionStore = Setting<SessionStoreKind>(
        "security.session.store", default: .database,
        doc: "Where sessions live: `database` (shared by every instance) or `memory` (this process only).")
    public static let sessionCookieName = Setting<String>(
        "security.session.cookieName", default: "keel_session", allowed: .nonEmpty, doc: "Name of the session cookie.")
    public static let sessionCookieSecure = Setting<Bool>(
        "security.session.cookieSecure", default: true, profiles: [.development: false, .test: false],
        doc: "Send the session cookie over HTTPS only (off in development and test, which serve plain HTTP).")
    public static let sessionCookieSameSite = Setting<SameSitePolicy>(
        "security.session.cookieSameSite", default: .lax,
        doc: "SameSite attribute of the session cookie.")
    public static let sessionIdleTimeout = Setting<Duration>(
        "security.session.idleTimeout", default: .seconds(12 * 3600), allowed: .range(.seconds(1) ... .seconds(90 * 86_400)),
        doc: "A session unused for this long ends (sliding: each use extends it). Seconds are allowed so tests can wait it out.")
    public static let sessionAbsoluteTimeout = Setting<Duration>(
        "security.session.absoluteTimeout", default: .seconds(14 * 86_400), allowed: .range(.seconds(60) ... .seconds(365 * 86_400)),
        doc: "A session ends this long after it began, however active.")
    public static let throttleMaxFailures = Setting<Int>(
        "security.loginThrottle.maxFailures", default: 5, allowed: .range(1...1000),
        doc: "Failed logins for one account within the window before it is locked out.")
    public static let throttleMaxClientFailures = Setting<Int>(
        "security.loginThrottle.maxClientFailures", default: 20, allowed: .range(1...100_000),
        doc: "Failed logins from one client address within the window before it is locked out.")
    public static let throttleWindow = Setting<Duration>(
        "security.loginThrottle.window", default: .seconds(900), allowed: .range(.seconds(1) ... .seconds(86_400)),
        doc: "How long failures are counted.")
    public static let throttleLockout = Setting<Duration>(
        "security.loginThrottle.lockout", default: .seconds(900), allowed: .range(.seconds(1) ... .seconds(86_400)),
        doc: "How long a lockout lasts; answered 429 with Retry-After.")

    public static let passwordIterations = Setting<Int>(
        "auth.passwordIterations", default: 1_000_000, profiles: [.test: 1_000], allowed: .range(1_000...100_000_000),
        doc: "PBKDF2-SHA256 iterations for new password hashes (Django 5.2's default); older hashes are upgraded at login. Lower in the test profile only.")
    public static let passwordMinLength = Setting<Int>(
        "auth.passwordMinLength", default: 8, allowed: .range(1...128),
        doc: "Shortest password accepted on register and change.")
    public static let passwordRejectCommon = Setting<Bool>(
        "auth.passwordRejectCommon", default: true,
        doc: "Refuse the most common passwords on register and change.")
    public static let tokenLifetime = Setting<Duration>(
        "auth.tokenLifetime", default: .seconds(30 * 86_400), allowed: .range(.seconds(60) ... .seconds(365 * 86_400)),
        doc: "How long an API token (JWT) stays valid.")
    public static let tokenScheme = Setting<String>(
        "auth.tokenScheme", default: "Token",
        allowed: .init(allowed: "an HTTP authentication scheme: letters, digits, - . _ ~ +") { scheme in
            !scheme.isEmpty && scheme.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._~+".unicodeScalars.contains($0)) }
                ? nil : "must be an HTTP authentication scheme such as Token or Bearer"
        },
        doc: "The scheme a 401 names in WWW-Authenticate on API routes (RealWorld's and Django REST framework's `Token`; `Bearer` for OAuth-style clients). Both are accepted in Authorization either way.")

    public static var all: [any AnySetting] {
        [
            passwordIterations, passwordMinLength, passwordRejectCommon, tokenLifetime,
            sessionStore, sessionCookieName, sessionCookieSecure, sessionCookieSameSite, sessionIdleTimeout, sessionAbsoluteTimeout,
            throttleMaxFailures, throttleMaxClientFailures, throttleWindow, throttleLockout, tokenScheme,
        ]
    }

    /// `security.W012`: a session cookie sent over plain HTTP can be stolen on the network.
    public static let checks = [
        SystemCheck(ids: [.insecureSessionCookie, .memorySessions, .weakPasswordHashing], deploy: true) { settings in
            var found: [CheckFinding] = []
            if !settings[sessionCookieSecure] {
                found.append(CheckFinding(id: .insecureSessionCookie, level: settings.profile.isDeployed ? .error : .warning,
                    message: "security.session.cookieSecure is off, so the session cookie is sent over plain HTTP and can be stolen on the network.",
                    hint: "Set SECURITY_SESSION_COOKIE_SECURE=true."))
            }
            if settings[sessionStore] == .memory {
                found.append(CheckFinding(id: .memorySessions, level: .warning,
                    message: "security.session.store is memory: sessions vanish on restart and are not shared between instances.",
                    hint: "Set SECURITY_SESSION_STORE=database."))
            }
            if settings[passwordIterations] < 600_000 {
                found.append(CheckFinding(id: .weakPasswordHashing, level: .warning,
                    message: "auth.passwordIterations is \(settings[passwordIterations]): stolen password hashes would be cheap to crack.",
                    hint: "Set AUTH_PASSWORD_ITERATIONS to at least 600000 (OWASP) — 1000000 is the default."))
            }
            return found
        }
    ]
}

/// The ids KeelAuth's checks reports (see `docs/checks.md`).
extension CheckID {
    /// `security.W012`: the session cookie is sent over plain HTTP.
    public static let insecureSessionCookie: CheckID = "security.W012"
    /// `security.W107`: sessions live in one process only.
    public static let memorySessions: CheckID = "security.W107"
    /// `security.W108`: too few PBKDF2 iterations.
    public static let weakPasswordHashing: CheckID = "security.W108"
}
