public import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// A headless Chromium for a test, driven through chromedriver over the W3C WebDriver protocol: Keel's counterpart of
/// Django's `StaticLiveServerTestCase` with Selenium.
///
/// ```swift
/// @Suite(.serialized, .timeLimit(.minutes(5)), .enabled(if: Browser.isEnabled, Comment(rawValue: Browser.skipMessage)))
/// struct SignUpInABrowser {
///     @Test func signUp() async throws {
///         let app = try await KeelTestApplication.make(modules: MyApp.modules)
///         try await app.withBrowser { live in
///             let page = live.page
///             try await page.open(live.url("/register"))
///             try await page.fill("input[name=username]", "ada")
///             try await page.click("button[type=submit]")
///             try await page.waitFor(text: "Welcome")
///         }
///     }
/// }
/// ```
///
/// Where things come from (`.ci/run` installs Debian's `chromium` and `chromium-driver` and sets the first):
/// - `KEEL_TEST_BROWSER=required`: a missing browser fails the tests instead of skipping them;
/// - `KEEL_TEST_CHROMEDRIVER`, `KEEL_TEST_CHROMIUM`: the binaries, else `chromedriver` and `chromium` on `PATH`;
/// - `KEEL_SCREENSHOTS_DIR`: where `BrowserSession.screenshot(named:)` writes PNGs (nothing is written without it).
///
/// Process hygiene, because a hung browser is the classic way a test suite never ends: chromedriver writes its output
/// to a log file (never the test's own output), every WebDriver call has a timeout, page loads and scripts have
/// their own, and `stop()` ends the session, then chromedriver and every process under it by pid, even when the
/// test failed. `withBrowser` always calls it.
public final class Browser: Sendable {
    /// Why a browser command failed: the command, and what the driver or the page said.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// How long one WebDriver command may take (a navigation waits for the page to load within it).
    public static let commandTimeout: Duration = .seconds(30)
    /// How long a page may take to load, and a script to run, before the command fails.
    public static let pageLoadTimeout: Duration = .seconds(20)

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `KEEL_TEST_BROWSER=required`: the browser tests must run.
    public static var isRequired: Bool { environment["KEEL_TEST_BROWSER"] == "required" }

    /// The chromedriver binary, if there is one.
    public static var driverPath: String? { executable(environment["KEEL_TEST_CHROMEDRIVER"], else: ["chromedriver"]) }

    /// The Chromium binary, if there is one.
    public static var chromiumPath: String? {
        executable(environment["KEEL_TEST_CHROMIUM"], else: ["chromium", "chromium-browser", "google-chrome"])
    }

    /// Whether browser tests should run: a browser is installed, or one is required (and its absence is a failure).
    public static var isEnabled: Bool { isRequired || (driverPath != nil && chromiumPath != nil) }

    /// The message of a skipped browser suite.
    public static let skipMessage =
        "no chromedriver and chromium: browser tests skipped (apt-get install chromium chromium-driver, or set KEEL_TEST_BROWSER=required to fail instead)"

    static func executable(_ explicit: String?, else names: [String]) -> String? {
        if let explicit, !explicit.isEmpty { return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil }
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in names {
            for folder in path where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") { return "\(folder)/\(name)" }
        }
        return nil
    }

    let endpoint: WebDriverEndpoint
    private let process: Mutex<Process?>
    private let sessions = Mutex<[String]>([])
    /// chromedriver's output.
    public let logPath: String

    /// Starts chromedriver on a free loopback port, its output in a log file, and waits (at most 15 s) until it is ready.
    public static func start() async throws -> Browser {
        guard let driver = driverPath, let chromium = chromiumPath else {
            throw Failure("no chromedriver or chromium (KEEL_TEST_CHROMEDRIVER=\(environment["KEEL_TEST_CHROMEDRIVER"] ?? "-"), "
                + "KEEL_TEST_CHROMIUM=\(environment["KEEL_TEST_CHROMIUM"] ?? "-")); install chromium and chromium-driver")
        }
        let port = try freePort()
        let logPath = NSTemporaryDirectory() + "keel-chromedriver-\(port).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw Failure("cannot write \(logPath)") }
        let browser = try Browser(endpoint: WebDriverEndpoint(port: port, chromium: chromium), driver: driver, log: log, logPath: logPath)
        do {
            try await browser.waitUntilReady()
        } catch {
            await browser.stop()
            throw error
        }
        return browser
    }

    init(endpoint: WebDriverEndpoint, driver: String, log: FileHandle, logPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(endpoint.port)", "--allowed-ips=127.0.0.1", "--log-level=WARNING"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try? log.close()
        self.endpoint = endpoint
        self.process = Mutex(process)
        self.logPath = logPath
    }

