#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
