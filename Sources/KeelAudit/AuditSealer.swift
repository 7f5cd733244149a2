import Foundation
import Logging
import ServiceLifecycle

/// The background service that chains pending records into the trail: woken by every committed write, and every
/// `audit.sealInterval` for records another instance left; it signs a checkpoint every `audit.checkpointInterval`.
/// A failure is logged and retried at the next turn; at shutdown it seals what is left.
struct AuditSealer: Service {
    let trail: AuditTrail
    let interval: Duration
    let checkpointInterval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await trail.recordKeyring()
        } catch {
            logger.error("audit could not record the signing keys", metadata: ["error": "\(String(describing: error))"])
        }
        await cancelWhenGracefulShutdown { await loop() }
        await sealLogging()
    }

    private func loop() async {
        var lastCheckpoint = ContinuousClock.now
        while !Task.isCancelled {
            await sealLogging()
            if ContinuousClock.now - lastCheckpoint >= checkpointInterval {
                lastCheckpoint = ContinuousClock.now
                do {
                    try await trail.checkpoint()
                } catch {
                    logger.error("audit checkpoint failed", metadata: ["error": "\(String(describing: error))"])
                }
            }
            await waitForWork()
        }
    }

    private func sealLogging() async {
        do {
            try await trail.seal()
        } catch {
            logger.error("audit sealing failed", metadata: ["error": "\(String(describing: error))"])
        }
    }

    /// Until a write commits or the interval passes.
    private func waitForWork() async {
        let signal = trail.signal
        let interval = self.interval
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait() }
            group.addTask { try? await Task.sleep(for: interval) }
            await group.next()
            group.cancelAll()
        }
    }
}