    private func waitUntilReady() async throws {
        var last = "no answer"
        for _ in 0..<150 {
            if process.withLock({ $0?.isRunning }) != true {
                throw Failure("chromedriver exited at start; its log (\(logPath)): \(Self.tail(of: logPath))")
            }
            do {
                let status = try await endpoint.call("GET", "/status", timeout: .seconds(2))
                if (status as? [String: Any])?["ready"] as? Bool == true { return }
                last = "\(status ?? "nothing")"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure("chromedriver was not ready within 15 s: \(last)")
    }

    /// A new browser window (its own cookies and storage) in headless Chromium.
    public func session(windowSize: (width: Int, height: Int) = (1280, 1000)) async throws -> BrowserSession {
        let created = try await endpoint.call("POST", "/session", [
            "capabilities": ["alwaysMatch": [
                "browserName": "chrome",
                "timeouts": ["pageLoad": Int(Self.pageLoadTimeout.inMilliseconds), "script": Int(Self.pageLoadTimeout.inMilliseconds), "implicit": 0],
                "goog:chromeOptions": [
                    "binary": endpoint.chromium,
                    // As root in a container Chromium needs --no-sandbox; the rest keep it headless and small.
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--disable-extensions", "--disable-breakpad", "--disable-crash-reporter", "--window-size=\(windowSize.width),\(windowSize.height)"],
                ],
            ]],
        ])
        guard let id = (created as? [String: Any])?["sessionId"] as? String else { throw Failure("no session id in \(created ?? "nothing")") }
        sessions.withLock { $0.append(id) }
        return BrowserSession(endpoint: endpoint, id: id)
    }

    /// Ends every window, then chromedriver and every process it started: politely first, then by `SIGKILL`. Safe to
    /// call twice. Returns the pids still running afterwards (none, unless a process could not be killed).
    @discardableResult
    public func stop() async -> [Int32] {
        for id in sessions.withLock({ ids in defer { ids = [] }; return ids }) {
            _ = try? await endpoint.call("DELETE", "/session/\(id)", timeout: .seconds(10))
        }
        guard let pid = process.withLock({ $0?.processIdentifier }) else { return [] }
        // The browsers are chromedriver's children: find them before chromedriver goes (then they would belong to init).
        var tree = Self.descendants(of: pid) + [pid]
        for member in tree { kill(member, SIGTERM) }
        for _ in 0..<50 {
            tree = tree.filter { Self.isAlive($0) }
            if tree.isEmpty { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        for member in tree { kill(member, SIGKILL) }
        // Foundation reaps chromedriver; wait for it, so no zombie is left behind.
        for _ in 0..<50 where process.withLock({ $0?.isRunning == true }) { try? await Task.sleep(for: .milliseconds(100)) }
        process.withLock { $0 = nil }
        return tree.filter { Self.isAlive($0) }
    }

    /// chromedriver and the processes running under it (its browsers); none after `stop()`.
    public var runningProcesses: [Int32] {
        guard let pid = process.withLock({ $0?.processIdentifier }) else { return [] }
        return [pid] + Self.descendants(of: pid)
    }

    /// Whether a process is running (a zombie, ended but not yet reaped, is not).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// Every living process below `pid`, read from `/proc` (Linux); children before their own children.
    static func descendants(of pid: pid_t) -> [pid_t] {
        var parents: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (name)": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, fields[0] != "Z", let parent = pid_t(fields[1]) else { continue }
            parents[parent, default: []].append(child)
        }
        var found: [pid_t] = []
        var queue = parents[pid] ?? []
        while let next = queue.first {
            queue.removeFirst()
            found.append(next)
            queue += parents[next] ?? []
        }
        return found
    }

    static func tail(of path: String) -> String {
        String((try? String(contentsOfFile: path, encoding: .utf8))?.suffix(2000) ?? "")
    }

    /// A port nothing listens on now, from the kernel (bind to port 0, read it back, close).
    static func freePort() throws -> Int {
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw Failure("socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw Failure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// One browser window: navigate, find, fill, click, read. Every call is one WebDriver command with a timeout
/// (`Browser.commandTimeout`); waiting for something to appear is explicit (`waitFor(text:)`), never implicit.
public struct BrowserSession: Sendable {
    let endpoint: WebDriverEndpoint
    /// The WebDriver session id.
    public let id: String

    /// An element of the page (a WebDriver element reference).
    public struct Element: Sendable, Hashable {
        public let id: String
    }

    /// A cookie as the browser keeps it.
    public struct Cookie: Sendable, Equatable {
        public let name: String
        public let value: String
        public let httpOnly: Bool
        public let secure: Bool
        /// `Strict`, `Lax` or `None`.
        public let sameSite: String?
    }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await endpoint.call(method, "/session/\(id)\(path)", body)
    }

    /// Goes to `url` and waits for the page to load.
    public func open(_ url: String) async throws { try await call("POST", "/url", ["url": url]) }

    /// The page's address now.
    public func currentURL() async throws -> String { try await call("GET", "/url") as? String ?? "" }

    /// The page as the browser has it now (the DOM serialized, not the bytes the server sent).
    public func source() async throws -> String { try await call("GET", "/source") as? String ?? "" }

    /// The first element matching a CSS selector; fails when there is none.
    public func find(_ css: String) async throws -> Element {
        guard let element = try await findAll(css).first else {
            throw Browser.Failure("no element matches \(css) on \(try await currentURL())")
        }
        return element
    }

    /// Every element matching a CSS selector.
    public func findAll(_ css: String) async throws -> [Element] {
        let found = try await call("POST", "/elements", ["using": "css selector", "value": css]) as? [[String: Any]] ?? []
        return found.compactMap { ($0[Self.elementKey] as? String).map(Element.init) }
    }

    static let elementKey = "element-6066-11e4-a52e-4f735466cecf"

    /// Replaces the text of the input or text area matching `css`.
    public func fill(_ css: String, _ text: String) async throws {
        let element = try await find(css)
        try await call("POST", "/element/\(element.id)/clear", [:])
        try await call("POST", "/element/\(element.id)/value", ["text": text])
    }

    /// Clicks the element matching `css` as a person would (it must be visible and not covered).
    public func click(_ css: String) async throws {
        try await call("POST", "/element/\(try await find(css).id)/click", [:])
    }

    /// Submits the form matching `css` as its submit button would (the form's own validation runs).
    public func submit(_ css: String) async throws {
        let form = try await find(css)
        _ = try await run("arguments[0].requestSubmit()", [form])
    }

    /// The visible text of the element matching `css`.
    public func text(_ css: String) async throws -> String {
        try await call("GET", "/element/\(try await find(css).id)/text") as? String ?? ""
    }

    /// Runs JavaScript in the page (`arguments[i]` are `arguments`, elements included) and returns its result.
    @discardableResult
    public func run(_ script: String, _ arguments: [Element] = []) async throws -> Any? {
        try await call("POST", "/execute/sync", ["script": script, "args": arguments.map { [Self.elementKey: $0.id] }])
    }

    /// Sends the next commands into the frame matching `css` (any origin: WebDriver sees what a script could not).
    public func switchToFrame(_ css: String) async throws {
        try await call("POST", "/frame", ["id": [Self.elementKey: try await find(css).id]])
    }

    /// Sends the next commands to the page itself again.
    public func switchToTopFrame() async throws { try await call("POST", "/frame", ["id": NSNull()]) }

    /// The cookies the browser holds for the current page's site.
    public func cookies() async throws -> [Cookie] {
        let all = try await call("GET", "/cookie") as? [[String: Any]] ?? []
        return all.map { cookie in
            Cookie(name: cookie["name"] as? String ?? "", value: cookie["value"] as? String ?? "", httpOnly: cookie["httpOnly"] as? Bool ?? false,
                   secure: cookie["secure"] as? Bool ?? false, sameSite: cookie["sameSite"] as? String)
        }
    }

    /// The viewport as a PNG.
    public func screenshot() async throws -> Data {
        guard let text = try await call("GET", "/screenshot") as? String, let data = Data(base64Encoded: text) else {
            throw Browser.Failure("the screenshot was not a base64 PNG")
        }
        return data
    }

    /// Writes the viewport to `$KEEL_SCREENSHOTS_DIR/<name>.png` when that variable is set; otherwise does nothing.
    public func screenshot(named name: String) async throws {
        guard let folder = Browser.environment["KEEL_SCREENSHOTS_DIR"], !folder.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await screenshot().write(to: URL(fileURLWithPath: folder).appendingPathComponent("\(name).png"))
    }

    /// Waits until the page's source contains `text` and returns the source; fails after `timeout` with the URL and
    /// the start of the page (a navigation after a click or a submitted form finishes in its own time).
    @discardableResult
    public func waitFor(text: String, timeout: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var html = ""
        repeat {
            html = try await source()
            if html.contains(text) { return html }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        throw Browser.Failure("'\(text)' did not appear within \(timeout) on \(try await currentURL()): \(html.prefix(1500))")
    }

    /// Waits until the page's source no longer contains `text` (the page a click left has gone); fails after `timeout`.
    public func waitUntilGone(_ text: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if try await !source().contains(text) { return }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        throw Browser.Failure("'\(text)' was still on \(try await currentURL()) after \(timeout)")
    }

    /// Closes the window; chromedriver quits its Chromium.
    public func end() async {
        _ = try? await endpoint.call("DELETE", "/session/\(id)", timeout: .seconds(10))
    }
}

/// Where chromedriver listens, and the HTTP calls to it through AsyncHTTPClient, each bounded by a deadline that
/// closes the connection: a driver that never answers fails the call instead of hanging the test. (Foundation's
/// URLSession on Linux cannot read chromedriver's answers: it rejects `Content-Length:252` without a space.)
struct WebDriverEndpoint: Sendable {
    let port: Int
    let chromium: String

    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil, timeout: Duration = Browser.commandTimeout) async throws -> Any? {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
        // A screenshot of a large window is a few megabytes of base64.
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
        let value = object["value"]
        if let failure = value as? [String: Any], let error = failure["error"] as? String {
            throw Browser.Failure("\(method) \(path): \(error): \(failure["message"] as? String ?? "")")
        }
        return value
    }
}

extension Duration {
    var inMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
