import Crypto
import Foundation
public import KeelData
public import KeelKernel
import KeelSecurity
import Logging
import Synchronization
public import SQLKit

/// The audit trail: an application part that observes every write transaction (`ChangeObserver`) and records what
/// it changed in audited tables, and the events it recorded, in that same transaction; a sealer then chains those
/// records into `keel_audit`, sealing personal values with their subject's key.
///
/// Read it with `app.audit`:
/// ```swift
/// let page = try await app.audit.entries(matching: AuditFilter(objectTable: "articles", objectKey: "7"), limit: 20)
/// try await app.audit.erase(subject: "7")          // the person's sealed values become [erased]
/// let report = try await app.audit.verify()
/// ```
public struct AuditTrail: ApplicationPart, ChangeObserver {
    let database: KeelDatabase
    let tables: [String: AuditedTable]
    /// `audit.enabled`: when off, nothing is tracked or recorded.
    public let isEnabled: Bool
    let clock: @Sendable () -> Date
    let signal: SealSignal
    let keyCache: SubjectKeyCache
    let logger: Logger
    /// Signs checkpoints.
    let keyring: Keyring
    /// Where checkpoints are appended and read from by default (`audit.checkpointFile`).
    public let checkpointPath: String

    init(database: KeelDatabase, tables: [AuditedTable], isEnabled: Bool, clock: @escaping @Sendable () -> Date, logger: Logger,
         keyring: Keyring, checkpointPath: String) {
        var byName: [String: AuditedTable] = [:]
        for table in tables {
            precondition(byName[table.name] == nil, "\(table.name) is audited twice: two modules list it (AuditedModule.audited)")
            byName[table.name] = table
        }
        self.database = database
        self.tables = byName
        self.isEnabled = isEnabled
        self.clock = clock
        self.signal = SealSignal()
        self.keyCache = SubjectKeyCache()
        self.logger = logger
        self.keyring = keyring
        self.checkpointPath = checkpointPath
    }

    /// Every audited table, by name.
    public var auditedTables: [AuditedTable] { tables.values.sorted { $0.name < $1.name } }

    // MARK: ChangeObserver

    public var trackedTables: [TrackedTable] { isEnabled ? auditedTables.map(\.tracked) : [] }
    public var recordsEvents: Bool { isEnabled }

    /// Writes one pending record per changed row and per event, in the write's transaction (one statement; one more
    /// the first time this process meets a data subject, for their key). Personal values and the client address are
    /// sealed here, so no pending record holds them in the clear; the sealer only numbers and chains.
    public func record(_ batch: ChangeBatch, in sql: any SQLDatabase) async throws {
        let drafts = draftRecords(of: batch)
        guard !drafts.isEmpty else { return }
        var owners = Set<String>()
        for draft in drafts {
            if draft.hasPersonal, let subject = draft.subject { owners.insert(subject) }
            if draft.attribution.client != nil, let owner = draft.clientOwner { owners.insert(owner) }
        }
        let keys = try await keys(for: owners, sql: sql)
        let at = Self.microseconds(clock())
        var insert = sql.insert(into: AuditTables.pending).columns(AuditEntry.recordColumns)
        for draft in drafts {
            insert = insert.values(try draft.sealed(at: at, keys: keys).recordValues)
        }
        try await insert.run()
    }

    public func didCommit(_ batch: ChangeBatch) {
        signal.wake()
    }

    /// The subjects' keys: from this process's cache, else read (and cached), else made in this transaction (cached
    /// once a later transaction reads them back committed, so a rolled-back key is never reused).
    func keys(for owners: Set<String>, sql: any SQLDatabase) async throws -> [String: SymmetricKey] {
        guard !owners.isEmpty else { return [:] }
        var keys = keyCache.keys(for: owners)
        let missing = owners.subtracting(keys.keys)
        guard !missing.isEmpty else { return keys }
        let stored = try await SubjectKeys.load(missing, sql: sql)
        keyCache.remember(stored)
        keys.merge(stored) { old, _ in old }
        let absent = missing.subtracting(stored.keys)
        if !absent.isEmpty {
            keys.merge(try await SubjectKeys.create(absent, sql: sql, at: Self.microseconds(clock()))) { old, _ in old }
        }
        return keys
    }

