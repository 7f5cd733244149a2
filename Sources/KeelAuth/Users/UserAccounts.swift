public import KeelKernel

/// The application's users as Keel's commands and access control need them: found by name, created, their password
/// checked and changed, and named for people. Keel knows users only by id; the module that owns the users implements
/// this (hashing with `app.passwordHasher`, checking `app.passwordPolicy`) and installs it as `UserDirectory`:
///
/// ```swift
/// func install(into parts: inout KeelApplication.Parts) throws {
///     parts.install(UserDirectory(MyUsers(database: parts.database)))
/// }
/// ```
///
/// With it, `createsuperuser` and `changepassword` work, elevated access checks the password, and the access review
/// shows names.
public protocol UserAccounts: Sendable {
    /// The id of the user with this username (or e-mail, if the application signs in with it), or `nil`.
    func userID(named name: String) async throws -> String?
    /// Creates a user, returning their id; a `KeelError` (422 with the fields at fault) when the input is refused.
    func createUser(username: String, email: String, password: String) async throws -> String
    /// Sets a user's password; a `KeelError` 422 when the policy refuses it. (`changepassword` ends the user's sessions
    /// afterwards itself.)
    func setPassword(_ password: String, of userID: String) async throws
    /// Whether the password is the user's.
    func verifyPassword(_ password: String, of userID: String) async throws -> Bool
    /// What people call these users, by id; ids the application does not know are left out.
    func names(of userIDs: [String]) async throws -> [String: String]
}

/// The application's `UserAccounts`, as an application part (`app.users`).
public struct UserDirectory: ApplicationPart {
    public let accounts: any UserAccounts

    public init(_ accounts: some UserAccounts) {
        self.accounts = accounts
    }
}

extension KeelApplication {
    /// The application's users (`UserDirectory`), or `nil` when no module installed them.
    public var users: (any UserAccounts)? { installedPart(UserDirectory.self)?.accounts }
}
