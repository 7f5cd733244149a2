public import SQLKit

/// Receives what each write transaction changed, in that transaction, before it commits: what it writes commits
/// with the change or not at all. The audit trail is one.
///
/// An application part that conforms is attached to the database when the application is assembled; nothing
/// registers itself anywhere else.
///
/// ```swift
/// struct Journal: ApplicationPart, ChangeObserver {
///     var trackedTables: [TrackedTable] { [TrackedTable("invoices", key: "id")] }
///     func record(_ batch: ChangeBatch, in sql: any SQLDatabase) async throws { … }
/// }
/// ```
public protocol ChangeObserver: Sendable {
    /// The tables whose writes through `KeelDatabase.write` are captured for this observer.
    var trackedTables: [TrackedTable] { get }
    /// Whether it records events (`ChangeEvent`) at all: when no observer does, `record(_:)` costs nothing.
    var recordsEvents: Bool { get }
    /// Records one transaction's changes and events; throwing rolls the transaction back.
    func record(_ batch: ChangeBatch, in sql: any SQLDatabase) async throws
    /// Called once the transaction `record` saw has committed (a sealer to wake, a cache to invalidate). Must not
    /// block or throw.
    func didCommit(_ batch: ChangeBatch)
}

extension ChangeObserver {
    public func didCommit(_ batch: ChangeBatch) {}
}
