import Synchronization

/// Concurrent requests for one missing key: the first produces the value, the others wait for it (`KeelCache.getOrSet`).
final class SingleFlight: Sendable {
    /// What a waiter is woken with.
    enum Outcome: Sendable {
        /// The value the producer stored, encoded.
        case value([UInt8])
        /// The producer threw this.
        case failure(any Error)
        /// The producer's own task was cancelled (its client went away), or the flight ended before the waiter
        /// parked: look in the cache again, and produce if still missing.
        case retry
        /// `cache.waitTimeout` passed.
        case timedOut
        /// The waiter's task was cancelled.
        case cancelled
    }

    enum Role {
        case lead
        case follow
    }

    private struct State {
        var flights: [String: [UInt64: CheckedContinuation<Outcome, Never>]] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Whether the caller produces the value for `key` (then it must call `finish`) or waits for another's.
    func join(_ key: String) -> Role {
        state.withLock { state in
            if state.flights[key] != nil { return .follow }
            state.flights[key] = [:]
            return .lead
        }
    }

    /// Ends the flight for `key`, waking its waiters with `outcome`.
    func finish(_ key: String, _ outcome: Outcome) {
        let waiters = state.withLock { $0.flights.removeValue(forKey: key) } ?? [:]
        for waiter in waiters.values { waiter.resume(returning: outcome) }
    }

    /// How many callers wait for the flight on `key` (tests).
    func waiting(for key: String) -> Int {
        state.withLock { $0.flights[key]?.count ?? 0 }
    }

    /// Waits for the flight on `key` to end, at most `timeout`.
    func wait(for key: String, timeout: Duration) async -> Outcome {
        let id = state.withLock { state in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await self.park(key, id: id) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : .timedOut
            }
            var result: Outcome = .cancelled
            if let first = await group.next() {
                result = first ?? .cancelled
            }
            group.cancelAll()
            // A timeout: the parked waiter is woken (cancelled) by cancelAll; what the timer said wins.
            await group.waitForAll()
            return result
        }
    }

    /// Parks until the flight ends, or returns `.cancelled` as soon as the waiting task is cancelled.
    private func park(_ key: String, id: UInt64) async -> Outcome {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let immediate = state.withLock { state -> Outcome? in
                    if Task.isCancelled { return .cancelled }
                    guard state.flights[key] != nil else { return .retry }
                    state.flights[key]?[id] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.flights[key]?.removeValue(forKey: id) }
            waiter?.resume(returning: .cancelled)
        }
    }
}
