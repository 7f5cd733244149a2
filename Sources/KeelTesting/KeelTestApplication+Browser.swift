import HummingbirdTesting

/// A running site and a browser pointed at it, for the duration of `KeelTestApplication.withBrowser`.
public struct LiveBrowser: Sendable {
    /// The site's address, `http://127.0.0.1:PORT`.
    public let site: String
    /// The first window.
    public let page: BrowserSession
    let browser: Browser

    /// An address on the site: `url("/login")`.
    public func url(_ path: String) -> String { site + path }

    /// chromedriver and the browser processes under it, now (to check afterwards that they all ended).
    public var processes: [Int32] { browser.runningProcesses }

    /// Another window with its own cookies (a second browser: another device of the same user, or another user).
    public func newWindow() async throws -> BrowserSession { try await browser.session() }
}

extension KeelTestApplication {
    /// Serves the application on a free loopback port (Hummingbird's live testing mode: real sockets, the test's own
    /// database), starts headless Chromium through chromedriver, and hands `body` a window on the site. However `body`
    /// ends, every window, chromedriver and every browser process are ended before this returns; a process that
    /// survives that is an error.
    ///
    /// ```swift
    /// try await app.withBrowser { live in
    ///     try await live.page.open(live.url("/"))
    ///     try await live.page.waitFor(text: "Sign in")
    /// }
    /// ```
    public func withBrowser<T: Sendable>(_ body: @escaping @Sendable (LiveBrowser) async throws -> T) async throws -> T {
        let browser = try await Browser.start()
        let result: Result<T, any Error>
        do {
            result = .success(try await application().test(.live) { client in
                guard let port = client.port else { throw Browser.Failure("the live server has no port") }
                let page = try await browser.session()
                return try await body(LiveBrowser(site: "http://127.0.0.1:\(port)", page: page, browser: browser))
            })
        } catch {
            result = .failure(error)
        }
        let left = await browser.stop()
        if !left.isEmpty { throw Browser.Failure("processes left running after the browser stopped: \(left)") }
        return try result.get()
    }
}
