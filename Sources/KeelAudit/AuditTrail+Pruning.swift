public import Foundation
import KeelCore
import KeelData
import KeelSecurity
import SQLKit

/// What `prune` removed: the entries through `throughSeq`, and the anchor entry that now records where they ended.
public struct AuditPruning: Sendable, Encodable, Equatable {
    public let removed: Int
    public let throughSeq: Int64?
    public let anchorSeq: Int64?

    enum CodingKeys: String, CodingKey {
        case removed, throughSeq = "through_seq", anchorSeq = "anchor_seq"
    }
}

extension AuditTrail {
    static let anchorAction = "audit.pruned"
    static let anchorSalt = "keel.audit.anchor"

    /// Removes the entries older than `date`. First it appends a signed anchor entry (`audit.pruned`: the last removed
    /// entry's number and hash, signed with the keyring), so `verify` still passes on what remains and shows where
    /// the pruned part ended; then it deletes them, in the same transaction, holding the chain's head.
    @discardableResult
    public func prune(before date: Date) async throws -> AuditPruning {
        try await seal()
        let keyring = self.keyring
        let now = Self.microseconds(clock())
        return try await database.write { tx in
            let sql = tx.sql
            let head = try await lockHead(sql)
            guard let last = try await sql.select().column("seq").column("hash").from(AuditTables.entries)
                .where("at", .lessThan, Self.microseconds(date)).where("action", .notEqual, Self.anchorAction)
                .orderBy("seq", .descending).limit(1).first() else {
                return AuditPruning(removed: 0, throughSeq: nil, anchorSeq: nil)
            }
            let through = try last.decode(column: "seq", as: Int64.self)
            let throughHash = try last.decode(column: "hash", as: String.self)
            let fields: [String: AuditField] = [
                "through_seq": AuditField(value: .integer(through)), "through_hash": AuditField(value: .text(throughHash)),
                "key_id": AuditField(value: .text(keyring.current.id)),
                "signature": AuditField(value: .text(AuditSignature.sign(Self.anchorPayload(seq: through, hash: throughHash),
                                                                          salt: Self.anchorSalt, keyring: keyring))),
            ]
            let attribution = ChangeAttribution.current
            let seq = head.seq + 1
            let anchor = AuditEntry(
                at: now, actor: attribution.actor, via: attribution.acting.rawValue, requestID: attribution.requestID, client: nil,
                action: Self.anchorAction, objectTable: AuditTables.entries, objectKey: String(through), subject: nil,
                fields: AuditFields.encode(fields)).chained(at: seq, after: head.hash)
            try await sql.insert(into: AuditTables.entries).columns(AuditEntry.columns).values(anchor.values).run()
            try await moveHead(sql, to: seq, hash: anchor.hash)
            let removed = try await sql.delete(from: AuditTables.entries).where("seq", .lessThanOrEqual, through).returning("seq").all().count
            return AuditPruning(removed: removed, throughSeq: through, anchorSeq: seq)
        }
    }

    static func anchorPayload(seq: Int64, hash: String) -> String {
        "keel.audit.anchor:\(seq):\(hash)"
    }

    /// Where the chain starts: after the anchor that records the last pruned entry before `firstSeq` (its number and
    /// hash, if a configured key signed it), else at the beginning.
    func start(before firstSeq: Int64) async throws -> ChainStart? {
        guard firstSeq > 1 else { return ChainStart(seq: 0, hash: AuditTables.genesis) }
        let rows = try await database.sql.select().columns(AuditEntry.columns.map { SQLColumn($0) }).from(AuditTables.entries)
            .where("action", .equal, Self.anchorAction).where("object_key", .equal, String(firstSeq - 1)).all()
        for row in rows {
            let entry = try AuditEntry(row: row)
            let fields = AuditFields.decode(entry.fields)
            guard case .text(let hash)? = fields["through_hash"]?.value, case .text(let signature)? = fields["signature"]?.value,
                  AuditSignature.verify(signature, of: Self.anchorPayload(seq: firstSeq - 1, hash: hash), salt: Self.anchorSalt, keyring: keyring)
            else { continue }
            return ChainStart(seq: firstSeq - 1, hash: hash)
        }
        return nil
    }
}

/// Where verification starts: after entry `seq`, whose hash was `hash`.
struct ChainStart: Sendable {
    let seq: Int64
    let hash: String
}
