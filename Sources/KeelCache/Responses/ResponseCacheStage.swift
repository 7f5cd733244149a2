import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import KeelCore
import KeelData
import KeelKernel
import NIOCore

/// The `cache.responses` stage (slot `handler`, inside the query recorder): answers `GET`s of a cached group from the
/// cache and stores the answers it may, and gives every `GET` answer with a body a weak `ETag`, answering
/// `If-None-Match` and `If-Modified-Since` with `304`.
///
/// What it never stores, whatever the group says: an answer to a request that carried credentials it does not key
/// on, an answer with `Set-Cookie` (or queued for one), an answer made while the session was created or changed, one
/// that says `Cache-Control: private` or `no-store`, a status the group does not allow, or a body it cannot buffer.
struct ResponseCacheStage: RequestWrapper {
    let cache: KeelCache
    let policy: ResponseCachePolicy?
    let conditional: Bool
    /// The group loads sessions (`Vary: Cookie`) or API tokens (`Vary: Authorization`).
    let loadsSessions: Bool
    let readsTokens: Bool
    /// `database.serverTiming` (development): answers name the cache lookup in `Server-Timing`.
    var serverTiming = false
    /// Bodies larger than this are streamed as they are: no ETag, not stored.
    static let maxBufferedBody = 4 * 1024 * 1024
    /// Stands for the request's CSP nonce in a stored body: each answer from the cache gets its own request's.
    static let noncePlaceholder = Array("\u{0}keel-csp-nonce\u{0}".utf8)

    func run(_ request: Request, context: KeelContext, next: (Request, KeelContext) async throws -> Response) async throws -> Response {
        guard request.method == .get else { return try await next(request, context) }
        let base = policy.flatMap { audience(of: request, context: context, policy: $0) }.map { baseKey(request, audience: $0) }
        let shared = base != nil
        let lookupStarted = ContinuousClock.now
        if let base, let hit = await cached(base: base, request: request) {
            return timed(answer(hit, request: request, context: context), "hit", spent: .now - lookupStarted)
        }
        let lookup = ContinuousClock.now - lookupStarted
        // Concurrent misses on one answer: the first makes it, the others wait for it (at most cache.waitTimeout) and
        // read it from the cache; if it could not be stored, or the wait ends otherwise, each makes its own.
        var leads = false
        if let base {
            let flight = "flight " + base
            switch cache.flights.join(flight) {
            case .lead:
                leads = true
            case .follow:
                if case .cancelled = await cache.flights.wait(for: flight, timeout: cache.settings.waitTimeout) { throw CancellationError() }
                if let hit = await cached(base: base, request: request) {
                    return timed(answer(hit, request: request, context: context), "hit", spent: .now - lookupStarted)
                }
            }
        }
        defer { if leads, let base { cache.flights.finish("flight " + base, .retry) } }
        let purgesBefore = cache.purges.value
        var response = try await next(request, context)
        guard conditional || shared, let length = response.body.contentLength, length <= Self.maxBufferedBody else {
            return finish(response, request: request, context: context, shared: shared)
        }
        let body = try await collect(response.body)
        response.body = ResponseBody(byteBuffer: body)
        // Hashed once: the answer sent and, when its body has no nonce, the one stored carry this ETag.
        var madeTag = false
        if conditional, response.status == .ok, response.headers[.eTag] == nil, body.readableBytes > 0 {
            response.headers[.eTag] = Self.entityTag(of: body.readableBytesView)
            madeTag = true
        }
        // A purge while the handler ran may be for what it read before the write committed: not kept.
        var outcome = "miss"
        if let policy, let base, cache.purges.value == purgesBefore, storable(response, policy: policy, context: context) {
            await store(response, body: body, madeTag: madeTag, base: base, request: request, policy: policy, context: context)
            outcome = "stored"
        }
        let finished = finish(response, request: request, context: context, shared: shared)
        return shared ? timed(finished, outcome, spent: lookup) : finished
    }

    /// `Server-Timing: cache;dur=…;desc="hit"` (or `miss`, `stored`) in development.
    func timed(_ response: Response, _ outcome: String, spent: Duration) -> Response {
        guard serverTiming else { return response }
        var response = response
        let milliseconds = (spent.inSeconds * 1_000_000).rounded() / 1000
        response.headers.append(HTTPField(name: .serverTiming, value: "cache;dur=\(milliseconds);desc=\"\(outcome)\""))
        return response
    }

