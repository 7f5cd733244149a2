public import ArgumentParser
public import KeelKernel
import KeelSettings

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `keys`: signing keys (contributed by `SecurityModule`).
public struct KeysCommand: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "keys",
            abstract: "Generate a signing key, or say which keys are configured (never their values).",
            subcommands: [KeysGenerateCommand.self, KeysStatusCommand.self]
        )
    }

    public init() {}
}

/// `keys generate`: a new random key for `signing.key`.
public struct KeysGenerateCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "generate",
            abstract: "Print a new random signing key (48 bytes, base64url).",
            discussion: "To rotate: move the current SIGNING_KEY into SIGNING_FALLBACK_KEYS, set SIGNING_KEY to the new key, deploy; remove the old key once what it signed has expired."
        )
    }

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        context.output(Keyring.generateKey())
        return 0
    }
}

/// `keys status`: the configured keys by id, with their strength and source.
public struct KeysStatusCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "status", abstract: "Show the configured signing keys by id, with their strength; never their values.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    struct KeyStatus: Encodable {
        let role: String
        let id: String
        let strong: Bool
    }

    struct Document: Encodable {
        let source: String
        let keys: [KeyStatus]
    }

    public func execute(in context: CommandContext) async throws -> Int32 {
        guard let resolved = await context.settings(settings) else { return SettingsError.exitCode }
        let current = resolved[SecuritySettings.signingKey]
        let fallbacks = resolved[SecuritySettings.signingFallbackKeys]
        let keyring = Keyring(key: current, fallbackKeys: fallbacks)
        var keys = [KeyStatus(role: "current", id: keyring.current.id, strong: !SecurityChecks.isWeakKey(current))]
        for (index, key) in keyring.fallbacks.enumerated() {
            keys.append(KeyStatus(role: "fallback \(index)", id: key.id, strong: !SecurityChecks.isWeakKey(fallbacks[index])))
        }
        let source = resolved.entry(SecuritySettings.signingKey.key)?.source.description ?? "default"
        if json {
            try context.outputJSON(Document(source: source, keys: keys))
        } else {
            context.output("signing.key from \(source)")
            for key in keys {
                let role = key.role + String(repeating: " ", count: max(0, 11 - key.role.count))
                context.output("  \(role) \(key.id)  \(key.strong ? "ok" : "WEAK")")
            }
            if keys.contains(where: { !$0.strong }) {
                context.output("Weak keys can be forged: replace them with `\(context.appName) keys generate`.")
            }
        }
        return keys.allSatisfy(\.strong) ? 0 : 1
    }
}
