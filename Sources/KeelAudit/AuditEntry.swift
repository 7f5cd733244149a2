import Crypto
import Foundation
import KeelCore
import SQLKit
import KeelData

/// One sealed entry of the audit trail, as stored.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// Its place in the chain: 1, 2, 3, … with no gaps (a gap is a removed entry).
    public let seq: Int64
    /// When the write happened, in microseconds since 1970 (UTC).
    public let at: Int64
    /// A user id, `command:NAME`, `system` or `anonymous`.
    public let actor: String
    /// `session`, `token`, `elevated`, `command`, `system`, `anonymous`.
    public let via: String
    public let requestID: String?
    /// The client address: sealed (`sealed:…`) with the key of the person it is about, or plain when nobody is.
    public let client: String?
    /// `insert`, `update`, `delete`, or an event's name (`auth.sign_in`).
    public let action: String
    public let objectTable: String?
    public let objectKey: String?
    /// The person the entry's personal values are about (whose key seals them).
    public let subject: String?
    /// The fields as stored (JSON; personal values sealed).
    public let fields: String
    /// SHA-256 (hex) over the previous entry's hash and this entry (`AuditEntry.chainHash`).
    public private(set) var hash: String

    enum CodingKeys: String, CodingKey {
        case seq, at, actor, via, requestID = "request_id", client, action, objectTable = "object_table", objectKey = "object_key", subject, fields, hash
    }

    static let columns = ["seq", "at", "actor", "via", "request_id", "client", "action", "object_table", "object_key", "subject", "fields", "hash"]

    init(row: any SQLRow) throws {
        seq = try row.decode(column: "seq", as: Int64.self)
        at = try row.decode(column: "at", as: Int64.self)
        actor = try row.decode(column: "actor", as: String.self)
        via = try row.decode(column: "via", as: String.self)
        requestID = try row.decodeIfPresent(column: "request_id", as: String.self)
        client = try row.decodeIfPresent(column: "client", as: String.self)
        action = try row.decode(column: "action", as: String.self)
        objectTable = try row.decodeIfPresent(column: "object_table", as: String.self)
        objectKey = try row.decodeIfPresent(column: "object_key", as: String.self)
        subject = try row.decodeIfPresent(column: "subject", as: String.self)
        fields = try row.decode(column: "fields", as: String.self)
        hash = try row.decode(column: "hash", as: String.self)
    }

    init(seq: Int64, at: Int64, actor: String, via: String, requestID: String?, client: String?, action: String,
         objectTable: String?, objectKey: String?, subject: String?, fields: String, previousHash: String) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.via = via
        self.requestID = requestID
        self.client = client
        self.action = action
        self.objectTable = objectTable
        self.objectKey = objectKey
        self.subject = subject
        self.fields = fields
        self.hash = ""
        self.hash = Self.chainHash(of: self, seq: seq, previous: previousHash)
    }

    var values: [any Encodable & Sendable] {
        [seq, at, actor, via, requestID, client, action, objectTable, objectKey, subject, fields, hash]
    }

    /// The chain's hash of an entry placed at `seq` after an entry whose hash is `previous`: hex SHA-256 of
    /// `keel.audit.v1`, the previous hash, then each field as `LENGTH:VALUE` (or `-` for none), one per line, in
    /// column order. Any change to a field, the order, or the entry before changes it.
    static func chainHash(of entry: AuditEntry, seq: Int64, previous: String) -> String {
        var text = "keel.audit.v1\n" + previous + "\n"
        let parts: [String?] = [String(seq), String(entry.at), entry.actor, entry.via, entry.requestID, entry.client, entry.action,
                                entry.objectTable, entry.objectKey, entry.subject, entry.fields]
        for part in parts {
            if let part { text += "\(part.utf8.count):\(part)\n" } else { text += "-\n" }
        }
        return Hex.encode(Array(SHA256.hash(data: Data(text.utf8))))
    }

    /// Whether the entry, placed at `seq` after `previous`, hashes to `hash`.
    func chains(at seq: Int64, after previous: String) -> Bool {
        Self.chainHash(of: self, seq: seq, previous: previous) == hash
    }

    /// The entry's time as ISO 8601 (UTC).
    public var time: String {
        UTCTimestamp.readable(secondsSince1970: Double(at) / 1_000_000, to: .second)
    }
}
