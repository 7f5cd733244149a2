import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import KeelCore
import Logging
import NIOCore
import Synchronization
import Testing

/// Keel's one error format (`renderError`): every error a handler throws becomes the JSON error body or the same
/// content as an HTML page, with a stable code, the headers the error carries, and nothing of an unknown error's cause.
/// The pipeline's own use of it (request ids, access lines, unmatched routes) is tested in KeelOpsTests.
@Suite struct ErrorFormatTests {
    struct Secret: Error, CustomStringConvertible {
        var description: String { "password=hunter2 at db.internal" }
    }

    struct Item: Codable, ResponseEncodable {
        let name: String
        let count: Int
    }

    /// What Keel's pipeline does at its error boundary, alone: the request id from the header, the format given.
    struct RenderErrors: RouterMiddleware {
        typealias Context = BasicRequestContext
        let format: ErrorFormat

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch {
                return renderError(error, request: request, context: context, requestID: request.headers[.xRequestID] ?? "", format: format,
                                   describe: { "described: \($0)" })
            }
        }
    }

    static func application(_ format: ErrorFormat = .json, logs: LogLines = LogLines()) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: RenderErrors(format: format))
        router.get("/validation") { _, _ -> String in throw KeelError.validation(["email": ["can't be blank", "is invalid"]]) }
        router.get("/http-error") { _, _ -> String in throw HTTPError(.badRequest, message: "Bad page number.") }
        router.get("/crash") { _, _ -> String in throw Secret() }
        router.get("/wrapped") { _, _ -> String in throw KeelError(.forbidden, headers: [.init("X-Extra")!: "yes"]) }
        router.get("/markup") { _, _ -> String in throw KeelError.validation(["<b>": ["<script>alert(1)</script> & 'more'"]]) }
        router.post("/echo") { request, context -> Item in try await request.decode(as: Item.self, context: context) }
        return Application(router: router, logger: logs.logger())
    }

    @Test func validationErrorsNameEachField() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/validation", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body) == #"{"code":"validation.failed","errors":{"email":["can't be blank","is invalid"]}}"#)
            }
        }
    }

    @Test func hummingbirdErrorsKeepStatusAndMessage() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/http-error", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body) == #"{"code":"http.bad_request","errors":{"body":["Bad page number."]}}"#)
            }
        }
    }

    @Test func malformedJSONIsA400InTheSameShape() async throws {
        try await Self.application().test(.router) { client in
            for body in ["{not json", #"{"name": 5, "count": "x"}"#, "[]", ""] {
                try await client.execute(uri: "/echo", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "body \(body)")
                    #expect(String(buffer: response.body).hasPrefix(#"{"code":"http.bad_request","errors":{"body":["#), "body \(body)")
                }
            }
        }
    }

    /// An unknown error is a 500 that says only that an error happened and which request it was; the cause is
    /// logged at `error` level through the describer the pipeline gives (the kernel's reports a database's own words).
    @Test func unknownErrorsAre500sThatRevealNothingAndAreLoggedThroughTheDescriber() async throws {
        let logs = LogLines()
        try await Self.application(logs: logs).test(.router) { client in
            try await client.execute(uri: "/crash", method: .get, headers: [.xRequestID: "req-500"]) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(text == #"{"code":"internal","errors":{"body":["Internal server error (request id req-500)"]}}"#)
                #expect(!text.contains("hunter2"))
            }
        }
        let logged = try #require(logs.entries.first { $0.message == "unhandled error" })
        #expect(logged.level == .error)
        #expect(logged.metadata["error.message"] == "described: password=hunter2 at db.internal")
        #expect(logged.metadata["error.type"]?.hasSuffix("Secret") == true)
    }

    @Test func errorsCarryTheirHeaders() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/wrapped", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.init("X-Extra")!] == "yes")
                #expect(String(buffer: response.body).contains(#""code":"http.forbidden""#))
            }
        }
    }

    /// The HTML page says the same as the JSON body, every character escaped, no script or style.
    @Test func theHTMLPageEscapesEverything() async throws {
        try await Self.application(.html).test(.router) { client in
            try await client.execute(uri: "/markup", method: .get, headers: [.xRequestID: "<id>"]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let page = String(buffer: response.body)
                #expect(page.contains("<p>&lt;b&gt;: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;more&#39;</p>"))
                #expect(page.contains("<code>validation.failed</code>"))
                #expect(page.contains("<code>&lt;id&gt;</code>"))
                #expect(!page.contains("<script") && !page.contains("<style"))
            }
        }
    }

    /// `negotiated` (routes nobody matched) answers HTML to a browser, JSON to anything that prefers JSON or says nothing.
    @Test func negotiatedFollowsAccept() async throws {
        try await Self.application(.negotiated).test(.router) { client in
            let cases: [(String?, String)] = [
                ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8"),
                ("application/json, text/html", "application/json; charset=utf-8"),
                ("TEXT/HTML", "text/html; charset=utf-8"),
                (nil, "application/json; charset=utf-8"),
                ("*/*", "application/json; charset=utf-8"),
            ]
            for (accept, expected) in cases {
                var headers: HTTPFields = [:]
                if let accept { headers[.accept] = accept }
                try await client.execute(uri: "/validation", method: .get, headers: headers) { response in
                    #expect(response.headers[.contentType] == expected, "Accept: \(accept ?? "none")")
                }
            }
        }
    }
}

/// Log entries kept in memory (KeelTesting sits above this target).
final class LogLines: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let storage = Mutex<[Entry]>([])
    var entries: [Entry] { storage.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "test") { _ in Handler(lines: self) }
    }

    func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.append(Entry(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}
