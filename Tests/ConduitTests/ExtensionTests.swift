import ArgumentParser
import Conduit
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Keel
import KeelCLI
import KeelTesting
import Logging
import Synchronization
import Testing

/// A module of the kind the second half adds (audit, privacy, cache): declared only here, it brings a command, a value
/// of its own in the request's state and a page in the staff area, with no edit to Keel, to Conduit or to a list.
struct Invoices: StaffAreaModule {
    var name: String { "invoices" }
    var commands: [any ParsableCommand.Type] { [InvoicesCommand.self] }
    var staffLinks: [StaffLink] { [StaffLink(title: "Invoices", path: "/staff/invoices", summary: "unpaid invoices.")] }

    /// What the module's stage noted about this request, read by its handler.
    enum Seen: RequestStateKey {
        static var defaultValue: [String] { [] }
    }

    struct Stamp: RequestHook {
        func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? {
            context.state[Seen.self].append("stamped \(request.uri.path)")
            return nil
        }
    }

    func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        group.requiresStaff ? [.hook(.handler, "invoices.stamp", Stamp())] : []
    }

    func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        routes.group(Staff.reading).get("/staff/invoices") { _, context in
            "3 unpaid; \(context.state[Seen.self].joined(separator: ", "))"
        }
    }
}

struct InvoicesCommand: ModuleCommand {
    static let configuration = CommandConfiguration(commandName: "invoices", abstract: "Count the unpaid invoices.")
    @OptionGroup var settings: SettingsOptions

    func execute(in context: CommandContext) async throws -> Int32 {
        try await context.withApplication(settings) { app in
            context.output("3 unpaid invoices in \(app.name), \(app.staffLinks.count) staff pages")
            return 0
        }
    }
}

enum ExtendedConduit: KeelApp {
    static let name = "conduit"
    static var modules: [any KeelModule] { ConduitApp.modules + [Invoices()] }
}

@Suite struct ExtensionTests {
    @Test func aModuleAddsACommandARequestValueAndAStaffPageWithoutEditingAnythingElse() async throws {
        let app = try await KeelTestApplication.make(name: "conduit", modules: ExtendedConduit.modules, values: ["database.url": "sqlite://:memory:"])
        try await app.keel.database.prepare()
        try await app.keel.migrate()
        let users = try #require(app.keel.users)
        let rootID = try await users.createUser(username: "root", email: "root@example.com", password: "root-password")
        try await app.keel.access.setFlags(of: rootID, staff: true, superuser: true)
        _ = try await users.createUser(username: "ann", email: "ann@example.com", password: "ann-password")
        try await app.application().test(.router) { client in
            var root = PageClient()
            try await StaffTests.signIn(&root, client, "root@example.com", "root-password")
            let home = try await root.get(client, "/staff")
            #expect(home.html.contains(#"<a href="/staff/invoices">Invoices</a>: unpaid invoices."#), "the staff home lists it")
            #expect(home.html.contains(#"<a href="/staff/users">Users</a>"#), "beside Conduit's own")
            let page = try await root.get(client, "/staff/invoices")
            #expect(page.status == .ok)
            #expect(page.html == "3 unpaid; stamped /staff/invoices", "the module's stage wrote, its handler read")
            var ann = PageClient()
            try await StaffTests.signIn(&ann, client, "ann@example.com", "ann-password")
            #expect(try await ann.get(client, "/staff/invoices").status == .forbidden, "the staff area's policy holds")
        }
        await app.keel.database.shutdown()

        let output = Mutex<[String]>([])
        let environment = CommandEnvironment(
            environment: [:], output: { line in output.withLock { $0.append(line) } }, errorOutput: { _ in },
            bootstrap: { _, _ in Logger(label: "extension-test") { _ in SwiftLogNoOpLogHandler() } })
        let code = await KeelCommandLine<ExtendedConduit>.execute(arguments: ["invoices", "--set", "database.url=sqlite://:memory:"], in: environment)
        #expect(code == 0)
        #expect(output.withLock { $0 } == ["3 unpaid invoices in conduit, 7 staff pages"])
    }
}
