public import ArgumentParser
public import KeelKernel
import Foundation
import KeelCore
import KeelSettings

/// `sessions`: session maintenance (contributed by `AuthModule`).
public struct SessionsCommand: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "sessions", abstract: "Session maintenance.", subcommands: [SessionsClearExpiredCommand.self])
    }

    public init() {}
}

/// `sessions clear-expired`: deletes sessions past their idle or absolute timeout (run it daily, like Django's
/// `clearsessions`).
public struct SessionsClearExpiredCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "clear-expired", abstract: "Delete sessions past their idle or absolute timeout.")
    }

    @OptionGroup public var settings: SettingsOptions

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let now = app.clock()
            let idle = app.settings[AuthSettings.sessionIdleTimeout]
            let absolute = app.settings[AuthSettings.sessionAbsoluteTimeout]
            let removed = try await app.sessions.deleteExpired(
                idleBefore: now.addingTimeInterval(-idle.inSeconds), createdBefore: now.addingTimeInterval(-absolute.inSeconds))
            context.output("Deleted \(removed) expired session\(removed == 1 ? "" : "s").")
            return 0
        }
    }
}
