public import Foundation
import KeelData
import KeelKernel
public import KeelAuth
import SQLKit

/// Who holds what, for a periodic review ("user permissions reviewed periodically"): every user who holds a
/// permission, belongs to a group, or is staff or superuser, with how each permission is held, when they last signed
/// in and last used elevated access, and whether they look stale (no sign-in within `auth.review.staleAfter`).
///
/// `conduit permissions review` prints it as a table (`--json` for machines); the staff area shows the same.
public struct AccessReview: Sendable, Codable, Equatable {
    /// One permission a user holds, and every way they hold it: `direct`, `group NAME`, `superuser`.
    public struct Grant: Sendable, Codable, Equatable {
        public let codename: String
        public let via: [String]

        public init(codename: String, via: [String]) {
            self.codename = codename
            self.via = via
        }
    }

    /// One user who holds something.
    public struct Holder: Sendable, Codable, Equatable {
        public let userID: String
        /// What the application calls the user (`UserAccounts.names(of:)`), when it says.
        public let name: String?
        public let isStaff: Bool
        public let isSuperuser: Bool
        public let groups: [String]
        public let permissions: [Grant]
        public let lastLogin: Date?
        public let lastElevated: Date?
        /// Never signed in, or not since `staleBefore`: revoke what they no longer need.
        public let isStale: Bool

        /// `superuser, staff`, `staff` or empty, as people read it.
        public var status: String {
            [isSuperuser ? "superuser" : nil, isStaff ? "staff" : nil].compactMap { $0 }.joined(separator: ", ")
        }
    }

    public let generatedAt: Date
    /// Holders who have not signed in since this are stale.
    public let staleBefore: Date
    /// By user id (numerically when ids are numbers).
    public let holders: [Holder]

    /// How many holders are stale.
    public var staleCount: Int { holders.filter(\.isStale).count }
}

extension AccessControl {
    /// The access review as of now: holders are users with a direct grant, a group, or a staff or superuser flag.
    ///
    /// - Parameters:
    ///   - staleAfter: a holder who has not signed in for this long is flagged (`auth.review.staleAfter`).
    ///   - users: the application's users (`app.users`), for the names people read.
    public func review(staleAfter: Duration, names directory: (any UserAccounts)? = nil) async throws -> AccessReview {
        let now = clock()
        let staleBefore = now.addingTimeInterval(-Double(staleAfter.components.seconds))
        let sql = database.sql
        let direct = try await sql.select().columns("user_id", "codename").from(Tables.userPermissions).all(decoding: UserGrantRow.self)
        let members = try await sql.select().columns("group_name", "user_id").from(Tables.groupMembers).all(decoding: MemberRow.self)
        let groupGrants = try await sql.select().columns("group_name", "codename").from(Tables.groupPermissions).all(decoding: GroupGrantRow.self)
        let users = try await sql.select().columns("user_id", "is_staff", "is_superuser", "last_login", "last_elevated").from(Tables.users)
            .all(decoding: UserRow.self)
        let everything = try await declared().map(\.codename)

        let accounts = Dictionary(users.map { ($0.user_id, UserAccess($0)) }, uniquingKeysWith: { first, _ in first })
        var holderIDs = Set(direct.map(\.user_id)).union(members.map(\.user_id))
        holderIDs.formUnion(users.filter { $0.is_staff != 0 || $0.is_superuser != 0 }.map(\.user_id))

        let ordered = holderIDs.sorted(by: Self.userOrder)
        let names = try await directory?.names(of: ordered) ?? [:]
        let holders = ordered.map { userID -> AccessReview.Holder in
            let account = accounts[userID]
            let groups = members.filter { $0.user_id == userID }.map(\.group_name).sorted()
            var via: [String: [String]] = [:]
            for grant in direct where grant.user_id == userID { via[grant.codename, default: []].append("direct") }
            for grant in groupGrants where groups.contains(grant.group_name) {
                via[grant.codename, default: []].append("group \(grant.group_name)")
            }
            if account?.isSuperuser == true {
                for codename in everything { via[codename, default: []].append("superuser") }
            }
            let lastLogin = account?.lastLogin
            return AccessReview.Holder(
                userID: userID, name: names[userID], isStaff: account?.isStaff ?? false, isSuperuser: account?.isSuperuser ?? false,
                groups: groups, permissions: via.keys.sorted().map { AccessReview.Grant(codename: $0, via: via[$0]!.sorted()) },
                lastLogin: lastLogin, lastElevated: account?.lastElevated, isStale: lastLogin.map { $0 < staleBefore } ?? true)
        }
        return AccessReview(generatedAt: now, staleBefore: staleBefore, holders: holders)
    }

    /// Numeric ids in number order, then the rest as text.
    static func userOrder(_ lhs: String, _ rhs: String) -> Bool {
        switch (Int(lhs), Int(rhs)) {
        case let (left?, right?): left < right
        case (.some, nil): true
        case (nil, .some): false
        case (nil, nil): lhs < rhs
        }
    }
}
