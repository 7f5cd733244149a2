import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import Testing

@Suite struct ErrorFormatTests {
    @Test func validationErrorsNameEachField() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/validation", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body) == #"{"code":"validation.failed","errors":{"email":["can't be blank","is invalid"]}}"#)
            }
        }
    }

    @Test func unknownRoutesUseTheSameShape() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                let body = json(response.body)
                #expect(body["code"] as? String == "http.not_found")
                #expect((body["errors"] as? [String: [String]])?["body"] != nil)
                #expect(response.headers[.xRequestID] != nil)
            }
        }
    }

    @Test func hummingbirdErrorsKeepStatusAndMessage() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/http-error", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body) == #"{"code":"http.bad_request","errors":{"body":["Bad page number."]}}"#)
            }
        }
    }

    @Test func malformedJSONIsA400InTheSameShape() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            for body in ["{not json", #"{"name": 5, "count": "x"}"#, "[]", ""] {
                try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "body \(body)")
                    #expect(json(response.body)["code"] as? String == "http.bad_request")
                }
            }
        }
    }

    @Test func unknownErrorsAre500sThatRevealNothingAndAreLoggedWithTheRequestID() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/crash", method: .get, headers: [.xRequestID: "req-500"]) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(text == #"{"code":"internal","errors":{"body":["Internal server error (request id req-500)"]}}"#)
                #expect(!text.contains("hunter2"))
            }
        }
        let logged = app.logObjects.first { $0["msg"] == "unhandled error" }
        #expect(logged?["keel.request.id"] == "req-500")
        #expect(logged?["level"] == "error")
        let access = app.logObjects.first { $0["msg"] == "request" }
        #expect(access?["http.status"] == "500")
    }

    @Test func errorsCarryTheirHeaders() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/wrapped", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.init("X-Extra")!] == "yes")
                #expect(json(response.body)["code"] as? String == "http.forbidden")
            }
        }
    }
}
