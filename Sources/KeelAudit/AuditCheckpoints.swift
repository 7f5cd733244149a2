import Foundation
import KeelCore
import KeelData
import KeelSecurity
import Logging
import SystemPackage

/// The chain's head at a moment, signed with the application's keyring and kept where the database cannot rewrite
/// it (the JSON log and the checkpoint file). A later `audit verify` that finds the chain shorter than a checkpoint,
/// or different at its entry, knows entries were deleted or rewritten, even if whoever did it recomputed the hashes.
public struct AuditCheckpoint: Sendable, Codable, Equatable {
    public let seq: Int64
    public let hash: String
    /// When it was taken (ISO 8601, UTC).
    public let at: String
    /// The id of the key that signed it (`keys status`).
    public let keyID: String
    public let signature: String

    enum CodingKeys: String, CodingKey {
        case seq, hash, at, keyID = "key_id", signature
    }

    var payload: String { "keel.audit.checkpoint:\(seq):\(hash):\(at)" }

    static let salt = "keel.audit.checkpoint"

    static func make(seq: Int64, hash: String, at: Date, keyring: Keyring) -> AuditCheckpoint {
        let time = UTCTimestamp.string(secondsSince1970: at.timeIntervalSince1970)
        let unsigned = AuditCheckpoint(seq: seq, hash: hash, at: time, keyID: keyring.current.id, signature: "")
        return AuditCheckpoint(seq: seq, hash: hash, at: time, keyID: keyring.current.id,
                               signature: AuditSignature.sign(unsigned.payload, salt: salt, keyring: keyring))
    }

    /// Whether a configured key (current or fallback) signed it.
    func isSigned(by keyring: Keyring) -> Bool {
        AuditSignature.verify(signature, of: payload, salt: Self.salt, keyring: keyring)
    }

    var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Signatures the trail keeps beside what they sign (checkpoints, prune anchors): the keyring's signature of the
/// payload for one purpose (`salt`), without the payload it is stored next to.
enum AuditSignature {
    static func sign(_ payload: String, salt: String, keyring: Keyring) -> String {
        let signed = keyring.signer(salt: salt).sign(payload)
        return String(signed[signed.index(after: signed.lastIndex(of: ":")!)...])
    }

    /// Whether a configured key (current or fallback) made `signature` for `payload`.
    static func verify(_ signature: String, of payload: String, salt: String, keyring: Keyring) -> Bool {
        (try? keyring.signer(salt: salt).unsign(payload + ":" + signature)) != nil
    }
}

/// The checkpoint file: one JSON object per line, appended, never rewritten.
struct CheckpointFile: Sendable {
    let path: String

    /// `audit.checkpointFile`, else beside the SQLite file, else `var/audit-checkpoints.jsonl`.
    static func path(setting: String?, database: DatabaseURL) -> String {
        if let setting, !setting.isEmpty { return setting }
        if case .sqliteFile(let path) = database { return path + ".audit-checkpoints.jsonl" }
        return "var/audit-checkpoints.jsonl"
    }

    func append(_ checkpoint: AuditCheckpoint) throws {
        let folder = FilePath(path).removingLastComponent().string
        if !folder.isEmpty && folder != "." {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let descriptor = try FileDescriptor.open(FilePath(path), .writeOnly, options: [.append, .create], permissions: [.ownerReadWrite, .groupRead])
        try descriptor.closeAfter {
            _ = try descriptor.writeAll(Array((checkpoint.line + "\n").utf8))
        }
    }

    /// Every checkpoint in the file (none when it does not exist); a line that is not one is an error naming it.
    func read() throws -> [AuditCheckpoint] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var checkpoints: [AuditCheckpoint] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let checkpoint = try? JSONDecoder().decode(AuditCheckpoint.self, from: Data(line.utf8)) else {
                throw AuditError.badCheckpointFile("\(path), line \(number + 1), is not a checkpoint")
            }
            checkpoints.append(checkpoint)
        }
        return checkpoints
    }
}

