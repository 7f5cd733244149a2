package import Hummingbird

extension MediaType {
    /// The media type a `Content-Type` value or one `Accept` entry names, read as a browser reads it: its parameters
    /// dropped, surrounding whitespace trimmed, case ignored (`" Text/HTML ; q=0.9"` is `text/html`). Nil when it names
    /// none that Hummingbird's `MediaType` parser accepts; a caller deciding a security question treats that as the
    /// cautious case.
    package init?(essenceOf value: some StringProtocol) {
        let essence = value.prefix { $0 != ";" }.trimmingHTTPWhitespace()
        guard !essence.isEmpty else { return nil }
        self.init(from: essence.lowercased())
    }

    /// The media types an `Accept` header lists, in the order given (quality values are not weighed), unreadable
    /// entries left out.
    package static func accepted(_ header: String) -> [MediaType] {
        header.split(separator: ",").compactMap { MediaType(essenceOf: $0) }
    }

    /// Whether this is exactly `type`/`subtype` (a wildcard such as `*/*` or `text/*` is not).
    package func names(_ other: MediaType) -> Bool {
        subType != "*" && isType(other) && other.isType(self)
    }
}

extension StringProtocol {
    /// Without the HTTP whitespace (space, tab, CR, LF) at either end.
    fileprivate func trimmingHTTPWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }
}
