/// One row a write inserted, updated or deleted, with its values before and after.
public struct RowChange: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        case insert, update, delete
    }

    /// The table written.
    public let table: String
    /// The row's key: its key columns' values, joined by `/` (`7`, or `3/7` for a two-column key).
    public let key: String
    public let action: Action
    /// The row before the write (`nil` for an insert).
    public let before: RowValues?
    /// The row after the write (`nil` for a delete).
    public let after: RowValues?

    public init(table: String, key: String, action: Action, before: RowValues?, after: RowValues?) {
        self.table = table
        self.key = key
        self.action = action
        self.before = before
        self.after = after
    }

    /// The columns whose value differs (every column of an insert or a delete), sorted.
    public var changedColumns: [String] {
        let columns = Set((before?.values.keys).map(Array.init) ?? []).union((after?.values.keys).map(Array.init) ?? [])
        return columns.filter { before?[$0] != after?[$0] }.sorted()
    }
}

/// Something that happened that is not a row change (a failed sign-in, a `migrate` run), recorded beside changes.
///
/// ```swift
/// try await database.record(ChangeEvent("auth.sign_in_failed", subject: nil, details: ["username": name]))
/// ```
public struct ChangeEvent: Sendable, Equatable {
    /// Dotted lower case, the module's name first (`auth.sign_in`, `access.permission_granted`).
    public let name: String
    /// The object the event is about (`keel_users`, `7`), when it has one.
    public let table: String?
    public let key: String?
    /// The person the event is about (a user id), whose key seals the personal details.
    public let subject: String?
    /// What else is known. Values listed in `personal` are sealed with the subject's key.
    public let details: [String: String]
    /// Detail names whose values are personal data.
    public let personal: Set<String>

    public init(_ name: String, table: String? = nil, key: String? = nil, subject: String? = nil,
                details: [String: String] = [:], personal: Set<String> = []) {
        self.name = name
        self.table = table
        self.key = key
        self.subject = subject
        self.details = details
        self.personal = personal
    }
}

/// What one write transaction did, in order, with who did it: handed to every `ChangeObserver` before commit.
public struct ChangeBatch: Sendable {
    public let changes: [RowChange]
    public let events: [ChangeEvent]
    public let attribution: ChangeAttribution

    public var isEmpty: Bool { changes.isEmpty && events.isEmpty }
}
