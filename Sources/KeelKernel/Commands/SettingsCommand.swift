public import ArgumentParser
import KeelCore
import KeelSettings

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `settings`: inspect the settings.
public struct SettingsCommand: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "settings",
            abstract: "Show the effective settings or print the settings reference.",
            subcommands: [SettingsShowCommand.self, SettingsDocsCommand.self]
        )
    }

    public init() {}
}

/// `settings show`: every effective value with its source; secrets redacted.
public struct SettingsShowCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "show", abstract: "Print each effective setting, where it came from, secrets redacted.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Print JSON instead of a table.")
    public var json = false

    public init() {}

    struct Row: Codable {
        let key: String
        let environmentVariable: String
        let value: String
        let source: String
        let secret: Bool
    }

    struct Document: Codable {
        let profile: String
        let settings: [Row]
    }

    public func execute(in context: CommandContext) async throws -> Int32 {
        guard let resolved = await context.settings(settings) else { return SettingsError.exitCode }
        let rows = resolved.entries.map {
            Row(key: $0.key, environmentVariable: $0.environmentVariable, value: $0.displayValue, source: $0.source.description, secret: $0.isSecret)
        }
        if json {
            try context.outputJSON(Document(profile: resolved.profile.rawValue, settings: rows))
        } else {
            context.output("Profile: \(resolved.profile)\n")
            context.output(TextTable(header: ["KEY", "VALUE", "SOURCE"], rows: rows.map { [$0.key, $0.value, $0.source] }).render())
        }
        return 0
    }
}

/// `settings docs`: the Markdown reference `docs/settings.md` is generated from.
public struct SettingsDocsCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "docs", abstract: "Print the settings reference in Markdown (docs/settings.md).")
    }

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        let documentation = SettingsDocumentation(schema: context.settingsSchema, applicationName: context.appName)
        var text = documentation.markdown()
        if text.hasSuffix("\n") { text.removeLast() }
        context.output(text)
        return 0
    }
}
