import Foundation
import Synchronization
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting

/// Routes for the security tests.
struct SecureProbe: KeelModule {
    var name: String { "probe" }
    /// How `/sleepy`'s handler ended.
    let sleeps = Outcomes()

    final class Outcomes: Sendable {
        private let storage = Mutex<[String]>([])
        func add(_ outcome: String) { storage.withLock { $0.append(outcome) } }
        var all: [String] { storage.withLock { $0 } }
    }

    struct Crash: Error {}
    struct Echo: Codable, ResponseEncodable { let text: String }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let router = routes.api
        router.get("/page") { _, context in context.cspNonce }
        router.get("/client") { _, context in
            "\(context.security.clientAddress ?? "-") \(context.security.isSecure) \(context.security.host ?? "-")"
        }
        router.get("/crash") { _, _ -> String in throw Crash() }
        let sleeps = self.sleeps
        router.get("/sleepy") { _, _ -> String in
            do {
                try await Task.sleep(for: .seconds(30))
            } catch is CancellationError {
                sleeps.add("cancelled")
                throw CancellationError()
            }
            sleeps.add("woke")
            return "woke"
        }
        router.get("/own-headers") { _, _ in
            Response(status: .ok, headers: [.xFrameOptions: "SAMEORIGIN", .contentSecurityPolicy: "default-src 'none'"])
        }
        router.post("/echo") { request, context -> Echo in try await request.decode(as: Echo.self, context: context) }
        router.group("/embed")
            .add(middleware: SecurityPolicyOverride.loosened("frame-ancestors https://partner.example", reason: "partner portal"))
            .get("/widget") { _, _ in "widget" }
        router.group("/strict")
            .add(middleware: SecurityPolicyOverride.tightened("default-src 'none'; script-src 'nonce-{nonce}'"))
            .get("/page") { _, context in context.cspNonce }
    }
}

extension KeelTestApplication {
    static func secure(profile: Profile = .test, values: [String: String] = [:], probe: SecureProbe = SecureProbe(), clock: ManualClock? = nil)
        async throws -> KeelTestApplication
    {
        try await make(modules: [probe], profile: profile, values: values, clock: clock)
    }
}

/// Production-like settings that pass the deploy checks.
let productionValues = [
    "signing.key": "Zk3pQ9vT7mX2wR8sL4nB6yH1cJ5dF0gA+eK/uI=Vo",
    "http.allowedHosts": "localhost,example.com,.example.org",
]
