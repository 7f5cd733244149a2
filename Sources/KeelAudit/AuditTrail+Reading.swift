public import Foundation
import KeelData
import SQLKit

/// Which entries to read: every condition given must hold.
public struct AuditFilter: Sendable, Equatable {
    public var actor: String?
    public var objectTable: String?
    public var objectKey: String?
    public var action: String?
    public var subject: String?
    public var since: Date?
    public var until: Date?

    public init(actor: String? = nil, objectTable: String? = nil, objectKey: String? = nil, action: String? = nil, subject: String? = nil,
                since: Date? = nil, until: Date? = nil) {
        self.actor = actor
        self.objectTable = objectTable
        self.objectKey = objectKey
        self.action = action
        self.subject = subject
        self.since = since
        self.until = until
    }

    /// `TABLE:KEY` (or `TABLE` alone) as given to `--object`.
    public static func object(_ text: String) throws(AuditError) -> (table: String, key: String?) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let table = parts.first, !table.isEmpty, table.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw .badFilter("object must be TABLE or TABLE:KEY (letters, digits and _ in the table's name), not \(text.debugDescription)")
        }
        if parts.count == 2 {
            guard !parts[1].isEmpty else { throw .badFilter("object \(text.debugDescription) names no key after the colon") }
            return (table, parts[1])
        }
        return (table, nil)
    }

    /// A date as given to `--since` / `--until`: `2026-12-08`, `2026-12-08T14:03:00Z`, or `2026-12-08 14:03`.
    public static func date(_ text: String, name: String) throws(AuditError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let formats = ["yyyy-MM-dd'T'HH:mm:ssXXXXX", "yyyy-MM-dd'T'HH:mm:ss.SSSXXXXX", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"]
        for format in formats {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        throw .badFilter("\(name) must be a date such as 2026-12-08 or 2026-12-08T14:03:00Z (UTC), not \(text.debugDescription)")
    }

    func predicate() -> (any SQLExpression)? {
        var parts: [any SQLExpression] = []
        func equal(_ column: String, _ value: (some Encodable & Sendable)?) {
            if let value { parts.append(SQLBinaryExpression(left: SQLColumn(column), op: SQLBinaryOperator.equal, right: SQLBind(value))) }
        }
        equal("actor", actor)
        equal("object_table", objectTable)
        equal("object_key", objectKey)
        equal("action", action)
        equal("subject", subject)
        if let since {
            parts.append(SQLBinaryExpression(left: SQLColumn("at"), op: SQLBinaryOperator.greaterThanOrEqual, right: SQLBind(AuditTrail.microseconds(since))))
        }
        if let until {
            parts.append(SQLBinaryExpression(left: SQLColumn("at"), op: SQLBinaryOperator.lessThan, right: SQLBind(AuditTrail.microseconds(until))))
        }
        guard var combined = parts.first else { return nil }
        for part in parts.dropFirst() {
            combined = SQLBinaryExpression(left: combined, op: SQLBinaryOperator.and, right: part)
        }
        return combined
    }
}

/// An entry as people read it: personal values opened with their subject's key, or `[erased]`.
public struct AuditRecord: Sendable, Equatable {
    public let entry: AuditEntry
    /// The fields, opened.
    public let fields: [String: AuditField]
    /// The client address, opened (`[erased]` when its owner was erased).
    public let client: String?

    /// `title: "a" → "b"; password_hash: changed`, fields sorted.
    public var summary: String {
        fields.keys.sorted().map { "\($0): \(fields[$0]!.summary)" }.joined(separator: "; ")
    }
}

extension AuditTrail {
    /// The newest entries matching `filter`, newest first, `limit` at most, older than `before` when given (the
    /// next page starts before the last entry's `seq`). Seals what is pending first.
    public func entries(matching filter: AuditFilter = AuditFilter(), limit: Int = 50, before: Int64? = nil) async throws -> [AuditRecord] {
        try await seal()
        let sql = database.sql
        var query = sql.select().columns(AuditEntry.columns.map { SQLColumn($0) }).from(AuditTables.entries)
        if let predicate = filter.predicate() { query = query.where(predicate) }
        if let before { query = query.where("seq", .lessThan, before) }
        let rows = try await query.orderBy("seq", .descending).limit(max(1, min(limit, 1000))).all()
        return try await open(try rows.map(AuditEntry.init(row:)))
    }

    /// One entry, opened (nil when there is none). Seals what is pending first.
    public func entry(seq: Int64) async throws -> AuditRecord? {
        try await seal()
        let rows = try await database.sql.select().columns(AuditEntry.columns.map { SQLColumn($0) }).from(AuditTables.entries)
            .where("seq", .equal, seq).all()
        return try await open(try rows.map(AuditEntry.init(row:))).first
    }

    /// How many entries match `filter`.
    public func count(matching filter: AuditFilter = AuditFilter()) async throws -> Int {
        var query = database.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(AuditTables.entries)
        if let predicate = filter.predicate() { query = query.where(predicate) }
        return try await query.first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Opens the personal values of `entries` with their subjects' keys (one query).
    func open(_ entries: [AuditEntry]) async throws -> [AuditRecord] {
        var owners = Set<String>()
        for entry in entries {
            if let subject = entry.subject { owners.insert(subject) }
            if entry.client?.hasPrefix("sealed:") == true, let owner = entry.clientOwner { owners.insert(owner) }
        }
        let keys = try await SubjectKeys.load(owners, sql: database.sql)
        return entries.map { entry in
            let key = entry.subject.flatMap { keys[$0] }
            let fields = AuditFields.decode(entry.fields).mapValues { $0.map { $0.opened(with: key) } }
            var client = entry.client
            if let sealed = entry.client, sealed.hasPrefix("sealed:") {
                let value = AuditValue.sealed(String(sealed.dropFirst("sealed:".count)))
                let opened = value.opened(with: entry.clientOwner.flatMap { keys[$0] })
                if case .text(let text) = opened { client = text } else { client = "[erased]" }
            }
            return AuditRecord(entry: entry, fields: fields, client: client)
        }
    }
}
