import Foundation
package import Hummingbird

extension Request {
    /// Where to send a person back to after an interruption (signing in, confirming elevated access): the page they
    /// asked for, or for a form, the page it was posted from (its Referer, when on `host`), else `/`.
    package func returnPath(host: String?) -> String {
        if method == .get || method == .head { return uri.description }
        guard let host, let referer = headers[.referer], let url = URL(string: referer), url.host?.lowercased() == host else {
            return "/"
        }
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?" + query }
        return path
    }
}
