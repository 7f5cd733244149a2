import KeelCore
public import KeelSettings

/// The deploy checks for transport security and headers. Ids reuse Django's numbers where the check is the same;
/// Keel's own start at 101. See `docs/security.md`.
public enum SecurityChecks {
    static func finding(_ id: CheckID, _ message: String, _ hint: String, level: CheckLevel = .warning) -> CheckFinding {
        CheckFinding(id: id, level: level, message: message, hint: hint)
    }

    public static let headers = SystemCheck(
        ids: [.hstsDisabled, .hstsWithoutSubdomains, .nosniffDisabled, .sslRedirectDisabled, .deployChecksInDevelopment, .framingAllowed, .noAllowedHosts,
              .anyHostAllowed, .leakyReferrerPolicy, .cspDisabled, .cspReportOnly, .unsafeCSP, .redirectWithoutTrustedProxies, .anyCORSOrigin],
        deploy: true
    ) { settings in
        var found: [CheckFinding] = []
        if settings.profile == .development {
            found.append(finding(.deployChecksInDevelopment, "The deploy checks are running in the development profile, which has development defaults (a development signing key, no HTTPS redirect).",
                                 "Run the deploy checks with the deployment's profile: --profile production (or KEEL_PROFILE=production)."))
        }
        if settings[SecuritySettings.hstsMaxAge] == 0 {
            found.append(finding(.hstsDisabled, "security.hsts.maxAge is 0, so browsers are not told to use HTTPS only and a first plain-HTTP visit can be intercepted.",
                                 "Set SECURITY_HSTS_MAX_AGE to 31536000 once the whole site is served over HTTPS."))
        } else if !settings[SecuritySettings.hstsIncludeSubDomains] {
            found.append(finding(.hstsWithoutSubdomains, "security.hsts.includeSubDomains is off, so subdomains can be reached over plain HTTP and set cookies for this domain.",
                                 "Set SECURITY_HSTS_INCLUDE_SUB_DOMAINS=true once every subdomain is served over HTTPS."))
        }
        if !settings[SecuritySettings.contentTypeNosniff] {
            found.append(finding(.nosniffDisabled, "security.contentTypeNosniff is off, so browsers may guess content types and run uploaded files as scripts.",
                                 "Set SECURITY_CONTENT_TYPE_NOSNIFF=true."))
        }
        if !settings[SecuritySettings.sslRedirect] {
            found.append(finding(.sslRedirectDisabled, "security.sslRedirect is off, so plain-HTTP requests are served instead of redirected to HTTPS.",
                                 "Set SECURITY_SSL_REDIRECT=true, or redirect at the proxy and silence this id."))
        } else if settings[SecuritySettings.trustedProxies].isEmpty {
            found.append(finding(.redirectWithoutTrustedProxies, "security.sslRedirect is on but security.trustedProxies is empty: Keel does not terminate TLS, so no request can be recognised as HTTPS and every one is redirected.",
                                 "List the proxy that terminates TLS in SECURITY_TRUSTED_PROXIES and have it send X-Forwarded-Proto."))
        }
        if settings[SecuritySettings.frameOptions] != .deny {
            found.append(finding(.framingAllowed, "security.frameOptions is \(settings[SecuritySettings.frameOptions].rawValue), so pages of this site can be framed by the same origin (clickjacking through any framing page).",
                                 "Set SECURITY_FRAME_OPTIONS=DENY unless the site frames itself."))
        }
        // Host problems stop a deployment from starting: error level in staging and production.
        let hostLevel: CheckLevel = settings.profile.isDeployed ? .error : .warning
        let hosts = settings[SecuritySettings.allowedHosts]
        if hosts.isEmpty {
            found.append(finding(.noAllowedHosts, "http.allowedHosts is empty, so every request is refused.", "Set HTTP_ALLOWED_HOSTS to the site's host names.",
                                 level: hostLevel))
        } else if hosts.contains("*") {
            found.append(finding(.anyHostAllowed, "http.allowedHosts contains '*', so any Host header is accepted and links built from it (password resets) can point anywhere.",
                                 "List the real host names in HTTP_ALLOWED_HOSTS (`.example.com` allows subdomains).", level: hostLevel))
        }
        if [.unsafeURL, .noReferrerWhenDowngrade].contains(settings[SecuritySettings.referrerPolicy]) {
            found.append(finding(.leakyReferrerPolicy, "security.referrerPolicy is \(settings[SecuritySettings.referrerPolicy].rawValue), so full URLs (with tokens or ids in them) leak to other sites.",
                                 "Set SECURITY_REFERRER_POLICY=same-origin (or strict-origin-when-cross-origin)."))
        }
        if !settings[SecuritySettings.cspEnabled] {
            found.append(finding(.cspDisabled, "security.csp.enabled is off, so an injected script runs with the page's full rights.",
                                 "Set SECURITY_CSP_ENABLED=true; loosen the policy per route if a page needs it."))
        } else {
            if settings[SecuritySettings.cspReportOnly] {
                found.append(finding(.cspReportOnly, "security.csp.reportOnly is on: violations are reported but not blocked.",
                                     "Set SECURITY_CSP_REPORT_ONLY=false once the reports are clean."))
            }
            let policy = settings[SecuritySettings.cspPolicy]
            if policy.contains("'unsafe-inline'") || policy.contains("'unsafe-eval'") || policy.contains("script-src *") {
                found.append(finding(.unsafeCSP, "security.csp.policy allows 'unsafe-inline', 'unsafe-eval' or any script source, which defeats most of its protection.",
                                     "Use the request nonce ({nonce}) for inline scripts and styles instead."))
            }
        }
        if settings[SecuritySettings.corsAllowedOrigins].contains("*") {
            found.append(finding(.anyCORSOrigin, "cors.allowedOrigins contains '*', so any website can call the API from its visitors' browsers.",
                                 "List the front ends' origins in CORS_ALLOWED_ORIGINS."))
        }
        return found
    }

