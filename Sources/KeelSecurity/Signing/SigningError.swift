/// Why a signed value was rejected. The description never contains the value, the key or the salt.
public struct SigningError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: String {
        case malformed = "signing.malformed"
        case badSignature = "signing.bad_signature"
        case expired = "signing.expired"
    }

    private let kind: Kind

    /// The stable code (`signing.malformed`, `signing.bad_signature`, `signing.expired`).
    public var code: String { kind.rawValue }
    public var description: String { "SigningError(\(code))" }

    /// Not in the `value:signature` form (or a timestamp that does not parse).
    public static var malformed: Self { .init(kind: .malformed) }
    /// No configured key (current or fallback) produced this signature.
    public static var badSignature: Self { .init(kind: .badSignature) }
    /// The signature is valid but older than the allowed age.
    public static var expired: Self { .init(kind: .expired) }
}
