import HTTPTypes
public import Hummingbird
import NIOCore

/// Keel's response encoder: a handler returns an `Encodable` value (a DTO conforming to `ResponseEncodable`) and it
/// becomes a JSON response through `JSONBody`, the streaming encoder, with `Content-Type: application/json;
/// charset=utf-8`. It is `KeelContext`'s `responseEncoder`, so handlers never encode by hand:
/// ```swift
/// struct ArticleEnvelope: ResponseEncodable { let article: ArticleBody }
/// routes.api.get("/api/articles/{slug}") { _, context in ArticleEnvelope(article: try await service.article(…)) }
/// routes.api.post("/api/articles") { _, context in EditedResponse(status: .created, response: ArticleEnvelope(…)) }
/// ```
public struct JSONBodyEncoder: ResponseEncoder {
    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try JSONBody.encode(value))))
    }
}
