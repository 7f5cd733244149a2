import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import NIOCore
import ServiceLifecycle
import Testing

/// A module with one slow route: ten chunks of 10 kB, 60 ms apart.
struct SlowModule: KeelModule {
    var name: String { "slow" }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.api.get("/slow") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init { writer in
                for _ in 0..<10 {
                    try await Task.sleep(for: .milliseconds(60))
                    try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 10_000))
                }
                try await writer.finish(nil)
            })
        }
    }
}

/// The shutdown order of `docs/architecture.md`: readiness fails first, then the server drains what is in flight.
@Suite struct GracefulShutdownTests {
    @Test func aSlowRequestInFlightCompletesWithItsFullBodyWhileReadinessFails() async throws {
        // A drain delay long enough that the probe below lands inside it even on a loaded machine (CI runs every suite at
        // once on two cores: with 300 ms the probe once arrived after the server had stopped accepting).
        let app = try await KeelTestApplication.make(modules: [SlowModule()], values: ["http.port": "0", "http.shutdownDrainDelay": "2s"])
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let group = try app.keel.serviceGroup(gracefulShutdownSignals: []) { channel in
            portSink.yield(channel.localAddress?.port ?? 0)
            portSink.finish()
        }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())

            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            async let slow = client.execute(TestClient.Request("/slow", method: .get, authority: "localhost"))
            try await Task.sleep(for: .milliseconds(150))
            await group.triggerGracefulShutdown()

            // During the drain delay the server still answers, and readiness says not to send more.
            try await Task.sleep(for: .milliseconds(50))
            let probe = TestClient(host: "127.0.0.1", port: port)
            probe.connect()
            let ready = try await probe.execute(TestClient.Request("/health/ready", method: .get, authority: "localhost"))
            #expect(ready.status == .serviceUnavailable)
            try await probe.shutdown()

            let response = try await slow
            #expect(response.status == .ok)
            #expect(response.body?.readableBytes == 100_000)
            try await client.shutdown()
            // The group ends by itself once the server has drained.
            try await tasks.next()
        }
        #expect(app.keel.lifecycle.isShuttingDown)
        #expect(app.logObjects.contains { $0["msg"] == "graceful shutdown: readiness is now failing" })
    }
}
