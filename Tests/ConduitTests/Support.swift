import Conduit
import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting

extension KeelTestApplication {
    /// Conduit on a fresh database of the given backend, migrated.
    static func conduit(url: String, values: [String: String] = [:], clock: ManualClock? = nil) async throws -> KeelTestApplication {
        var all = values
        all["database.url"] = url
        let app = try await make(name: "conduit", modules: ConduitApp.modules, values: all, clock: clock)
        try await app.keel.database.prepare()
        try await app.keel.migrate()  // the migrations, then the permissions Conduit's modules declare
        return app
    }
}

func json(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
}

func body(_ object: [String: Any]) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

func tokenHeaders(_ token: String) -> HTTPFields {
    [.contentType: "application/json", .authorization: "Token \(token)"]
}

/// Registers a user and returns its token.
func register(_ client: any TestClientProtocol, _ username: String, password: String = "a-long-secret") async throws -> String {
    try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders,
                             body: body(["user": ["username": username, "email": "\(username)@example.com", "password": password]])) { response in
        guard response.status == .created, let user = json(response.body)["user"] as? [String: Any], let token = user["token"] as? String else {
            throw KeelError(.internalServerError, message: "register failed: \(response.status) \(String(buffer: response.body))")
        }
        return token
    }
}
