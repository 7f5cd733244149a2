public import Keel
import FluentKit
import Foundation
import Hummingbird
import SQLKit

/// RealWorld's accounts: register, login, the current user and updating it (`/api/users`, `/api/users/login`,
/// `/api/user`). Passwords use Keel's hasher and policy, logins Keel's throttle, tokens Keel's keyring-signed JWTs.
public struct Accounts: AuditedModule, CacheInvalidatingModule {
    public init() {}

    /// Articles and comments show their author's name, bio and picture: a change to those (or the account's removal
    /// or deactivation) makes cached ones stale.
    public var cacheInvalidations: [CacheInvalidation] {
        [CacheInvalidation("users", key: "id") { change in
            change.action != .update || change.changedColumns.contains { ["username", "bio", "image", "is_active"].contains($0) }
                ? ["articles", "comments"] : []
        }]
    }

    public var name: String { "accounts" }

    /// Every change to a user is audited; the person's name, e-mail, bio and picture are sealed with their key, the
    /// password hash is only ever "changed".
    public var audited: [AuditedTable] {
        [AuditedTable("users", key: "id", subject: .key, personal: ["username", "email", "bio", "image"], secret: ["password_hash"])]
    }

    public var migrations: [any KeelMigration] {
        [
            NamedMigration("accounts.0001_create_users", prepare: { db in
                try await db.schema("users")
                    .field("id", .int64, .identifier(auto: true))
                    .field("username", .string, .required)
                    .field("email", .string, .required)
                    .field("password_hash", .string, .required)
                    .field("bio", .string)
                    .field("image", .string)
                    .field("created_at", .double, .required)
                    .field("updated_at", .double, .required)
                    .unique(on: "username")
                    .unique(on: "email")
                    .create()
            }, revert: { db in try await db.schema("users").delete() }),
            // Staff deactivate accounts (the staff area): a deactivated user cannot sign in.
            NamedMigration("accounts.0002_active", prepare: { db in
                try await db.sql.alter(table: "users").column("is_active", type: .int, .notNull, .default(1)).run()
            }, revert: { db in
                try await db.sql.alter(table: "users").dropColumn("is_active").run()
            }),
            // Staff require a new password (the staff area): the user must choose one before anything else.
            NamedMigration("accounts.0003_password_reset", prepare: { db in
                try await db.sql.alter(table: "users").column("password_reset_required", type: .int, .notNull, .default(0)).run()
            }, revert: { db in
                try await db.sql.alter(table: "users").dropColumn("password_reset_required").run()
            }),
        ]
    }

    /// Keel's commands and access control reach Conduit's users through `ConduitUsers` (`createsuperuser`,
    /// `changepassword`, elevated access, names in the access review).
    public func install(into parts: inout KeelApplication.Parts) throws {
        let service = AccountService(auth: parts.part(AuthModule.Parts.self), database: parts.database, clock: parts.clock)
        parts.install(UserDirectory(ConduitUsers(service: service)))
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let api = routes.api
        let service = AccountService(app: app)
        api.post("/api/users") { request, context -> EditedResponse<UserEnvelope> in
            let input = try await JSONInput.read(request, context: context, envelope: "user")
            let user = try await service.register(input)
            return EditedResponse(status: .created, response: try await service.envelope(user))
        }
        api.post("/api/users/login") { request, context -> UserEnvelope in
            let input = try await JSONInput.read(request, context: context, envelope: "user")
            let user = try await service.login(input, client: context.security.clientAddress, logger: context.logger)
            // Staff required a new password: it is chosen on the website's settings page, not through a token.
            guard user.password_reset_required == 0 else {
                throw KeelError(.forbidden, code: .passwordResetRequired, message: "A new password is required: sign in on the website to choose one.")
            }
            return try await service.envelope(user)
        }
        api.get("/api/user") { _, context -> UserEnvelope in
            let user = try await service.currentUser(context)
            return try await service.envelope(user, token: context.apiToken)
        }
        api.put("/api/user") { request, context -> UserEnvelope in
            let current = try await service.currentUser(context)
            let input = try await JSONInput.read(request, context: context, envelope: "user")
            let user = try await service.update(current, with: input)
            return try await service.envelope(user)
        }
    }
}

/// A row of `users`.
struct UserRow: Codable, Sendable {
    var id: Int
    var username: String
    var email: String
    var password_hash: String
    var bio: String?
    var image: String?
    /// 0 when staff deactivated the account: it cannot sign in.
    var is_active: Int
    /// 1 when staff required a new password: it is chosen before anything else.
    var password_reset_required: Int
}

extension UserRow {
    /// The row as an insert or update returned it.
    init?(_ row: RowValues) {
        guard let id = row.integer("id"), let username = row.text("username"), let email = row.text("email"),
              let hash = row.text("password_hash") else { return nil }
        self.init(id: id, username: username, email: email, password_hash: hash, bio: row.text("bio"), image: row.text("image"),
                  is_active: row.integer("is_active") ?? 1, password_reset_required: row.integer("password_reset_required") ?? 0)
    }
}

/// The RealWorld `User` body: `bio` and `image` are always present (null when unset).
struct UserBody: Encodable, Sendable {
    let email: String
    let token: String
    let username: String
    let bio: String?
    let image: String?

    enum CodingKeys: String, CodingKey { case email, token, username, bio, image }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(email, forKey: .email)
        try container.encode(token, forKey: .token)
        try container.encode(username, forKey: .username)
        try container.encode(bio, forKey: .bio)
        try container.encode(image, forKey: .image)
    }
}

extension ErrorCode {
    /// `accounts.password_reset_required`: staff required a new password; the API gives no token until it is chosen.
    static let passwordResetRequired: ErrorCode = "accounts.password_reset_required"
}
