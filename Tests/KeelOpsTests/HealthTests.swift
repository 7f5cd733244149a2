import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct HealthTests {
    @Test func liveAnswersOkWithJSON() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/live", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(json(response.body)["status"] as? String == "ok")
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func readyNamesEachCheckWithStatusAndDuration() async throws {
        let app = try await KeelTestApplication.probe(failing: ReadinessCheck("cache") {})
        try await app.keel.migrator.migrate()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .ok)
                let checks = json(response.body)["checks"] as? [[String: Any]] ?? []
                #expect(checks.map { $0["name"] as? String } == ["shutdown", "database", "migrations", "cache"])
                #expect(checks.allSatisfy { $0["status"] as? String == "ok" && $0["durationMs"] is Double })
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func aFailingCheckMakesReadiness503WithoutLeakingTheError() async throws {
        struct Leaky: Error { var description: String { "postgres://user:hunter2@db" } }
        let app = try await KeelTestApplication.probe(failing: ReadinessCheck("database") { throw Leaky() })
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains(#""status":"failing""#))
                #expect(!body.contains("hunter2"))
                #expect(json(response.body)["status"] as? String == "unavailable")
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func aReadinessFailureReasonIsShown() async throws {
        let app = try await KeelTestApplication.probe(failing: ReadinessCheck("migrations") { throw ReadinessFailure("2 migrations pending") })
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("2 migrations pending"))
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func aSlowCheckTimesOut() async throws {
        let app = try await KeelTestApplication.probe(
            values: ["health.checkTimeout": "50ms"],
            failing: ReadinessCheck("slow") { try await Task.sleep(for: .seconds(30)) })
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("timed out"))
            }
        }
        await app.keel.database.shutdown()
    }

    @Test func readinessFailsOnceShutdownBegins() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.keel.migrator.migrate()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/health/ready", method: .get) { #expect($0.status == .ok) }
            app.keel.lifecycle.beginShutdown()
            try await client.execute(uri: "/health/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("shutting down"))
            }
            try await client.execute(uri: "/health/live", method: .get) { #expect($0.status == .ok) }
        }
        await app.keel.database.shutdown()
    }
}
