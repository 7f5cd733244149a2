import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import SQLKit
import KeelTesting
import Testing

/// A module the way an application writes one: it declares its permissions and protects route groups with them.
struct Moderation: KeelModule {
    var name: String { "moderation" }
    var users = MemoryUserAccounts()

    var permissions: [Permission] {
        [
            Permission("moderation.remove_post", "Remove anyone's post"),
            Permission("moderation.ban_user", "Ban a user"),
        ]
    }

    func install(into parts: inout KeelApplication.Parts) throws {
        parts.install(UserDirectory(users))
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.group(.web.requiring("moderation.remove_post")).get("/mod/queue") { _, _ in "queue" }
        routes.group(.api.requiring("moderation.ban_user")).get("/api/mod/bans") { _, _ in "bans" }
        routes.group(.api.requiring("moderation.ban_user").requiring("moderation.remove_post")).get("/api/mod/purge") { _, _ in "purge" }
        routes.api.get("/api/open") { _, _ in "open" }
        // Staff pages that need elevated access, the page that grants it, and an API route that needs it.
        routes.group(.web.requiringStaff().requiringElevation(at: "/elevate")).get("/staff/panel") { _, _ in "panel" }
        routes.group(.web.requiringStaff()).get("/staff/home") { _, _ in "home" }
        routes.group(.web.exemptingCSRF(because: "the test posts without a form")).post("/elevate") { request, context -> String in
            let form = try FormFields(String(buffer: try await request.body.collect(upTo: 10_000)))
            let until = try await app.elevate(context, password: form["password"] ?? "", reason: form["reason"] ?? "")
            return "until \(Int(until.timeIntervalSince1970))"
        }
        routes.group(.api.requiringElevation()).get("/api/staff/export") { _, _ in "export" }
    }
}

/// Sign-in and what the session then knows, with nothing about staff passed by the application.
struct SignInProbe: KeelModule {
    var name: String { "probe" }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.web.get("/form") { _, context in context.session.csrfToken() }
        routes.web.post("/login") { _, context -> String in
            context.session.login(userID: "u1")
            return "in"
        }
        routes.web.get("/standing") { _, context in context.standing.isStaff ? "staff" : "member" }
        routes.group(.web.requiringStaff()).get("/staff-only") { _, _ in "staff only" }
    }
}

/// `a=1&b=2`, for the test's one form.
struct FormFields {
    let values: [String: String]

    init(_ text: String) throws {
        values = try URLEncodedFormDecoder().decode([String: String].self, from: text)
    }

    subscript(name: String) -> String? { values[name] }
}

extension KeelTestApplication {
    static func moderation(url: String, clock: ManualClock? = nil, users: MemoryUserAccounts = MemoryUserAccounts()) async throws
        -> KeelTestApplication
    {
        let app = try await make(modules: [Moderation(users: users)], values: ["database.url": url], clock: clock)
        try await app.keel.database.prepare()
        try await app.keel.migrate()
        return app
    }

    /// The `Authorization` header of an API token for the user.
    func token(for userID: String) async throws -> HTTPFields {
        [.authorization: "Token " + (try await keel.apiTokens.issue(subject: userID))]
    }

