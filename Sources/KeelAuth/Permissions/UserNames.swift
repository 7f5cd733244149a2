public import KeelKernel

/// What the application calls its users, for people reading the access review (and the staff area): Keel knows users
/// only by id. The module that owns the users installs it:
///
/// ```swift
/// func install(into parts: inout KeelApplication.Parts) throws {
///     let database = parts.database
///     parts.install(UserNames { ids in try await Users.usernames(of: ids, on: database) })
/// }
/// ```
public struct UserNames: ApplicationPart {
    let lookup: @Sendable ([String]) async throws -> [String: String]

    public init(_ lookup: @escaping @Sendable (_ userIDs: [String]) async throws -> [String: String]) {
        self.lookup = lookup
    }

    /// The names of these users, by id; ids the application does not know are left out.
    public func names(of userIDs: [String]) async throws -> [String: String] {
        try await lookup(userIDs)
    }
}
