import Crypto
import Foundation
import KeelCore
import SQLKit

/// One AES-256 key per data subject (`keel_audit_keys`), made the first time an entry about them is sealed.
/// Deleting a subject's key erases every value sealed with it; the entries, and so the chain, stay as they were.
enum SubjectKeys {
    /// The keys of those subjects that have one.
    static func load(_ subjects: Set<String>, sql: any SQLDatabase) async throws -> [String: SymmetricKey] {
        guard !subjects.isEmpty else { return [:] }
        var keys: [String: SymmetricKey] = [:]
        for chunk in Array(subjects).sorted().chunked(500) {
            let rows = try await sql.select().column("subject").column("key").from(AuditTables.keys)
                .where("subject", .in, chunk).all()
            for row in rows {
                let subject = try row.decode(column: "subject", as: String.self)
                if let data = Data(base64Encoded: try row.decode(column: "key", as: String.self)) {
                    keys[subject] = SymmetricKey(data: data)
                }
            }
        }
        return keys
    }

    /// Makes keys for subjects that had none and returns them as stored: when two writers make one for the same
    /// subject at once, the first kept is the one both get.
    static func create(_ subjects: Set<String>, sql: any SQLDatabase, at: Int64) async throws -> [String: SymmetricKey] {
        guard !subjects.isEmpty else { return [:] }
        var insert = sql.insert(into: AuditTables.keys).columns("subject", "key", "created_at")
        for subject in subjects.sorted() {
            insert = insert.values(SQLBind(subject), SQLBind(Data(SecureRandom.bytes(32)).base64EncodedString()), SQLBind(at))
        }
        try await insert.ignoringConflicts(with: ["subject"]).run()
        return try await load(subjects, sql: sql)
    }

    /// Deletes a subject's key; returns whether there was one.
    static func erase(_ subject: String, sql: any SQLDatabase) async throws -> Bool {
        try await sql.delete(from: AuditTables.keys).where("subject", .equal, subject).returning("subject").all().count > 0
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0 ..< Swift.min($0 + size, count)]) }
    }
}
