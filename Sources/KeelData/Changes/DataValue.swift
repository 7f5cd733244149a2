import KeelCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One stored value as the data layer read it back from a written row: what change observers (the audit trail)
/// receive, whatever the driver.
///
/// Decoded by trying the column's possible types from the strictest (SQLite keeps `"123"` text as text, PostgreSQL a
/// `bigint` as an integer), so a value keeps the kind it was stored as.
public enum DataValue: Sendable, Hashable, Decodable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
    case bytes([UInt8])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .real(value)
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .boolean(value)
        } else {
            self = .bytes(Array(try container.decode(Data.self)))
        }
    }

    /// The value as text: what a key is made of and what people read (`NULL` for null, hex for bytes).
    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .text(let value): value
        case .boolean(let value): value ? "true" : "false"
        case .bytes(let value): Hex.encode(value)
        }
    }

    /// The integer, when the value is one (SQLite and PostgreSQL alike keep integer keys as integers).
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text, when the value is text.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// The columns of one written row, as the statement returned them.
public struct RowValues: Sendable, Equatable {
    /// Column name → value.
    public let values: [String: DataValue]

    public init(_ values: [String: DataValue]) {
        self.values = values
    }

    public subscript(column: String) -> DataValue? { values[column] }

    /// An integer column (`id`), or `nil` when the row has no such integer.
    public func integer(_ column: String) -> Int? {
        values[column]?.integer.map { Int($0) }
    }

    /// A text column, or `nil` when it is NULL or not text.
    public func text(_ column: String) -> String? {
        values[column]?.text
    }
}
