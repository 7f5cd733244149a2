import Foundation
import Hummingbird
import Keel
import Logging
import KeelTesting

/// A module with routes that exercise the pipeline: a parameterised route, a validation error, an unknown error.
struct ProbeModule: KeelModule {
    var name: String { "probe" }
    var failing: ReadinessCheck?

    struct Secret: Error, CustomStringConvertible {
        var description: String { "password=hunter2 at db.internal" }
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let router = routes.api
        router.get("/items/{id}") { _, context in
            context.logger.info("handling item")
            return "item \(context.parameters.get("id") ?? "")"
        }
        router.get("/request-id") { _, context in context.requestID }
        router.get("/validation") { _, _ -> String in throw KeelError.validation(["email": ["can't be blank", "is invalid"]]) }
        router.get("/crash") { _, _ -> String in throw Secret() }
    }

    func readinessChecks(app: KeelApplication) -> [ReadinessCheck] {
        failing.map { [$0] } ?? []
    }
}

extension KeelTestApplication {
    static func probe(values: [String: String] = [:], failing: ReadinessCheck? = nil) async throws -> KeelTestApplication {
        try await make(modules: [ProbeModule(failing: failing)], values: values)
    }
}

func json(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
}
