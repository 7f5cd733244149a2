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
    /// The last entry a signed prune removed (the chain is verified from the one after it).
    public var prunedThrough: Int64?
    public var problem: Problem?
    public var intact: Bool { problem == nil }

    enum CodingKeys: String, CodingKey {
        case entries, firstSeq = "first_seq", lastSeq = "last_seq", checkpoints, lastCheckpointSeq = "last_checkpoint_seq",
             prunedThrough = "pruned_through", problem, intact
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entries, forKey: .entries)
        try container.encode(firstSeq, forKey: .firstSeq)
        try container.encode(lastSeq, forKey: .lastSeq)
        try container.encode(checkpoints, forKey: .checkpoints)
        try container.encode(lastCheckpointSeq, forKey: .lastCheckpointSeq)
        try container.encode(prunedThrough, forKey: .prunedThrough)
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
        var bySeq: [Int64: AuditCheckpoint] = [:]
        for checkpoint in checkpoints {
            guard checkpoint.isSigned(by: keyring) else {
                var report = AuditVerification()
                report.problem = .init(kind: .badCheckpoint, seq: checkpoint.seq,
                                       message: "The checkpoint of \(checkpoint.at) (entry \(checkpoint.seq)) is not signed by a configured key (key id \(checkpoint.keyID)).")
                return report
            }
            bySeq[checkpoint.seq] = checkpoint
        }
        let walk = try await walkChain(checkpoints: bySeq, progress: progress)
        var report = AuditVerification()
        report.entries = walk.entries
        report.firstSeq = walk.firstSeq
        report.lastSeq = walk.lastSeq
        report.checkpoints = bySeq.count
        report.lastCheckpointSeq = bySeq.keys.max()
        report.prunedThrough = walk.prunedThrough
        report.problem = walk.problem
        if report.problem == nil {
            report.problem = try await missingNewest(after: walk.lastSeq ?? walk.prunedThrough ?? 0, checkpoints: bySeq)
        }
        return report
    }

    /// What walking the chain found.
    private struct ChainWalk: Sendable {
        var entries: Int64 = 0
        var firstSeq: Int64?
        var lastSeq: Int64?
        var prunedThrough: Int64?
        var problem: AuditVerification.Problem?
    }

    /// Recomputes every hash from the start (or the signed anchor of a prune), a page at a time.
    private func walkChain(checkpoints bySeq: [Int64: AuditCheckpoint], progress: @Sendable (Int64, Int64) -> Void) async throws -> ChainWalk {
        let sql = database.sql
        let total = Int64(try await count())
        var walk = ChainWalk()
        var expected: Int64 = 1
        var previous = AuditTables.genesis
        var last: Int64 = 0
        // After a prune the chain starts at the signed anchor's last pruned entry; without one, at the beginning.
        let first = try await sql.select().column("seq").from(AuditTables.entries).orderBy("seq").limit(1).first()?
            .decode(column: "seq", as: Int64.self)
        if let first, first > 1, let start = try await start(before: first) {
            expected = start.seq + 1
            previous = start.hash
            last = start.seq
            walk.prunedThrough = start.seq
        }
        while walk.problem == nil {
            let rows = try await sql.select().columns(AuditEntry.columns.map { SQLColumn($0) }).from(AuditTables.entries)
                .where("seq", .greaterThan, last).orderBy("seq").limit(1000).all()
            if rows.isEmpty { break }
            let entries = try rows.map(AuditEntry.init(row:))
            for entry in entries {
                if walk.firstSeq == nil { walk.firstSeq = entry.seq }
                var problem = Self.gap(entry, expected: expected) ?? Self.mismatch(entry, checkpoint: bySeq[entry.seq])
                if problem == nil, !entry.chains(at: entry.seq, after: previous) {
                    problem = try await classify(entry, previous: previous)
                }
                if let problem {
                    walk.problem = problem
                    break
                }
                previous = entry.hash
                expected = entry.seq + 1
                walk.entries += 1
                walk.lastSeq = entry.seq
                last = entry.seq
            }
            progress(walk.entries, total)
        }
        return walk
    }

    /// Entries the head row or a checkpoint saw after `lastSeq`, the last one in the table: the newest were deleted.
    private func missingNewest(after lastSeq: Int64, checkpoints bySeq: [Int64: AuditCheckpoint]) async throws -> AuditVerification.Problem? {
        let seen = max(try await readHead(database.sql).seq, bySeq.keys.max() ?? 0)
        guard seen > lastSeq else { return nil }
        let checkpoint = bySeq[seen]
        let what = lastSeq + 1 == seen
            ? "Entry \(seen) is missing: the newest entries were deleted"
            : "Entries \(lastSeq + 1) to \(seen) are missing: the newest entries were deleted"
        let source = checkpoint.map { " (the checkpoint of \($0.at) saw entry \($0.seq))." } ?? " (the chain's head says \(seen))."
        return .init(kind: .missingNewest, seq: lastSeq + 1, message: what + source)
    }

    /// Entries missing before `entry`, if its number is past the one expected.
    static func gap(_ entry: AuditEntry, expected: Int64) -> AuditVerification.Problem? {
        guard entry.seq > expected else { return nil }
        return .init(kind: .removed, seq: expected, message: expected == entry.seq - 1
            ? "Entry \(expected) was removed."
            : "Entries \(expected) to \(entry.seq - 1) were removed.")
    }

    /// A signed checkpoint at `entry` that saw another hash.
    static func mismatch(_ entry: AuditEntry, checkpoint: AuditCheckpoint?) -> AuditVerification.Problem? {
        guard let checkpoint, checkpoint.hash != entry.hash else { return nil }
        return .init(kind: .checkpointMismatch, seq: entry.seq,
                     message: "Entry \(entry.seq) differs from the signed checkpoint of \(checkpoint.at): the chain was rewritten at or before it.")
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
        let head = try await readHead(database.sql)
        guard head.seq > 0 else { return nil }
        let checkpoint = AuditCheckpoint.make(seq: head.seq, hash: head.hash, at: clock(), keyring: keyring)
        try CheckpointFile(path: checkpointPath).append(checkpoint)
        logger.notice("audit checkpoint", metadata: [
            "event": "audit.checkpoint", "keel.audit.seq": "\(checkpoint.seq)", "keel.audit.hash": "\(checkpoint.hash)",
            "keel.audit.key_id": "\(checkpoint.keyID)", "keel.audit.signature": "\(checkpoint.signature)",
        ])
        return checkpoint
    }
}
