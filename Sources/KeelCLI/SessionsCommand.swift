public import ArgumentParser
public import Keel
import Foundation

/// `sessions`: session maintenance.
public struct SessionsCommand<App: KeelApp>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "sessions", abstract: "Session maintenance.", subcommands: [SessionsClearExpiredCommand<App>.self])
    }

    public init() {}
}

/// `sessions clear-expired`: deletes sessions past their idle or absolute timeout (run it daily, like Django's
/// `clearsessions`).
public struct SessionsClearExpiredCommand<App: KeelApp>: AsyncParsableCommand, KeelCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "clear-expired", abstract: "Delete sessions past their idle or absolute timeout.")
    }

    @OptionGroup public var settings: SettingsOptions

    public init() {}

    public func execute(in environment: CommandEnvironment) async throws -> Int32 {
        try await CommandApplication.with(App.self, settings: settings, in: environment) { app in
            let now = app.clock()
            let idle = app.settings[AuthSettings.sessionIdleTimeout]
            let absolute = app.settings[AuthSettings.sessionAbsoluteTimeout]
            let removed = try await app.sessions.deleteExpired(
                idleBefore: now.addingTimeInterval(-idle.inSeconds), createdBefore: now.addingTimeInterval(-absolute.inSeconds))
            environment.output("Deleted \(removed) expired session\(removed == 1 ? "" : "s").")
            return 0
        }
    }
}
