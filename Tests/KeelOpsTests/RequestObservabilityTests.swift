import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import Logging
import KeelTesting
import Testing

@Suite struct RequestIDTests {
    /// A path no route has is a 404 in Keel's error format, with the request id (the format itself: KeelCoreTests).
    @Test func anUnknownRouteIsA404InTheErrorFormatWithTheRequestID() async throws {
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

    /// An unknown error's 500 names its request id, and the log line with the cause carries the same id.
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

    @Test func aRequestIDIsGeneratedAndEchoed() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/request-id", method: .get) { response in
                let id = try #require(response.headers[.xRequestID])
                #expect(id.count == 32)
                #expect(id.allSatisfy { $0.isHexDigit })
                #expect(String(buffer: response.body) == id)
            }
        }
    }

    @Test func aWellFormedIncomingIDIsKept() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/request-id", method: .get, headers: [.xRequestID: "lb-7f3a:9.1/x_y"]) { response in
                #expect(response.headers[.xRequestID] == "lb-7f3a:9.1/x_y")
                #expect(String(buffer: response.body) == "lb-7f3a:9.1/x_y")
            }
        }
    }

    @Test(arguments: [String(repeating: "a", count: 129), "has space", "semi;colon", "<script>", "ünï"])
    func aMalformedIncomingIDIsReplaced(incoming: String) async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/request-id", method: .get, headers: [.xRequestID: incoming]) { response in
                let id = try #require(response.headers[.xRequestID])
                #expect(id != incoming)
                #expect(id.count == 32)
            }
        }
    }

    @Test func everyLogLineOfARequestCarriesItsID() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/items/42", method: .get, headers: [.xRequestID: "trace-1"]) { #expect($0.status == .ok) }
        }
        let lines = app.logObjects.filter { $0["msg"] == "handling item" || $0["msg"] == "request" }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0["keel.request.id"] == "trace-1" })
        #expect(lines.allSatisfy { $0["hb.request.id"] == nil })
    }
}

