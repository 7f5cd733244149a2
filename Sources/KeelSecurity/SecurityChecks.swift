public import KeelSettings

/// The deploy checks for transport security and headers. Ids reuse Django's numbers where the check is the same;
/// Keel's own start at 101. See `docs/security.md`.
public enum SecurityChecks {
    static func finding(_ id: String, _ message: String, _ hint: String, level: CheckLevel = .warning) -> CheckFinding {
        CheckFinding(id: id, level: level, message: message, hint: hint)
    }

    public static let headers = SystemCheck(
        ids: ["security.W004", "security.W005", "security.W006", "security.W008", "security.W018", "security.W019", "security.W020",
              "security.W101", "security.W102", "security.W103", "security.W104", "security.W105", "security.W106", "security.W109"],
        deploy: true
    ) { settings in
        var found: [CheckFinding] = []
        if settings.profile == .development {
            found.append(finding("security.W018", "The deploy checks are running in the development profile, which has development defaults (a development signing key, no HTTPS redirect).",
                                 "Run the deploy checks with the deployment's profile: --profile production (or KEEL_PROFILE=production)."))
        }
        if settings[SecuritySettings.hstsMaxAge] == 0 {
            found.append(finding("security.W004", "security.hsts.maxAge is 0, so browsers are not told to use HTTPS only and a first plain-HTTP visit can be intercepted.",
                                 "Set SECURITY_HSTS_MAX_AGE to 31536000 once the whole site is served over HTTPS."))
        } else if !settings[SecuritySettings.hstsIncludeSubDomains] {
            found.append(finding("security.W005", "security.hsts.includeSubDomains is off, so subdomains can be reached over plain HTTP and set cookies for this domain.",
                                 "Set SECURITY_HSTS_INCLUDE_SUB_DOMAINS=true once every subdomain is served over HTTPS."))
        }
        if !settings[SecuritySettings.contentTypeNosniff] {
            found.append(finding("security.W006", "security.contentTypeNosniff is off, so browsers may guess content types and run uploaded files as scripts.",
                                 "Set SECURITY_CONTENT_TYPE_NOSNIFF=true."))
        }
        if !settings[SecuritySettings.sslRedirect] {
            found.append(finding("security.W008", "security.sslRedirect is off, so plain-HTTP requests are served instead of redirected to HTTPS.",
                                 "Set SECURITY_SSL_REDIRECT=true, or redirect at the proxy and silence this id."))
        } else if settings[SecuritySettings.trustedProxies].isEmpty {
            found.append(finding("security.W106", "security.sslRedirect is on but security.trustedProxies is empty: Keel does not terminate TLS, so no request can be recognised as HTTPS and every one is redirected.",
                                 "List the proxy that terminates TLS in SECURITY_TRUSTED_PROXIES and have it send X-Forwarded-Proto."))
        }
        if settings[SecuritySettings.frameOptions] != .deny {
            found.append(finding("security.W019", "security.frameOptions is \(settings[SecuritySettings.frameOptions].rawValue), so pages of this site can be framed by the same origin (clickjacking through any framing page).",
                                 "Set SECURITY_FRAME_OPTIONS=DENY unless the site frames itself."))
        }
        // Host problems stop a deployment from starting: error level in staging and production.
        let hostLevel: CheckLevel = settings.profile.isDeployed ? .error : .warning
        let hosts = settings[SecuritySettings.allowedHosts]
        if hosts.isEmpty {
            found.append(finding("security.W020", "http.allowedHosts is empty, so every request is refused.", "Set HTTP_ALLOWED_HOSTS to the site's host names.",
                                 level: hostLevel))
        } else if hosts.contains("*") {
            found.append(finding("security.W101", "http.allowedHosts contains '*', so any Host header is accepted and links built from it (password resets) can point anywhere.",
                                 "List the real host names in HTTP_ALLOWED_HOSTS (`.example.com` allows subdomains).", level: hostLevel))
        }
        if [.unsafeURL, .noReferrerWhenDowngrade].contains(settings[SecuritySettings.referrerPolicy]) {
            found.append(finding("security.W102", "security.referrerPolicy is \(settings[SecuritySettings.referrerPolicy].rawValue), so full URLs (with tokens or ids in them) leak to other sites.",
                                 "Set SECURITY_REFERRER_POLICY=same-origin (or strict-origin-when-cross-origin)."))
        }
        if !settings[SecuritySettings.cspEnabled] {
            found.append(finding("security.W103", "security.csp.enabled is off, so an injected script runs with the page's full rights.",
                                 "Set SECURITY_CSP_ENABLED=true; loosen the policy per route if a page needs it."))
        } else {
            if settings[SecuritySettings.cspReportOnly] {
                found.append(finding("security.W104", "security.csp.reportOnly is on: violations are reported but not blocked.",
                                     "Set SECURITY_CSP_REPORT_ONLY=false once the reports are clean."))
            }
            let policy = settings[SecuritySettings.cspPolicy]
            if policy.contains("'unsafe-inline'") || policy.contains("'unsafe-eval'") || policy.contains("script-src *") {
                found.append(finding("security.W105", "security.csp.policy allows 'unsafe-inline', 'unsafe-eval' or any script source, which defeats most of its protection.",
                                     "Use the request nonce ({nonce}) for inline scripts and styles instead."))
            }
        }
        if settings[SecuritySettings.corsAllowedOrigins].contains("*") {
            found.append(finding("security.W109", "cors.allowedOrigins contains '*', so any website can call the API from its visitors' browsers.",
                                 "List the front ends' origins in CORS_ALLOWED_ORIGINS."))
        }
        return found
    }

    public static var all: [SystemCheck] { [headers] }
}
