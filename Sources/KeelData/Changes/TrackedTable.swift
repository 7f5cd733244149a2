/// A table whose writes the data layer captures for its observers: its name, its key, and the tables whose rows
/// the database deletes with it (`ON DELETE CASCADE`), so those deletions are captured too.
///
/// ```swift
/// TrackedTable("comments", key: "id", deletedWith: [.init(parent: "articles", column: "article_id")])
/// TrackedTable("follows", key: ["follower_id", "followed_id"])
/// ```
public struct TrackedTable: Sendable, Hashable {
    /// A foreign key declared `ON DELETE CASCADE`: deleting rows of `parent` deletes this table's rows whose
    /// `column` names them.
    public struct Cascade: Sendable, Hashable {
        public let parent: String
        public let column: String

        public init(parent: String, column: String) {
            self.parent = parent
            self.column = column
        }
    }

    public let name: String
    /// The key columns, in order (a row's key is their values joined by `/`).
    public let key: [String]
    public let deletedWith: [Cascade]

    public init(_ name: String, key: [String], deletedWith: [Cascade] = []) {
        precondition(!key.isEmpty, "a tracked table needs a key: \(name)")
        self.name = name
        self.key = key
        self.deletedWith = deletedWith
    }

    public init(_ name: String, key: String, deletedWith: [Cascade] = []) {
        self.init(name, key: [key], deletedWith: deletedWith)
    }

    /// A row's key from its values.
    func key(of row: RowValues) -> String {
        key.map { row[$0]?.description ?? "" }.joined(separator: "/")
    }
}
