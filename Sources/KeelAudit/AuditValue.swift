import KeelData
import Crypto
import Foundation
import KeelCore

/// A value in an audit entry's fields, as stored (JSON): scalars as themselves, bytes as `{"hex": …}`, a personal
/// value as `{"sealed": …}` (AES-GCM under the data subject's key), and, only while an entry waits to be sealed,
/// `{"personal": …}`. Reading an entry whose subject was erased gives `.erased`.
public enum AuditValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
    case bytes(String)
    /// A personal value not sealed yet (pending entries only).
    indirect case personal(AuditValue)
    /// A personal value sealed with its subject's key: base64 of AES-GCM's combined nonce, ciphertext and tag.
    case sealed(String)
    /// A sealed value whose key is gone: the person was erased.
    case erased

    init(_ value: DataValue) {
        switch value {
        case .null: self = .null
        case .integer(let value): self = .integer(value)
        case .real(let value): self = .real(value)
        case .text(let value): self = .text(value)
        case .boolean(let value): self = .boolean(value)
        case .bytes(let value): self = .bytes(Hex.encode(value))
        }
    }

    private enum Keys: String, CodingKey {
        case hex, personal, sealed, erased
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Keys.self) {
            if let hex = try object.decodeIfPresent(String.self, forKey: .hex) {
                self = .bytes(hex)
            } else if let sealed = try object.decodeIfPresent(String.self, forKey: .sealed) {
                self = .sealed(sealed)
            } else if let personal = try object.decodeIfPresent(AuditValue.self, forKey: .personal) {
                self = .personal(personal)
            } else {
                self = .erased
            }
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .real(value)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .bytes(let hex):
            var object = encoder.container(keyedBy: Keys.self)
            try object.encode(hex, forKey: .hex)
        case .personal(let value):
            var object = encoder.container(keyedBy: Keys.self)
            try object.encode(value, forKey: .personal)
        case .sealed(let sealed):
            var object = encoder.container(keyedBy: Keys.self)
            try object.encode(sealed, forKey: .sealed)
        case .erased:
            var object = encoder.container(keyedBy: Keys.self)
            try object.encode(true, forKey: .erased)
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .integer(let value): try container.encode(value)
            case .real(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            case .boolean(let value): try container.encode(value)
            default: break
            }
        }
    }

    /// How people read it: text quoted, `[erased]` for an erased value, `[sealed]` for one not opened.
    public var description: String {
        switch self {
        case .null: "null"
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): "\"" + value + "\""
        case .boolean(let value): value ? "true" : "false"
        case .bytes(let hex): "0x" + hex
        case .personal(let value): value.description
        case .sealed: "[sealed]"
        case .erased: "[erased]"
        }
    }

    // MARK: Sealing

    /// Seals a personal value (the value inside `.personal`) with a subject's key.
    func sealed(with key: SymmetricKey) throws -> AuditValue {
        guard case .personal(let inner) = self else { return self }
        var text = "["
        AuditFields.value(inner, into: &text)
        let plain = Data((text + "]").utf8)
        guard let combined = try AES.GCM.seal(plain, using: key).combined else { return .erased }
        return .sealed(combined.base64EncodedString())
    }

    /// Opens a sealed value with its subject's key (`nil` when there is none: erased).
    func opened(with key: SymmetricKey?) -> AuditValue {
        guard case .sealed(let text) = self else { return self }
        guard let key, let data = Data(base64Encoded: text),
              let box = try? AES.GCM.SealedBox(combined: data),
              let plain = try? AES.GCM.open(box, using: key),
              let value = try? JSONDecoder().decode([AuditValue].self, from: plain).first else { return .erased }
        return value
    }
}

/// One field of an entry: a change's values before and after, an event's value, or, for a secret column, only
/// that it changed.
public struct AuditField: Sendable, Hashable, Codable {
    public var before: AuditValue?
    public var after: AuditValue?
    public var value: AuditValue?
    /// Set for secret columns (password hashes, tokens): their values are never recorded.
    public var changed: Bool?

    public init(before: AuditValue? = nil, after: AuditValue? = nil, value: AuditValue? = nil, changed: Bool? = nil) {
        self.before = before
        self.after = after
        self.value = value
        self.changed = changed
    }

    private enum CodingKeys: String, CodingKey {
        case before, after, value, changed
    }

    /// A key that is present with `null` is the value null (a bio that was empty), not an absent value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func present(_ key: CodingKeys) throws -> AuditValue? {
            container.contains(key) ? try container.decode(AuditValue.self, forKey: key) : nil
        }
        before = try present(.before)
        after = try present(.after)
        value = try present(.value)
        changed = try container.decodeIfPresent(Bool.self, forKey: .changed)
    }

    func map(_ transform: (AuditValue) throws -> AuditValue) rethrows -> AuditField {
        AuditField(before: try before.map(transform), after: try after.map(transform), value: try value.map(transform), changed: changed)
    }

    /// `"old" → "new"`, `= value`, or `changed`.
    public var summary: String {
        if changed == true { return "changed" }
        if let value { return value.description }
        switch (before, after) {
        case (nil, let after?): return after.description
        case (let before?, nil): return before.description
        case (let before?, let after?): return before.description + " → " + after.description
        default: return ""
        }
    }
}

/// Fields as stored: JSON with sorted keys, so the same fields are always the same text.
enum AuditFields {
    /// Written by hand (every audited write encodes its fields while holding the write lock): keys sorted, strings
    /// escaped as RFC 8259 requires, the same text `JSONEncoder` with `.sortedKeys` gives, and read back by it.
    static func encode(_ fields: [String: AuditField]) -> String {
        var out = "{"
        for (index, name) in fields.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            string(name, into: &out)
            out += ":"
            field(fields[name]!, into: &out)
        }
        return out + "}"
    }

    static func field(_ field: AuditField, into out: inout String) {
        var first = true
        func key(_ name: String) {
            out += first ? "\"\(name)\":" : ",\"\(name)\":"
            first = false
        }
        out += "{"
        if let after = field.after { key("after"); value(after, into: &out) }
        if let before = field.before { key("before"); value(before, into: &out) }
        if let changed = field.changed { key("changed"); out += changed ? "true" : "false" }
        if let value = field.value { key("value"); Self.value(value, into: &out) }
        out += "}"
    }

    static func value(_ value: AuditValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .integer(let number): out += String(number)
        case .real(let number): out += number.isFinite ? String(number) : "null"
        case .text(let text): string(text, into: &out)
        case .boolean(let flag): out += flag ? "true" : "false"
        case .bytes(let hex): out += "{\"hex\":"; string(hex, into: &out); out += "}"
        case .personal(let inner): out += "{\"personal\":"; Self.value(inner, into: &out); out += "}"
        case .sealed(let sealed): out += "{\"sealed\":"; string(sealed, into: &out); out += "}"
        case .erased: out += "{\"erased\":true}"
        }
    }

    static func string(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func decode(_ text: String) -> [String: AuditField] {
        (try? JSONDecoder().decode([String: AuditField].self, from: Data(text.utf8))) ?? [:]
    }
}