    /// An answer from the cache, for a request that shares it.
    func answer(_ hit: CachedResponse, request: Request, context: KeelContext) -> Response {
        let (response, body) = hit.response(nonce: context.cspNonce, now: cache.clock())
        return finish(response, request: request, context: context, shared: true, body: body)
    }

    // MARK: Who shares an answer

    /// The key part for who may share this request's answer, or `nil` when it must skip the cache.
    func audience(of request: Request, context: KeelContext, policy: ResponseCachePolicy) -> String? {
        let carriesCredentials = context.session.requestCarriedCookie || request.headers[.authorization] != nil
        switch policy.sharing {
        case .everyone:
            return "all"
        case .anonymous:
            return carriesCredentials || context.identity.isAuthenticated || context.identity.isInvalid ? nil : "anonymous"
        case .perUser:
            if let user = context.identity.userID { return "user:" + user }
            return carriesCredentials || context.identity.isInvalid ? nil : "anonymous"
        }
    }

    /// The path and query as sent, and who shares it.
    func baseKey(_ request: Request, audience: String) -> String {
        "\(audience) \(request.uri.path)?\(request.uri.query ?? "")"
    }

    // MARK: Reading and storing

    /// The stored answer for this request: the group's `Vary` headers (kept under the base key) pick the variant.
    func cached(base: String, request: Request) async -> CachedResponse? {
        guard let varyText = await cache.get("vary " + base, as: String.self) else { return nil }
        let vary = varyText.isEmpty ? [] : varyText.split(separator: ",").map(String.init)
        guard let bytes = await cache.bytes(variantKey(base, vary: vary, request: request)) else { return nil }
        return CachedResponse(decoding: bytes)
    }

    func variantKey(_ base: String, vary: [String], request: Request) -> String {
        guard !vary.isEmpty else { return "answer " + base }
        var hasher = SHA256()
        for name in vary {
            hasher.update(data: Data(name.utf8))
            hasher.update(data: Data(":".utf8))
            if let field = HTTPField.Name(name) { hasher.update(data: Data((request.headers[values: field].joined(separator: ",")).utf8)) }
            hasher.update(data: Data("\n".utf8))
        }
        return "answer " + base + " " + Base64URL.encode(Array(hasher.finalize()))
    }

    /// Whether this answer may be kept for others (see the type's list).
    func storable(_ response: Response, policy: ResponseCachePolicy, context: KeelContext) -> Bool {
        guard policy.statuses.contains(response.status.code) else { return false }
        guard response.headers[.setCookie] == nil, context.responseHeaders?[.setCookie] == nil else { return false }
        if let control = response.headers[.cacheControl]?.lowercased(), control.contains("private") || control.contains("no-store") {
            return false
        }
        if Self.varied(response.headers).contains("*") { return false }
        return context.session.withState { $0.record == nil || !$0.modified } && !context.session.userLoggedInThisRequest
    }

    func store(_ response: Response, body: ByteBuffer, madeTag: Bool, base: String, request: Request, policy: ResponseCachePolicy,
               context: KeelContext) async {
        let vary = Self.varied(response.headers).map { $0.lowercased() }.filter { $0 != "cookie" && $0 != "authorization" }.sorted()
        var bytes = Array(body.readableBytesView)
        var hasNonce = false
        if let replaced = Bytes.replacingAll(Array(context.cspNonce.utf8), with: Self.noncePlaceholder, in: bytes) {
            bytes = replaced
            hasNonce = true
        }
        // An ETag made here is kept when the body is the same for every answer; one with a nonce is hashed per answer.
        var headers: [(name: String, value: String)] = []
        for field in response.headers where Self.storedHeaders.contains(field.name) && !(field.name == .eTag && madeTag && hasNonce) {
            headers.append((field.name.canonicalName, field.value))
        }
        let stored = CachedResponse(status: response.status.code, headers: headers, storedAt: cache.clock().timeIntervalSince1970,
                                    hasNonce: hasNonce, body: bytes)
        let tags = policy.tags.union(context.state[ResponseCacheTags.self])
        await cache.set("vary " + base, vary.joined(separator: ","), ttl: policy.ttl, tags: tags)
        await cache.setBytes(variantKey(base, vary: vary, request: request), stored.encoded(), ttl: policy.ttl, tags: tags)
    }

