import Foundation

/// Turns an `Encodable` page model into what a template looks names up in (`TemplateValue`), through the model's own
/// (usually synthesized) `encode(to:)`: structs become scopes, arrays lists, optionals that are `nil` `.null` (found,
/// empty, false in a section), text, numbers and booleans stay what they are.
///
/// It is the fast path of `Templates.render`: reflecting a model with `Mirror`, and asking each value which protocols
/// it conforms to, was a quarter of a home page's CPU time; an encoder is called with each value's static type and
/// needs neither (docs/web.md, "What a page costs"). Models that are not `Encodable` still render, through `Mirror`.
///
/// Keys are the coding keys' names, the property names unless the model renames them. A `nil` optional is recorded
/// (synthesized code calls `encodeIfPresent`, which would otherwise leave the key out and make it "missing").
struct ScopeEncoder {
    static func value(_ model: some Encodable) throws -> TemplateValue {
        let box = ValueBox()
        try model.encode(to: NodeEncoder(box: box, codingPath: []))
        return box.result ?? .scope(TemplateScope())
    }
}

/// Where an encoder puts the one value it makes.
final class ValueBox {
    var value: TemplateValue?
    /// A keyed container's values, filled as its keys are encoded (a class, so nested containers share it).
    var keyed: KeyedValues?
    var unkeyed: UnkeyedValues?

    /// The value made so far: a finished keyed or unkeyed container, or a single value.
    var result: TemplateValue? {
        if let keyed {
            keyed.finish()
            return .scope(keyed.values)
        }
        if let unkeyed {
            unkeyed.finish()
            return .list(unkeyed.values)
        }
        return value
    }
}

final class KeyedValues {
    /// Room for a typical model's fields, so the list is not copied as it grows.
    var values = TemplateScope(capacity: 12)
    /// Nested containers still being filled, and where their values go.
    var pending: [(index: Int, box: ValueBox)] = []

    func finish() {
        for (index, box) in pending { values.replace(at: index, with: box.result ?? .null) }
        pending = []
    }

    /// A box for a nested container under `name`, its place kept in order.
    func nested(_ name: String) -> ValueBox {
        let box = ValueBox()
        pending.append((index: values.append(name, .null), box: box))
        return box
    }
}

/// A list's values, filled as its elements are encoded: text, numbers and finished values directly, nested
/// containers by a box each (like `KeyedValues`), so a list of a hundred names is one array, not a hundred boxes.
final class UnkeyedValues {
    var values: [TemplateValue] = []
    var pending: [(index: Int, box: ValueBox)] = []

    func finish() {
        for (index, box) in pending { values[index] = box.result ?? .null }
        pending = []
    }

    /// A box for a nested container, its place kept in order.
    func nested() -> ValueBox {
        let box = ValueBox()
        pending.append((index: values.count, box: box))
        values.append(.null)
        return box
    }
}

struct NodeEncoder: Encoder {
    let box: ValueBox
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.keyed == nil { box.keyed = KeyedValues() }
        return KeyedEncodingContainer(KeyedNode<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if box.unkeyed == nil { box.unkeyed = UnkeyedValues() }
        return UnkeyedNode(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNode(box: box, codingPath: codingPath)
    }
}

/// The value a leaf becomes: text and numbers as they are, anything else encoded into its own box.
enum Leaf {
    static func value<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> TemplateValue {
        // The type is compared first: comparing two metatypes is comparing two pointers, where a cast of a generic
        // value asks the runtime (a nested struct, the common case here, would fail six casts before encoding).
        if T.self == String.self, let text = value as? String { return .text(text) }
        if T.self == Int.self, let number = value as? Int { return .integer(number) }
        if T.self == Bool.self, let flag = value as? Bool { return .bool(flag) }
        if T.self == Double.self, let number = value as? Double { return .decimal(number) }
        if T.self == Date.self, let date = value as? Date { return .text(String(describing: date)) }
        if T.self == URL.self, let url = value as? URL { return .text(url.absoluteString) }
        let box = ValueBox()
        try value.encode(to: NodeEncoder(box: box, codingPath: codingPath))
        return box.result ?? .null
    }
}

struct KeyedNode<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: ValueBox
    let codingPath: [any CodingKey]

    private func set(_ value: TemplateValue, _ key: Key) {
        box.keyed?.values.append(key.stringValue, value)
    }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.text(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.decimal(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.decimal(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.integer(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(Self.unsigned(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.integer(Int(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(Self.unsigned(value), key) }

    /// An unsigned number past `Int.max` as its digits.
    static func unsigned(_ value: some UnsignedInteger) -> TemplateValue {
        Int(exactly: value).map(TemplateValue.integer) ?? .text(String(value))
    }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try Leaf.value(value, codingPath: codingPath + [key]), key)
    }

    // A `nil` optional is found (renders empty, false in a section), not missing.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { set(value.map(TemplateValue.bool) ?? .null, key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { set(value.map(TemplateValue.text) ?? .null, key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { set(value.map(TemplateValue.decimal) ?? .null, key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { set(value.map(TemplateValue.integer) ?? .null, key) }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        guard let value else { return set(.null, key) }
        try encode(value, forKey: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = box.keyed?.nested(key.stringValue) ?? ValueBox()
        return NodeEncoder(box: nested, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = box.keyed?.nested(key.stringValue) ?? ValueBox()
        return NodeEncoder(box: nested, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { NodeEncoder(box: box, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let nested = box.keyed?.nested(key.stringValue) ?? ValueBox()
        return NodeEncoder(box: nested, codingPath: codingPath + [key])
    }
}

struct UnkeyedNode: UnkeyedEncodingContainer {
    let box: ValueBox
    let codingPath: [any CodingKey]
    var count: Int { box.unkeyed?.values.count ?? 0 }

    private func append(_ value: TemplateValue) {
        box.unkeyed?.values.append(value)
    }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: String) throws { append(.text(value)) }
    mutating func encode(_ value: Int) throws { append(.integer(value)) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: Double) throws { append(.decimal(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try Leaf.value(value, codingPath: codingPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let element = box.unkeyed?.nested() ?? ValueBox()
        return NodeEncoder(box: element, codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let element = box.unkeyed?.nested() ?? ValueBox()
        return NodeEncoder(box: element, codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let element = box.unkeyed?.nested() ?? ValueBox()
        return NodeEncoder(box: element, codingPath: codingPath)
    }
}

struct SingleNode: SingleValueEncodingContainer {
    let box: ValueBox
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { box.value = .null }
    mutating func encode(_ value: Bool) throws { box.value = .bool(value) }
    mutating func encode(_ value: String) throws { box.value = .text(value) }
    mutating func encode(_ value: Double) throws { box.value = .decimal(value) }
    mutating func encode(_ value: Int) throws { box.value = .integer(value) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        // Numbers of other widths arrive here from their own `encode(to:)`: as numbers, not encoded again (forever).
        switch value {
        case let number as any BinaryInteger: box.value = Int(exactly: number).map(TemplateValue.integer) ?? .text(String(describing: number))
        case let number as any BinaryFloatingPoint: box.value = .decimal(Double(number))
        default: box.value = try Leaf.value(value, codingPath: codingPath)
        }
    }
}
