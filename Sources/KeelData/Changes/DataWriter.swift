import FluentSQLiteDriver
public import SQLKit
import Synchronization

/// The handle of a write transaction (`KeelDatabase.write`): inserts, updates and deletes whose changes to tracked
/// tables are captured row by row, with their values before and after, and handed to the database's observers
/// (the audit trail) in the same transaction, just before it commits.
///
/// Every row a statement touches is captured, so a bulk update of three rows is three changes, and rows the
/// database deletes by `ON DELETE CASCADE` are captured when their table declares it (`TrackedTable.deletedWith`).
/// Statements on `sql` are not captured: use it for tables nobody tracks (a source-policy test finds raw writes to
/// tracked tables).
public struct DataWriter: Sendable {
    /// The transaction's own SQLKit handle.
    public let sql: any SQLDatabase
    let kind: KeelDatabase.Kind
    let observation: KeelDatabase.Observation
    let log: ChangeLog

    /// Inserts one row and returns it as stored (defaults and generated keys filled in), or `nil` when a conflict on
    /// `ignoringConflictsOn` left the table as it was.
    @discardableResult
    public func insert(
        into table: String, _ values: [String: any Encodable & Sendable], ignoringConflictsOn conflict: [String] = []
    ) async throws -> RowValues? {
        let columns = values.keys.sorted()
        var query: SQLQueryString = "INSERT INTO \(ident: table) (\(idents: columns, joinedBy: ", ")) VALUES (\(binds: columns.map { values[$0]! }))"
        if !conflict.isEmpty { query += " ON CONFLICT (\(idents: conflict, joinedBy: ", ")) DO NOTHING" }
        query += " RETURNING *"
        guard let row = try await sql.raw(query).first() else { return nil }
        let stored = try RowValues(row: row)
        if let tracked = observation.tables[table] {
            log.append(RowChange(table: table, key: tracked.key(of: stored), action: .insert, before: nil, after: stored))
        }
        return stored
    }

