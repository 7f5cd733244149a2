public import ServiceLifecycle
public import Logging

/// Flips readiness to "not ready" the moment graceful shutdown begins, then waits `drainDelay` so load balancers stop
/// routing here before the server stops accepting.
///
/// List it after the HTTP application in the service group: ServiceLifecycle shuts services down in reverse order,
/// so this runs first, and the server then drains the requests in flight.
public struct ShutdownCoordinator: Service {
    let lifecycle: LifecycleState
    let drainDelay: Duration
    let logger: Logger

    public init(lifecycle: LifecycleState, drainDelay: Duration, logger: Logger) {
        self.lifecycle = lifecycle
        self.drainDelay = drainDelay
        self.logger = logger
    }

    public func run() async throws {
        // Wait for the shutdown signal (or cancellation) without holding anything.
        try? await gracefulShutdown()
        lifecycle.beginShutdown()
        logger.info("graceful shutdown: readiness is now failing", metadata: ["keel.drain_delay_ms": .stringConvertible(drainDelay.components.seconds * 1000 + drainDelay.components.attoseconds / 1_000_000_000_000_000)])
        if drainDelay > .zero {
            try? await Task.sleep(for: drainDelay)
        }
    }
}
