public import ArgumentParser
public import KeelKernel
import KeelAuth
import Foundation

/// `createsuperuser`: creates a user through the application's `UserAccounts` and makes them superuser (and staff).
///
/// Interactive at a terminal (asks what is missing; the password twice, without echo, again when the policy refuses
/// it), or `--no-input` for scripts: the username and e-mail from the options or `KEEL_SUPERUSER_USERNAME` /
/// `KEEL_SUPERUSER_EMAIL`, the password from `--password-file` (a secret file) or `KEEL_SUPERUSER_PASSWORD`.
public struct CreateSuperuserCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "createsuperuser", abstract: "Create a user with every permission (superuser, staff).",
            discussion: """
                At a terminal it asks for what is missing. With --no-input it reads KEEL_SUPERUSER_USERNAME, \
                KEEL_SUPERUSER_EMAIL and KEEL_SUPERUSER_PASSWORD (or --password-file) and never asks.
                """)
    }

    @OptionGroup public var settings: SettingsOptions
    @Option(help: "The new user's username.") public var username: String?
    @Option(help: "The new user's e-mail address.") public var email: String?
    @Option(help: "A file whose first line is the password (a mounted secret).") public var passwordFile: String?
    @Flag(help: "Never ask; fail when something is missing.") public var noInput = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let prompt = UserPrompt(context: context, interactive: !noInput)
            guard let users = prompt.users(of: app) else { return 1 }
            guard let username = prompt.value(username ?? context.environment["KEEL_SUPERUSER_USERNAME"], ask: "Username: "),
                  let email = prompt.value(email ?? context.environment["KEEL_SUPERUSER_EMAIL"], ask: "Email address: ")
            else {
                context.errorOutput(prompt.missing("a username and an e-mail address", environment: "KEEL_SUPERUSER_USERNAME and KEEL_SUPERUSER_EMAIL"))
                return 1
            }
            let given = try UserPrompt.password(file: passwordFile) ?? context.environment["KEEL_SUPERUSER_PASSWORD"]
            return try await prompt.withPassword(given, missing: "KEEL_SUPERUSER_PASSWORD or --password-file") { password in
                let id = try await users.createUser(username: username, email: email, password: password)
                try await app.access.setFlags(of: id, staff: true, superuser: true)
                context.output("Superuser \(username) created (id \(id)).")
            }
        }
    }
}
