#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encodes response bodies as JSON, writing bytes as `encode(to:)` runs instead of building a tree of boxed values
/// first: on an article list, Foundation's `JSONEncoder` was the largest cost after the database.
///
/// The output is what `JSONEncoder` with `.withoutEscapingSlashes` would write (object keys in the order they are
/// encoded), except that U+2028 and U+2029 are escaped and a key encoded twice in one object appears twice (Foundation
/// keeps the last). Values the streaming path does not handle — `Date`, `Data`, `URL` and `Decimal` (which
/// `JSONEncoder` gives special strategies), 128-bit integers, non-finite numbers, `nestedContainer` and `superEncoder`,
/// a top-level value that encodes nothing — make it start over with `JSONEncoder`, so the result is Foundation's, only
/// slower in those cases.
///
/// ```swift
/// let bytes = try JSONBody.encode(["article": article])
/// ```
public enum JSONBody {
    public static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        if StreamingJSONEncoder.needsFoundation(Value.self) { return try foundation(value) }
        let writer = JSONStreamWriter()
        let encoder = StreamingJSONEncoder(writer: writer, path: .root)
        do {
            try value.encode(to: encoder)
            // A top-level value that encodes nothing is an error for JSONEncoder: let it say so.
            if encoder.state == .empty { return try foundation(value) }
            encoder.finish()
        } catch where writer.unsupported {
            return try foundation(value)
        }
        return writer.unsupported ? try foundation(value) : writer.bytes
    }

    static func foundation<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}

/// JSON text helpers shared by `JSONBody` and Keel's log lines.
public enum JSONText {
    /// Appends `string` as a JSON string literal: quotes, backslashes and control characters escaped (and U+2028 and
    /// U+2029, so the text is also safe inside a `<script>`); everything else, including non-ASCII, copied as UTF-8.
    public static func appendString(_ string: String, to output: inout [UInt8]) {
        // Most strings need no escaping: copy them in one go.
        let copied: Bool? = string.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0xE2 {
                return false
            }
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: bytes)
            output.append(UInt8(ascii: "\""))
            return true
        }
        if copied != true { appendEscaping(string, to: &output) }
    }

    /// The slow path: runs of bytes that need nothing are copied whole, between the escapes.
    static func appendEscaping(_ string: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var run = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0xE2 {
                    index += 1
                    continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                index += 1
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\")); output.append(byte)
                case UInt8(ascii: "\n"): output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "t"))
                case 0x08: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "b"))
                case 0x0C: output.append(UInt8(ascii: "\\")); output.append(UInt8(ascii: "f"))
                case 0x00..<0x20:
                    output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                               Hex.digits[Int(byte >> 4)], Hex.digits[Int(byte & 0xF)]])
                default:
                    // 0xE2: U+2028 and U+2029 are E2 80 A8 and E2 80 A9; any other E2 sequence is copied as it is.
                    if index + 1 < bytes.count, bytes[index] == 0x80, bytes[index + 1] == 0xA8 || bytes[index + 1] == 0xA9 {
                        output.append(contentsOf: "\\u202".utf8)
                        output.append(bytes[index + 1] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                        index += 2
                    } else {
                        output.append(byte)
                    }
                }
                run = index
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends an integer in decimal.
    public static func appendInteger<Integer: BinaryInteger>(_ value: Integer, to output: inout [UInt8]) {
        if value == 0 {
            output.append(UInt8(ascii: "0"))
            return
        }
        if let small = Int64(exactly: value) {
            var magnitude = small.magnitude
            if small < 0 { output.append(UInt8(ascii: "-")) }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buffer in
                while magnitude > 0 {
                    buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                    count += 1
                }
                for index in stride(from: count - 1, through: 0, by: -1) { output.append(buffer[index]) }
            }
        } else {
            output.append(contentsOf: String(value).utf8)
        }
    }
}

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

