import Foundation
import HTTPTypes
import SQLKit
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting

struct SessionProbe: KeelModule {
    var name: String { "probe" }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let router = routes.web
        router.get("/whoami") { _, context in "\(context.session.userID ?? "-") \(context.session["colour"] ?? "-")" }
        router.get("/form") { _, context in context.session.csrfToken() }
        router.post("/colour") { request, context -> String in
            let body = String(buffer: try await request.body.collect(upTo: 10_000))
            context.session["colour"] = body.contains("colour=blue") ? "blue" : "red"
            return "saved"
        }
        router.post("/login") { _, context -> String in
            context.session.login(userID: "u1")
            return "in"
        }
        router.post("/logout") { _, context -> String in
            context.session.logout()
            return "out"
        }
        router.post("/write-then-crash") { _, context -> String in
            context.session["colour"] = "green"
            struct Crash: Error {}
            throw Crash()
        }
        router.post("/logout-then-fail") { _, context -> String in
            context.session.logout()
            throw KeelError(.forbidden, message: "Account disabled.")
        }
        router.post("/login-and-form") { _, context -> String in
            context.session.login(userID: "u2")
            return context.session.csrfToken()
        }
        router.post("/end-everywhere-then-write") { _, context -> String in
            // A concurrent "log out everywhere" lands while this request still holds the session.
            try await app.endSessions(of: context.session.userID ?? "-")
            context.session["colour"] = "green"
            return "written"
        }
    }
}

extension KeelTestApplication {
    static func sessions(values: [String: String] = [:], clock: ManualClock? = nil, url: String = "sqlite://:memory:") async throws
        -> KeelTestApplication
    {
        var all = values
        all["database.url"] = url
        let app = try await make(modules: [SessionProbe()], values: all, clock: clock)
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return app
    }
}
