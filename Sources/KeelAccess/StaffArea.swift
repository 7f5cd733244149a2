public import KeelKernel

/// One page of the staff area, as its home page lists it.
public struct StaffLink: Sendable, Equatable, Encodable {
    public let title: String
    /// A path on this site.
    public let path: String
    public let summary: String

    public init(title: String, path: String, summary: String) {
        precondition(path.hasPrefix("/") && !path.hasPrefix("//"), "A staff page's path is a path on this site: \(path)")
        self.title = title
        self.path = path
        self.summary = summary
    }
}

/// A module that adds pages to the staff area: it registers their routes on the staff area's route policy as it
/// registers any route, and lists them here, so the staff home shows them with no edit to the module that owns the
/// staff area.
///
/// ```swift
/// struct Billing: StaffAreaModule {
///     var name: String { "billing" }
///     var staffLinks: [StaffLink] { [StaffLink(title: "Invoices", path: "/staff/invoices", summary: "Unpaid invoices.")] }
///     func routes(into routes: KeelRoutes, app: KeelApplication) throws {
///         routes.group(.web.requiringStaff()).get("/staff/invoices") { … }
///     }
/// }
/// ```
public protocol StaffAreaModule: KeelModule {
    /// The module's staff pages, in the order the home page lists them.
    var staffLinks: [StaffLink] { get }
}

extension KeelApplication {
    /// Every staff page the modules list (`StaffAreaModule`), in module order.
    public var staffLinks: [StaffLink] {
        modules.compactMap { $0 as? any StaffAreaModule }.flatMap(\.staffLinks)
    }
}
