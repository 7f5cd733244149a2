public import ArgumentParser
public import KeelKernel
import Foundation
import KeelCore
import HTTPTypes

/// `changepassword USER`: sets a user's password through the application's `UserAccounts`, then ends their sessions.
/// Asks twice at a terminal; `--password-file` for scripts.
public struct ChangePasswordCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "changepassword", abstract: "Set a user's password (their sessions end).")
    }

    @OptionGroup public var settings: SettingsOptions
    @Argument(help: "The user's username (or e-mail address).") public var user: String
    @Option(help: "A file whose first line is the new password (a mounted secret).") public var passwordFile: String?

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let prompt = UserPrompt(context: context, interactive: passwordFile == nil)
            guard let users = prompt.users(of: app) else { return 1 }
            guard let id = try await users.userID(named: user) else {
                context.errorOutput("error: there is no user \(user).")
                return 1
            }
            context.output("Changing the password of \(user) (id \(id)).")
            return try await prompt.withPassword(try UserPrompt.password(file: passwordFile), missing: "--password-file") { password in
                try await users.setPassword(password, of: id)
                try await app.endSessions(of: id)
                context.output("The password of \(user) was changed; their sessions were ended.")
            }
        }
    }
}

/// Asking a person for what a command needs.
package struct UserPrompt {
    let context: CommandContext
    let interactive: Bool

    package init(context: CommandContext, interactive: Bool) {
        self.context = context
        self.interactive = interactive
    }

    /// The given value, else the answer to `ask` when someone can answer; `nil` when neither.
    package func value(_ given: String?, ask: String) -> String? {
        if let given, !given.isEmpty { return given }
        guard interactive else { return nil }
        for _ in 0..<3 {
            guard let answer = context.input(ask, false) else { return nil }
            let trimmed = answer.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty { return trimmed }
            context.errorOutput("This field cannot be blank.")
        }
        return nil
    }

    /// The application's users, or `nil` after saying that it has none for Keel.
    package func users(of app: KeelApplication) -> (any UserAccounts)? {
        guard let users = app.users else {
            context.errorOutput("error: \(context.appName) has no user accounts for Keel (no module installs a UserDirectory).")
            return nil
        }
        return users
    }

    /// Runs `body` with the given password, else one typed at the terminal; a password the policy refuses (a 422 about
    /// the password only) is asked for again at a terminal. Returns the command's exit status: 0 when `body` ran, 1
    /// when nobody can give a password or the input was refused.
    package func withPassword(_ given: String?, missing environment: String, _ body: (String) async throws -> Void) async throws -> Int32 {
        var given = given
        while true {
            guard let password = given ?? newPassword() else {
                context.errorOutput(missing("a password", environment: environment))
                return 1
            }
            do {
                try await body(password)
                return 0
            } catch let error as KeelError where error.status == .unprocessableContent {
                context.errorOutput(error.commandLineText)
                // A refused password can be typed again; anything else (a taken name) cannot.
                guard interactive, error.messages.keys.allSatisfy({ $0 == "password" }) else { return 1 }
                given = nil
            }
        }
    }

    /// A new password typed twice (asked again when they differ); `nil` when nobody can answer.
    func newPassword() -> String? {
        guard interactive else { return nil }
        for _ in 0..<3 {
            guard let first = context.input("Password: ", true), let second = context.input("Password (again): ", true) else { return nil }
            if first == second, !first.isEmpty { return first }
            context.errorOutput(first.isEmpty ? "The password cannot be blank." : "The passwords do not match.")
        }
        return nil
    }

    /// What to say when something is missing and nobody can be asked.
    package func missing(_ what: String, environment: String) -> String {
        interactive
            ? "error: \(what) is needed, and standard input is not a terminal to ask on: give \(environment), with --no-input."
            : "error: \(what) is needed: give \(environment)."
    }

    /// The first line of a password file.
    package static func password(file: String?) throws -> String? {
        guard let file else { return nil }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("Cannot read the password file \(file).") }
        return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
    }

}