    /// The prefix of the development default key: never acceptable in a deployment.
    static let insecureKeyPrefix = "keel-insecure-"

    /// Whether a key is too weak to sign anything that matters: shorter than 32 bytes, fewer than 5 distinct
    /// characters, or Keel's insecure development default (Django's `_check_secret_key` rule, plus the default).
    public static func isWeakKey(_ key: String) -> Bool {
        key.utf8.count < 32 || Set(key).count < 5 || key.hasPrefix(insecureKeyPrefix)
    }

    /// `security.W009` and `security.W025`: the signing key and its fallbacks must be strong. Error level in staging
    /// and production (serve refuses to start), warning elsewhere.
    public static let signingKeys = SystemCheck(ids: [.weakSigningKey, .weakFallbackKey], deploy: true) { settings in
        let level: CheckLevel = settings.profile.isDeployed ? .error : .warning
        var findings: [CheckFinding] = []
        if isWeakKey(settings[SecuritySettings.signingKey]) {
            findings.append(CheckFinding(
                id: .weakSigningKey, level: level,
                message: "signing.key is shorter than 32 bytes, has fewer than 5 distinct characters, or is the insecure development default, so signed sessions and tokens can be forged.",
                hint: "Set SIGNING_KEY (or SIGNING_KEY_FILE) to at least 32 random bytes, such as the output of `conduit keys generate`; keep the old key in SIGNING_FALLBACK_KEYS while rotating."))
        }
        let weakFallbacks = settings[SecuritySettings.signingFallbackKeys].enumerated().filter { isWeakKey($0.element) }.map { String($0.offset) }
        if !weakFallbacks.isEmpty {
            findings.append(CheckFinding(
                id: .weakFallbackKey, level: level,
                message: "signing.fallbackKeys has weak entries (positions \(weakFallbacks.joined(separator: ", "))): anything they signed can be forged.",
                hint: "Remove weak keys from SIGNING_FALLBACK_KEYS; every fallback must be at least 32 random bytes."))
        }
        return findings
    }

    public static var all: [SystemCheck] { [signingKeys, headers] }
}

/// The ids `SecurityChecks` reports (see `docs/checks.md`).
extension CheckID {
    /// `security.W009`: the signing key is weak or the development default.
    public static let weakSigningKey: CheckID = "security.W009"
    /// `security.W025`: a fallback signing key is weak.
    public static let weakFallbackKey: CheckID = "security.W025"
    /// `security.W004`: HSTS is off (`security.hsts.maxAge` is 0).
    public static let hstsDisabled: CheckID = "security.W004"
    /// `security.W005`: HSTS leaves subdomains out.
    public static let hstsWithoutSubdomains: CheckID = "security.W005"
    /// `security.W006`: `X-Content-Type-Options: nosniff` is off.
    public static let nosniffDisabled: CheckID = "security.W006"
    /// `security.W008`: Plain HTTP is served instead of redirected.
    public static let sslRedirectDisabled: CheckID = "security.W008"
    /// `security.W018`: Deploy checks run in the development profile.
    public static let deployChecksInDevelopment: CheckID = "security.W018"
    /// `security.W019`: Pages may be framed by the same origin.
    public static let framingAllowed: CheckID = "security.W019"
    /// `security.W020`: No host is allowed.
    public static let noAllowedHosts: CheckID = "security.W020"
    /// `security.W101`: Any Host is allowed (`*`).
    public static let anyHostAllowed: CheckID = "security.W101"
    /// `security.W102`: The referrer policy leaks full URLs.
    public static let leakyReferrerPolicy: CheckID = "security.W102"
    /// `security.W103`: No Content-Security-Policy.
    public static let cspDisabled: CheckID = "security.W103"
    /// `security.W104`: The policy only reports.
    public static let cspReportOnly: CheckID = "security.W104"
    /// `security.W105`: The policy allows inline or eval'd scripts.
    public static let unsafeCSP: CheckID = "security.W105"
    /// `security.W106`: HTTPS redirect on, but no proxy is trusted to say a request was HTTPS.
    public static let redirectWithoutTrustedProxies: CheckID = "security.W106"
    /// `security.W109`: Any origin may call the API.
    public static let anyCORSOrigin: CheckID = "security.W109"
}