@Suite struct AccessLogTests {
    @Test func oneLinePerRequestWithRouteTemplateStatusAndDuration() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/items/42", method: .get) { _ in }
            try await client.execute(uri: "/validation", method: .get) { _ in }
        }
        let access = app.logObjects.filter { $0["msg"] == "request" }
        #expect(access.count == 2)
        #expect(access[0]["http.method"] == "GET")
        #expect(access[0]["http.route"] == "/items/{id}")
        #expect(access[0]["http.status"] == "200")
        #expect(Double(access[0]["http.duration_ms"] ?? "") != nil)
        #expect(access[0]["level"] == "info")
        #expect(access[1]["http.status"] == "422")
        #expect(!app.logs.lines.joined().contains("/items/42"))
    }

    @Test func theAccessLogCanBeTurnedOff() async throws {
        let app = try await KeelTestApplication.probe(values: ["log.accessLog": "false"])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/items/1", method: .get) { _ in }
        }
        #expect(app.logObjects.filter { $0["msg"] == "request" }.isEmpty)
    }

    @Test func textFormatIsOneReadableLine() {
        final class Box: @unchecked Sendable { var lines: [String] = [] }  // written from one thread in this test
        let box = Box()
        var handler = KeelLogHandler(label: "app", format: .text, level: .info) { box.lines.append($0) }
        handler[metadataKey: "keel.request.id"] = "abc"
        handler.log(event: .init(level: .info, message: "hello", metadata: ["k": "v"], source: "s", file: #file, function: #function, line: #line))
        #expect(box.lines.count == 1)
        #expect(box.lines[0].contains("INFO app: hello k=v keel.request.id=abc"))
    }

    @Test func jsonLinesAreSortedObjectsWhereTheEventsMetadataWins() throws {
        final class Box: @unchecked Sendable { var lines: [String] = [] }  // written from one thread in this test
        let box = Box()
        var handler = KeelLogHandler(label: "app", format: .json, level: .info) { box.lines.append($0) }
        handler[metadataKey: "keel.request.id"] = "abc"
        handler[metadataKey: "shared"] = "from the handler"
        handler[metadataKey: "hb.request.id"] = "dropped"
        handler.log(event: .init(
            level: .warning, message: "quote \" and newline \n",
            metadata: ["shared": "from the event", "count": .stringConvertible(3), "list": ["a", "b"], "msg": "not the message", "a": "first"],
            source: "s", file: #file, function: #function, line: #line))
        #expect(box.lines.count == 1)
        let line = box.lines[0]
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["shared"] == "from the event")
        #expect(object["count"] == "3")
        #expect(object["list"] == #"["a", "b"]"#)
        #expect(object["msg"] == "quote \" and newline \n")
        #expect(object["level"] == "warning")
        #expect(object["logger"] == "app")
        #expect(object["keel.request.id"] == "abc")
        #expect(object["hb.request.id"] == nil)
        #expect(object.count == 9)
        // Keys in byte order, the line's own keys among them.
        let keys = ["a", "count", "keel.request.id", "level", "list", "logger", "msg", "shared", "ts"]
        let positions = keys.map { line.range(of: "\"\($0)\":")!.lowerBound }
        #expect(positions == positions.sorted())
    }

    @Test func anyOtherLogHandlerGetsTheAccessLineThroughSwiftLog() {
        // Keel's handler takes the access line directly; another handler (a team's own) must still get it, whole.
        struct Capture: LogHandler {
            final class Box: @unchecked Sendable { var events: [(String, Logger.Metadata)] = [] }  // one thread here
            let box: Box
            var metadata: Logger.Metadata = [:]
            var logLevel: Logger.Level = .info
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            func log(event: LogEvent) { box.events.append(("\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 })) }
        }
        let box = Capture.Box()
        var logger = Logger(label: "app") { _ in Capture(box: box) }
        let observability = RequestObservability(metricsFactory: nil, accessLog: true)
        let request = Request(
            head: HTTPRequest(method: .post, scheme: "http", authority: "example.com", path: "/items/9"), body: .init(buffer: ByteBuffer()))
        let id = observability.begin(request, logger: &logger)
        var response = Response(status: .created)
        observability.end(request, response: &response, requestID: id, route: "/items/{id}", start: .now, logger: logger)
        #expect(response.headers[.xRequestID] == id)
        #expect(box.events.count == 1)
        let (message, fields) = box.events[0]
        #expect(message == "request")
        #expect(fields["http.method"] == "POST")
        #expect(fields["http.route"] == "/items/{id}")
        #expect(fields["http.status"]?.description == "201")
        #expect(fields["keel.request.id"]?.description == id)
        #expect(Double(fields["http.duration_ms"]?.description ?? "") != nil)
    }

    @Test func theProvidersMetadataSitsBetweenTheHandlersAndTheEvents() throws {
        final class Box: @unchecked Sendable { var lines: [String] = [] }  // written from one thread in this test
        let box = Box()
        var handler = KeelLogHandler(label: "app", format: .json, level: .info) { box.lines.append($0) }
        handler.metadataProvider = Logger.MetadataProvider { ["trace": "from the provider", "shared": "from the provider", "both": "from the provider"] }
        handler[metadataKey: "shared"] = "from the handler"
        handler[metadataKey: "mine"] = "from the handler"
        handler.log(event: .init(level: .info, message: "m", metadata: ["both": "from the event"], source: "s", file: #file, function: #function, line: #line))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(box.lines[0].utf8)) as? [String: String])
        #expect(object["trace"] == "from the provider")
        #expect(object["shared"] == "from the provider")
        #expect(object["both"] == "from the event")
        #expect(object["mine"] == "from the handler")
    }

    @Test func theDirectAccessLineKeepsTheHandlersLevel() {
        // The access line skips swift-log's level check on its way to KeelLogHandler, so the handler makes its own.
        final class Box: @unchecked Sendable { var lines: [String] = [] }  // written from one thread in this test
        let box = Box()
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "example.com", path: "/"), body: .init(buffer: ByteBuffer()))
        let observability = RequestObservability(metricsFactory: nil, accessLog: true)
        for (level, expected) in [(Logger.Level.warning, 0), (.info, 1)] {
            box.lines = []
            var logger = Logger(label: "app") { label in KeelLogHandler(label: label, format: .json, level: level) { box.lines.append($0) } }
            let id = observability.begin(request, logger: &logger)
            var response = Response(status: .ok)
            observability.end(request, response: &response, requestID: id, route: "/", start: .now, logger: logger)
            #expect(box.lines.count == expected, "\(level)")
        }
    }
}

@Suite struct MetricsTests {
    @Test func metricsOnThePublicPortAreRefusedWithoutAConfiguredToken() async throws {
        let app = try await KeelTestApplication.probe()
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .notFound) }
        }
    }

    @Test func metricsNeedTheConfiguredBearerToken() async throws {
        let token = "prometheus-scrape-token-1234"
        let app = try await KeelTestApplication.probe(values: ["metrics.token": token])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/items/7", method: .get) { _ in }
            try await client.execute(uri: "/items/8", method: .get) { _ in }
            try await client.execute(uri: "/missing/path", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer wrong-token-wrong-token"]) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"keel_http_requests_total{route="/items/{id}",method="GET",status="200"} 2"#))
                #expect(text.contains("keel_http_request_duration_seconds_bucket"))
                #expect(text.contains("keel_http_requests_in_flight"))
                #expect(!text.contains("/items/7"))
                #expect(!text.contains("/missing/path"))
            }
        }
    }

    @Test func aSeparateMetricsPortMovesTheEndpointOffThePublicRouter() async throws {
        let app = try await KeelTestApplication.probe(values: ["metrics.port": "19999"])
        try await app.application().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .notFound) }
        }
        let services = try app.keel.services()
        #expect(services.count == 5)  // database, metrics server, audit sealer, HTTP application, shutdown coordinator
        let router = Router()
        MetricsEndpoint(metrics: app.keel.metrics, token: nil, requireToken: false).register(on: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
        }
    }
}
