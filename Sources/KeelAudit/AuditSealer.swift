import Foundation
import KeelCore
import Logging
import ServiceLifecycle

/// The background service that chains pending records into the trail: woken by every committed write, and every
/// `audit.sealInterval` for records another instance left; it signs a checkpoint every `audit.checkpointInterval`.
/// A failure is logged and retried at the next turn; at shutdown it seals what is left.
struct AuditSealer: Service {
    let trail: AuditTrail
    let interval: Duration
    let checkpointInterval: Duration
    /// `audit.retention`: entries older than this are pruned once a day.
    let retention: Duration?
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
        if await trail.isReady() { await sealLogging() }
    }

    private func loop() async {
        var lastCheckpoint = ContinuousClock.now
        var lastPrune: ContinuousClock.Instant?
        var keysRecorded = false
        while !Task.isCancelled {
            // Until `migrate` has made the trail's tables (a development server migrates as it starts), wait quietly:
            // readiness already says migrations are pending.
            guard await trail.isReady() else {
                try? await Task.sleep(for: interval)
                continue
            }
            if !keysRecorded {
                do {
                    try await trail.recordKeyring()
                    keysRecorded = true
                } catch {
                    logger.error("audit could not record the signing keys", metadata: ["error": "\(String(describing: error))"])
                }
            }
            await sealLogging()
            if let retention, lastPrune.map({ ContinuousClock.now - $0 >= .seconds(86_400) }) ?? true {
                lastPrune = ContinuousClock.now
                do {
                    let pruned = try await trail.prune(before: trail.clock().addingTimeInterval(-retention.inSeconds))
                    if pruned.removed > 0 {
                        logger.notice("audit entries pruned", metadata: ["event": "audit.pruned", "keel.audit.removed": "\(pruned.removed)",
                                                                         "keel.audit.through": "\(pruned.throughSeq ?? 0)"])
                    }
                } catch {
                    logger.error("audit pruning failed", metadata: ["error": "\(String(describing: error))"])
                }
            }
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

    /// How long the sealer lets commits gather after the first wakes it: under load each turn seals the writes of this
    /// window in one transaction instead of one transaction per write; an entry waits at most this long to be chained.
    static let batchWindow = Duration.milliseconds(200)

    /// Until a write commits (then a batch window more) or the interval passes.
    private func waitForWork() async {
        let signal = trail.signal
        let interval = self.interval
        let woken = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await signal.wait(); return true }
            group.addTask { try? await Task.sleep(for: interval); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if woken { try? await Task.sleep(for: Self.batchWindow) }
    }
}
