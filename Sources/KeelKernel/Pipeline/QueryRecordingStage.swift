import Hummingbird
public import KeelData

/// The query recorder around the route (N+1 detection, slow queries, `Server-Timing`), and the request's
/// `ChangeAttribution` (who its writes are recorded as: the identity, its method, the request id, the client).
struct QueryRecordingStage: RequestWrapper {
    let recording: QueryRecording

    func run(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        try await ChangeAttribution.$current.withValue(ChangeAttribution(context)) {
            try await recording.run(logger: context.logger, route: { context.endpointPath }) {
                try await next(request, context)
            }
        }
    }
}

extension ChangeAttribution {
    /// A request's attribution: its user (or `anonymous`), how they presented themselves, the request id and the
    /// client address. The pipeline binds it around every handler; a stage outside the handler binds it itself.
    public init(_ context: KeelContext) {
        let identity = context.identity
        let via: ChangeAttribution.Via = switch identity.method {
        case .session: .session
        case .token: .token
        case nil: .anonymous
        }
        self.init(actor: identity.userID ?? "anonymous", via: via, requestID: context.requestID,
                  client: context.security.clientAddress ?? context.peerAddress, details: context.state)
    }
}
