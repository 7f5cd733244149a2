import FluentKit
import Foundation
import Hummingbird
import HummingbirdTesting
import Keel
import KeelTesting
import SQLKit
import Synchronization
import Testing

/// Receives every batch, and writes a row of its own in the same transaction (to prove it commits or rolls back
/// with the change).
struct CollectingObserver: ApplicationPart, ChangeObserver {
    final class Box: Sendable {
        let batches = Mutex<[ChangeBatch]>([])
        let failNext = Mutex(false)
    }

    let box = Box()
    var trackedTables: [TrackedTable] {
        [
            TrackedTable("shelves", key: "id"),
            TrackedTable("books", key: "id", deletedWith: [.init(parent: "shelves", column: "shelf_id")]),
            TrackedTable("loans", key: ["book_id", "reader"], deletedWith: [.init(parent: "books", column: "book_id")]),
        ]
    }
    var recordsEvents: Bool { true }

    func record(_ batch: ChangeBatch, in sql: any SQLDatabase) async throws {
        try await sql.insert(into: "journal").columns("entries").values(SQLBind(batch.changes.count + batch.events.count)).run()
        struct Refused: Error {}
        if box.failNext.withLock({ $0 }) { throw Refused() }
        box.batches.withLock { $0.append(batch) }
    }
}

struct LibraryModule: KeelModule {
    let observer: CollectingObserver
    var name: String { "library" }

    var migrations: [any KeelMigration] {
        [
            NamedMigration("library.0001_tables", prepare: { db in
                try await db.schema("shelves").field("id", .int, .identifier(auto: true)).field("label", .string, .required).create()
                try await db.schema("books").field("id", .int, .identifier(auto: true))
                    .field("shelf_id", .int, .required, .references("shelves", "id", onDelete: .cascade))
                    .field("title", .string, .required).field("code", .string).create()
                try await db.schema("loans").field("book_id", .int, .required, .references("books", "id", onDelete: .cascade))
                    .field("reader", .string, .required).compositeIdentifier(over: "book_id", "reader").create()
                try await db.schema("journal").field("id", .int, .identifier(auto: true)).field("entries", .int, .required).create()
            }, revert: { _ in }),
        ]
    }

    func install(into parts: inout KeelApplication.Parts) throws {
        parts.install(observer)
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let database = app.database
        routes.api.post("/shelves") { _, _ -> String in
            let row = try await database.write { tx in try await tx.insert(into: "shelves", ["label": "from a request"]) }
            return String(row?.integer("id") ?? 0)
        }
    }
}

@Suite struct ChangeCaptureTests {
    static func library(_ url: String) async throws -> (KeelTestApplication, CollectingObserver) {
        let observer = CollectingObserver()
        let app = try await KeelTestApplication.make(modules: [LibraryModule(observer: observer)], profile: .test, values: ["database.url": url])
        try await app.keel.database.prepare()
        try await app.keel.migrator.migrate()
        return (app, observer)
    }

    static func journalRows(_ database: KeelDatabase) async throws -> Int {
        try await database.sql.select().column("id").from("journal").all().count
    }

