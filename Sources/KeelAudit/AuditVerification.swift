import Foundation
import KeelData
import KeelSecurity
import Logging
import SQLKit

/// What `audit verify` found: whether the chain is intact, and if not, the first problem.
public struct AuditVerification: Sendable, Encodable, Equatable {
    public enum ProblemKind: String, Sendable, Codable {
        /// An entry's contents no longer match its hash.
        case changed
        /// Entries are missing from the middle or the start of the chain.
        case removed
        /// An entry was added and the ones after it renumbered.
        case inserted
        /// Two entries changed places.
        case reordered
        /// The newest entries were deleted (the head or a checkpoint saw more).
        case missingNewest = "missing_newest"
        /// The chain differs from a signed checkpoint at its entry (rewritten, hashes recomputed).
        case checkpointMismatch = "checkpoint_mismatch"
        /// A checkpoint no configured key signed.
        case badCheckpoint = "bad_checkpoint"
    }

    public struct Problem: Sendable, Codable, Equatable {
        public let kind: ProblemKind
        /// The first entry concerned.
        public let seq: Int64
        public let message: String
    }

    public var entries: Int64 = 0
    public var firstSeq: Int64?
    public var lastSeq: Int64?
    public var checkpoints = 0
    public var lastCheckpointSeq: Int64?
    public var problem: Problem?
    public var intact: Bool { problem == nil }

    enum CodingKeys: String, CodingKey {
        case entries, firstSeq = "first_seq", lastSeq = "last_seq", checkpoints, lastCheckpointSeq = "last_checkpoint_seq", problem, intact
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entries, forKey: .entries)
        try container.encode(firstSeq, forKey: .firstSeq)
        try container.encode(lastSeq, forKey: .lastSeq)
        try container.encode(checkpoints, forKey: .checkpoints)
        try container.encode(lastCheckpointSeq, forKey: .lastCheckpointSeq)
        try container.encode(problem, forKey: .problem)
        try container.encode(intact, forKey: .intact)
    }
}

extension AuditTrail {
    /// Recomputes the chain, oldest first, a page at a time (bounded memory), and checks it against the head row and
    /// `checkpoints`: stops at the first entry that was changed, removed, inserted or reordered, and reports entries
    /// missing after the last one. `progress(checked, total)` is called after each page.
    public func verify(checkpoints: [AuditCheckpoint]? = nil,
                       progress: @Sendable (Int64, Int64) -> Void = { _, _ in }) async throws -> AuditVerification {
        let checkpoints = try checkpoints ?? CheckpointFile(path: checkpointPath).read()
        let sql = database.sql
        var report = AuditVerification()
        let total = Int64(try await count())
        var expected: Int64 = 1
        var previous = AuditTables.genesis
        var bySeq: [Int64: AuditCheckpoint] = [:]
        for checkpoint in checkpoints {
            guard checkpoint.isSigned(by: keyring) else {
                report.problem = .init(kind: .badCheckpoint, seq: checkpoint.seq,
                                       message: "The checkpoint of \(checkpoint.at) (entry \(checkpoint.seq)) is not signed by a configured key (key id \(checkpoint.keyID)).")
                return report
            }
            bySeq[checkpoint.seq] = checkpoint
            report.checkpoints += 1
            report.lastCheckpointSeq = max(report.lastCheckpointSeq ?? 0, checkpoint.seq)
        }
        var last: Int64 = 0
        pages: while true {
            let rows = try await sql.select().columns(AuditEntry.columns.map { SQLColumn($0) }).from(AuditTables.entries)
                .where("seq", .greaterThan, last).orderBy("seq").limit(1000).all()
            if rows.isEmpty { break }
            for row in rows {
                let entry = try AuditEntry(row: row)
                report.firstSeq = report.firstSeq ?? entry.seq
                if entry.seq > expected {
                    report.problem = .init(kind: .removed, seq: expected, message: expected == entry.seq - 1
                        ? "Entry \(expected) was removed."
                        : "Entries \(expected) to \(entry.seq - 1) were removed.")
                    break pages
                }
                if !entry.chains(at: entry.seq, after: previous) {
                    report.problem = try await classify(entry, previous: previous)
                    break pages
                }
                if let checkpoint = bySeq[entry.seq], checkpoint.hash != entry.hash {
                    report.problem = .init(kind: .checkpointMismatch, seq: entry.seq,
                                           message: "Entry \(entry.seq) differs from the signed checkpoint of \(checkpoint.at): the chain was rewritten at or before it.")
                    break pages
                }
                previous = entry.hash
                expected = entry.seq + 1
                report.entries += 1
                report.lastSeq = entry.seq
                last = entry.seq
            }
            progress(report.entries, total)
        }
        if report.problem == nil {
            let lastSeq = report.lastSeq ?? 0
            let head = try await sql.select().column("seq").from(AuditTables.head).where("id", .equal, 1).first()?
                .decode(column: "seq", as: Int64.self)
            let seen = max(head ?? 0, report.lastCheckpointSeq ?? 0)
            if seen > lastSeq {
                let checkpoint = bySeq[seen]
                report.problem = .init(kind: .missingNewest, seq: lastSeq + 1, message: (lastSeq + 1 == seen
                    ? "Entry \(seen) is missing: the newest entries were deleted"
                    : "Entries \(lastSeq + 1) to \(seen) are missing: the newest entries were deleted")
                    + (checkpoint.map { " (the checkpoint of \($0.at) saw entry \($0.seq))." } ?? " (the chain's head says \(seen))."))
            }
        }
        return report
    }