    /// The cookie of a stored session logged in as the user.
    func session(for userID: String) async throws -> HTTPFields {
        let key = String((0..<43).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
        let now = keel.clock()
        try await keel.sessions.insert(SessionRecord(key: key, userID: userID, data: [:], csrfSecret: "s", createdAt: now, lastSeenAt: now))
        return HTTPFields.sessionCookie(key)
    }
}

@Suite struct PermissionTests {
    /// What replicas do at a deploy: three instances run `migrate` on one empty database at the same moment. Each
    /// migration is applied once, the permissions are recorded once, and every run succeeds (the permission sync
    /// after the migrations used to race: two inserts of one permission, one run failing with a unique violation).
    @Test(arguments: TestDatabase.available)
    func threeInstancesMigratingTogetherAllSucceed(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            var instances: [KeelTestApplication] = []
            for _ in 0..<3 {
                let app = try await KeelTestApplication.make(modules: [Moderation()], values: ["database.url": url])
                try await app.keel.database.prepare()
                instances.append(app)
            }
            let results = try await withThrowingTaskGroup(of: ([(Migrator.Step, Migrator.Outcome)], [String]).self) { group in
                for app in instances {
                    group.addTask { try await app.keel.migrate() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 3)
            let applied = results.flatMap(\.0).filter { $0.1 == .done }.map(\.0.name)
            #expect(applied.count == Set(applied).count, "a migration ran twice: \(applied)")
            #expect(Set(applied) == Set(instances[0].keel.migrator.migrations.map(\.name)))
            // One instance recorded the permissions; the others found them there.
            #expect(results.flatMap(\.1).sorted() == ["  Added permission moderation.ban_user", "  Added permission moderation.remove_post"])
            #expect(try await instances[0].keel.access.declared().map(\.codename) == ["moderation.ban_user", "moderation.remove_post"])
            for app in instances { await app.keel.database.shutdown() }
        }
    }

    @Test(arguments: TestDatabase.available)
    func migrateRecordsTheDeclaredPermissionsAndReportsWhatChanged(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.make(modules: [Moderation()], values: ["database.url": url])
            try await app.keel.database.prepare()
            let (_, notes) = try await app.keel.migrate()
            #expect(notes == ["  Added permission moderation.ban_user", "  Added permission moderation.remove_post"])
            #expect(try await app.keel.access.declared().map(\.codename) == ["moderation.ban_user", "moderation.remove_post"])
            #expect(try await app.keel.migrate().notes.isEmpty, "nothing changed, nothing reported")

            // A permission no module declares any more goes, and its grants with it.
            try await app.keel.access.grant("moderation.ban_user", to: "5")
            try await app.keel.access.createGroup("mods")
            try await app.keel.access.grant("moderation.ban_user", toGroup: "mods")
            let (added, removed) = try await app.keel.access.synchronize([Permission("moderation.remove_post", "Remove any post, reworded")])
            #expect(added.isEmpty)
            #expect(removed == ["moderation.ban_user"])
            #expect(try await app.keel.access.declared() == [Permission("moderation.remove_post", "Remove any post, reworded")])
            #expect(try await app.keel.access.permissions(of: "5").isEmpty)
            #expect(try await app.keel.access.groups() == [AccessGroup(name: "mods", permissions: [], members: [])])
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func usersHoldPermissionsDirectlyThroughGroupsOrAsSuperusers(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.moderation(url: url)
            let access = app.keel.access
            try await access.grant("moderation.remove_post", to: "1")
            try await access.createGroup("banners")
            try await access.grant("moderation.ban_user", toGroup: "banners")
            try await access.add(user: "2", toGroup: "banners")
            try await access.setFlags(of: "3", staff: false, superuser: true)

            #expect(try await access.permissions(of: "1") == ["moderation.remove_post"])
            #expect(try await access.permissions(of: "2") == ["moderation.ban_user"])
            #expect(try await access.permissions(of: "3") == ["moderation.ban_user", "moderation.remove_post"])
            #expect(try await access.permissions(of: "4").isEmpty)
            #expect(try await access.account("3").isStaff, "a superuser is staff")

            try await access.remove(user: "2", fromGroup: "banners")
            #expect(try await access.permissions(of: "2").isEmpty)
            try await access.revoke("moderation.remove_post", from: "1")
            #expect(try await access.permissions(of: "1").isEmpty)

            // Deleting a group takes what it gave from its members (the foreign keys cascade), and only that.
            try await access.grant("moderation.remove_post", to: "2")
            try await access.add(user: "2", toGroup: "banners")
            #expect(try await access.permissions(of: "2") == ["moderation.ban_user", "moderation.remove_post"])
            try await access.deleteGroup("banners")
            #expect(try await access.groups().isEmpty)
            #expect(try await access.permissions(of: "2") == ["moderation.remove_post"])

            // Loud when misused: an undeclared permission, a group that does not exist, a blank group name.
            await #expect(throws: KeelError.self) { try await access.grant("moderation.nope", to: "1") }
            await #expect(throws: KeelError.self) { try await access.add(user: "1", toGroup: "nobody") }
            await #expect(throws: KeelError.self) { try await access.createGroup("  ") }
            await app.keel.database.shutdown()
        }
    }

    @Test(arguments: TestDatabase.available)
    func aRoutePolicyThatRequiresAPermissionAllowsHoldersAndRefusesEveryoneElse(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.moderation(url: url)
            try await app.keel.access.grant("moderation.ban_user", to: "1")
            try await app.keel.access.grant("moderation.remove_post", to: "2")
            try await app.keel.access.setFlags(of: "9", staff: true, superuser: true)
            try await app.application().test(.router) { client in
                // API: nobody is a 401, a holder passes, anyone else is a 403 naming what is missing, as JSON.
                try await client.execute(uri: "/api/mod/bans", method: .get) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: try await app.token(for: "1")) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "bans")
                }
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: try await app.token(for: "2")) { response in
                    #expect(response.status == .forbidden)
                    let body = String(buffer: response.body)
                    #expect(body.contains(#""code":"permission.denied""#))
                    #expect(body.contains("moderation.ban_user"))
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                }
                // Two requirements: both are needed; the superuser holds every one.
                try await client.execute(uri: "/api/mod/purge", method: .get, headers: try await app.token(for: "1")) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("moderation.remove_post"))
                }
                try await client.execute(uri: "/api/mod/purge", method: .get, headers: try await app.token(for: "9")) { #expect($0.status == .ok) }
                try await client.execute(uri: "/api/open", method: .get) { #expect($0.status == .ok) }

                // Web: the same decision from the session's user, as an HTML page.
                try await client.execute(uri: "/mod/queue", method: .get, headers: try await app.session(for: "2")) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "queue")
                }
                try await client.execute(uri: "/mod/queue", method: .get, headers: try await app.session(for: "1")) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(String(buffer: response.body).contains("moderation.remove_post"), "the page names what is missing")
                }
                try await client.execute(uri: "/mod/queue", method: .get) { #expect($0.status == .unauthorized) }
            }
            // A grant takes effect on the next request: nothing is cached past it.
            try await app.keel.access.grant("moderation.remove_post", to: "1")
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/mod/queue", method: .get, headers: try await app.session(for: "1")) { #expect($0.status == .ok) }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func theStageRunsOnlyWhereAGroupRequiresAPermission() async throws {
        let app = try await KeelTestApplication.moderation(url: "sqlite://:memory:")
        let required = RoutePolicy.api.requiring("moderation.ban_user")
        #expect(app.keel.stages(for: required).map(\.name).contains("access.permissions"))
        #expect(!app.keel.stages(for: .api).map(\.name).contains("access.permissions"))
        #expect(required.requiredPermissions == ["moderation.ban_user"])
        #expect(required.requiring("moderation.remove_post").requiredPermissions == ["moderation.ban_user", "moderation.remove_post"])
        // It runs after the identity (and after KeelWeb's sign-in requirement, in the slot before).
        let names = app.keel.stages(for: required).map(\.name)
        #expect(names.firstIndex(of: "auth.identity")! < names.firstIndex(of: "access.permissions")!)
        #expect(StageSlot.access < StageSlot.permissions)
    }

    @Test func misnamedOrDuplicatePermissionsStopTheApplication() async throws {
        struct Misnamed: KeelModule {
            var name: String { "blog" }
            var permissions: [Permission] {
                [Permission("posts.delete_post", "wrong module"), Permission("blog.Delete-Post", "bad characters"), Permission("blog.ok", "fine"),
                 Permission("blog.ok", "twice")]
            }
        }
        do {
            _ = try await KeelTestApplication.make(modules: [Misnamed()])
            Issue.record("the application assembled")
        } catch let error as PermissionDeclarationError {
            #expect(error.problems.count == 3)
            #expect(error.description.contains("posts.delete_post"))
            #expect(error.description.contains("blog.Delete-Post"))
            #expect(error.description.contains("declared twice"))
        }
    }

    @Test(arguments: TestDatabase.available)
    func theReviewShowsWhoHoldsWhatHowAndWhoIsStale(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
            let users = MemoryUserAccounts()
            for name in ["root", "ann"] { _ = try await users.createUser(username: name, email: "\(name)@example.com", password: "password \(name)") }
            let app = try await KeelTestApplication.moderation(url: url, clock: clock, users: users)
            let access = app.keel.access
            try await access.grant("moderation.remove_post", to: "2")
            try await access.createGroup("banners")
            try await access.grant("moderation.ban_user", toGroup: "banners")
            try await access.add(user: "2", toGroup: "banners")
            try await access.add(user: "10", toGroup: "banners")
            try await access.setFlags(of: "1", staff: true, superuser: true)
            try await access.setFlags(of: "3", staff: true, superuser: false)
            try await access.recordLogin(of: "1", at: clock.now.addingTimeInterval(-86_400))
            try await access.recordLogin(of: "2", at: clock.now.addingTimeInterval(-200 * 86_400))
            try await access.recordElevation(of: "1", at: clock.now.addingTimeInterval(-3_600))
            try await access.recordLogin(of: "4", at: clock.now)  // signed in, holds nothing: not in the review

            let review = try await access.review(staleAfter: .seconds(90 * 86_400), names: app.keel.users)
            #expect(review.holders.map(\.userID) == ["1", "2", "3", "10"])
            let superuser = review.holders[0]
            #expect(superuser.name == "root")
            #expect(review.holders[1].name == "ann")
            #expect(review.holders[2].name == nil, "the application does not know user 3")
            #expect(superuser.isSuperuser && superuser.isStaff && !superuser.isStale)
            #expect(superuser.permissions.map(\.codename) == ["moderation.ban_user", "moderation.remove_post"])
            #expect(superuser.permissions.allSatisfy { $0.via == ["superuser"] })
            #expect(superuser.lastElevated == clock.now.addingTimeInterval(-3_600))
            let both = review.holders[1]
            #expect(both.groups == ["banners"])
            #expect(both.permissions == [
                AccessReview.Grant(codename: "moderation.ban_user", via: ["group banners"]),
                AccessReview.Grant(codename: "moderation.remove_post", via: ["direct"]),
            ])
            #expect(both.isStale, "last signed in 200 days ago")
            #expect(review.holders[2].isStaff && review.holders[2].permissions.isEmpty && review.holders[2].isStale, "staff, never signed in")
            #expect(review.holders[3].lastLogin == nil)
            #expect(review.staleCount == 3)
            await app.keel.database.shutdown()
        }
    }

    /// The access module notes a sign-in for the review and snapshots the flags into the session (for pages: the
    /// application passes nothing); requirements read the database, so a demotion counts at once while the snapshot
    /// follows at the next sign-in.
    @Test func aSignInIsRecordedAndSnapshotsTheFlagsWhichRequirementsNeverTrust() async throws {
        let app = try await KeelTestApplication.make(modules: [SignInProbe()], values: ["database.url": "sqlite://:memory:"])
        try await app.keel.database.prepare()
        try await app.keel.migrate()
        try await app.keel.access.setFlags(of: "u1", staff: true, superuser: false)
        try await app.application().test(.router) { client in
            let (key, token) = try await client.execute(uri: "/form", method: .get) { ($0.sessionKey!, String(buffer: $0.body)) }
            #expect(try await app.keel.access.account("u1").lastLogin == nil)
            let signedIn = try await client.execute(uri: "/login", method: .post, headers: HTTPFields.sessionCookie(key) + [HTTPField.Name.xCSRFToken: token]) {
                #expect($0.status == .ok)
                return try #require($0.sessionKey)
            }
            #expect(try await app.keel.access.account("u1").lastLogin != nil)
            try await client.execute(uri: "/standing", method: .get, headers: HTTPFields.sessionCookie(signedIn)) {
                #expect(String(buffer: $0.body) == "staff")
            }
            try await client.execute(uri: "/staff-only", method: .get, headers: HTTPFields.sessionCookie(signedIn)) { #expect($0.status == .ok) }
            try await app.keel.access.setFlags(of: "u1", staff: false, superuser: false)
            try await client.execute(uri: "/staff-only", method: .get, headers: HTTPFields.sessionCookie(signedIn)) {
                #expect($0.status == .forbidden, "the requirement reads the database, not the snapshot")
            }
            try await client.execute(uri: "/standing", method: .get, headers: HTTPFields.sessionCookie(signedIn)) {
                #expect(String(buffer: $0.body) == "staff", "the snapshot is the sign-in's")
            }
        }
    }

    @Test(arguments: TestDatabase.available)
    func staffPagesNeedStaffAndElevatedAccessWhichIsLoggedAndExpires(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
            let users = MemoryUserAccounts()
            let ann = try await users.createUser(username: "ann", email: "ann@example.com", password: "correct horse")
            let bob = try await users.createUser(username: "bob", email: "bob@example.com", password: "battery staple")
            let app = try await KeelTestApplication.moderation(url: url, clock: clock, users: users)
            try await app.keel.access.setFlags(of: ann, staff: true, superuser: false)
            let annCookie = try await app.session(for: ann)
            let bobCookie = try await app.session(for: bob)
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            try await app.application().test(.router) { client in
                // Staff without elevation: sent to confirm; not staff: 403; nobody: 401.
                try await client.execute(uri: "/staff/home", method: .get, headers: annCookie) { #expect($0.status == .ok) }
                try await client.execute(uri: "/staff/panel", method: .get, headers: annCookie) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/elevate?next=%2Fstaff%2Fpanel")
                }
                try await client.execute(uri: "/staff/home", method: .get, headers: bobCookie) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("staff.required"))
                }
                try await client.execute(uri: "/staff/panel", method: .get) { #expect($0.status == .unauthorized) }

                // A wrong password or no reason is a 422 naming the field.
                try await client.execute(uri: "/elevate", method: .post, headers: annCookie + form,
                                         body: ByteBuffer(string: "password=wrong&reason=checking")) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("password"))
                }
                try await client.execute(uri: "/elevate", method: .post, headers: annCookie + form,
                                         body: ByteBuffer(string: "password=correct+horse&reason=+")) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(String(buffer: response.body).contains("reason"))
                }
                // The right password and a reason: elevated, with a new session key.
                let elevated = try await client.execute(uri: "/elevate", method: .post, headers: annCookie + form,
                                                        body: ByteBuffer(string: "password=correct+horse&reason=ticket+42")) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "until \(1_800_000_000 + 600)")
                    return try #require(response.sessionKey)
                }
                try await client.execute(uri: "/staff/panel", method: .get, headers: HTTPFields.sessionCookie(elevated)) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == "panel")
                }
                // API tokens are never elevated.
                try await client.execute(uri: "/api/staff/export", method: .get, headers: try await app.token(for: ann)) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("auth.elevation_required"))
                }
                // Past auth.elevation.ttl (10 minutes) it is gone.
                clock.advance(by: .seconds(601))
                try await client.execute(uri: "/staff/panel", method: .get, headers: HTTPFields.sessionCookie(elevated)) { response in
                    #expect(response.status == .seeOther)
                }
            }
            // Every request made under it is logged with the user, the reason, the route and the request id.
            let log = try await app.keel.access.elevationLog(of: ann)
            #expect(log.map(\.route) == ["/staff/panel", "/elevate"])
            #expect(log.map(\.method) == ["GET", "POST"])
            #expect(log.allSatisfy { $0.reason == "ticket 42" && $0.userID == ann && !$0.requestID.isEmpty })
            #expect(log.map(\.status) == [200, 200])
            #expect(try await app.keel.access.account(ann).lastElevated == Date(timeIntervalSince1970: 1_800_000_000))
            await app.keel.database.shutdown()
        }
    }

    @Test func objectPoliciesAreSmallTypedValues() async throws {
        struct Post: Sendable { let authorID: String; let locked: Bool }
        let app = try await KeelTestApplication.moderation(url: "sqlite://:memory:")
        let access = app.keel.access
        try await access.grant("moderation.remove_post", to: "9")
        let mayRemove = AccessPolicy<Post>.owner { $0.authorID }.or(.permission("moderation.remove_post"))
        let mayEdit = AccessPolicy<Post>.owner { $0.authorID }.and(AccessPolicy { _, post, _ in !post.locked })
        let post = Post(authorID: "1", locked: true)

        #expect(try await access.allows(userID: "1", mayRemove, on: post), "the author")
        #expect(try await access.allows(userID: "9", mayRemove, on: post), "a holder of the permission")
        #expect(try await !access.allows(userID: "2", mayRemove, on: post))
        #expect(try await !access.allows(userID: "1", mayEdit, on: post), "locked")
        #expect(try await access.allows(userID: "1", mayEdit, on: Post(authorID: "1", locked: false)))

        let identity = Identity(userID: "2", method: .token)
        await #expect(throws: KeelError.self) { try await access.authorize(identity, mayRemove, on: post) }
        do {
            try await access.authorize(Identity(), mayRemove, on: post)
            Issue.record("nobody was allowed")
        } catch let error as KeelError {
            #expect(error.status == .unauthorized)
        }
        try await access.authorize(Identity(userID: "9", method: .token), mayRemove, on: post)
    }

    @Test(arguments: TestDatabase.available)
    func revokedTokensStopWorkingHereAtOnceAndOnAnotherInstance(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
            let app = try await KeelTestApplication.moderation(url: url, clock: clock)
            try await app.keel.access.grant("moderation.ban_user", to: "1")
            let before = try await app.token(for: "1")
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: before) { #expect($0.status == .ok) }
                clock.advance(by: .seconds(1))
                try await app.keel.revokeTokens(of: "1")
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: before) { #expect($0.status == .unauthorized) }
                clock.advance(by: .seconds(1))
                let after = try await app.token(for: "1")
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: after) { #expect($0.status == .ok) }
                // A second revocation of the same user moves the line forward (the row is updated, not added twice).
                clock.advance(by: .seconds(1))
                try await app.keel.revokeTokens(of: "1")
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: after) { #expect($0.status == .unauthorized) }
            }
            // Another instance on the same database reads the revocation on its first token.
            let other = try await KeelTestApplication.make(modules: [Moderation()], values: ["database.url": url], clock: clock)
            try await other.application().test(.router) { client in
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: before) { #expect($0.status == .unauthorized) }
            }
            await other.keel.database.shutdown()
            await app.keel.database.shutdown()
        }
    }

    /// Revocations were a column of the access tables (`keel_users.tokens_not_before`) before they had their own table:
    /// a database upgraded past `auth.0006_token_revocations` keeps every one it recorded.
    @Test(arguments: TestDatabase.available)
    func revocationsRecordedBeforeTheirTableMovedStillCount(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_000))
            let app = try await KeelTestApplication.moderation(url: url, clock: clock)
            try await app.keel.access.grant("moderation.ban_user", to: "1")
            let before = try await app.token(for: "1")
            clock.advance(by: .seconds(1))
            // The database as the previous release left it: the revocation in keel_users, no table of its own.
            let sql = app.keel.database.sql
            try await sql.insert(into: "keel_users").columns("user_id", "tokens_not_before")
                .values(SQLBind("1"), SQLBind(clock.now.timeIntervalSince1970)).run()
            try await sql.drop(table: "keel_token_revocations").run()
            try await sql.delete(from: "keel_migrations").where("name", .equal, "auth.0006_token_revocations").run()
            await app.keel.database.shutdown()

            let upgraded = try await KeelTestApplication.make(modules: [Moderation()], values: ["database.url": url], clock: clock)
            try await upgraded.keel.database.prepare()
            let steps = try await upgraded.keel.migrate().steps
            #expect(steps.map(\.0.name) == ["auth.0006_token_revocations"])
            try await upgraded.application().test(.router) { client in
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: before) { #expect($0.status == .unauthorized) }
                clock.advance(by: .seconds(1))
                try await client.execute(uri: "/api/mod/bans", method: .get, headers: try await upgraded.token(for: "1")) { #expect($0.status == .ok) }
            }
            await upgraded.keel.database.shutdown()
        }
    }

    @Test func wrongPasswordsForElevatedAccessAreThrottledLikeSignIns() async throws {
        let users = MemoryUserAccounts()
        let ann = try await users.createUser(username: "ann", email: "ann@example.com", password: "correct horse")
        let app = try await KeelTestApplication.make(
            modules: [Moderation(users: users)],
            values: ["database.url": "sqlite://:memory:", "security.loginThrottle.maxFailures": "2"])
        try await app.keel.database.prepare()
        try await app.keel.migrate()
        let cookie = try await app.session(for: ann)
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        try await app.application().test(.router) { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/elevate", method: .post, headers: cookie + form, body: ByteBuffer(string: "password=guess&reason=x")) {
                    #expect($0.status == .unprocessableContent)
                }
            }
            // Locked out now, even with the right password: a stolen session cannot guess its way to elevation.
            try await client.execute(uri: "/elevate", method: .post, headers: cookie + form,
                                     body: ByteBuffer(string: "password=correct+horse&reason=x")) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] != nil)
            }
        }
        #expect(try await app.keel.access.account(ann).lastElevated == nil)
    }
}