struct StreamingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws {
        encoder.writeKey(key)
        encoder.writeNull()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        encoder.writeKey(key)
        encoder.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        encoder.writeKey(key)
        JSONText.appendString(value, to: &encoder.writer.bytes)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        encoder.writeKey(key)
        try encoder.writeDouble(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        encoder.writeKey(key)
        try encoder.writeFloat(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try integer(value, key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try integer(value, key) }

    mutating func encode(_ value: Int128, forKey key: Key) throws { throw encoder.writer.markUnsupported() }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { throw encoder.writer.markUnsupported() }

    private func integer(_ value: some BinaryInteger, _ key: Key) throws {
        encoder.writeKey(key)
        JSONText.appendInteger(value, to: &encoder.writer.bytes)
    }

    mutating func encode<Value: Encodable>(_ value: Value, forKey key: Key) throws {
        encoder.writeKey(key)
        try encoder.writeValue(value, at: .key(key, parent: encoder.path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        _ = encoder.writer.markUnsupported()
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(encoder: StreamingJSONEncoder(writer: encoder.writer, path: encoder.path)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        _ = encoder.writer.markUnsupported()
        return StreamingUnkeyedContainer(encoder: StreamingJSONEncoder(writer: encoder.writer, path: encoder.path))
    }

    mutating func superEncoder() -> any Encoder {
        _ = encoder.writer.markUnsupported()
        return StreamingJSONEncoder(writer: encoder.writer, path: encoder.path)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        _ = encoder.writer.markUnsupported()
        return StreamingJSONEncoder(writer: encoder.writer, path: encoder.path)
    }
}

struct StreamingUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { encoder.count }

    private func next() {
        encoder.separator()
        encoder.count += 1
    }

    mutating func encodeNil() throws {
        next()
        encoder.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        next()
        encoder.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        next()
        JSONText.appendString(value, to: &encoder.writer.bytes)
    }

    mutating func encode(_ value: Double) throws {
        next()
        try encoder.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        next()
        try encoder.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws { integer(value) }
    mutating func encode(_ value: Int8) throws { integer(value) }
    mutating func encode(_ value: Int16) throws { integer(value) }
    mutating func encode(_ value: Int32) throws { integer(value) }
    mutating func encode(_ value: Int64) throws { integer(value) }
    mutating func encode(_ value: UInt) throws { integer(value) }
    mutating func encode(_ value: UInt8) throws { integer(value) }
    mutating func encode(_ value: UInt16) throws { integer(value) }
    mutating func encode(_ value: UInt32) throws { integer(value) }
    mutating func encode(_ value: UInt64) throws { integer(value) }

    mutating func encode(_ value: Int128) throws { throw encoder.writer.markUnsupported() }
    mutating func encode(_ value: UInt128) throws { throw encoder.writer.markUnsupported() }

    private func integer(_ value: some BinaryInteger) {
        next()
        JSONText.appendInteger(value, to: &encoder.writer.bytes)
    }

    mutating func encode<Value: Encodable>(_ value: Value) throws {
        let index = encoder.count
        next()
        try encoder.writeValue(value, at: .index(index, parent: encoder.path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        _ = encoder.writer.markUnsupported()
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(encoder: StreamingJSONEncoder(writer: encoder.writer, path: encoder.path)))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        _ = encoder.writer.markUnsupported()
        return StreamingUnkeyedContainer(encoder: StreamingJSONEncoder(writer: encoder.writer, path: encoder.path))
    }

    mutating func superEncoder() -> any Encoder {
        _ = encoder.writer.markUnsupported()
        return StreamingJSONEncoder(writer: encoder.writer, path: encoder.path)
    }
}

struct StreamingSingleValueContainer: SingleValueEncodingContainer {
    let encoder: StreamingJSONEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func claim() throws {
        guard encoder.state == .single else { throw encoder.writer.markUnsupported() }
        encoder.state = .singleWritten
    }

    mutating func encodeNil() throws {
        try claim()
        encoder.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        try claim()
        encoder.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try claim()
        JSONText.appendString(value, to: &encoder.writer.bytes)
    }

    mutating func encode(_ value: Double) throws {
        try claim()
        try encoder.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        try claim()
        try encoder.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws { try integer(value) }
    mutating func encode(_ value: Int8) throws { try integer(value) }
    mutating func encode(_ value: Int16) throws { try integer(value) }
    mutating func encode(_ value: Int32) throws { try integer(value) }
    mutating func encode(_ value: Int64) throws { try integer(value) }
    mutating func encode(_ value: UInt) throws { try integer(value) }
    mutating func encode(_ value: UInt8) throws { try integer(value) }
    mutating func encode(_ value: UInt16) throws { try integer(value) }
    mutating func encode(_ value: UInt32) throws { try integer(value) }
    mutating func encode(_ value: UInt64) throws { try integer(value) }

    mutating func encode(_ value: Int128) throws { throw encoder.writer.markUnsupported() }
    mutating func encode(_ value: UInt128) throws { throw encoder.writer.markUnsupported() }

    private func integer(_ value: some BinaryInteger) throws {
        try claim()
        JSONText.appendInteger(value, to: &encoder.writer.bytes)
    }

    mutating func encode<Value: Encodable>(_ value: Value) throws {
        try claim()
        try encoder.writeValue(value, at: encoder.path)
    }
}