    /// Updates every row `filter` matches and returns how many it changed.
    ///
    /// On a tracked table the rows are read first (locked on PostgreSQL) and then updated by their keys, so each
    /// change pairs the row's values before with its values after. A tracked table's key columns cannot be set.
    @discardableResult
    public func update(_ table: String, set values: [String: any Encodable & Sendable], where filter: RowFilter) async throws -> Int {
        let columns = values.keys.sorted()
        let assignments = SQLList(columns.map { SQLBinaryExpression(left: SQLColumn($0), op: SQLBinaryOperator.equal, right: SQLBind(values[$0]!)) })
        guard let tracked = observation.tables[table] else {
            return try await sql.raw("UPDATE \(ident: table) SET \(assignments) WHERE \(filter.predicate) RETURNING 1").all().count
        }
        precondition(Set(columns).isDisjoint(with: tracked.key), "\(table): a tracked table's key columns are never updated")
        let before = try await select(from: tracked, where: filter.predicate)
        guard !before.isEmpty else { return 0 }
        let keys = keyFilter(tracked, rows: before)
        let rows = try await sql.raw("UPDATE \(ident: table) SET \(assignments) WHERE \(keys) RETURNING *").all()
        var earlier = Dictionary(before.map { (tracked.key(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
        for row in rows {
            let after = try RowValues(row: row)
            let key = tracked.key(of: after)
            log.append(RowChange(table: table, key: key, action: .update, before: earlier.removeValue(forKey: key), after: after))
        }
        return rows.count
    }

    /// Deletes every row `filter` matches and returns how many it deleted (not counting cascaded rows).
    @discardableResult
    public func delete(from table: String, where filter: RowFilter) async throws -> Int {
        guard let tracked = observation.tables[table] else {
            try await captureCascades(from: table, parentKey: "id", where: filter.predicate)
            return try await sql.raw("DELETE FROM \(ident: table) WHERE \(filter.predicate) RETURNING 1").all().count
        }
        try await captureCascades(from: table, parentKey: tracked.key[0], where: filter.predicate)
        let rows = try await sql.raw("DELETE FROM \(ident: table) WHERE \(filter.predicate) RETURNING *").all()
        for row in rows {
            let before = try RowValues(row: row)
            log.append(RowChange(table: table, key: tracked.key(of: before), action: .delete, before: before, after: nil))
        }
        return rows.count
    }

    /// Records an event in this transaction: it commits with the transaction's changes or not at all.
    public func record(_ event: ChangeEvent) {
        guard observation.recordsEvents else { return }
        log.append(event)
    }

    // MARK: Capture

    /// Reads the rows a tracked statement will touch; on PostgreSQL they stay locked until the transaction ends.
    private func select(from tracked: TrackedTable, where predicate: any SQLExpression) async throws -> [RowValues] {
        let lock: SQLQueryString = kind == .postgres ? " FOR UPDATE" : ""
        return try await sql.raw("SELECT * FROM \(ident: tracked.name) WHERE \(predicate)" + lock).all().map(RowValues.init(row:))
    }

    /// `(key columns) IN (the rows' keys)`, every value bound.
    private func keyFilter(_ tracked: TrackedTable, rows: [RowValues]) -> any SQLExpression {
        if tracked.key.count == 1 {
            let column = tracked.key[0]
            return SQLBinaryExpression(left: SQLColumn(column), op: SQLBinaryOperator.in,
                                       right: SQLGroupExpression(rows.map { SQLBind(BoundValue($0[column] ?? .null)) }))
        }
        let columns = SQLGroupExpression(tracked.key.map { SQLColumn($0) })
        let tuples = rows.map { row in SQLGroupExpression(tracked.key.map { SQLBind(BoundValue(row[$0] ?? .null)) }) }
        return SQLBinaryExpression(left: columns, op: SQLBinaryOperator.in, right: SQLGroupExpression(tuples))
    }

    /// Captures, as deletions, the rows of tracked tables that deleting `table`'s rows matching `predicate` will
    /// delete by cascade, deepest first (the order the database deletes them in).
    private func captureCascades(from table: String, parentKey: String, where predicate: any SQLExpression) async throws {
        let parents: SQLQueryString = "SELECT \(ident: parentKey) FROM \(ident: table) WHERE \(predicate)"
        for child in observation.tables.values.sorted(by: { $0.name < $1.name }) {
            for link in child.deletedWith where link.parent == table {
                let matching = SQLQueryString("\(ident: link.column) IN (\(parents))")
                try await captureCascades(from: child.name, parentKey: child.key[0], where: matching)
                for row in try await select(from: child, where: matching) {
                    log.append(RowChange(table: child.name, key: child.key(of: row), action: .delete, before: row, after: nil))
                }
            }
        }
    }
}

/// A captured value bound back into a statement as what it was.
struct BoundValue: Encodable, Sendable {
    let value: DataValue

    init(_ value: DataValue) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .null: try container.encodeNil()
        case .integer(let value): try container.encode(value)
        case .real(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .boolean(let value): try container.encode(value)
        case .bytes(let value): try container.encode(value)
        }
    }
}

extension RowValues {
    /// Every column of a returned row.
    init(row: any SQLRow) throws {
        var values: [String: DataValue] = [:]
        // SQLite's rows carry their values typed: read them as they are, with no decoding attempt that can fail.
        if let row = row as? SQLiteRow {
            for column in row.columns {
                values[column.name] = switch column.data {
                case .integer(let value): .integer(Int64(value))
                case .float(let value): .real(value)
                case .text(let value): .text(value)
                case .blob(let buffer): .bytes(Array(buffer.readableBytesView))
                case .null: .null
                }
            }
            self.init(values)
            return
        }
        for column in row.allColumns {
            values[column] = try row.decode(column: column, as: DataValue.self)
        }
        self.init(values)
    }
}

/// What a write transaction captured so far, in order (one per transaction; the writer's copies share it).
final class ChangeLog: Sendable {
    private let state = Mutex<(changes: [RowChange], events: [ChangeEvent], seen: Set<String>)>(([], [], []))

    func append(_ change: RowChange) {
        state.withLock { state in
            // A row reached by two cascades (a favorite of the user's own article) is deleted once.
            if change.action == .delete {
                guard state.seen.insert(change.table + "\u{0}" + change.key).inserted else { return }
            }
            state.changes.append(change)
        }
    }

    func append(_ event: ChangeEvent) {
        state.withLock { $0.events.append(event) }
    }

    func batch(_ attribution: ChangeAttribution) -> ChangeBatch {
        state.withLock { ChangeBatch(changes: $0.changes, events: $0.events, attribution: attribution) }
    }
}
