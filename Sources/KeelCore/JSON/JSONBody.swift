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
