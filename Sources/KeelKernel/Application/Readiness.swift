import Synchronization

/// One condition that must hold for the instance to receive traffic (`GET /health/ready`).
///
/// Modules register them (the data layer: "the database answers", "no migration is pending"). A check throws to
/// fail; throw `ReadinessFailure` to give a reason that is safe to show (never a secret, a URL or personal data).
public struct ReadinessCheck: Sendable {
    public let name: String
    public let check: @Sendable () async throws -> Void

    public init(_ name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// A readiness failure whose reason may be shown in the health response.
public struct ReadinessFailure: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// The process-wide lifecycle flags the health endpoints read: owned by one application, never global.
public final class LifecycleState: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    /// Whether graceful shutdown has begun; readiness answers 503 from then on.
    public var isShuttingDown: Bool { draining.load(ordering: .acquiring) }

    /// Marks the start of graceful shutdown.
    public func beginShutdown() { draining.store(true, ordering: .releasing) }
}
