public import KeelData
public import KeelKernel

/// A table whose every insert, update and delete through `KeelDatabase.write` is recorded in the audit trail: its
/// key, whose personal data a row holds (the data subject, whose key seals the personal values), which columns are
/// personal (sealed, so erasing the person makes them unreadable) and which are secret (recorded as changed, never
/// their values).
///
/// ```swift
/// AuditedTable("users", key: "id", subject: .key, personal: ["email", "bio"], secret: ["password_hash"])
/// AuditedTable("comments", key: "id", subject: .column("author_id"), personal: ["body"],
///              deletedWith: [.init(parent: "articles", column: "article_id")])
/// ```
public struct AuditedTable: Sendable, Hashable {
    /// Whose personal data a row holds.
    public enum Subject: Sendable, Hashable {
        /// The row is the person (a users table): its key.
        case key
        /// A column holding the person's user id (`author_id`).
        case column(String)
        /// Nobody's.
        case none
    }

    public let name: String
    public let key: [String]
    public let subject: Subject
    public let personal: Set<String>
    public let secret: Set<String>
    public let deletedWith: [TrackedTable.Cascade]

    public init(
        _ name: String, key: [String], subject: Subject = .none, personal: Set<String> = [], secret: Set<String> = [],
        deletedWith: [TrackedTable.Cascade] = []
    ) {
        self.name = name
        self.key = key
        self.subject = subject
        self.personal = personal
        self.secret = secret
        self.deletedWith = deletedWith
    }

    public init(
        _ name: String, key: String, subject: Subject = .none, personal: Set<String> = [], secret: Set<String> = [],
        deletedWith: [TrackedTable.Cascade] = []
    ) {
        self.init(name, key: [key], subject: subject, personal: personal, secret: secret, deletedWith: deletedWith)
    }

    var tracked: TrackedTable { TrackedTable(name, key: key, deletedWith: deletedWith) }

    /// The data subject of a row, from its values.
    func subject(of row: RowValues?, key rowKey: String) -> String? {
        switch subject {
        case .key: rowKey
        case .column(let column): row?[column].flatMap { $0 == .null ? nil : $0.description }
        case .none: nil
        }
    }
}

/// A module whose tables are audited: the audit module records every write to the tables it lists.
///
/// ```swift
/// struct Billing: AuditedModule {
///     var name: String { "billing" }
///     var audited: [AuditedTable] { [AuditedTable("invoices", key: "id", subject: .column("customer_id"))] }
/// }
/// ```
public protocol AuditedModule: KeelModule {
    var audited: [AuditedTable] { get }
}
