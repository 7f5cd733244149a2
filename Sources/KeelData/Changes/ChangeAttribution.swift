/// Who is writing, as the data layer records it beside every change: the actor, how they acted, and the request.
///
/// A task-local: the request pipeline binds one per request (the signed-in user, `session` or `token`, the request
/// id and the client address), a command binds `command:NAME`, and work outside both is `system`.
///
/// ```swift
/// try await ChangeAttribution.$current.withValue(.command("seed")) {
///     try await app.database.write { tx in … }
/// }
/// ```
public struct ChangeAttribution: Sendable {
    /// How the actor acted: a session cookie, an API token, a command, or the system itself (`elevated` when a
    /// module reports elevated access through `ActingDetails`).
    public enum Via: String, Sendable, CaseIterable {
        case session, token, elevated, command, system, anonymous
    }

    /// The identity's user id, `command:NAME`, `system`, or `anonymous` (a request with no signed-in user).
    public var actor: String
    public var via: Via
    public var requestID: String?
    /// The client address the request came from (personal data: the audit trail seals it).
    public var client: String?
    /// Asked at write time for what a request learned after the attribution was made (elevated access).
    let details: (any ActingDetails)?

    public init(actor: String, via: Via, requestID: String? = nil, client: String? = nil, details: (any ActingDetails)? = nil) {
        self.actor = actor
        self.via = via
        self.requestID = requestID
        self.client = client
        self.details = details
    }

    /// Background work with no person behind it.
    public static let system = ChangeAttribution(actor: "system", via: .system)

    /// A command run from the command line, `command:NAME`.
    public static func command(_ name: String) -> ChangeAttribution {
        ChangeAttribution(actor: "command:" + name, via: .command)
    }

    /// How the actor acted at the moment of the write (`elevated` once elevated access is in force).
    public var acting: Via {
        if let details, details.actingElevated { return .elevated }
        return via
    }

    /// The attribution of the current task: the request's, a command's, or `system`.
    @TaskLocal public static var current: ChangeAttribution = .system
}

/// What a request knows about how its actor acts that is decided after its attribution was bound (the request's
/// state: elevated access is granted by a module's stage).
public protocol ActingDetails: AnyObject, Sendable {
    /// Whether the request's user acts under elevated access.
    var actingElevated: Bool { get }
}
