import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import NIOCore
import ServiceLifecycle
import Testing

@Suite struct GracefulShutdownTests {
    @Test func aSlowRequestInFlightCompletesWithItsFullBodyWhileReadinessFails() async throws {
        let app = try await KeelTestApplication.probe(values: ["http.port": "0", "http.shutdownDrainDelay": "300ms"])
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
