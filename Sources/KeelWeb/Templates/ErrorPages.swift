import Logging
import Hummingbird
import HTTPTypes
import KeelCore
import KeelData
import KeelKernel
import KeelSecurity

/// Errors on pages as the application's own templates: `errors/<status>` (`errors/404`) if there is one, else
/// `errors/default`. The page gets the status, a title, the messages, a sentence for people, the error code and the
/// request id; the error's headers (`Retry-After`, …) stay, and the pipeline adds every security header.
///
/// Without `errors/default` errors pass through to Keel's built-in page; a template that fails to render falls back
/// to it too, so an error page never becomes a second error.
struct ErrorPages: ErrorRenderer {
    let templates: Templates
    let format: ErrorFormat

    /// What an error page's template sees.
    struct Page: Encodable {
        let status: Int
        let title: String
        let explanation: String
        let messages: [String]
        let code: String
        let request_id: String
        let is_csrf_failure: Bool
    }

    func render(_ error: any Error, request: Request, context: KeelContext) -> Response? {
        // One look at the templates per error (with web.templatesReload each `current()` reads the folder again).
        guard format.resolved(for: request) == .html, let set = try? templates.current(), set.names.contains("errors/default") else {
            return nil
        }
        let snapshot = Templates(set, strict: templates.strict)
        let classified = classifyError(error, request: request, context: context, requestID: context.requestID, describe: DatabaseErrorReport.describe)
        let code = classified.status.code
        let page = Page(
            status: code, title: classified.status.reasonPhrase,
            explanation: Self.explanation(status: code, code: classified.code),
            messages: FormProblems(classified.messages).sentences,
            code: classified.code.rawValue, request_id: context.requestID, is_csrf_failure: classified.code == .csrfFailed)
        let name = set.names.contains("errors/\(code)") ? "errors/\(code)" : "errors/default"
        do {
            return try snapshot.page(name, page, context: context, status: classified.status, headers: classified.headers)
        } catch {
            context.logger.error("error page failed to render", metadata: ["template": .string(name)])
            return HTMLErrorPage.response(classified, requestID: context.requestID)
        }
    }

    /// A sentence for a person, by what happened.
    static func explanation(status: Int, code: ErrorCode) -> String {
        if code == .csrfFailed {
            return "This form could not be accepted: its security token is missing or does not match. This happens when "
                + "the page was open for a long time, when cookies are blocked, or when the form was sent from another "
                + "site. Go back, reload the page and try again."
        }
        switch status {
        case 400: return "The request could not be understood."
        case 401: return "Please sign in to see this page."
        case 403: return "You do not have permission to do that."
        case 404: return "There is no page at this address."
        case 405: return "This page does not accept that kind of request."
        case 413: return "What you sent is too large."
        case 422: return "Some of what you entered needs another look."
        case 429: return "Too many attempts in a short time. Wait a moment and try again."
        case 503: return "The site is busy or under maintenance. Please try again shortly."
        case 500...: return "Something went wrong on our side. If it keeps happening, tell us the request id below."
        default: return "The request could not be completed."
        }
    }
}
