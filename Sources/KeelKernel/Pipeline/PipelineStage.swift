public import Hummingbird

/// A stage that looks at the request on its way in and at the response on its way out, without wrapping the rest
/// of the pipeline: headers, transport checks, limits. Synchronous, so it costs a call, not an async frame; a stage
/// that must await on its way in is an `AsyncRequestHook`.
public protocol RequestHook: Sendable {
    /// Before the route: change the request or the context, answer early with a response (a redirect, a
    /// preflight), or throw (rendered as the group's error response). The default does nothing.
    func enter(_ request: inout Request, context: inout KeelContext) throws -> Response?
    /// After the route, for every response of the group (error responses and early answers included, whether or not
    /// this stage's `enter` ran), innermost stage first. The context's own fields are as they were when the request
    /// reached the first wrapping stage (a wrapper runs the rest on its own copy); what stages and the handler record
    /// for a `leave` to read goes in `context.state`, which every copy shares. The default does nothing.
    func leave(_ request: Request, response: inout Response, context: KeelContext)
}

extension RequestHook {
    public func enter(_ request: inout Request, context: inout KeelContext) throws -> Response? { nil }
    public func leave(_ request: Request, response: inout Response, context: KeelContext) {}
}

/// A hook whose way in awaits (verifying a token, reading a form body for its CSRF token); the way out is the same
/// as a `RequestHook`'s.
public protocol AsyncRequestHook: Sendable {
    /// Before the route, as `RequestHook.enter`.
    func enter(_ request: inout Request, context: inout KeelContext) async throws -> Response?
    /// After the route, as `RequestHook.leave`. The default does nothing.
    func leave(_ request: Request, response: inout Response, context: KeelContext)
}

extension AsyncRequestHook {
    public func leave(_ request: Request, response: inout Response, context: KeelContext) {}
}

/// A stage that runs the rest of the pipeline itself: a deadline (a child task), a task-local recorder.
public protocol RequestWrapper: Sendable {
    func run(
        _ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response
    ) async throws -> Response
}

/// A stage that finishes the response once it exists, whichever it is (the route's, an early answer, or the error
/// page already rendered), awaiting what it must: the session is saved here, after an error page has rendered (and
/// taken its flash messages), with its cookie set on the response itself. Finishers run innermost first, after the
/// error boundary and before the hooks leave; one that throws turns the response into that error's.
public protocol RequestFinisher: Sendable {
    func finish(_ request: Request, response: inout Response, context: KeelContext) async throws
}

/// Renders errors at the error boundary (the `errors` slot), before Keel's own renderer: with the context as the
/// hooks before the first wrapper left it (the CSP nonce, the request id), so the page matches the response's headers.
public protocol ErrorRenderer: Sendable {
    /// The response for `error`, or `nil` to leave it to the next renderer and finally to Keel's.
    func render(_ error: any Error, request: Request, context: KeelContext) -> Response?
}

/// One stage of a route group's pipeline, as a module contributes it (`KeelModule.stages(for:app:)`).
public struct PipelineStage: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case hook(any RequestHook)
        case asyncHook(any AsyncRequestHook)
        case wrapper(any RequestWrapper)
        case errorRenderer(any ErrorRenderer)
        case finisher(any RequestFinisher)
    }

    /// Where it runs.
    public let slot: StageSlot
    /// A name for docs and `KeelApplication.pipelineDescription` (`security.headers`).
    public let name: String
    let kind: Kind

    /// A stage that sees the request going in and the response going out.
    public static func hook(_ slot: StageSlot, _ name: String, _ hook: some RequestHook) -> PipelineStage {
        PipelineStage(slot: slot, name: name, kind: .hook(hook))
    }

    /// A stage that awaits on the request's way in and sees the response going out.
    public static func asyncHook(_ slot: StageSlot, _ name: String, _ hook: some AsyncRequestHook) -> PipelineStage {
        PipelineStage(slot: slot, name: name, kind: .asyncHook(hook))
    }

    /// A renderer of errors at the error boundary (slot `errors`).
    public static func errorRenderer(_ name: String, _ renderer: some ErrorRenderer) -> PipelineStage {
        PipelineStage(slot: .errors, name: name, kind: .errorRenderer(renderer))
    }

    /// A stage that finishes every response of the group, after the error boundary (`RequestFinisher`).
    public static func finisher(_ slot: StageSlot, _ name: String, _ finisher: some RequestFinisher) -> PipelineStage {
        PipelineStage(slot: slot, name: name, kind: .finisher(finisher))
    }

    /// A stage that runs the rest of the pipeline inside itself.
    public static func wrapper(_ slot: StageSlot, _ name: String, _ wrapper: some RequestWrapper) -> PipelineStage {
        PipelineStage(slot: slot, name: name, kind: .wrapper(wrapper))
    }

    public var description: String { "\(slot): \(name)" }
}
