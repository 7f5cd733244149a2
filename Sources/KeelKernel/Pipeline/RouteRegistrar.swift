public import Hummingbird
public import HTTPTypes

/// Where the routes of one `RoutePolicy` are registered: Hummingbird's router methods (`get`, `post`, `group`,
/// `add(middleware:)`, …), every route running inside that policy's stack.
public struct RouteRegistrar: RouterMethods {
    public typealias Context = KeelContext
    /// What this group's stack does.
    public let group: RoutePolicy
    let inner: RouterGroup<KeelContext>
    let table: RouteTable

    @discardableResult
    public func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> RouteRegistrar
    where Responder.Context == KeelContext {
        inner.on(path, method: method, responder: responder)
        table.record(path, method: method, inner: inner)
        return self
    }

    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, KeelContext>) -> RouteRegistrar {
        inner.add(middleware: middleware)
        return self
    }
}