    /// What a batch records, one draft per changed row of an audited table and per event, values not yet sealed.
    func draftRecords(of batch: ChangeBatch) -> [DraftRecord] {
        let attribution = batch.attribution
        var drafts: [DraftRecord] = []
        for change in batch.changes {
            guard let table = tables[change.table] else { continue }
            let subject = table.subject(of: change.after ?? change.before, key: change.key)
            var fields: [String: AuditField] = [:]
            var personal = false
            let columns = change.action == .update ? change.changedColumns
                : ((change.after ?? change.before)?.values.keys.sorted() ?? [])
            for column in columns {
                if table.secret.contains(column) {
                    fields[column] = AuditField(changed: true)
                    continue
                }
                let isPersonal = table.personal.contains(column) && subject != nil
                func stored(_ value: DataValue?) -> AuditValue? {
                    guard let value else { return nil }
                    let plain = AuditValue(value)
                    guard isPersonal, plain != .null else { return plain }
                    personal = true
                    return .personal(plain)
                }
                fields[column] = AuditField(before: stored(change.before?[column]), after: stored(change.after?[column]))
            }
            drafts.append(DraftRecord(attribution: attribution, action: change.action.rawValue, objectTable: change.table,
                                      objectKey: change.key, subject: subject, fields: fields, hasPersonal: personal))
        }
        for event in batch.events {
            var fields: [String: AuditField] = [:]
            var personal = false
            for (name, value) in event.details {
                let isPersonal = event.personal.contains(name) && event.subject != nil
                personal = personal || isPersonal
                fields[name] = AuditField(value: isPersonal ? .personal(.text(value)) : .text(value))
            }
            drafts.append(DraftRecord(attribution: attribution, action: event.name, objectTable: event.table, objectKey: event.key,
                                      subject: event.subject, fields: fields, hasPersonal: personal))
        }
        return drafts
    }

    static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    // MARK: Sealing

    /// Chains every pending record into the trail, oldest first, sealing personal values; returns how many. The
    /// sealer service calls it whenever a write commits; commands and staff pages call it before they read.
    @discardableResult
    public func seal() async throws -> Int {
        // Nothing pending (the common case for a reader): no write lock taken.
        guard try await database.sql.select().column("id").from(AuditTables.pending).limit(1).first() != nil else { return 0 }
        var total = 0
        while true {
            let sealed = try await sealBatch(limit: 500)
            total += sealed
            if sealed < 500 { return total }
        }
    }

    /// Seals up to `limit` pending records in one transaction that holds the chain's head (locked on PostgreSQL,
    /// SQLite's write lock), so instances sealing at once keep one line.
    func sealBatch(limit: Int) async throws -> Int {
        try await database.write { tx in
            let sql = tx.sql
            var (seq, previous) = try await lockHead(sql)
            let rows = try await sql.raw("SELECT * FROM \(ident: AuditTables.pending) ORDER BY id LIMIT \(literal: limit)").all()
            guard !rows.isEmpty else { return 0 }
            var entries: [AuditEntry] = []
            for row in rows {
                seq += 1
                let entry = try AuditEntry(row: row).chained(at: seq, after: previous)
                entries.append(entry)
                previous = entry.hash
            }
            let ids = try rows.map { try $0.decode(column: "id", as: Int64.self) }
            for chunk in entries.chunked(100) {
                var insert = sql.insert(into: AuditTables.entries).columns(AuditEntry.columns)
                for entry in chunk { insert = insert.values(entry.values) }
                try await insert.run()
            }
            for chunk in ids.chunked(500) {
                try await sql.delete(from: AuditTables.pending).where("id", .in, chunk).run()
            }
            try await moveHead(sql, to: seq, hash: previous)
            return entries.count
        }
    }

    /// The chain's head (last sequence number and hash), locked until the transaction `sql` belongs to ends
    /// (`FOR UPDATE` on PostgreSQL; on SQLite the write transaction already holds the database's write lock).
    func lockHead(_ sql: any SQLDatabase) async throws -> (seq: Int64, hash: String) {
        try await readHead(sql, locking: true)
    }

    /// The chain's head; throws `audit.no_head` when its row is gone.
    func readHead(_ sql: any SQLDatabase, locking: Bool = false) async throws -> (seq: Int64, hash: String) {
        let lock: SQLQueryString = locking && database.kind == .postgres ? " FOR UPDATE" : ""
        guard let head = try await sql.raw("SELECT seq, hash FROM \(ident: AuditTables.head) WHERE id = 1" + lock).first() else {
            throw AuditError.noHead
        }
        return (try head.decode(column: "seq", as: Int64.self), try head.decode(column: "hash", as: String.self))
    }

    /// Moves the head to the last entry written in this transaction.
    func moveHead(_ sql: any SQLDatabase, to seq: Int64, hash: String) async throws {
        try await sql.update(AuditTables.head).set("seq", to: seq).set("hash", to: hash).where("id", .equal, 1).run()
    }

    /// Whether the trail's tables exist (its migration has run).
    func isReady() async -> Bool {
        (try? await readHead(database.sql)) != nil
    }

    // MARK: Erasure

