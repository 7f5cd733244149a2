#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The bytes being written, shared by every encoder of one `JSONBody.encode` call.
final class JSONStreamWriter {
    var bytes: [UInt8] = []
    /// Set when the value needs something only `JSONEncoder` does; the caller then starts over with it.
    var unsupported = false

    init() {
        bytes.reserveCapacity(1024)
    }

    func markUnsupported() -> UnsupportedByStreamingEncoder {
        unsupported = true
        return UnsupportedByStreamingEncoder()
    }
}

struct UnsupportedByStreamingEncoder: Error {}

/// Where an encoder sits, kept as links so the common case never builds a `codingPath` array.
indirect enum JSONCodingPath {
    case root
    case key(any CodingKey, parent: JSONCodingPath)
    case index(Int, parent: JSONCodingPath)

    var keys: [any CodingKey] {
        switch self {
        case .root: return []
        case .key(let key, let parent): return parent.keys + [key]
        case .index(let index, let parent): return parent.keys + [JSONIndexKey(intValue: index)]
        }
    }
}

struct JSONIndexKey: CodingKey {
    var stringValue: String { "Index \(intValue!)" }
    var intValue: Int?
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// One value being encoded at one place in the output.
final class StreamingJSONEncoder: Encoder {
    enum State {
        case empty
        case keyed
        case unkeyed
        case single
        case singleWritten
    }

    let writer: JSONStreamWriter
    let path: JSONCodingPath
    var state = State.empty
    /// Whether the open object or array has no member yet (no comma before the next one).
    var first = true
    var count = 0

    init(writer: JSONStreamWriter, path: JSONCodingPath) {
        self.writer = writer
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        switch state {
        case .empty:
            writer.bytes.append(UInt8(ascii: "{"))
            state = .keyed
        case .keyed:
            break
        default:
            _ = writer.markUnsupported()
        }
        return KeyedEncodingContainer(StreamingKeyedContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        switch state {
        case .empty:
            writer.bytes.append(UInt8(ascii: "["))
            state = .unkeyed
        case .unkeyed:
            break
        default:
            _ = writer.markUnsupported()
        }
        return StreamingUnkeyedContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if state != .empty { _ = writer.markUnsupported() }
        state = .single
        return StreamingSingleValueContainer(encoder: self)
    }

    /// Closes what `encode(to:)` opened. A value that opened nothing is an empty object, as with `JSONEncoder`.
    func finish() {
        switch state {
        case .empty: writer.bytes.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
        case .keyed: writer.bytes.append(UInt8(ascii: "}"))
        case .unkeyed: writer.bytes.append(UInt8(ascii: "]"))
        case .single: _ = writer.markUnsupported()
        case .singleWritten: break
        }
    }

    func separator() {
        if first {
            first = false
        } else {
            writer.bytes.append(UInt8(ascii: ","))
        }
    }

    func writeKey(_ key: some CodingKey) {
        separator()
        JSONText.appendString(key.stringValue, to: &writer.bytes)
        writer.bytes.append(UInt8(ascii: ":"))
    }

    /// As `JSONEncoder` writes numbers: the shortest round-trip `description`, without a trailing `.0`.
    func writeDouble(_ value: Double) throws {
        guard value.isFinite else { throw writer.markUnsupported() }
        writeNumber(value.description)
    }

    func writeFloat(_ value: Float) throws {
        guard value.isFinite else { throw writer.markUnsupported() }
        writeNumber(value.description)
    }

    private func writeNumber(_ description: String) {
        var text = description
        if text.hasSuffix(".0") { text.removeLast(2) }
        writer.bytes.append(contentsOf: text.utf8)
    }

    func writeBool(_ value: Bool) {
        if value { writer.bytes.append(contentsOf: "true".utf8) } else { writer.bytes.append(contentsOf: "false".utf8) }
    }

    func writeNull() {
        writer.bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    /// Types `JSONEncoder` gives special strategies. (128-bit integers fall back from their container methods.)
    static func needsFoundation<Value>(_ type: Value.Type) -> Bool {
        type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
    }

    /// Encodes a nested value in place. Foundation's special cases go back to `JSONEncoder`.
    func writeValue<Value: Encodable>(_ value: Value, at path: JSONCodingPath) throws {
        // Metatype comparisons, not dynamic casts: this runs for every nested value.
        if Value.self == String.self {
            JSONText.appendString(unsafeBitCast(value, to: String.self), to: &writer.bytes)
        } else if Value.self == Int.self {
            JSONText.appendInteger(unsafeBitCast(value, to: Int.self), to: &writer.bytes)
        } else if Value.self == Bool.self {
            writeBool(unsafeBitCast(value, to: Bool.self))
        } else if Self.needsFoundation(Value.self) {
            throw writer.markUnsupported()
        } else {
            let child = StreamingJSONEncoder(writer: writer, path: path)
            try value.encode(to: child)
            child.finish()
        }
    }
}
