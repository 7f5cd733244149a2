import Keel
import FluentKit
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import SQLKit

/// The accounts logic behind the routes: validation, hashing, throttling, persistence.
struct AccountService: Sendable {
    /// Sessions, password hashing and policy, the login throttle and API tokens (AuthModule's parts).
    let auth: AuthModule.Parts
    let database: KeelDatabase
    let clock: @Sendable () -> Date
    var sql: any SQLDatabase { database.sql }

    init(app: KeelApplication) {
        self.init(auth: app.auth, database: app.database, clock: app.clock)
    }

    /// Built before the application exists (the accounts module's `UserDirectory`).
    init(auth: AuthModule.Parts, database: KeelDatabase, clock: @escaping @Sendable () -> Date) {
        self.auth = auth
        self.database = database
        self.clock = clock
    }

    static let columns = ["id", "username", "email", "password_hash", "bio", "image", "is_active", "password_reset_required"]

    func register(_ input: some FieldInput) async throws -> UserRow {
        var problems = ValidationProblems()
        let username = input.string("username", problems: &problems, required: true)
        let email = input.string("email", problems: &problems, required: true)
        let password = input.string("password", problems: &problems, required: true)
        if let username { validate(username: username, problems: &problems) }
        if let email { validate(email: email, problems: &problems) }
        if let password { for message in auth.passwordPolicy.problems(password) { problems.add("password", message) } }
        if let username, problems.messages["username"] == nil, try await exists("username", username) {
            problems.add("username", "has already been taken")
        }
        if let email, problems.messages["email"] == nil, try await exists("email", Self.normalize(email: email)) {
            problems.add("email", "has already been taken")
        }
        try problems.throwIfAny()
        let hash = try await auth.passwordHasher.hash(password!)
        let now = clock().timeIntervalSince1970
        do {
            let row = try await database.write { tx in
                try await tx.insert(into: "users", [
                    "username": username!, "email": Self.normalize(email: email!), "password_hash": hash, "created_at": now, "updated_at": now,
                ])
            }
            guard let row, let user = UserRow(row) else { throw KeelError(.internalServerError) }
            return user
        } catch {
            // Two registrations racing for the same name or e-mail: the unique index decides, the loser gets a 422.
            throw try await takenOrRethrow(error, email: Self.normalize(email: email!))
        }
    }

    func login(_ input: some FieldInput, client: String?, logger: Logger) async throws -> UserRow {
        var problems = ValidationProblems()
        let email = input.string("email", problems: &problems, required: true)
        let password = input.string("password", problems: &problems, required: true)
        try problems.throwIfAny()
        let account = Self.normalize(email: email!)
        let user = try await find("email", account)
        let subject = user.map { String($0.id) }
        let valid = try await auth.loginThrottle.check(account: account, client: client, logger: logger, subject: subject) {
            guard let user else {
                // An unknown e-mail costs one hash at the configured strength, as a real check does, so response
                // times do not reveal which e-mails exist.
                _ = try await auth.passwordHasher.hash(password!)
                return false
            }
            return try await auth.passwordHasher.verify(password!, against: user.password_hash)
        }
        // A deactivated account is refused like a wrong password (as Django's backend does): nothing tells it apart.
        guard valid, let user, user.is_active != 0 else {
            if valid, let subject {
                try await database.record(ChangeEvent("auth.sign_in_refused", table: "users", key: subject, subject: subject,
                                                      details: ["reason": "account deactivated"]))
            }
            throw KeelError(.unauthorized, code: .invalidCredentials, messages: ["email or password": ["is invalid"]])
        }
        try await database.record(ChangeEvent("auth.sign_in", table: "users", key: String(user.id), subject: String(user.id)))
        if auth.passwordHasher.needsRehash(user.password_hash) {
            let upgraded = try await auth.passwordHasher.hash(password!)
            try await database.write { tx in
                try await tx.update("users", set: ["password_hash": upgraded], where: RowFilter("id", .equal, user.id))
            }
        }
        return user
    }

    /// A unique-index violation becomes the 422 naming the field that is taken; any other error (a lost connection,
    /// a timeout) is returned as it is, not disguised as a validation problem.
    func takenOrRethrow(_ error: any Error, email: String?) async throws -> any Error {
        guard (error as? any DatabaseError)?.isConstraintFailure == true else { return error }
        if let email, try await exists("email", email) {
            return KeelError.validation(["email": ["has already been taken"]])
        }
        return KeelError.validation(["username": ["has already been taken"]])
    }

    func currentUser(_ context: KeelContext) async throws -> UserRow {
        guard let user = try await find("id", try context.identity.requireUserID(as: Int.self)) else { throw KeelError.invalidToken }
        return user
    }

