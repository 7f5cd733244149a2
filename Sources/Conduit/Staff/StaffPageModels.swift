import Foundation
import Keel

struct StaffHomePage: Encodable {
    /// Every module's staff pages, Conduit's own first.
    let links: [StaffLink]
    let holders: Int
    let stale: Int
    let warnings: Int
}

struct ElevatePage: Encodable {
    let next: String?
    let reason: String?
    let problems: FormProblems
}

/// A user as the staff pages show them (never the password hash).
struct StaffUser: Encodable {
    let id: Int
    let username: String
    let email: String
    let active: Bool
    let passwordResetRequired: Bool

    init(_ row: UserRow) {
        id = row.id
        username = row.username
        email = row.email
        active = row.is_active != 0
        passwordResetRequired = row.password_reset_required != 0
    }
}

struct UsersPage: Encodable {
    let query: String?
    let users: [StaffUser]
    let more: Bool
}

struct UserPage: Encodable {
    struct Membership: Encodable {
        let name: String
        let member: Bool
    }

    let user: StaffUser
    let isStaff: Bool
    let isSuperuser: Bool
    let lastLogin: String
    let lastElevated: String
    let permissions: [String]
    let groups: [Membership]
    let log: [LogLine]
    let sessions: [SessionLine]
    let isSelf: Bool
    /// Who changed this user, when, what (the newest 20).
    let entries: [AuditLine]
    let historyLink: String

    init(_ row: UserRow, _ details: StaffService.UserDetails, viewer: String?, history: [AuditLine]) {
        let id = String(row.id)
        user = StaffUser(row)
        isStaff = details.standing.isStaff
        isSuperuser = details.standing.isSuperuser
        lastLogin = shown(details.standing.lastLogin, .day, or: "never")
        lastElevated = shown(details.standing.lastElevated, .day, or: "never")
        permissions = details.permissions
        groups = details.groups.map { Membership(name: $0.name, member: $0.members.contains(id)) }
        log = details.log.map(LogLine.init)
        sessions = details.sessions.map { SessionLine($0, name: row.username) }
        isSelf = viewer == id
        entries = history
        historyLink = "/staff/audit?object=users:\(id)"
    }
}

struct SessionLine: Encodable {
    let userID: String
    let name: String?
    let began: String
    let lastSeen: String

    init(_ session: SessionSummary, name: String?) {
        userID = session.userID
        self.name = name
        began = shown(session.createdAt, .minute)
        lastSeen = shown(session.lastSeenAt, .minute)
    }
}

struct SessionsPage: Encodable {
    let sessions: [SessionLine]
    let users: Int
}

/// A time as the staff pages show it (`2026-12-05 14:03`), through Keel's one readable format; the fallback for none.
func shown(_ date: Date?, _ precision: UTCTimestamp.Precision, or fallback: String = "") -> String {
    date.map { UTCTimestamp.readable(secondsSince1970: $0.timeIntervalSince1970, to: precision) } ?? fallback
}

struct LogLine: Encodable {
    let at: String
    let user: String
    let reason: String
    let method: String
    let route: String
    let requestID: String
    let status: Int

    init(_ entry: ElevationLogEntry) {
        at = shown(entry.at, .second)
        user = entry.userID
        reason = entry.reason
        method = entry.method
        route = entry.route
        requestID = entry.requestID
        status = entry.status
    }
}

struct GroupsPage: Encodable {
    struct Group: Encodable {
        let name: String
        let permissions: [String]
        let members: [String]
    }

    let groups: [Group]
    /// Every permission the modules declare.
    let declared: [Permission]
    let problems: FormProblems

    init(_ found: (groups: [AccessGroup], names: [String: String], declared: [Permission]), problems: FormProblems) {
        groups = found.groups.map { Group(name: $0.name, permissions: $0.permissions, members: $0.members.map { found.names[$0] ?? $0 }) }
        declared = found.declared
        self.problems = problems
    }
}

struct ReviewPage: Encodable {
    struct Row: Encodable {
        let userID: String
        let name: String?
        let status: String
        let grants: [String]
        let lastLogin: String
        let lastElevated: String
        let stale: Bool
    }

    let rows: [Row]
    let staleBefore: String
    let staleCount: Int
    let log: [LogLine]

    init(_ review: AccessReview, log: [ElevationLogEntry]) {
        rows = review.holders.map { holder in
            Row(userID: holder.userID, name: holder.name, status: holder.status,
                grants: holder.permissions.map { "\($0.codename) (\($0.via.joined(separator: ", ")))" },
                lastLogin: shown(holder.lastLogin, .day, or: "never"), lastElevated: shown(holder.lastElevated, .day, or: "never"),
                stale: holder.isStale)
        }
        staleBefore = shown(review.staleBefore, .day)
        staleCount = review.staleCount
        self.log = log.map(LogLine.init)
    }
}

struct ChecksPage: Encodable {
    struct Finding: Encodable {
        let id: String
        let level: String
        let message: String
        let hint: String
    }

    let findings: [Finding]
    let profile: String
}

/// One audit entry as the staff pages show it: personal values opened (or `[erased]`).
struct AuditLine: Encodable {
    let seq: Int64
    let at: String
    let actor: String
    let actorLink: String?
    let via: String
    let action: String
    let object: String
    let objectLink: String?
    let changes: String
    let requestID: String
    let client: String

    init(_ record: AuditRecord) {
        let entry = record.entry
        seq = entry.seq
        at = entry.time
        actor = entry.actor
        actorLink = Int(entry.actor).map { "/staff/users/\($0)" }
        via = entry.via
        action = entry.action
        object = entry.objectTable.map { table in entry.objectKey.map { "\(table):\($0)" } ?? table } ?? (entry.subject.map { "about user \($0)" } ?? "")
        objectLink = switch entry.objectTable {
        case "users": entry.objectKey.map { "/staff/users/\(URLEncoding.component($0))" }
        case "articles": entry.objectKey.map { "/staff/articles/\(URLEncoding.component($0))" }
        default: nil
        }
        changes = record.summary
        requestID = entry.requestID ?? ""
        client = record.client ?? ""
    }
}

/// `/staff/audit`: the trail, newest first, filtered, a page at a time.
struct AuditPage: Encodable {
    let actor: String
    let object: String
    let action: String
    let since: String
    let until: String
    let entries: [AuditLine]
    /// The next (older) page, when there is one.
    let older: String?
    let total: Int
}

/// `/staff/articles/{id}`: an article and who changed it.
struct StaffArticlePage: Encodable {
    let id: Int
    let title: String
    let slug: String
    let author: String
    let authorID: Int
    let entries: [AuditLine]
    let historyLink: String
}
