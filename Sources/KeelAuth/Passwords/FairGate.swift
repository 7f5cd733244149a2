import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A per-key semaphore whose waiters go in arrival order; a cancelled waiter, or one whose deadline passes, leaves the
/// queue at once.
final class FairGate: Sendable {
    struct TimedOut: Error {}

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running: [String: Int] = [:]
        var waiting: [String: [Waiter]] = [:]
        var nextID: UInt64 = 0
    }

    private enum Admission {
        case entered
        case cancelled
        case queued
    }

    private let state = Mutex(State())

    /// Waits until fewer than `limit` holders of `key` are inside. Throws `CancellationError` if cancelled and
    /// `TimedOut` at `deadline`; either way the caller holds no place. On return it holds one: call `leave`.
    func enter(_ key: String, limit: Int, until deadline: ContinuousClock.Instant? = nil) async throws {
        let id: UInt64? = state.withLock { state in
            if state.running[key, default: 0] < limit {
                state.running[key, default: 0] += 1
                return nil
            }
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        guard let id else { return }
        // A NIO timer, not a Swift task: it holds no task of its own and is cancelled when the wait ends.
        let timer = deadline.map { deadline in
            MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(ContinuousClock.now.duration(to: deadline))) { [self] in
                drop(key, id, with: TimedOut())
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let admission: Admission = state.withLock { state in
                    if Task.isCancelled { return .cancelled }
                    // A holder may have left between the two locks.
                    if state.running[key, default: 0] < limit {
                        state.running[key, default: 0] += 1
                        return .entered
                    }
                    state.waiting[key, default: []].append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch admission {
                case .entered: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .queued: break
                }
            }
        } onCancel: {
            drop(key, id, with: CancellationError())
        }
    }

    /// Takes a waiter out of the queue, if it is still there, and resumes it with `error`.
    private func drop(_ key: String, _ id: UInt64, with error: any Error) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.waiting[key]?.firstIndex(where: { $0.id == id }) else { return nil }
            let waiter = state.waiting[key]!.remove(at: index)
            if state.waiting[key]!.isEmpty { state.waiting[key] = nil }
            return waiter
        }
        waiter?.continuation.resume(throwing: error)
    }

    /// Lets the next waiter in, or frees the place.
    func leave(_ key: String) {
        let next: Waiter? = state.withLock { state in
            if var queue = state.waiting[key], !queue.isEmpty {
                let first = queue.removeFirst()
                state.waiting[key] = queue.isEmpty ? nil : queue
                return first  // the place passes to it
            }
            let remaining = state.running[key, default: 1] - 1
            state.running[key] = remaining > 0 ? remaining : nil
            return nil
        }
        next?.continuation.resume()
    }
}
