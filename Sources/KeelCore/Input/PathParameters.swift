import Foundation
public import Hummingbird

/// Percent-decoding of path parameters, done once per request by Keel's request pipeline.
///
/// Hummingbird matches routes on the path as sent, so `{username}` in `/api/profiles/J%C3%BCrgen` arrives as
/// `J%C3%BCrgen`; query parameters, by contrast, are decoded. Keel decodes every path parameter before the handler
/// runs, so `context.parameters.require("username")` is `Jürgen` whichever way the client spelled it. A `+` stays a
/// `+` (it means a space only in form bodies and query strings).
public enum PathParameters {
    /// The error for a parameter whose escapes do not decode to UTF-8 text (`%ZZ`, a lone `%`, `%C3` alone):
    /// 400 `http.bad_path`.
    public static var malformed: KeelError {
        KeelError(.badRequest, code: .badPath, message: "The request path is not valid percent-encoded UTF-8.")
    }

    /// The parameters with every value percent-decoded; the same value, without copying, when none has a `%`.
    ///
    /// - Throws: `malformed` (400 `http.bad_path`) when a value does not decode.
    public static func decoded(_ parameters: Parameters) throws -> Parameters {
        guard parameters.contains(where: { $0.value.utf8.contains(UInt8(ascii: "%")) }) else { return parameters }
        var result = Parameters()
        for (key, value) in parameters {
            if value.utf8.contains(UInt8(ascii: "%")) {
                // Foundation's decoder refuses a bad escape and bytes that are not UTF-8 (never U+FFFD: two different
                // paths must not become one name).
                guard let text = String(value).removingPercentEncoding else { throw malformed }
                result.append(key: key, value: Substring(text))
            } else {
                result.append(key: key, value: value)
            }
        }
        return result
    }
}