    /// Each row an insert, update or delete touches is one change with its values before and after, handed to the
    /// observer with the task's attribution; a bulk update of three rows is three changes.
    @Test(arguments: TestDatabase.available)
    func everyRowWrittenIsCapturedWithBeforeAndAfter(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let (app, observer) = try await Self.library(url)
            let database = app.keel.database
            let attribution = ChangeAttribution(actor: "7", via: .session, requestID: "req-1", client: "192.0.2.1")
            let shelf = try await ChangeAttribution.$current.withValue(attribution) {
                try await database.write { tx -> Int in
                    let shelf = try #require(try await tx.insert(into: "shelves", ["label": "Fiction"])?.integer("id"))
                    for title in ["A", "B", "C"] {
                        try await tx.insert(into: "books", ["shelf_id": shelf, "title": title, "code": "123"])
                    }
                    return shelf
                }
            }
            let updated = try await database.write { tx in
                try await tx.update("books", set: ["title": "Renamed"], where: RowFilter("shelf_id", .equal, shelf))
            }
            #expect(updated == 3)
            try await database.write { tx in
                try await tx.update("books", set: ["code": "456"], where: RowFilter("title", .equal, "nothing matches"))
            }

            let batches = observer.box.batches.withLock { $0 }
            #expect(batches.count == 2, "a write that changed nothing hands the observers nothing")
            let created = try #require(batches.first)
            #expect(created.attribution.actor == "7" && created.attribution.acting == .session)
            #expect(created.attribution.requestID == "req-1" && created.attribution.client == "192.0.2.1")
            #expect(created.changes.map(\.action) == [.insert, .insert, .insert, .insert])
            #expect(created.changes[0].table == "shelves" && created.changes[0].key == String(shelf))
            #expect(created.changes[1].after?["code"] == .text("123"), "text that looks like a number stays text")
            #expect(created.changes[1].after?["shelf_id"] == .integer(Int64(shelf)))

            let bulk = batches[1]
            #expect(bulk.attribution.actor == "system", "outside a request or command the actor is the system")
            #expect(bulk.changes.count == 3)
            #expect(bulk.changes.allSatisfy { $0.action == .update && $0.before?["title"] != .text("Renamed") && $0.after?["title"] == .text("Renamed") })
            #expect(bulk.changes.allSatisfy { $0.changedColumns == ["title"] })
            #expect(Set(bulk.changes.map(\.key)).count == 3)
            #expect(try await Self.journalRows(database) == 2)
        }
    }

    /// A write that fails leaves neither its changes nor the observer's records; an observer that fails undoes the
    /// write it observed.
    @Test(arguments: TestDatabase.available)
    func aFailedWriteRecordsNothingAndAFailedRecordUndoesTheWrite(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let (app, observer) = try await Self.library(url)
            let database = app.keel.database
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.write { tx in
                    try await tx.insert(into: "shelves", ["label": "lost"])
                    throw Abort()
                }
            }
            // A constraint the database enforces (no such shelf) fails the write too.
            await #expect(throws: (any Error).self) {
                try await database.write { tx in
                    try await tx.insert(into: "books", ["shelf_id": 999, "title": "orphan"])
                }
            }
            observer.box.failNext.withLock { $0 = true }
            await #expect(throws: (any Error).self) {
                try await database.write { tx in try await tx.insert(into: "shelves", ["label": "refused by the observer"]) }
            }
            observer.box.failNext.withLock { $0 = false }
            #expect(try await database.sql.select().column("id").from("shelves").all().isEmpty)
            #expect(try await Self.journalRows(database) == 0)
            #expect(observer.box.batches.withLock { $0.isEmpty })
        }
    }

    /// Rows the database deletes by cascade are captured as deletions, deepest first, each once; composite keys
    /// join their columns with `/`.
    @Test(arguments: TestDatabase.available)
    func cascadedDeletionsAreCaptured(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let (app, observer) = try await Self.library(url)
            let database = app.keel.database
            let (shelf, book) = try await database.write { tx -> (Int, Int) in
                let shelf = try #require(try await tx.insert(into: "shelves", ["label": "Poetry"])?.integer("id"))
                let book = try #require(try await tx.insert(into: "books", ["shelf_id": shelf, "title": "Odes"])?.integer("id"))
                try await tx.insert(into: "loans", ["book_id": book, "reader": "ana"])
                try await tx.insert(into: "loans", ["book_id": book, "reader": "ana"], ignoringConflictsOn: ["book_id", "reader"])
                return (shelf, book)
            }
            let deleted = try await database.write { tx in try await tx.delete(from: "shelves", where: RowFilter("id", .equal, shelf)) }
            #expect(deleted == 1)
            let batches = observer.box.batches.withLock { $0 }
            #expect(batches[0].changes.count == 3, "a conflict that was ignored changed nothing")
            let removal = batches[1].changes
            #expect(removal.map(\.table) == ["loans", "books", "shelves"])
            #expect(removal.allSatisfy { $0.action == .delete && $0.after == nil })
            #expect(removal[0].key == "\(book)/ana")
            #expect(removal[1].before?["title"] == .text("Odes"))
            #expect(try await database.sql.select().column("book_id").from("loans").all().isEmpty)
        }
    }

    /// Events commit with the transaction they are recorded in; a request's writes carry its id and actor.
    @Test(arguments: TestDatabase.available)
    func eventsAndRequestsAreAttributed(backend: TestDatabase) async throws {
        try await backend.withFreshDatabase { url in
            let (app, observer) = try await Self.library(url)
            try await ChangeAttribution.$current.withValue(.command("library import")) {
                try await app.keel.database.record(ChangeEvent("library.imported", subject: "7", details: ["file": "a.csv"]))
            }
            try await app.application().test(.router) { client in
                try await client.execute(uri: "/shelves", method: .post) { response in
                    #expect(response.status == .ok)
                }
            }
            let batches = observer.box.batches.withLock { $0 }
            #expect(batches.count == 2)
            #expect(batches[0].events == [ChangeEvent("library.imported", subject: "7", details: ["file": "a.csv"])])
            #expect(batches[0].attribution.actor == "command:library import" && batches[0].attribution.acting == .command)
            let request = batches[1].attribution
            #expect(request.actor == "anonymous" && request.acting == .anonymous)
            #expect(request.requestID?.isEmpty == false)
        }
    }
}
