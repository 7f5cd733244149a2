import Crypto
import Foundation
import KeelCore
import SQLKit
import KeelData

/// One entry of the audit trail, as stored. A record still waiting in `keel_audit_pending` is the same entry before
/// the sealer places it (`seq` 0, no hash); `chained(at:after:)` places it.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// Its place in the chain: 1, 2, 3, … with no gaps (a gap is a removed entry).
    public private(set) var seq: Int64
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

    /// What a write records (both tables have these columns); the chain adds `seq` and `hash`.
    static let recordColumns = ["at", "actor", "via", "request_id", "client", "action", "object_table", "object_key", "subject", "fields"]
    static let columns = ["seq"] + recordColumns + ["hash"]

    /// An entry as stored, or a pending record (no `seq`, no `hash` columns).
    init(row: any SQLRow) throws {
        seq = row.contains(column: "seq") ? try row.decode(column: "seq", as: Int64.self) : 0
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
        hash = row.contains(column: "hash") ? try row.decode(column: "hash", as: String.self) : ""
    }

    /// A record not yet placed in the chain.
    init(at: Int64, actor: String, via: String, requestID: String?, client: String?, action: String,
         objectTable: String?, objectKey: String?, subject: String?, fields: String) {
        self.seq = 0
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
    }

    /// The entry placed at `seq`, after the entry whose hash is `previous`.
    func chained(at seq: Int64, after previous: String) -> AuditEntry {
        var entry = self
        entry.seq = seq
        entry.hash = Self.chainHash(of: self, seq: seq, previous: previous)
        return entry
    }

    /// The values of `recordColumns`, in order.
    var recordValues: [any Encodable & Sendable] {
        [at, actor, via, requestID, client, action, objectTable, objectKey, subject, fields]
    }

    /// The values of `columns`, in order.
    var values: [any Encodable & Sendable] {
        [seq] + recordValues + [hash]
    }

    /// Whose key seals the client address (`clientOwner(actor:via:subject:)`).
    var clientOwner: String? { Self.clientOwner(actor: actor, via: via, subject: subject) }

    /// Whose personal data the client address is: the actor's when a user acted, else the entry's subject's
    /// (someone failing to sign in as them), else nobody's (kept plain).
    static func clientOwner(actor: String, via: String, subject: String?) -> String? {
        switch ChangeAttribution.Via(rawValue: via) {
        case .session, .token, .elevated: actor
        default: subject
        }
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
