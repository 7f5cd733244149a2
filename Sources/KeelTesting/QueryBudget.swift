public import Keel
public import Testing

/// Runs `body` (typically one or more test-client requests) and records a test issue when it ran more than `budget`
/// statements, listing each fingerprint with its count so the N+1 is obvious.
///
/// ```swift
/// let (_, stats) = try await expectQueries(atMost: 3) {
///     try await client.execute(uri: "/api/articles?limit=20", method: .get) { #expect($0.status == .ok) }
/// }
/// ```
/// With HummingbirdTesting's `.router` setup the request runs in the calling task, so its queries reach this block's
/// recorder through the request's own recorder.
@discardableResult
public func expectQueries<T: Sendable>(
    atMost budget: Int,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async rethrows -> (result: T, stats: QueryStats) {
    let (result, stats) = try await QueryRecorder.recording(body)
    if stats.count > budget {
        let detail = stats.fingerprints.map { "  \($0.count) × \($0.fingerprint)" }.joined(separator: "\n")
        Issue.record("Expected at most \(budget) queries, ran \(stats.count):\n\(detail)", sourceLocation: sourceLocation)
    }
    return (result, stats)
}
