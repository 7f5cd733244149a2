public import Hummingbird
public import HTTPTypes

/// A request context that carries the request id set by Keel's request pipeline.
///
/// The id is accepted from a well-formed incoming `X-Request-ID` or generated, echoed in the response and attached
/// to every log line of the request as `keel.request.id`.
public protocol RequestIDRequestContext: RequestContext {
    /// The request id; empty until the observability middleware has run.
    var requestID: String { get set }
}

extension HTTPField.Name {
    /// `X-Request-ID`: correlates a request across proxies, logs and error reports.
    public static let xRequestID = HTTPField.Name("X-Request-ID")!
}

extension HTTPFields {
    /// Appends each field whose name is not present yet, so a header a route set is never overwritten; `Vary`, a
    /// list every stage may add to (CORS varies by `Origin`, the response cache by `Cookie`), gains each name it lacks.
    public mutating func appendMissing(_ fields: HTTPFields) {
        // One allocation for all of them, not a regrowth per append.
        reserveCapacity(count + fields.count)
        for field in fields {
            if field.name == .vary {
                let listed = self[values: .vary].flatMap { $0.split(separator: ",") }.map { String($0.filter { !$0.isWhitespace }).lowercased() }
                if !listed.contains(field.value.lowercased()) && !listed.contains("*") { self.append(field) }
            } else if !self.contains(field.name) {
                self.append(field)
            }
        }
    }
}
