public import ArgumentParser
public import KeelKernel
import Foundation
import KeelCore
import KeelSettings
import KeelAuth

/// `permissions`: the declared permissions, grants, groups and the access review (contributed by `AccessModule`).
/// Users are named by their id (what `context.identity.userID` carries).
public struct PermissionsCommand: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "permissions", abstract: "Permissions, groups and the access review.",
            subcommands: [
                PermissionsReviewCommand.self, PermissionsListCommand.self, PermissionsGrantCommand.self, PermissionsRevokeCommand.self,
                PermissionsGroupsCommand.self,
            ])
    }

    public init() {}
}

/// `permissions review`: who holds which permission and how, staff and superuser status, last sign-in and elevated
/// access, stale holders flagged.
public struct PermissionsReviewCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "review",
            abstract: "Who holds which permission (directly, through a group, as superuser), with last sign-in; stale holders flagged.",
            discussion: "A holder is stale when they have not signed in for auth.review.staleAfter (90 days unless set). Exit 0 either way.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Print JSON instead of a table.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let review = try await app.access.review(
                staleAfter: app.settings[AccessSettings.reviewStaleAfter], names: app.users)
            if json {
                try context.outputJSON(review)
                return 0
            }
            context.output(Self.text(review))
            return 0
        }
    }

    /// The review for people: one row per holder and permission, then a summary line.
    static func text(_ review: AccessReview) -> String {
        guard !review.holders.isEmpty else { return "Nobody holds a permission, a group, staff or superuser status." }
        var rows: [[String]] = []
        for holder in review.holders {
            let who = holder.name.map { "\($0) (\(holder.userID))" } ?? holder.userID
            let status = holder.status
            let login = holder.lastLogin.map(day) ?? "never"
            let elevated = holder.lastElevated.map(day) ?? "-"
            let flag = holder.isStale ? "STALE" : ""
            let grants = holder.permissions.isEmpty ? [AccessReview.Grant(codename: "-", via: [])] : holder.permissions
            for (index, grant) in grants.enumerated() {
                let first = index == 0
                rows.append([
                    first ? who : "", first ? (status.isEmpty ? "-" : status) : "", grant.codename,
                    grant.via.joined(separator: ", "), first ? login : "", first ? elevated : "", first ? flag : "",
                ])
            }
        }
        let table = TextTable(header: ["USER", "STATUS", "PERMISSION", "VIA", "LAST LOGIN", "LAST ELEVATED", ""], rows: rows).render()
        let holders = review.holders.count
        return table + "\n\n\(holders) holder\(holders == 1 ? "" : "s"), \(review.staleCount) stale "
            + "(no sign-in since \(day(review.staleBefore)))."
    }
}

/// `permissions list`: every declared permission, as `migrate` recorded it.
public struct PermissionsListCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "Every permission the modules declare, as migrate recorded it.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Print JSON instead of a table.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let recorded = try await app.access.declared()
            if json {
                try context.outputJSON(recorded)
            } else if recorded.isEmpty {
                context.output("No permissions recorded (none declared, or run migrate).")
            } else {
                context.output(TextTable(header: ["PERMISSION", "ALLOWS"], rows: recorded.map { [$0.codename, $0.summary] }).render())
            }
            return 0
        }
    }
}

/// Who a grant or a revocation is for: `--user ID` or `--group NAME`, exactly one.
public struct GrantTarget: ParsableArguments, Sendable {
    @Option(help: "The user's id.") public var user: String?
    @Option(help: "The group's name.") public var group: String?

    public init() {}

    public func validate() throws {
        guard (user == nil) != (group == nil) else { throw ValidationError("Give exactly one of --user and --group.") }
    }
}

/// `permissions grant PERMISSION --user ID` or `--group NAME` (the group is created if it does not exist).
public struct PermissionsGrantCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "grant", abstract: "Give a permission to a user or a group (creating the group).")
    }

    @OptionGroup public var settings: SettingsOptions
    @Argument(help: "The permission, module.action_model.") public var permission: String
    @OptionGroup public var target: GrantTarget

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            if let user = target.user {
                try await app.access.grant(permission, to: user)
                context.output("Granted \(permission) to user \(user).")
            } else if let group = target.group {
                try await app.access.createGroup(group)
                try await app.access.grant(permission, toGroup: group)
                context.output("Granted \(permission) to group \(group).")
            }
            return 0
        }
    }
}

/// `permissions revoke PERMISSION --user ID` or `--group NAME`.
public struct PermissionsRevokeCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "revoke", abstract: "Take a permission from a user (given directly) or a group.")
    }

    @OptionGroup public var settings: SettingsOptions
    @Argument(help: "The permission, module.action_model.") public var permission: String
    @OptionGroup public var target: GrantTarget

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            if let user = target.user {
                try await app.access.revoke(permission, from: user)
                context.output("Revoked \(permission) from user \(user).")
            } else if let group = target.group {
                try await app.access.revoke(permission, fromGroup: group)
                context.output("Revoked \(permission) from group \(group).")
            }
            return 0
        }
    }
}

/// `permissions groups`: every group with its permissions and members; `--add USER --to GROUP` and
/// `--remove USER --from GROUP` change membership.
public struct PermissionsGroupsCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "groups", abstract: "List groups, or add a user to one (--add ID --to NAME) or remove one (--remove ID --from NAME).")
    }

    @OptionGroup public var settings: SettingsOptions
    @Option(help: "A user id to add to the group --to names.") public var add: String?
    @Option(help: "The group to add the user to.") public var to: String?
    @Option(help: "A user id to remove from the group --from names.") public var remove: String?
    @Option(help: "The group to remove the user from.") public var from: String?
    @Flag(help: "Print JSON instead of a table.") public var json = false

    public init() {}

    public func validate() throws {
        guard (add == nil) == (to == nil), (remove == nil) == (from == nil) else {
            throw ValidationError("--add goes with --to, --remove with --from.")
        }
    }

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            if let add, let to {
                try await app.access.add(user: add, toGroup: to)
                context.output("Added user \(add) to group \(to).")
            }
            if let remove, let from {
                try await app.access.remove(user: remove, fromGroup: from)
                context.output("Removed user \(remove) from group \(from).")
            }
            if add != nil || remove != nil { return 0 }
            let groups = try await app.access.groups()
            if json {
                try context.outputJSON(groups)
            } else if groups.isEmpty {
                context.output("No groups.")
            } else {
                context.output(TextTable(header: ["GROUP", "PERMISSIONS", "MEMBERS"], rows: groups.map {
                    [$0.name, $0.permissions.joined(separator: ", "), $0.members.joined(separator: ", ")]
                }).render())
            }
            return 0
        }
    }
}

/// A date as people read it in a table: `2026-12-05`.
private func day(_ date: Date) -> String {
    UTCTimestamp.readable(secondsSince1970: date.timeIntervalSince1970, to: .day)
}
