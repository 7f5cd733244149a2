import Foundation
import Hummingbird
import Keel
import Logging
import KeelTesting

/// A module with routes that exercise the pipeline: a parameterised route, errors of each kind, a slow stream.
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
        router.get("/http-error") { _, _ -> String in throw HTTPError(.badRequest, message: "Bad page number.") }
        router.get("/crash") { _, _ -> String in throw Secret() }
        router.get("/wrapped") { _, _ -> String in
            throw KeelError(.forbidden, headers: [.init("X-Extra")!: "yes"])
        }
        router.post("/echo") { request, context -> Item in
            try await request.decode(as: Item.self, context: context)
        }
        router.get("/slow") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: .init { writer in
                for _ in 0..<10 {
                    try await Task.sleep(for: .milliseconds(60))
                    try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 10_000))
                }
                try await writer.finish(nil)
            })
        }
    }

    func readinessChecks(app: KeelApplication) -> [ReadinessCheck] {
        failing.map { [$0] } ?? []
    }
}

struct Item: Codable, ResponseEncodable {
    let name: String
    let count: Int
}

extension KeelTestApplication {
    static func probe(values: [String: String] = [:], failing: ReadinessCheck? = nil) async throws -> KeelTestApplication {
        try await make(modules: [ProbeModule(failing: failing)], values: values)
    }
}

func json(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
}