    /// Erases what the trail holds about a person: seals what is pending, then deletes their key, so every value
    /// sealed with it reads `[erased]` while the entries (and the chain) stay. Returns whether they had a key.
    @discardableResult
    public func erase(subject: String) async throws -> Bool {
        try await seal()
        keyCache.forget(subject)
        return try await database.write { tx in
            let erased = try await SubjectKeys.erase(subject, sql: tx.sql)
            tx.record(ChangeEvent("audit.subject_erased", subject: subject, details: ["subject": subject]))
            return erased
        }
    }
}

/// What a write recorded, before its values are sealed.
struct DraftRecord {
    let attribution: ChangeAttribution
    let action: String
    let objectTable: String?
    let objectKey: String?
    let subject: String?
    let fields: [String: AuditField]
    /// Whether a field holds a personal value (sealed with the subject's key).
    let hasPersonal: Bool

    /// Whose personal data the client address is (`AuditEntry.clientOwner`).
    var clientOwner: String? {
        AuditEntry.clientOwner(actor: attribution.actor, via: attribution.acting.rawValue, subject: subject)
    }

    /// The pending record: personal values sealed with the subject's key, the client address with its owner's.
    func sealed(at: Int64, keys: [String: SymmetricKey]) throws -> AuditEntry {
        var stored = fields
        if hasPersonal {
            let key = subject.flatMap { keys[$0] }
            stored = try fields.mapValues { field in
                try field.map { value in
                    guard case .personal(let inner) = value else { return value }
                    guard let key else { return inner }
                    return try value.sealed(with: key)
                }
            }
        }
        var client = attribution.client
        if let plain = client, let owner = clientOwner, let key = keys[owner] {
            client = "sealed:" + (try AuditValue.personal(.text(plain)).sealed(with: key).sealedText)
        }
        return AuditEntry(at: at, actor: attribution.actor, via: attribution.acting.rawValue, requestID: attribution.requestID,
                             client: client, action: action, objectTable: objectTable, objectKey: objectKey, subject: subject,
                             fields: AuditFields.encode(stored))
    }
}

extension AuditValue {
    var sealedText: String {
        if case .sealed(let text) = self { return text }
        return ""
    }
}

/// The subjects' keys this process has read from the table, for a minute each: most writes find their key here.
/// Erasing forgets it at once on this instance; another instance may seal with it for up to a minute more, which
/// makes those values unreadable (erased) too.
final class SubjectKeyCache: Sendable {
    private let state = Mutex<[String: (key: SymmetricKey, at: ContinuousClock.Instant)]>([:])
    static let lifetime = Duration.seconds(60)
    static let capacity = 10_000

    func keys(for subjects: Set<String>) -> [String: SymmetricKey] {
        let now = ContinuousClock.now
        return state.withLock { cache in
            var found: [String: SymmetricKey] = [:]
            for subject in subjects {
                if let entry = cache[subject], now - entry.at < Self.lifetime { found[subject] = entry.key }
            }
            return found
        }
    }

    func remember(_ keys: [String: SymmetricKey]) {
        guard !keys.isEmpty else { return }
        let now = ContinuousClock.now
        state.withLock { cache in
            if cache.count + keys.count > Self.capacity { cache.removeAll(keepingCapacity: true) }
            for (subject, key) in keys { cache[subject] = (key, now) }
        }
    }

    func forget(_ subject: String) {
        _ = state.withLock { $0.removeValue(forKey: subject) }
    }
}

/// Wakes the sealer when a write commits; a wake with nobody waiting is kept for the next wait.
final class SealSignal: Sendable {
    private struct State {
        var woken = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.woken = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next wake (at once if one came since the last wait), or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.woken || Task.isCancelled {
                        state.woken = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
    }
}

/// The audit trail's errors.
public struct AuditError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: String {
        case noHead = "audit.no_head"
        case badFilter = "audit.bad_filter"
        case badCheckpointFile = "audit.bad_checkpoint_file"
    }

    private let kind: Kind
    public let detail: String
    public var code: String { kind.rawValue }
    public var description: String { detail.isEmpty ? "AuditError(\(code))" : detail }

    /// The chain's head row is missing: the trail's tables were tampered with or never migrated.
    static var noHead: AuditError { AuditError(kind: .noHead, detail: "The audit trail has no head row (keel_audit_head): run migrate, or restore it.") }
    /// A filter value that cannot be read (a date, an object); `detail` says which and why.
    public static func badFilter(_ detail: String) -> AuditError { AuditError(kind: .badFilter, detail: detail) }
    /// A line of the checkpoint file is not a checkpoint; `detail` names the file and the line.
    public static func badCheckpointFile(_ detail: String) -> AuditError { AuditError(kind: .badCheckpointFile, detail: detail) }

    public static func == (lhs: AuditError, rhs: AuditError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
