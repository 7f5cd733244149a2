public import Keel
import Hummingbird
import Foundation
import NIOCore

/// Conduit, Keel's reference application: the RealWorld API, a server-rendered UI and a staff area, built only on
/// Keel's public API. Modules: Keel's `WebModule` with Conduit's templates, `Accounts`, `Profiles`, `Articles` (with comments,
/// favorites, tags), `APIDocs` (the spec at `GET /api/openapi.yml`), `DemoData`, `Pages` (the web UI) and `Staff` (the
/// staff area).
public enum ConduitApp: KeelApp {
    public static var name: String { "conduit" }
    public static var modules: [any KeelModule] {
        [WebModule(templates: Bundle.module.path(forResource: "Templates", ofType: nil)), Accounts(), Profiles(), Articles(), APIDocs(),
         DemoData(), Pages(), Staff()]
    }
}

/// Serves the RealWorld specification the API implements: `GET /api/openapi.yml`.
///
/// The document's "not blank" patterns are written `'${TextRules.notBlankPattern}'` and filled in here from the
/// validators' own rule, so the document and the server cannot disagree about what is blank.
public struct APIDocs: KeelModule {
    public init() {}

    public var name: String { "apidocs" }

    /// The marker the document carries where a field must not be blank.
    static let notBlankMarker = "${TextRules.notBlankPattern}"

    /// The document as served.
    static func document() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yml"), let spec = try? String(contentsOf: url, encoding: .utf8) else {
            throw KeelError(.internalServerError, message: "openapi.yml is missing from the Conduit bundle")
        }
        return spec.replacingOccurrences(of: notBlankMarker, with: TextRules.notBlankPattern)
    }

    public func routes(into routes: KeelRoutes, app: KeelApplication) throws {
        let api = routes.api
        let buffer = ByteBuffer(string: try Self.document())
        api.get("/api/openapi.yml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: buffer))
        }
    }
}