    /// Names what happened to `entry`, the first that does not chain: reordered, inserted, or changed.
    private func classify(_ entry: AuditEntry, previous: String) async throws -> AuditVerification.Problem {
        let next = try await database.sql.select().columns(AuditEntry.columns.map { SQLColumn($0) }).from(AuditTables.entries)
            .where("seq", .greaterThan, entry.seq).orderBy("seq").limit(1).first().map(AuditEntry.init(row:))
        if let next, next.seq == entry.seq + 1, next.chains(at: entry.seq, after: previous) {
            if entry.chains(at: next.seq, after: next.hash) {
                return .init(kind: .reordered, seq: entry.seq, message: "Entries \(entry.seq) and \(next.seq) were swapped.")
            }
            return .init(kind: .inserted, seq: entry.seq,
                         message: "Entry \(entry.seq) was inserted: the entry that was there now follows it, renumbered.")
        }
        return .init(kind: .changed, seq: entry.seq, message: "Entry \(entry.seq) was changed: its contents no longer match its hash.")
    }

    /// Seals what is pending and signs the chain's head: appended to the checkpoint file and logged
    /// (`event=audit.checkpoint`). Returns it (nil while the trail is empty).
    @discardableResult
    public func checkpoint() async throws -> AuditCheckpoint? {
        try await seal()
        guard let head = try await database.sql.select().column("seq").column("hash").from(AuditTables.head).where("id", .equal, 1).first() else {
            throw AuditError.noHead
        }
        let seq = try head.decode(column: "seq", as: Int64.self)
        guard seq > 0 else { return nil }
        let checkpoint = AuditCheckpoint.make(seq: seq, hash: try head.decode(column: "hash", as: String.self), at: clock(), keyring: keyring)
        try CheckpointFile(path: checkpointPath).append(checkpoint)
        logger.notice("audit checkpoint", metadata: [
            "event": "audit.checkpoint", "keel.audit.seq": "\(checkpoint.seq)", "keel.audit.hash": "\(checkpoint.hash)",
            "keel.audit.key_id": "\(checkpoint.keyID)", "keel.audit.signature": "\(checkpoint.signature)",
        ])
        return checkpoint
    }
}
