public import Hummingbird
public import KeelKernel
import HTTPTypes
import KeelCore

/// Where to send a user after signing in (`?next=`), only ever on this site: a path that starts with one `/`, with
/// no scheme, host, backslash or control character. Anything else (`https://evil.example`, `//evil.example`,
/// `/\evil.example`, `javascript:…`) falls back. Django's `url_has_allowed_host_and_scheme` for the same-host case.
public enum SafeRedirect {
    /// `next` when it is a path on this site, else `fallback`.
    public static func path(_ next: String?, fallback: String = "/") -> String {
        guard let next, isLocalPath(next) else { return fallback }
        return next
    }

    /// Whether `text` is a path on this site.
    public static func isLocalPath(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.first == UInt8(ascii: "/"), bytes.count <= 2048 else { return false }
        if bytes.count > 1, bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\") { return false }
        return !bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }
    }

    /// A `303 See Other` to `path` (after a form POST, so a reload does not post again): Hummingbird's
    /// `Response.redirect(to:type: .normal)`.
    public static func seeOther(_ path: String) -> Response {
        Response.redirect(to: path, type: .normal)
    }

    /// A `303 See Other` to `page?next=<where the person was>`: an interruption (signing in, confirming elevated
    /// access) that sends them back afterwards. `next` is the page asked for, or for a form the page it was posted
    /// from (`Request.returnPath`), percent-encoded once, and only ever a path on this site.
    public static func interruption(to page: String, returningFrom request: Request, context: KeelContext) -> Response {
        let host = context.security.host ?? request.head.authority?.split(separator: ":").first.map { $0.lowercased() }
        return interruption(to: page, next: request.returnPath(host: host))
    }

    /// A `303 See Other` to `page?next=<next>`, `next` percent-encoded once and only ever a path on this site.
    public static func interruption(to page: String, next: String) -> Response {
        seeOther(page + "?next=" + URLEncoding.component(path(next)))
    }
}