    /// Applies the fields a client may change; anything else in the body (id, token, dates) is ignored.
    func update(_ user: UserRow, with input: some FieldInput) async throws -> UserRow {
        var problems = ValidationProblems()
        let username = input.contains("username") ? input.string("username", problems: &problems, required: true) : nil
        let email = input.contains("email") ? input.string("email", problems: &problems, required: true) : nil
        let password = input.contains("password") ? input.string("password", problems: &problems, required: true) : nil
        let bio = input.string("bio", problems: &problems)
        let image = input.string("image", problems: &problems)
        if let username { validate(username: username, problems: &problems) }
        if let email { validate(email: email, problems: &problems) }
        if let password { for message in auth.passwordPolicy.problems(password) { problems.add("password", message) } }
        if let image, TextRules.length(image) > 2048 { problems.add("image", "is too long (maximum is 2048 characters)") }
        if let bio, TextRules.length(bio) > 10_000 { problems.add("bio", "is too long (maximum is 10000 characters)") }
        if let username, username != user.username, problems.messages["username"] == nil, try await exists("username", username) {
            problems.add("username", "has already been taken")
        }
        if let email, Self.normalize(email: email) != user.email, problems.messages["email"] == nil,
           try await exists("email", Self.normalize(email: email)) {
            problems.add("email", "has already been taken")
        }
        try problems.throwIfAny()

        var values: [String: any Encodable & Sendable] = ["updated_at": clock().timeIntervalSince1970]
        if let username { values["username"] = username }
        if let email { values["email"] = Self.normalize(email: email) }
        // `updateValue`, not a subscript: a nil bio or image is written as NULL, not dropped from the update.
        if input.contains("bio") { values.updateValue(bio, forKey: "bio") }
        if input.contains("image") { values.updateValue(image.flatMap { $0.isEmpty ? nil : $0 }, forKey: "image") }
        if let password {
            values["password_hash"] = try await auth.passwordHasher.hash(password)
            values["password_reset_required"] = 0
        }
        do {
            try await database.write { [values] tx in
                try await tx.update("users", set: values, where: RowFilter("id", .equal, user.id))
                if password != nil { tx.record(ChangeEvent("auth.password_changed", table: "users", key: String(user.id), subject: String(user.id))) }
            }
        } catch {
            throw try await takenOrRethrow(error, email: email.map(Self.normalize(email:)))
        }
        if password != nil {
            // A new password ends every session of the user (browser logins elsewhere).
            try await auth.endSessions(of: String(user.id))
        }
        guard let updated = try await find("id", user.id) else { throw KeelError.invalidToken }
        return updated
    }

    /// The RealWorld `{"user": …}` body with the token as sent, or a newly issued one.
    func envelope(_ user: UserRow, token: String? = nil) async throws -> UserEnvelope {
        let issued: String
        if let token { issued = token } else { issued = try await auth.apiTokens.issue(subject: String(user.id)) }
        return UserEnvelope(user: UserBody(email: user.email, token: issued, username: user.username, bio: user.bio, image: user.image))
    }

    /// The session key that says the signed-in user must choose a new password first.
    static let passwordResetKey = "conduit.password_reset"

    /// Requires the user to choose a new password at their next sign-in; their sessions and API tokens end now.
    func requirePasswordReset(_ id: Int) async throws {
        try await database.write { tx in
            try await tx.update("users", set: ["password_reset_required": 1], where: RowFilter("id", .equal, id))
        }
        try await auth.endSessions(of: String(id))
        try await auth.revokeTokens(of: String(id))
    }

    /// Activates or deactivates an account; deactivating ends every session and API token of the user.
    func setActive(_ id: Int, _ active: Bool) async throws {
        try await database.write { tx in
            try await tx.update("users", set: ["is_active": active ? 1 : 0, "updated_at": clock().timeIntervalSince1970], where: RowFilter("id", .equal, id))
            tx.record(ChangeEvent(active ? "access.user_activated" : "access.user_deactivated", table: "users", key: String(id), subject: String(id)))
        }
        if !active {
            try await auth.endSessions(of: String(id))
            try await auth.revokeTokens(of: String(id))
        }
    }

    func find(_ column: String, _ value: some Encodable & Sendable) async throws -> UserRow? {
        try await sql.select().columns(Self.columns.map { SQLIdentifier($0) }).from("users").where(SQLIdentifier(column), .equal, SQLBind(value))
            .first(decoding: UserRow.self)
    }

    func exists(_ column: String, _ value: String) async throws -> Bool {
        try await sql.select().column("id").from("users").where(SQLIdentifier(column), .equal, SQLBind(value)).first() != nil
    }

    /// Django's username rule (`^[\w.@+-]+$`, at most 150 characters): letters, digits and `@ . + - _`, where a
    /// letter or digit is what Python's `\w` takes (general category L*, or a numeric type), scalar by scalar, as the
    /// OpenAPI document's pattern says.
    func validate(username: String, problems: inout ValidationProblems) {
        if TextRules.length(username) > 150 { problems.add("username", "is too long (maximum is 150 characters)") }
        let allowed = username.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
            default: return scalar.properties.numericType != nil || "@.+-_".unicodeScalars.contains(scalar)
            }
        }
        if !allowed { problems.add("username", "is invalid") }
    }

    func validate(email: String, problems: inout ValidationProblems) {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        let valid = TextRules.length(email) <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !parts[1].hasPrefix(".") && !parts[1].hasSuffix(".") && !TextRules.containsWhitespace(email)
        if !valid { problems.add("email", "is invalid") }
    }

    static func normalize(email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}

extension ErrorCode {
    /// `auth.invalid_credentials`: Login with an unknown e-mail or a wrong password.
    static let invalidCredentials: ErrorCode = "auth.invalid_credentials"
}
