import SQLKit
import Synchronization
import FluentKit

extension KeelDatabase {
    /// Who observes this database's writes, fixed when the application is assembled.
    struct Observation: Sendable {
        var observers: [any ChangeObserver] = []
        /// Table name → how it is tracked, for every observer.
        var tables: [String: TrackedTable] = [:]
        var recordsEvents = false
    }

    /// Attaches the application's change observers (the application does this once, when it is assembled, from
    /// the parts that are `ChangeObserver`s).
    public func attach(observers: [any ChangeObserver]) {
        var observation = Observation(observers: observers)
        for observer in observers {
            observation.recordsEvents = observation.recordsEvents || observer.recordsEvents
            for table in observer.trackedTables {
                guard let known = observation.tables[table.name] else {
                    observation.tables[table.name] = table
                    continue
                }
                // Two observers of one table: the same key, and the cascades either declares.
                if known.key != table.key {
                    preconditionFailure("\(table.name) is tracked twice with different keys: \(known.key) and \(table.key)")
                }
                let cascades = known.deletedWith + table.deletedWith.filter { !known.deletedWith.contains($0) }
                observation.tables[table.name] = TrackedTable(table.name, key: table.key, deletedWith: cascades)
            }
        }
        observationState.withLock { $0 = observation }
    }

    /// Runs `body` in one write transaction and hands what it changed (and the events it recorded) to the
    /// observers before committing; rolled back, observers' records included, when `body` or an observer throws.
    ///
    /// On SQLite the transaction takes the write lock first (`BEGIN IMMEDIATE`), so its reads and writes never see
    /// another writer's commit in between (which SQLite would refuse at the first write), after taking its turn among
    /// this process's writers (`WriteGate`: they queue instead of sleeping in SQLite's busy handler); on PostgreSQL the
    /// rows a tracked update or delete touches are locked as they are read. Never call `write` inside `write`.
    ///
    /// ```swift
    /// try await app.database.write { tx in
    ///     let row = try await tx.insert(into: "articles", ["slug": slug, "title": title])
    ///     try await tx.delete(from: "favorites", where: RowFilter("article_id", .equal, row?.integer("id")))
    /// }
    /// ```
    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (DataWriter) async throws -> T) async throws -> T {
        let observation = observationState.withLock { $0 }
        let attribution = ChangeAttribution.current
        let kind = self.kind
        guard kind == .sqlite else { return try await transaction(observation: observation, attribution: attribution, body) }
        return try await writeGate.withTurn { try await transaction(observation: observation, attribution: attribution, body) }
    }

    private func transaction<T: Sendable>(
        observation: Observation, attribution: ChangeAttribution, _ body: @escaping @Sendable (DataWriter) async throws -> T
    ) async throws -> T {
        let kind = self.kind
        return try await db.withConnection { connection in
            let sql = connection.sql
            try await sql.raw(kind == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN").run()
            do {
                let writer = DataWriter(sql: sql, kind: kind, observation: observation, log: ChangeLog())
                let result = try await body(writer)
                let batch = writer.log.batch(attribution)
                if !batch.isEmpty {
                    for observer in observation.observers {
                        try await observer.record(batch, in: sql)
                    }
                }
                try await sql.raw("COMMIT").run()
                if !batch.isEmpty {
                    for observer in observation.observers { observer.didCommit(batch) }
                }
                return result
            } catch {
                try? await sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Records one event in a transaction of its own (nothing at all when no observer records events).
    public func record(_ event: ChangeEvent) async throws {
        guard observationState.withLock({ $0.recordsEvents }) else { return }
        try await write { $0.record(event) }
    }
}
