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
                guard let text = percentDecoded(value.utf8) else { throw malformed }
                result.append(key: key, value: Substring(text))
            } else {
                result.append(key: key, value: value)
            }
        }
        return result
    }

    /// `bytes` with each `%XX` replaced by the byte it names, as UTF-8 text; `nil` for a bad escape or bytes that are
    /// not UTF-8.
    public static func percentDecoded(_ bytes: some Collection<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            index = bytes.index(after: index)
            guard byte == UInt8(ascii: "%") else {
                output.append(byte)
                continue
            }
            guard index != bytes.endIndex, let high = hexValue(bytes[index]) else { return nil }
            index = bytes.index(after: index)
            guard index != bytes.endIndex, let low = hexValue(bytes[index]) else { return nil }
            index = bytes.index(after: index)
            output.append(high << 4 | low)
        }
        // Strict: a sequence that is not UTF-8 is refused, never replaced with U+FFFD (two different paths must not
        // become one name).
        guard let text = String(validating: output, as: UTF8.self) else { return nil }
        return text
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
