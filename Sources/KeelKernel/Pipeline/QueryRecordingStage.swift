import Hummingbird
import KeelData

/// The query recorder around the route: N+1 detection, slow queries, `Server-Timing`.
struct QueryRecordingStage: RequestWrapper {
    let recording: QueryRecording

    func run(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        try await recording.run(logger: context.logger, route: { context.endpointPath }) {
            try await next(request, context)
        }
    }
}
