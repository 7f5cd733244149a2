public import Keel
import HTTPTypes
import Synchronization

/// Users kept in memory, for tests of modules that need the application's users (`UserDirectory`): numbered from 1,
/// passwords kept as given (never use it outside tests).
///
/// ```swift
/// let users = MemoryUserAccounts()
/// let id = try await users.createUser(username: "ann", email: "ann@example.com", password: "a long password")
/// parts.install(UserDirectory(users))
/// ```
public final class MemoryUserAccounts: UserAccounts {
    private struct User {
        let id: String
        let username: String
        let email: String
        var password: String
    }

    private let users = Mutex<[User]>([])

    public init() {}

    public func userID(named name: String) async throws -> String? {
        users.withLock { users in users.first { $0.username == name || $0.email == name }?.id }
    }

    public func createUser(username: String, email: String, password: String) async throws -> String {
        try users.withLock { users in
            guard !users.contains(where: { $0.username == username }) else { throw KeelError.validation(field: "username", "has already been taken") }
            guard password.count >= 8 else { throw KeelError.validation(field: "password", "is too short (minimum is 8 characters)") }
            let id = String(users.count + 1)
            users.append(User(id: id, username: username, email: email, password: password))
            return id
        }
    }

    public func setPassword(_ password: String, of userID: String) async throws {
        try users.withLock { users in
            guard password.count >= 8 else { throw KeelError.validation(field: "password", "is too short (minimum is 8 characters)") }
            guard let index = users.firstIndex(where: { $0.id == userID }) else { throw KeelError(.notFound, message: "No such user.") }
            users[index].password = password
        }
    }

    public func verifyPassword(_ password: String, of userID: String) async throws -> Bool {
        users.withLock { users in users.first { $0.id == userID }?.password == password }
    }

    public func names(of userIDs: [String]) async throws -> [String: String] {
        users.withLock { users in
            Dictionary(uniqueKeysWithValues: users.filter { userIDs.contains($0.id) }.map { ($0.id, $0.username) })
        }
    }
}
