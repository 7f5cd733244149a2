import HTTPTypes
package import Hummingbird
import NIOCore

/// The HTML page an error becomes on `web` routes: the status, the messages and the request id, every character
/// escaped, no inline script or style (so the default Content-Security-Policy holds). The web UI's templates replace
/// it with the application's own pages.
package enum HTMLErrorPage {
    package static func response(_ error: ClassifiedError, requestID: String) -> Response {
        var headers = error.headers
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html(error, requestID: requestID))))
    }

    static func html(_ error: ClassifiedError, requestID: String) -> String {
        let title = "\(error.status.code) \(error.status.reasonPhrase)"
        var page = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>\(HTMLEscaping.escape(title))</title></head>\n<body>\n"
        page += "<h1>\(HTMLEscaping.escape(error.status.reasonPhrase))</h1>\n"
        for key in error.messages.keys.sorted() {
            for message in error.messages[key] ?? [] {
                page += key == "body" ? "<p>\(HTMLEscaping.escape(message))</p>\n" : "<p>\(HTMLEscaping.escape(key)): \(HTMLEscaping.escape(message))</p>\n"
            }
        }
        page += "<p>Error code: <code>\(HTMLEscaping.escape(error.code.rawValue))</code></p>\n"
        if !requestID.isEmpty { page += "<p>Request id: <code>\(HTMLEscaping.escape(requestID))</code></p>\n" }
        page += "</body>\n</html>\n"
        return page
    }
}
