import Foundation
import Keel

/// What every staff page shows at its top: who is elevated, until when, and why.
struct Elevation: Encodable {
    let active: Bool
    let until: String?
    let reason: String?

    init(_ context: KeelContext, now: Date) {
        let standing = context.standing
        active = standing.isElevated(at: now)
        until = active ? standing.elevatedUntil.map { minute($0) + " UTC" } : nil
        reason = active ? standing.elevationReason : nil
    }
}

struct StaffHomePage: Encodable {
    let elevation: Elevation
    let holders: Int
    let stale: Int
    let warnings: Int
}

struct ElevatePage: Encodable {
    let elevation: Elevation
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
    let elevation: Elevation
    let query: String?
    let users: [StaffUser]
    let more: Bool
}

struct UserPage: Encodable {
    struct Membership: Encodable {
        let name: String
        let member: Bool
    }

    let elevation: Elevation
    let user: StaffUser
    let isStaff: Bool
    let isSuperuser: Bool
    let lastLogin: String?
    let lastElevated: String?
    let permissions: [String]
    let groups: [Membership]
    let log: [LogLine]
    let sessions: [SessionLine]
    let isSelf: Bool
}

struct SessionLine: Encodable {
    let userID: String
    let name: String?
    let began: String
    let lastSeen: String

    init(_ session: SessionSummary, name: String?) {
        userID = session.userID
        self.name = name
        began = minute(session.createdAt)
        lastSeen = minute(session.lastSeenAt)
    }
}

struct SessionsPage: Encodable {
    let elevation: Elevation
    let sessions: [SessionLine]
    let users: Int
}

/// `2026-12-05 14:03`.
func minute(_ date: Date) -> String {
    String(UTCTimestamp.string(secondsSince1970: date.timeIntervalSince1970).prefix(16)).replacingOccurrences(of: "T", with: " ")
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
        at = String(UTCTimestamp.string(secondsSince1970: entry.at.timeIntervalSince1970).prefix(19)).replacingOccurrences(of: "T", with: " ")
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

    let elevation: Elevation
    let groups: [Group]
    /// Every permission the modules declare.
    let declared: [Permission]
    let problems: FormProblems
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

    let elevation: Elevation
    let rows: [Row]
    let staleBefore: String
    let staleCount: Int
    let log: [LogLine]
}

struct ChecksPage: Encodable {
    struct Finding: Encodable {
        let id: String
        let level: String
        let message: String
        let hint: String
    }

    let elevation: Elevation
    let findings: [Finding]
    let profile: String
}

/// `2026-12-05`, or the fallback.
func day(_ date: Date?, _ fallback: String) -> String {
    date.map { String(UTCTimestamp.string(secondsSince1970: $0.timeIntervalSince1970).prefix(10)) } ?? fallback
}