    /// The handler's headers a stored answer keeps; the stages outside add their own (request id, security headers,
    /// a fresh CSP nonce) to each answer from the cache as to any other.
    static let storedHeaders: Set<HTTPField.Name> = [.contentType, .contentLanguage, .cacheControl, .vary, .lastModified, .eTag,
                                                     .expires, .location, .contentLocation]

    // MARK: Headers and 304s

    /// Adds the cache's headers and the ETag of an answer from the cache that has none, and turns the answer into a
    /// 304 when the client has it. `shared`: the request may share answers (it has an audience).
    func finish(_ response: Response, request: Request, context: KeelContext, shared: Bool, body: ByteBuffer? = nil) -> Response {
        var response = response
        if let policy {
            // A group that caches decides, unless the handler said more than the page renderer's default (`no-cache`).
            if response.headers[.cacheControl] == nil || response.headers[.cacheControl] == "no-cache" {
                if !shared || policy.sharing == .perUser && context.identity.isAuthenticated {
                    response.headers[.cacheControl] = "private, no-cache"
                } else if let sharedMaxAge = policy.sharedMaxAge {
                    response.headers[.cacheControl] = "public, max-age=0, s-maxage=\(sharedMaxAge.components.seconds)"
                } else {
                    response.headers[.cacheControl] = "max-age=0"
                }
            }
            if loadsSessions { Self.addVary("Cookie", to: &response.headers) }
            if readsTokens { Self.addVary("Authorization", to: &response.headers) }
        }
        guard conditional, response.status == .ok else { return response }
        if response.headers[.eTag] == nil, let body, body.readableBytes > 0 {
            response.headers[.eTag] = Self.entityTag(of: body.readableBytesView)
        }
        guard Self.notModified(request: request, response: response) else { return response }
        let kept: Set<HTTPField.Name> = [.eTag, .cacheControl, .vary, .lastModified, .expires, .contentLocation, .age]
        return Response(status: .notModified, headers: HTTPFields(response.headers.filter { kept.contains($0.name) }))
    }

    /// A weak ETag: 128 bits of the body's SHA-256, base64url.
    static func entityTag(of body: some DataProtocol) -> String {
        "W/\"" + Base64URL.encode(Array(SHA256.hash(data: body).prefix(16))) + "\""
    }

    static func addVary(_ name: String, to headers: inout HTTPFields) {
        let present = varied(headers).map { $0.lowercased() }
        guard !present.contains(name.lowercased()), !present.contains("*") else { return }
        headers.append(HTTPField(name: .vary, value: name))
    }

    /// Every name the `Vary` fields list.
    static func varied(_ headers: HTTPFields) -> [String] {
        headers[values: .vary].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `If-None-Match` (weak comparison, `*`), else `If-Modified-Since` against `Last-Modified`.
    static func notModified(request: Request, response: Response) -> Bool {
        if let match = request.headers[.ifNoneMatch] {
            guard let tag = response.headers[.eTag] else { return false }
            let wanted = opaque(tag)
            return match.split(separator: ",").contains { candidate in
                let text = candidate.trimmingCharacters(in: .whitespaces)
                return text == "*" || opaque(text) == wanted
            }
        }
        if let since = request.headers[.ifModifiedSince].flatMap(HTTPDate.parse),
           let modified = response.headers[.lastModified].flatMap(HTTPDate.parse) {
            return modified <= since
        }
        return false
    }

    static func opaque(_ tag: some StringProtocol) -> Substring {
        let text = Substring(tag)
        return text.hasPrefix("W/") ? text.dropFirst(2) : text
    }

    func collect(_ body: ResponseBody) async throws -> ByteBuffer {
        let collector = BodyCollector()
        try await body.write(collector)
        return collector.box.buffer ?? ByteBuffer()
    }
}

/// Gathers a response body into one buffer: a body written as one buffer (most are) is kept as it is, not copied.
struct BodyCollector: ResponseBodyWriter {
    final class Box {
        var buffer: ByteBuffer?
    }

    let box = Box()

    mutating func write(_ buffer: ByteBuffer) async throws {
        if box.buffer == nil {
            box.buffer = buffer
        } else {
            var buffer = buffer
            box.buffer!.writeBuffer(&buffer)
        }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// HTTP dates (`Sun, 06 Nov 1994 08:49:37 GMT`), the one form senders must use.
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}
