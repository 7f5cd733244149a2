// keel-bench: the two trivial servers the benchmark compares, so the table shows what Keel's middleware costs.
//
//   keel-bench bare --port 18300        a bare Hummingbird 2 router: GET /plaintext
//   keel-bench bare --headers FILE ...  the same, answering with the response headers saved in FILE (Benchmarks/run saves
//                                       what the stack answered): what those bytes cost, apart from making them
//   keel-bench serve --port 18301       the same route inside a Keel application with Keel's whole middleware stack
//                                       (every other `conduit`-style command works too: settings, check, migrate ...)
//
// Both answer `GET /plaintext` with "Hello, World!" as text/plain, the TechEmpower plaintext route. `serve` also
// answers `GET /db` the same way after one `SELECT 1` on its database: the floor for any endpoint that runs one
// statement (not in Benchmarks/run's table; docs/performance.md quotes it for the tags).
import HTTPTypes
import Hummingbird
import Keel
import KeelCLI
import Logging
import SQLKit
import NIOCore
import NIOPosix

import Foundation

let greeting = "Hello, World!"

/// The trivial route as a Keel module in the `api` route group: it goes through request ids, observability, error
/// rendering, security headers, CORS, transport security, request limits, path decoding, the request deadline, token
/// authentication and the query recorder, exactly as Conduit's API routes do.
struct PlaintextModule: KeelModule {
    var name: String { "bench" }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let api = routes.api
        api.get("/plaintext") { _, _ in greeting }
        let database = app.database
        api.get("/db") { _, _ in
            let rows = try await database.sql.raw("SELECT 1 AS one").all()
            return rows.isEmpty ? "" : greeting
        }
    }
}

enum KeelBenchApp: KeelApp {
    static var name: String { "keel-bench" }
    static var modules: [any KeelModule] { [PlaintextModule()] }
}

/// Bare Hummingbird: the default router and server, one route, no middleware. With `--headers FILE`, the route answers
/// with the headers in FILE as fixed values: `Benchmarks/run` saves there what Keel's stack answered (`curl -D`), so
/// this row costs exactly those bytes, never a copy that drifts from them.
func runBare(arguments: [String]) async throws {
    var port = 18300
    var host = "127.0.0.1"
    var headersFile: String?
    var rest = arguments[...]
    while let argument = rest.popFirst() {
        switch argument {
        case "--port": port = rest.popFirst().flatMap { Int($0) } ?? port
        case "--host": host = rest.popFirst() ?? host
        case "--headers": headersFile = rest.popFirst()
        default:
            FileHandle.standardError.write(Data("usage: keel-bench bare [--headers FILE] [--host H] [--port N]\n".utf8))
            exit(64)
        }
    }
    let router = Router()
    if let headersFile {
        guard let saved = FileManager.default.contents(atPath: headersFile), let headers = fixedHeaders(String(decoding: saved, as: UTF8.self)),
              !headers.isEmpty
        else {
            FileHandle.standardError.write(Data("keel-bench: no response headers in \(headersFile)\n".utf8))
            exit(66)
        }
        let body = ByteBuffer(string: greeting)
        router.get("/plaintext") { _, _ in Response(status: .ok, headers: headers, body: .init(byteBuffer: body)) }
    } else {
        router.get("/plaintext") { _, _ in greeting }
    }
    var logger = Logger(label: "keel-bench.bare")
    logger.logLevel = .warning
    let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil), logger: logger)
    try await app.runService()
}

/// A response head as `curl -D` writes it, without what the server adds itself (status line, Content-Length, Date).
func fixedHeaders(_ head: String) -> HTTPFields? {
    var fields = HTTPFields()
    for line in head.split(whereSeparator: \.isNewline).dropFirst() {
        guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { return nil }
        if name == .contentLength || name == .date { continue }
        fields.append(HTTPField(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
    return fields
}

// The same runtime as `conduit` for both servers: Swift Concurrency runs on NIO's event loops.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "bare" {
    try await runBare(arguments: Array(arguments.dropFirst()))
} else {
    let logs = LogWriter(fd: 1)
    await KeelCommandLine<KeelBenchApp>.main(
        bootstrap: CommandEnvironment.standardBootstrap(label: KeelBenchApp.name, logs: logs), beforeExit: { logs.flush() })
}
