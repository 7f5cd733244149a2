public import KeelData
import HTTPTypes
import Synchronization

/// A key for a module's own per-request value in `context.state`, with the value a request starts with.
///
/// ```swift
/// enum AuditTrail: RequestStateKey {
///     static var defaultValue: [String] { [] }
/// }
/// context.state[AuditTrail.self].append("viewed invoice 7")      // in a stage or a handler
/// let entries = context.state[AuditTrail.self]                   // in the stage's leave, after the handler
/// ```
public protocol RequestStateKey {
    associatedtype Value: Sendable
    static var defaultValue: Value { get }
}

/// What one request's stages and handler share: a module's values under its own keys, the session, and the headers
/// queued for the response. It is one object per request, so every copy of the context sees the same values: what a stage
/// inside a wrapper sets, a hook's `leave` outside it reads, and headers queued anywhere reach the response.
public final class RequestState: Sendable {
    private struct Storage: Sendable {
        var values: [ObjectIdentifier: any Sendable] = [:]
        var responseHeaders: HTTPFields?
        var session = Session.State()
    }

    private let storage = Mutex(Storage())

    public init() {}

    /// A module's value for this request: what was set, else the key's default.
    public subscript<Key: RequestStateKey>(key: Key.Type) -> Key.Value {
        get { storage.withLock { $0.values[ObjectIdentifier(key)] as? Key.Value } ?? Key.defaultValue }
        set { storage.withLock { $0.values[ObjectIdentifier(key)] = newValue } }
    }

    /// Changes a module's value in place (an append, a counter), atomically.
    public func update<Key: RequestStateKey, Result>(_ key: Key.Type, _ body: (inout Key.Value) -> Result) -> Result {
        storage.withLock { storage in
            var value = storage.values[ObjectIdentifier(key)] as? Key.Value ?? Key.defaultValue
            let result = body(&value)
            storage.values[ObjectIdentifier(key)] = value
            return result
        }
    }

    /// Reads or changes the request's session (`Session` is a view of it).
    func withSession<Result>(_ body: (inout Session.State) -> Result) -> Result {
        storage.withLock { body(&$0.session) }
    }

    /// Headers queued for the response (`KeelContext.addResponseHeaders`).
    var responseHeaders: HTTPFields? { storage.withLock { $0.responseHeaders } }

    func addResponseHeaders(_ fields: HTTPFields) {
        storage.withLock { storage in
            if storage.responseHeaders == nil { storage.responseHeaders = fields } else { storage.responseHeaders?.append(contentsOf: fields) }
        }
    }
}

/// Whether the request's user acts under elevated access: set by the module that grants it (the access module's
/// standing stage), read when a write records how its actor acted (`ChangeAttribution.acting`).
public enum ActsElevated: RequestStateKey {
    public static var defaultValue: Bool { false }
}

extension RequestState: ActingDetails {
    public var actingElevated: Bool { self[ActsElevated.self] }
}
