public import Hummingbird
public import HTTPTypes

/// The routes of one group: Hummingbird's router methods (`get`, `post`, `group`, `add(middleware:)`, …), every
/// route running inside the group's stack.
public struct KeelRouteGroup: RouterMethods {
    public typealias Context = KeelContext
    /// What this group's stack does.
    public let group: RouteGroup
    let inner: RouterGroup<KeelContext>
    let table: RouteTable

    @discardableResult
    public func on<Responder: HTTPResponder>(_ path: RouterPath, method: HTTPRequest.Method, responder: Responder) -> KeelRouteGroup
    where Responder.Context == KeelContext {
        inner.on(path, method: method, responder: responder)
        table.record(path, method: method, inner: inner)
        return self
    }

    @discardableResult
    public func add(middleware: any MiddlewareProtocol<Request, Response, KeelContext>) -> KeelRouteGroup {
        inner.add(middleware: middleware)
        return self
    }
}
