public import ArgumentParser
public import Keel
import FluentKit
import Foundation
import SQLKit

/// `conduit seed`: deterministic demo data (users, follows, articles with tags, comments, favorites), so a new user sees
/// a living app and benchmarks have a workload. The same options give the same data.
///
/// Users are `seed_user_000`… with e-mail `seed_user_000@example.com` and the password given (default
/// `conduit-seed-pw`, as the benchmark scripts expect); user 000 follows others and has favorites.
public struct SeedCommand: ModuleCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "seed", abstract: "Fill the database with deterministic demo data (shows progress).",
            discussion: """
                seed writes to the database directly, not through HTTP, so it needs no server and no HTTPS. To seed a \
                staging or production server, run it where the server runs, with the server's settings:

                  KEEL_PROFILE=production DATABASE_URL=... SIGNING_KEY=... conduit migrate
                  KEEL_PROFILE=production DATABASE_URL=... SIGNING_KEY=... conduit seed

                Calling that server's API over plain HTTP (from a script on the same host, say) is answered 301 to \
                HTTPS in staging and production (security.sslRedirect). Go through the TLS proxy, or, from a trusted \
                proxy address (security.trustedProxies, loopback by default), send X-Forwarded-Proto: https.
                """)
    }

    @OptionGroup public var settings: SettingsOptions
    @Option(help: "Users to create.") public var users = 50
    @Option(help: "Articles to create.") public var articles = 500
    @Option(help: "Comments to create.") public var comments = 2000
    @Option(help: "Favorites to create.") public var favorites = 3000
    @Option(help: "Size of the tag pool.") public var tags = 20
    @Option(help: "Password of every seeded user.") public var password = "conduit-seed-pw"
    @Option(help: "Random seed; the same seed gives the same data.") public var seed: UInt64 = 42

    public init() {}

    public func validate() throws {
        guard (1...100_000).contains(users), (0...1_000_000).contains(articles), (0...5_000_000).contains(comments),
              (0...5_000_000).contains(favorites), (1...1000).contains(tags) else {
            throw ValidationError("Counts must be positive and reasonable (users 1...100000, articles up to 1000000, tags 1...1000).")
        }
    }

    public func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            if app.settings.profile == .development { try await app.migrator.migrate() }
            let pending = try await app.migrator.pending()
            guard pending.isEmpty else {
                context.errorOutput("\(pending.count) migrations are pending: run `conduit migrate` first.")
                return 1
            }
            let sql = app.database.sql
            if try await sql.select().column("id").from("users").where("username", .equal, "seed_user_000").first() != nil {
                context.errorOutput("The database is already seeded (seed_user_000 exists). Start from an empty database.")
                return 1
            }
            var random = SplitMix64(seed: seed)
            let start = ContinuousClock.now
            let hash = try await app.passwordHasher.hash(password)
            let base = 1_767_225_600.0  // 2026-01-01T00:00:00Z: fixed, so the order of articles is the same every time
            var userIDs: [Int] = []
            try await batches(users, label: "users", context, database: app.database) { range, sql in
                for index in range {
                    let name = String(format: "seed_user_%03d", index)
                    try await sql.raw("""
                        INSERT INTO users (username, email, password_hash, bio, image, created_at, updated_at)
                        VALUES (\(bind: name), \(bind: name + "@example.com"), \(bind: hash), \(bind: "Seeded user \(index)."), NULL,
                                \(bind: base), \(bind: base))
                        """).run()
                }
            }
            struct IDRow: Decodable { let id: Int }
            userIDs = try await sql.raw("SELECT id FROM users WHERE username LIKE 'seed_user_%' ORDER BY username").all(decoding: IDRow.self).map(\.id)

            var follows: [(Int, Int)] = []
            for (position, follower) in userIDs.enumerated() {
                let count = min(userIDs.count - 1, 2 + Int(random.next() % 9))
                var chosen: Set<Int> = []
                while chosen.count < count {
                    let other = Int(random.next() % UInt64(userIDs.count))
                    if other != position { chosen.insert(other) }
                }
                follows += chosen.sorted().map { (follower, userIDs[$0]) }
            }
            try await batches(follows.count, label: "follows", context, database: app.database) { [follows] range, sql in
                for index in range {
                    try await sql.raw("INSERT INTO follows (follower_id, followed_id, created_at) VALUES (\(bind: follows[index].0), \(bind: follows[index].1), \(bind: base))").run()
                }
            }

            let pool = (0..<tags).map { index in index < Self.tagNames.count ? Self.tagNames[index] : "tag\(index)" }
            try await batches(pool.count, label: "tags", context, database: app.database) { [pool] range, sql in
                for index in range { try await sql.raw("INSERT INTO tags (name) VALUES (\(bind: pool[index]))").run() }
            }
            let tagIDs = Dictionary(uniqueKeysWithValues: try await sql.raw("SELECT id, name FROM tags").all(decoding: TagRow.self).map { ($0.name, $0.id) })
            var plan: [(author: Int, title: String, description: String, body: String, tags: [String])] = []
            for index in 0..<articles {
                let author = userIDs[Int(random.next() % UInt64(userIDs.count))]
                var picked: [String] = []
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let tag = pool[Int(random.next() % UInt64(pool.count))]
                    if !picked.contains(tag) { picked.append(tag) }
                }
                plan.append((author, "Seeded article \(index): " + Self.sentence(&random, 3, 7), Self.sentence(&random, 6, 14),
                             (0..<3).map { _ in Self.sentence(&random, 8, 20) }.joined(separator: "\n\n"), picked))
            }
            var articleIDs: [Int] = []
            try await batches(plan.count, label: "articles", context, database: app.database) { [plan] range, sql in
                for index in range {
                    let article = plan[index]
                    let slug = String(format: "seeded-article-%05d", index)
                    let created = base + Double(index) * 60
                    let tagNames = ArticleService.joinedTagNames(article.tags)
                    try await sql.raw("""
                        INSERT INTO articles (slug, title, description, body, author_id, created_at, updated_at, tag_names)
                        VALUES (\(bind: slug), \(bind: article.title), \(bind: article.description), \(bind: article.body), \(bind: article.author),
                                \(bind: created), \(bind: created), \(bind: tagNames))
                        """).run()
                }
            }
            articleIDs = try await sql.raw("SELECT id FROM articles WHERE slug LIKE 'seeded-article-%' ORDER BY slug").all(decoding: IDRow.self).map(\.id)
            try await batches(articleIDs.count, label: "article tags", context, database: app.database) { [plan, articleIDs] range, sql in
                for index in range {
                    for (position, tag) in plan[index].tags.enumerated() {
                        try await sql.raw("INSERT INTO article_tags (article_id, tag_id, position) VALUES (\(bind: articleIDs[index]), \(bind: tagIDs[tag]!), \(bind: position))").run()
                    }
                }
            }
            if !articleIDs.isEmpty {
                var commentPlan: [(Int, Int, String)] = []
                for _ in 0..<comments {
                    commentPlan.append((articleIDs[Int(random.next() % UInt64(articleIDs.count))], userIDs[Int(random.next() % UInt64(userIDs.count))],
                                        Self.sentence(&random, 4, 30)))
                }
                try await batches(commentPlan.count, label: "comments", context, database: app.database) { [commentPlan] range, sql in
                    for index in range {
                        let (article, author, text) = commentPlan[index]
                        let created = base + Double(index)
                        try await sql.raw("""
                            INSERT INTO comments (article_id, author_id, body, created_at, updated_at)
                            VALUES (\(bind: article), \(bind: author), \(bind: text), \(bind: created), \(bind: created))
                            """).run()
                    }
                }
                var pairs: Set<Int> = []
                let total = userIDs.count * articleIDs.count
                // User 000 favorites a few articles first, so personalized reads have something to show.
                for article in 0..<min(10, articleIDs.count) { pairs.insert(article) }
                while pairs.count < min(favorites, total) { pairs.insert(Int(random.next() % UInt64(total))) }
                let favoritePlan = pairs.sorted()
                try await batches(favoritePlan.count, label: "favorites", context, database: app.database) { [favoritePlan, userIDs, articleIDs] range, sql in
                    for index in range {
                        let (user, article) = favoritePlan[index].quotientAndRemainder(dividingBy: articleIDs.count)
                        try await sql.raw("INSERT INTO favorites (user_id, article_id) VALUES (\(bind: userIDs[user]), \(bind: articleIDs[article]))").run()
                    }
                }
            }
            // Demo data goes in by raw statements, in batches, into an empty database (the source-policy test lists this
            // file as the one exemption): the trail records the run as one event, not one entry per seeded row.
            try await app.database.record(ChangeEvent("conduit.seeded", details: [
                "users": String(userIDs.count), "follows": String(follows.count), "articles": String(articleIDs.count),
                "comments": String(comments), "seed": String(seed),
            ]))
            let elapsed = ContinuousClock.now - start
            context.output("Seeded \(userIDs.count) users, \(follows.count) follows, \(articleIDs.count) articles, \(comments) comments, "
                + "\(min(favorites, userIDs.count * articleIDs.count)) favorites in \(elapsed.components.seconds)s. Log in as seed_user_000@example.com.")
            return 0
        }
    }

    struct TagRow: Decodable {
        let id: Int
        let name: String
    }

    /// Runs `body` over `count` items in transactions of 200, printing progress at every tenth.
    func batches(_ count: Int, label: String, _ context: CommandContext, database: KeelDatabase,
                 _ body: @escaping @Sendable (Range<Int>, any SQLDatabase) async throws -> Void) async throws {
        guard count > 0 else { return }
        var done = 0
        var reported = 0
        while done < count {
            let range = done..<min(count, done + 200)
            try await database.transaction { sql in try await body(range, sql) }
            done = range.upperBound
            let tenth = done * 10 / count
            if tenth > reported || done == count {
                reported = tenth
                context.output("  \(label): \(done)/\(count)")
            }
        }
    }

    static let tagNames = ["swift", "server", "django", "rust", "go", "python", "databases", "security", "testing", "devops",
                           "design", "performance", "privacy", "web", "api", "sqlite", "postgres", "observability", "cloud", "career"]
    static let words = ["the", "keel", "swift", "server", "fast", "safe", "request", "database", "query", "index", "cache", "token",
                        "deploy", "metric", "trace", "privacy", "audit", "migration", "session", "header", "policy", "article", "comment",
                        "profile", "follow", "favorite", "tag", "benchmark", "latency", "throughput", "memory", "thread", "loop", "pool"]

    static func sentence(_ random: inout SplitMix64, _ low: Int, _ high: Int) -> String {
        let count = low + Int(random.next() % UInt64(high - low + 1))
        var text = (0..<count).map { _ in words[Int(random.next() % UInt64(words.count))] }.joined(separator: " ")
        text = text.prefix(1).uppercased() + text.dropFirst() + "."
        return text
    }
}

/// Conduit's demo data: the `seed` command.
public struct DemoData: KeelModule {
    public init() {}
    public var name: String { "demo" }
    public var commands: [any ParsableCommand.Type] { [SeedCommand.self] }
}
