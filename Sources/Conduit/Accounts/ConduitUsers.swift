import Keel
import Foundation
import SQLKit
import HTTPTypes

/// Conduit's users as Keel's commands and access control see them (`UserAccounts`): `createsuperuser`,
/// `changepassword`, the password check of elevated access, and names in the access review and the staff area.
/// Written on the same service as the API, so the same rules hold (username and e-mail rules, the password policy).
struct ConduitUsers: UserAccounts {
    let service: AccountService

    func userID(named name: String) async throws -> String? {
        if let user = try await service.find("username", name) { return String(user.id) }
        return try await service.find("email", AccountService.normalize(email: name)).map { String($0.id) }
    }

    func createUser(username: String, email: String, password: String) async throws -> String {
        let input = FormInput(fields: ["username": username, "email": email, "password": password])
        return String(try await service.register(input).id)
    }

    func setPassword(_ password: String, of userID: String) async throws {
        guard let id = Int(userID), let user = try await service.find("id", id) else { throw KeelError(.notFound, message: "No such user.") }
        // The same path as the settings page: the policy applies and every session of the user ends.
        _ = try await service.update(user, with: FormInput(fields: ["password": password]))
    }

    func verifyPassword(_ password: String, of userID: String) async throws -> Bool {
        guard let id = Int(userID), let user = try await service.find("id", id) else { return false }
        return try await service.auth.passwordHasher.verify(password, against: user.password_hash)
    }

    func names(of userIDs: [String]) async throws -> [String: String] {
        let ids = userIDs.compactMap(Int.init)
        guard !ids.isEmpty else { return [:] }
        struct Row: Decodable { let id: Int; let username: String }
        let rows = try await service.sql.select().columns("id", "username").from("users").where("id", .in, ids).all(decoding: Row.self)
        return Dictionary(uniqueKeysWithValues: rows.map { (String($0.id), $0.username) })
    }
}
