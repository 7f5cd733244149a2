import Hummingbird
import HTTPTypes
import KeelCore
import KeelData

/// The request pipeline of one route group, as one middleware: the stages every module contributed for the group,
/// in slot order, run by one async function.
///
/// 1. stages in the `observability` slot enter (request id, the logger's metadata);
/// 2. the error boundary: every later stage and the route run inside it, and any error becomes the response of the
///    first `ErrorRenderer` that takes it (slot `errors`), else Keel's one error response in the group's
///    `ErrorFormat` (`renderError`);
///    - path parameters are percent-decoded once (`PathParameters`) before any stage after `limits`;
///    - hooks enter in slot order (a call each; an async hook one await); a hook may answer early;
///    - a wrapper runs everything after it inside itself (one async frame per wrapper);
/// 3. finishers (`RequestFinisher`) finish whatever response came out (the route's, an early one, an error page),
///    innermost first, awaiting what they must (the session is saved here); one that throws makes its error the
///    response;
/// 4. headers queued with `KeelContext.addResponseHeaders` (by any stage or the handler: the queue is the request's
///    one `RequestState`, shared by every copy of the context) are added where the response has none of that name;
/// 5. every hook leaves, innermost first, on that response.
///
/// Hooks cost a call each, not a frame: a group's stack stays one middleware (eleven middleware fused into one
/// gained a fifth of a trivial route's throughput on the benchmark machine, see `docs/performance.md`).
struct KeelRequestPipeline: RouterMiddleware {
    typealias Context = KeelContext

    let group: RoutePolicy
    /// Hooks outside the error boundary, in slot order.
    let outer: [any RequestHook]
    /// Everything inside the error boundary, in slot order.
    let inner: [PipelineStage.Kind]
    /// Where path parameters are decoded: before the first stage past `limits`.
    let decodeAt: Int
    /// Every hook, innermost first: the order they leave in.
    let leaving: [PipelineStage.Kind]
    /// The error renderers, in order; Keel's own comes after them.
    let renderers: [any ErrorRenderer]
    /// The finishers, innermost first.
    let finishers: [any RequestFinisher]
    /// `http.maxBodySize`, which every request's context carries.
    let maxBodySize: Int

    /// - Parameter stages: the group's stages in the order they run, as `KeelApplication.stages(for:)` gives them.
    init(group: RoutePolicy, stages: [PipelineStage], maxBodySize: Int) {
        self.group = group
        self.maxBodySize = maxBodySize
        var outer: [any RequestHook] = []
        var inner: [PipelineStage.Kind] = []
        var leaving: [PipelineStage.Kind] = []
        var renderers: [any ErrorRenderer] = []
        var finishers: [any RequestFinisher] = []
        var decodeAt: Int?
        assert(zip(stages, stages.dropFirst()).allSatisfy { $0.slot <= $1.slot }, "the stages arrive in slot order")
        for stage in stages {
            if stage.slot > .limits, decodeAt == nil { decodeAt = inner.count }
            switch stage.kind {
            case .hook(let hook) where stage.slot == .observability:
                outer.append(hook)
                leaving.append(stage.kind)
            case _ where stage.slot == .observability:
                preconditionFailure("\(stage.name): the observability slot takes synchronous hooks only (it is outside the error boundary)")
            case .errorRenderer(let renderer): renderers.append(renderer)
            case .finisher(let finisher): finishers.append(finisher)
            case .wrapper: inner.append(stage.kind)
            case .hook, .asyncHook:
                inner.append(stage.kind)
                leaving.append(stage.kind)
            }
        }
        self.outer = outer
        self.inner = inner
        self.decodeAt = decodeAt ?? inner.count
        self.leaving = leaving.reversed()
        self.renderers = renderers
        self.finishers = finishers.reversed()
    }

    func handle(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        context.receivedAt = .now
        context.maxUploadSize = maxBodySize
        for hook in outer {
            // Outside the error boundary: observability hooks do not throw.
            _ = try? hook.enter(&request, context: &context)
        }
        var response: Response
        do {
            response = try await run(from: 0, request: &request, context: &context, next: next)
        } catch {
            response = render(error, request: request, context: context)
        }
        for finisher in finishers {
            do {
                try await finisher.finish(request, response: &response, context: context)
            } catch {
                response = render(error, request: request, context: context)
            }
        }
        if let queued = context.responseHeaders {
            response.headers.reserveCapacity(response.headers.count + queued.count + 8)
            response.headers.appendMissing(queued)
        } else {
            response.headers.reserveCapacity(response.headers.count + 8)
        }
        for stage in leaving {
            switch stage {
            case .hook(let hook): hook.leave(request, response: &response, context: context)
            case .asyncHook(let hook): hook.leave(request, response: &response, context: context)
            case .wrapper, .errorRenderer, .finisher: break
            }
        }
        return response
    }

    /// The first error renderer's response, else Keel's one error response in the group's format.
    private func render(_ error: any Error, request: Request, context: KeelContext) -> Response {
        for renderer in renderers {
            if let response = renderer.render(error, request: request, context: context) { return response }
        }
        return renderError(error, request: request, context: context, requestID: context.requestID, format: group.errorFormat,
                           describe: DatabaseErrorReport.describe)
    }

    /// The stages from `index` on, then the route.
    private func run(
        from index: Int, request: inout Request, context: inout KeelContext, next: (Request, KeelContext) async throws -> Response
    ) async throws -> Response {
        var index = index
        while index < inner.count {
            if index == decodeAt { try decodeParameters(&context) }
            switch inner[index] {
            case .hook(let hook):
                if let early = try hook.enter(&request, context: &context) { return early }
            case .asyncHook(let hook):
                if let early = try await hook.enter(&request, context: &context) { return early }
            case .errorRenderer, .finisher:
                break
            case .wrapper(let wrapper):
                let rest = index + 1
                return try await wrapper.run(request, context: context) { request, context in
                    var request = request
                    var context = context
                    return try await run(from: rest, request: &request, context: &context, next: next)
                }
            }
            index += 1
        }
        if index == decodeAt { try decodeParameters(&context) }
        return try await next(request, context)
    }

    /// Path parameters arrive as sent; handlers see them decoded (`J%C3%BCrgen` is `Jürgen`).
    private func decodeParameters(_ context: inout KeelContext) throws {
        if !context.parameters.isEmpty { context.coreContext.parameters = try PathParameters.decoded(context.parameters) }
    }
}
