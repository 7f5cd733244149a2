import Hummingbird
public import Keel
import FluentKit
import Foundation
import SQLKit

/// RealWorld's profiles: read a profile, follow and unfollow (`/api/profiles/{username}`).
public struct Profiles: AuditedModule {
    public init() {}

    public var name: String { "profiles" }

    /// Who follows whom is audited, about the follower.
    public var audited: [AuditedTable] {
        [AuditedTable("follows", key: ["follower_id", "followed_id"], subject: .column("follower_id"),
                      deletedWith: [.init(parent: "users", column: "follower_id"), .init(parent: "users", column: "followed_id")])]
    }

    public var migrations: [any KeelMigration] {
        [
            NamedMigration("profiles.0001_create_follows", prepare: { db in
                try await db.schema("follows")
                    .field("follower_id", .int64, .required, .references("users", "id", onDelete: .cascade))
                    .field("followed_id", .int64, .required, .references("users", "id", onDelete: .cascade))
                    .field("created_at", .double, .required)
                    .compositeIdentifier(over: "follower_id", "followed_id")
                    .create()
                // "Who follows this user" (profile pages, deletes); the primary key serves "whom do I follow".
                try await db.createIndex("follows_followed_idx", on: "follows", columns: ["followed_id"])
            }, revert: { db in try await db.schema("follows").delete() }),
        ]
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let api = routes.api
        let service = ProfileService(app: app)
        api.get("/api/profiles/{username}") { _, context -> ProfileEnvelope in
            let viewer = try context.identity.optionalUserID(as: Int.self)
            let profile = try await service.profile(username: try context.parameters.require("username"), viewer: viewer)
            return ProfileEnvelope(profile: profile)
        }
        api.post("/api/profiles/{username}/follow") { _, context -> ProfileEnvelope in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let profile = try await service.follow(username: try context.parameters.require("username"), viewer: viewer, following: true)
            return ProfileEnvelope(profile: profile)
        }
        api.delete("/api/profiles/{username}/follow") { _, context -> ProfileEnvelope in
            let viewer = try context.identity.requireUserID(as: Int.self)
            let profile = try await service.follow(username: try context.parameters.require("username"), viewer: viewer, following: false)
            return ProfileEnvelope(profile: profile)
        }
    }
}

/// The RealWorld `Profile` body: `bio` and `image` always present.
struct ProfileBody: Encodable, Sendable {
    let username: String
    let bio: String?
    let image: String?
    let following: Bool

    enum CodingKeys: String, CodingKey { case username, bio, image, following }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(username, forKey: .username)
        try container.encode(bio, forKey: .bio)
        try container.encode(image, forKey: .image)
        try container.encode(following, forKey: .following)
    }
}

struct ProfileService: Sendable {
    let app: KeelApplication
    var sql: any SQLDatabase { app.database.sql }

    struct Row: Decodable {
        let id: Int
        let username: String
        let bio: String?
        let image: String?
    }

    static var notFound: KeelError { KeelError(.notFound, messages: ["profile": ["not found"]]) }

    func user(named username: String) async throws -> Row? {
        guard username.utf8.count <= 150 else { return nil }
        return try await sql.select().columns("id", "username", "bio", "image").from("users").where("username", .equal, username)
            .first(decoding: Row.self)
    }

    func isFollowing(_ viewer: Int?, _ followed: Int) async throws -> Bool {
        guard let viewer else { return false }
        return try await sql.select().column("follower_id").from("follows")
            .where("follower_id", .equal, viewer).where("followed_id", .equal, followed).first() != nil
    }

    func profile(username: String, viewer: Int?) async throws -> ProfileBody {
        guard let row = try await user(named: username) else { throw Self.notFound }
        return ProfileBody(username: row.username, bio: row.bio, image: row.image, following: try await isFollowing(viewer, row.id))
    }

    func follow(username: String, viewer: Int, following: Bool) async throws -> ProfileBody {
        guard let row = try await user(named: username) else { throw Self.notFound }
        let now = app.clock().timeIntervalSince1970
        try await app.database.write { tx in
            if following {
                try await tx.insert(into: "follows", ["follower_id": viewer, "followed_id": row.id, "created_at": now],
                                    ignoringConflictsOn: ["follower_id", "followed_id"])
            } else {
                try await tx.delete(from: "follows", where: RowFilter("follower_id", .equal, viewer).and("followed_id", .equal, row.id))
            }
        }
        return ProfileBody(username: row.username, bio: row.bio, image: row.image, following: following)
    }
}
