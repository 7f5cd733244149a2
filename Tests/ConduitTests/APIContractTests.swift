import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import NIOCore
import Testing

/// What the API promises beyond the RealWorld behaviour: the methods a path does not take, bodies that are JSON but
/// not an object, the bounds of list parameters, and an OpenAPI document that describes this server.
@Suite struct APIContractTests {
    @Test func aKnownPathWithAnotherMethodIs405WithAllow() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            for method in [HTTPRequest.Method.trace, .patch, .delete, .post, .put] {
                try await client.execute(uri: "/api/tags", method: method) { response in
                    #expect(response.status == .methodNotAllowed, "\(method) /api/tags")
                    #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
                    let body = json(response.body)
                    #expect(body["code"] as? String == "http.method_not_allowed")
                    #expect((body["errors"] as? [String: [String]])?["body"]?.first?.contains("allowed: GET, HEAD, OPTIONS") == true)
                }
            }
            try await client.execute(uri: "/api/articles/some-slug", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, PUT, DELETE, OPTIONS")
            }
            try await client.execute(uri: "/api/user", method: .delete) { #expect($0.headers[.allow] == "GET, HEAD, PUT, OPTIONS") }
            try await client.execute(uri: "/api/tags", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
            }
            try await client.execute(uri: "/api/tags", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            // Pages answer with the error page.
            try await client.execute(uri: "/login", method: .delete, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, POST, OPTIONS")
                #expect(String(buffer: response.body).contains("This page does not accept that kind of request."))
            }
            try await client.execute(uri: "/api/no-such-thing", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test(arguments: ["null", "0", "\"text\"", "[1, 2]", "true"])
    func jsonThatIsNotAnObjectIsTold(_ text: String) async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders, body: ByteBuffer(string: text)) { response in
                #expect(response.status == .badRequest)
                let messages = (json(response.body)["errors"] as? [String: [String]])?["body"] ?? []
                #expect(messages == [#"The body is JSON but not an object; {"user": {…}} is expected."#], "\(text)")
            }
        }
    }

    /// A field sent beside the envelope instead of inside it is a client's mistake, said rather than ignored; unknown
    /// fields inside the envelope are ignored (clients echo the user object, token and all).
    @Test func aKeyBesideTheEnvelopeIsNamed() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            let stray = #"{"user": {"email": "a@example.com", "password": "a-long-secret"}, "password": "x"}"#
            try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders, body: ByteBuffer(string: stray)) { response in
                #expect(response.status == .unprocessableContent)
                #expect((json(response.body)["errors"] as? [String: [String]])?["password"]
                        == [#"is not allowed beside "user"; the body is {"user": {…}}"#])
            }
            // Names are cut to 100 characters in the answer; two that meet there still get one answer, not a crash.
            let long = String(repeating: "k", count: 120)
            let twins = #"{"user": {}, ""# + long + #"1": 1, ""# + long + #"2": 2}"#
            try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders, body: ByteBuffer(string: twins)) { response in
                #expect(response.status == .unprocessableContent)
                #expect((json(response.body)["errors"] as? [String: [String]])?.keys.sorted() == [String(long.prefix(100))])
            }
            let echoed = #"{"user": {"username": "ada", "email": "ada@example.com", "password": "a-long-secret", "token": "x", "bio": null}}"#
            try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders, body: ByteBuffer(string: echoed)) {
                #expect($0.status == .created)
            }
        }
    }

    /// The OpenAPI document's rules are the validators' rules: Django's username pattern, lengths in code points.
    @Test func fieldRulesMatchTheDocument() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client async throws in
            let register = { (username: String, email: String, password: String) async throws -> (HTTPResponse.Status, [String: [String]]) in
                try await client.execute(uri: "/api/users", method: .post, headers: jsonHeaders,
                                         body: body(["user": ["username": username, "email": email, "password": password]])) {
                    ($0.status, json($0.body)["errors"] as? [String: [String]] ?? [:])
                }
            }
            #expect(try await register("Jürgen_2.0+x@y-z", "j@example.com", "a-long-secret").0 == .created, "letters of any script, digits and @.+-_")
            #expect(try await register("ⅷ", "roman@example.com", "a-long-secret").0 == .created, "a numeric letter is a digit to Python's \\w too")
            #expect(try await register("e\u{301}", "accent@example.com", "a-long-secret").1["username"] == ["is invalid"], "a combining mark is not \\w")
            #expect(try await register("a b", "space@example.com", "a-long-secret").1["username"] == ["is invalid"])
            #expect(try await register(String(repeating: "x", count: 151), "long@example.com", "a-long-secret").1["username"]?.first?.contains("too long") == true)
            #expect(try await register("p1", "p1@example.com", "\u{1F}       ").1["password"] == ["can't be blank"])
            let feff = try await register("p3", "p3@example.com", String(repeating: "\u{FEFF}", count: 8))
            #expect(feff.0 == .created,
                    "U+FEFF is not whitespace (ECMAScript's \\s says otherwise; the document's pattern says so explicitly)")
            #expect(try await register("p2", "p2@example.com", String(repeating: "e\u{301}", count: 4)).0 == .created,
                    "eight scalars are eight characters")
            #expect(try await register("m1", "a@.example.com", "a-long-secret").1["email"] == ["is invalid"])
            #expect(try await register("m2", "a@example.com\u{1C}", "a-long-secret").1["email"] == ["is invalid"])
        }
    }

    @Test func emptyAndMalformedBodiesSaySo() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            for (text, message) in [("", "The body is empty; a JSON object is expected."), ("{\"user\":", "The body is not valid JSON.")] {
                try await client.execute(uri: "/api/users/login", method: .post, headers: jsonHeaders, body: ByteBuffer(string: text)) { response in
                    #expect(response.status == .badRequest)
                    #expect((json(response.body)["errors"] as? [String: [String]])?["body"] == [message])
                }
            }
        }
    }

    @Test func listParametersNameTheirBounds() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            for (query, field, message) in [
                ("offset=1000000001", "offset", "must be a whole number from 0 to 1000000000"),
                ("limit=99999999999999999999", "limit", "must be a whole number from 0 to 1000000000"),
                ("limit=-1", "limit", "must be a whole number from 0 to 1000000000"),
            ] {
                try await client.execute(uri: "/api/articles?\(query)", method: .get) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect((json(response.body)["errors"] as? [String: [String]])?[field] == [message], "\(query)")
                }
            }
            for query in ["limit=0", "limit=1000000000&offset=1000000000"] {
                try await client.execute(uri: "/api/articles?\(query)", method: .get) { #expect($0.status == .ok, "\(query)") }
            }
        }
    }

    /// The document is served relative to where it is served, and describes Keel's error body and nullable fields.
    @Test func theOpenAPIDocumentDescribesThisServer() async throws {
        let app = try await KeelTestApplication.conduit(url: "sqlite://:memory:")
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/api/openapi.yml", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("servers:\n  - url: /api\n"))
                #expect(!text.contains("realworld.show"))
                #expect(text.contains("GenericErrorModel:") && text.contains("required:\n        - code\n        - errors"))
                #expect(text.contains("maximum: 1000000000"))
                // "Not blank" is the validators' own rule, filled in when served.
                #expect(!text.contains("${"))
                #expect(!text.contains(#"pattern: \S"#))
                #expect(text.components(separatedBy: "pattern: '\(TextRules.notBlankPattern)'").count - 1 == 7)
            }
        }
    }
}
