import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KeelCore
import NIOCore
import Testing

/// A JSON body read field by field: the text arrives exactly as sent, and every mistake is a 400 or a 422 naming the
/// field, in Keel's one error format.
@Suite struct JSONInputTests {
    struct Echo: ResponseEncodable {
        let title: String?
        let scalars: [String]
        let tags: [String]?
    }

    static func application() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ErrorFormatTests.RenderErrors(format: .json))
        router.post("/echo") { request, context -> Echo in
            let input = try await JSONInput.read(request, context: context, envelope: "item")
            var problems = ValidationProblems()
            let title = input.string("title", problems: &problems, required: true)
            let tags = input.strings("tags", problems: &problems)
            try problems.throwIfAny()
            return Echo(title: title, scalars: title.map { $0.unicodeScalars.map { String($0.value, radix: 16) } } ?? [], tags: tags)
        }
        return Application(router: router)
    }

    static func post(_ client: some TestClientProtocol, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) {
            ($0.status, (try? JSONSerialization.jsonObject(with: Data($0.body.readableBytesView))) as? [String: Any] ?? [:])
        }
    }

    /// Text is kept scalar for scalar, a leading U+FEFF included (Foundation's JSONSerialization on Linux drops it).
    @Test func textArrivesExactlyAsSent() async throws {
        try await Self.application().test(.router) { client in
            for title in ["\u{FEFF}a", "\u{FEFF}\u{FEFF}", "e\u{301}", "🐉 \u{0}", "\u{2028}x", #"quote " and \ slash"#] {
                let body = String(decoding: try JSONEncoder().encode(["item": ["title": title]]), as: UTF8.self)
                let (status, echoed) = try await Self.post(client, body)
                #expect(status == .ok, "\(title.unicodeScalars.map(\.value))")
                #expect(echoed["scalars"] as? [String] == title.unicodeScalars.map { String($0.value, radix: 16) })
            }
        }
    }

    @Test func everyMistakeNamesItself() async throws {
        try await Self.application().test(.router) { client in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("", .badRequest, "The body is empty; a JSON object is expected."),
                ("{\"item\":", .badRequest, "The body is not valid JSON."),
                ("null", .badRequest, #"The body is JSON but not an object; {"item": {…}} is expected."#),
                ("[1]", .badRequest, #"The body is JSON but not an object; {"item": {…}} is expected."#),
                (#"{"items": {}}"#, .unprocessableContent, "items"),
                (#"{"item": 5}"#, .unprocessableContent, "item"),
                (#"{"item": {"title": 5}}"#, .unprocessableContent, "title"),
                (#"{"item": {"title": true}}"#, .unprocessableContent, "title"),
                (#"{"item": {"title": " \u001f "}}"#, .unprocessableContent, "title"),
                (#"{"item": {"title": "t", "tags": ["a", 1]}}"#, .unprocessableContent, "tags"),
                (#"{"item": {"title": "t", "tags": "a"}}"#, .unprocessableContent, "tags"),
                (String(repeating: "[", count: 10_000), .badRequest, "The body is not valid JSON."),
            ]
            for (body, status, said) in cases {
                let (got, answer) = try await Self.post(client, body)
                #expect(got == status, "\(body.prefix(40))")
                let errors = answer["errors"] as? [String: [String]] ?? [:]
                if status == .badRequest {
                    #expect(errors["body"] == [said], "\(body.prefix(40))")
                } else {
                    #expect(errors[said] != nil, "\(body.prefix(40)): \(errors)")
                }
            }
            let (status, answer) = try await Self.post(client, #"{"item": {"title": "t", "tags": ["a", "b"], "unknown": {"x": [null]}}}"#)
            #expect(status == .ok)
            #expect(answer["tags"] as? [String] == ["a", "b"])
        }
    }
}
