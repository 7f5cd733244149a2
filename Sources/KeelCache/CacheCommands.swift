public import ArgumentParser
public import KeelKernel
import KeelCore
import Foundation

/// `cache`: empty the cache or see what it holds (contributed by `CacheModule`).
public struct CacheCommand: ParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "cache", abstract: "The cache: empty it, or see what it holds.",
                             subcommands: [CacheClearCommand.self, CacheStatsCommand.self])
    }

    public init() {}
}

/// `cache clear`: deletes every cached value of the configured store.
public struct CacheClearCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "clear", abstract: "Delete every cached value.",
            discussion: """
                Empties the database store (cache.store = database), which every instance reads. The memory store lives \
                in each server process: restarting a server empties its own, and this command says so.
                """)
    }

    @OptionGroup public var settings: SettingsOptions

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let cache = app.cache
            guard cache.storeName != CacheStoreKind.memory.rawValue else {
                context.errorOutput("cache.store is memory: each server process holds its own cache, which a restart empties. Nothing to clear from here.")
                return 0
            }
            let before = try await cache.usage()
            try await cache.clear()
            context.output("Cleared the \(cache.storeName) cache: \(before.entries) \(before.entries == 1 ? "entry" : "entries"), \(before.bytes) bytes.")
            return 0
        }
    }
}

/// `cache stats`: what the configured store holds.
public struct CacheStatsCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "stats", abstract: "How many values the cache holds, and how many bytes of its limit.")
    }

    @OptionGroup public var settings: SettingsOptions

    @Flag(help: "Print JSON instead of text.")
    public var json = false

    public init() {}

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            let usage = try await app.cache.usage()
            if json {
                try context.outputJSON(usage)
            } else {
                let percent = usage.limit > 0 ? Double(usage.bytes) * 100 / Double(usage.limit) : 0
                context.output("\(app.cache.storeName) cache: \(usage.entries) \(usage.entries == 1 ? "entry" : "entries"), "
                    + "\(usage.bytes) of \(usage.limit) bytes (\(String(format: "%.1f", percent))%).")
            }
            return 0
        }
    }
}
