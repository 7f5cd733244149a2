import Keel
import KeelTesting
import Testing

@Suite struct SecurityChecksTests {
    func ids(_ values: [String: String], profile: Profile = .production) async throws -> [String] {
        let settings = try await KeelTestApplication.resolveSettings(profile: profile, values: productionValues.merging(values) { $1 })
        return CheckRegistry(checks: SecurityChecks.all + OpsChecks.all + DatabaseChecks.all + AuthSettings.checks).run(settings, deploy: true, silenced: []).map(\.id.rawValue)
    }

    @Test func productionDefaultsWithARealKeyAndHostsAreQuiet() async throws {
        #expect(try await ids([:]) == [])
    }

    @Test(arguments: [
        (["security.hsts.maxAge": "0"], "security.W004"),
        (["security.hsts.includeSubDomains": "false"], "security.W005"),
        (["security.contentTypeNosniff": "false"], "security.W006"),
        (["security.sslRedirect": "false"], "security.W008"),
        (["security.frameOptions": "SAMEORIGIN"], "security.W019"),
        (["http.allowedHosts": ""], "security.W020"),
        (["http.allowedHosts": "*"], "security.W101"),
        (["security.referrerPolicy": "unsafe-url"], "security.W102"),
        (["security.csp.enabled": "false"], "security.W103"),
        (["security.csp.reportOnly": "true"], "security.W104"),
        (["security.csp.policy": "default-src 'self'; script-src 'self' 'unsafe-inline'"], "security.W105"),
        (["security.trustedProxies": ""], "security.W106"),
        (["http.shutdownDrainDelay": "40s"], "ops.E003"),
        (["security.session.cookieSecure": "false"], "security.W012"),
        (["security.session.store": "memory"], "security.W107"),
        (["auth.passwordIterations": "10000"], "security.W108"),
        (["cors.allowedOrigins": "*"], "security.W109"),
    ])
    func eachCheckFiresOnItsBadSetting(values: [String: String], id: String) async throws {
        #expect(try await ids(values) == [id])
    }

    @Test func developmentIsFlaggedWhenDeployChecksRunThere() async throws {
        let found = try await ids(["security.sslRedirect": "true"], profile: .development)
        #expect(found.contains("security.W018"))
    }

    @Test(.enabled(if: DatabaseURL.postgresAvailable, "PostgreSQL URLs need the PostgreSQL trait"))
    func plainTextToARemoteDatabaseIsFlagged() async throws {
        #expect(try await ids(["database.url": "postgres://app:pw@db.internal:5432/app"]) == ["database.W001"])
    }

    @Test(.enabled(if: DatabaseURL.postgresAvailable, "PostgreSQL URLs need the PostgreSQL trait"))
    func tlsToALocalOrVerifiedDatabaseIsQuiet() async throws {
        #expect(try await ids(["database.url": "postgres://app:pw@127.0.0.1:5432/app"]) == [])
        #expect(try await ids(["database.url": "postgres://app:pw@db.internal:5432/app?sslmode=verify-full"]) == [])
    }
}
