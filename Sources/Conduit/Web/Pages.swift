public import Keel
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

/// Conduit's pages for people, server-rendered on the `web` route group: the home page (global feed, your feed, tag
/// filter, pages of ten), an article (comments added and deleted, favorite, follow), a profile (articles, favorited),
/// the editor (new and existing articles), settings (a new password signs out the user's other sessions), sign in,
/// sign up and sign out. Unsafe actions are POST forms
/// with the CSRF token; nothing needs JavaScript. Written only against Keel's public API, on the same services as the
/// RealWorld API.
///
/// The routes are grouped by what a person does: reading (`ReadingPages`), acting on an article or an author
/// (`ArticleActions`), writing (`EditorPages`) and their account (`AccountPages`).
public struct Pages: KeelModule {
    public init() {}

    public var name: String { "pages" }

    /// Articles on one page of the home page.
    static let pageSize = 10

    /// The highest page number read from a link: its offset is the API's largest (`ArticleQuery.largestParameter`).
    static let highestPage = ArticleQuery.largestParameter / pageSize + 1

    /// Where people sign in; the members' pages send people who are signed out there.
    static let signInPath = "/login"

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        group[NewPasswordFirst.self] ? [.hook(.access, "pages.newPasswordFirst", NewPasswordFirstHook())] : []
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        try addIcon(to: routes)
        let web = routes.web
        // Pages and forms for signed-in people: someone signed out is sent to /login, coming back afterwards; someone
        // staff required to choose a new password, to the settings page first (where `account` pages stay open).
        let account = routes.group(.web.requiringSignIn(at: Self.signInPath))
        let members = routes.group(.web.requiringSignIn(at: Self.signInPath).choosingNewPasswordFirst())
        let articles = ArticleService(app: app)
        let accounts = AccountService(app: app)
        let profiles = ProfileService(app: app)
        // The home page and articles, for someone signed out: from the cache, and for 5 s from a proxy in front.
        let reads = routes.group(.web.cached(for: Articles.cacheTTL, sharedMaxAge: .seconds(5)))
        ReadingPages(templates: app.templates, articles: articles, accounts: accounts, profiles: profiles).add(to: web, reads: reads)
        ArticleActions(articles: articles, profiles: profiles).add(to: members)
        EditorPages(templates: app.templates, articles: articles).add(to: members)
        AccountPages(templates: app.templates, accounts: accounts).add(to: web, members: account)
    }

    /// The site's icon, at the address every browser asks for whatever the page links (an SVG: Chromium and Firefox
    /// take one at any name, by its content type).
    private func addIcon(to routes: KeelRoutes) throws {
        guard let iconURL = Bundle.module.url(forResource: "favicon", withExtension: "svg"), let icon = try? Data(contentsOf: iconURL) else {
            throw KeelError(.internalServerError, message: "favicon.svg is missing from the Conduit bundle")
        }
        let iconBuffer = ByteBuffer(bytes: icon)
        for path in ["/favicon.ico", "/favicon.svg"] {
            routes.static.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: "image/svg+xml", .cacheControl: "public, max-age=86400"],
                         body: .init(byteBuffer: iconBuffer))
            }
        }
    }
}

extension Optional {
    /// `map` for an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
