import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct ProfilesTests {
    @Test(arguments: TestDatabase.available)
    func profilesFollowAndUnfollow(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                _ = try await register(client, "celeb")
                try await client.execute(uri: "/api/profiles/celeb", method: .get) { response in
                    #expect(response.status == .ok)
                    let profile = try #require(json(response.body)["profile"] as? [String: Any])
                    #expect(profile["username"] as? String == "celeb")
                    #expect(profile["following"] as? Bool == false)
                    #expect(profile["bio"] is NSNull)
                    #expect(profile["image"] is NSNull)
                }
                for _ in 0..<2 {  // following twice is harmless
                    try await client.execute(uri: "/api/profiles/celeb/follow", method: .post, headers: tokenHeaders(jake)) { response in
                        #expect(response.status == .ok)
                        #expect((json(response.body)["profile"] as? [String: Any])?["following"] as? Bool == true)
                    }
                }
                try await client.execute(uri: "/api/profiles/celeb", method: .get, headers: tokenHeaders(jake)) { response in
                    #expect((json(response.body)["profile"] as? [String: Any])?["following"] as? Bool == true)
                }
                try await client.execute(uri: "/api/profiles/celeb/follow", method: .delete, headers: tokenHeaders(jake)) { response in
                    #expect((json(response.body)["profile"] as? [String: Any])?["following"] as? Bool == false)
                }
                try await client.execute(uri: "/api/profiles/celeb", method: .get, headers: tokenHeaders(jake)) { response in
                    #expect((json(response.body)["profile"] as? [String: Any])?["following"] as? Bool == false)
                }
            }
            await app.keel.database.shutdown()
        }
    }

    @Test func unknownProfilesAre404AndFollowingNeedsAToken() async throws {
        try await TestDatabase.sqlite.withFreshDatabase { url in
            let app = try await KeelTestApplication.conduit(url: url)
            try await app.application().test(.router) { client in
                let jake = try await register(client, "jake")
                for uri in ["/api/profiles/nobody", "/api/profiles/" + String(repeating: "x", count: 500), "/api/profiles/%F0%9F%9A%80"] {
                    try await client.execute(uri: uri, method: .get) { response in
                        #expect(response.status == .notFound, "\(uri)")
                        #expect((json(response.body)["errors"] as? [String: [String]])?["profile"] == ["not found"])
                    }
                }
                try await client.execute(uri: "/api/profiles/nobody/follow", method: .post, headers: tokenHeaders(jake)) { #expect($0.status == .notFound) }
                try await client.execute(uri: "/api/profiles/jake/follow", method: .post) { #expect($0.status == .unauthorized) }
                try await client.execute(uri: "/api/profiles/jake/follow", method: .delete, headers: [.authorization: "Token bad"]) {
                    #expect($0.status == .unauthorized)
                }
                // A bad token on an endpoint where a token is optional is still a 401, not a silent anonymous view.
                try await client.execute(uri: "/api/profiles/jake", method: .get, headers: [.authorization: "Token bad"]) {
                    #expect($0.status == .unauthorized)
                }
            }
            await app.keel.database.shutdown()
        }
    }
}
