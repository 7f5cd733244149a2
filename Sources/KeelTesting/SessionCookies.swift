public import HTTPTypes
public import HummingbirdTesting

extension TestResponse {
    /// The `Set-Cookie` line of Keel's session cookie (`keel_session`), if the response set one.
    public var sessionCookieLine: String? {
        headers[values: .setCookie].first { $0.hasPrefix("keel_session=") }
    }

    /// The session key the response set (empty when it cleared the cookie), if it set one.
    public var sessionKey: String? {
        sessionCookieLine.map { line in String(line.dropFirst("keel_session=".count).prefix { $0 != ";" }) }
    }
}

extension HTTPFields {
    /// A request's `Cookie` header carrying a session key: `client.execute(…, headers: .sessionCookie(key))`.
    public static func sessionCookie(_ key: String) -> HTTPFields {
        [.cookie: "keel_session=\(key)"]
    }
}

