package import Hummingbird
public import KeelCore
package import Logging
import HTTPTypes
import NIOCore
import NIOPosix
import Synchronization

/// Bounds how long a handler may work on a request: past `timeout` the handler's task is cancelled and the client gets
/// a 503 `http.timeout` with `Retry-After` (`http.timeoutRetryAfter`, in whole seconds).
///
/// Cancellation is cooperative: sleeping, awaiting a database query or reading a body stops at once, but code that
/// ignores cancellation (a tight CPU loop) finishes before the 503 goes out. `http.idleTimeout` separately closes
/// connections whose client stops sending.
///
/// Cost: the handler runs in one child task (so it can be cancelled without cancelling the connection, which would
/// drop the 503: NIO refuses writes from a cancelled task), started immediately on the caller's thread, and one
/// shared watchdog timer checks every in-flight request's deadline. There is no timer per request: a sleeping timer
/// task per request cost about a seventh of a trivial route's throughput, and a child task started through the
/// executor's queue about as much again.
package struct RequestDeadline: Sendable {
    let watchdog: DeadlineWatchdog?
    /// The 503's `Retry-After`, in whole seconds.
    let retryAfter: String

    /// `timeout` zero or less means none; `retryAfter` is rounded up to whole seconds (at least one).
    package init(timeout: Duration, retryAfter: Duration = .seconds(5)) {
        self.watchdog = timeout > .zero ? DeadlineWatchdog(timeout: timeout) : nil
        self.retryAfter = String(max(1, Int(retryAfter.inSeconds.rounded(.up))))
    }

    /// Carries `body` into the handler's child task. The closure is not `Sendable`, but it is called exactly once, in
    /// that child, while the caller waits for it: there is no concurrent use to race.
    private struct Body: @unchecked Sendable {
        let call: () async throws -> Response
    }

    /// Runs `body` in a child task that is cancelled past the deadline, which then becomes a 503 `http.timeout`.
    ///
    /// The child starts immediately, on the caller's thread (`addImmediateTask`): a handler that never suspends costs
    /// no trip through the executor's queue, and one that does resumes where it would have anyway.
    package func run(logger: Logger, _ body: () async throws -> Response) async throws -> Response {
        guard let watchdog else { return try await body() }
        return try await withoutActuallyEscaping(body) { escapable in
            let body = Body(call: escapable)
            return try await withThrowingTaskGroup(of: Response.self) { group in
                group.addImmediateTask {
                    try await watchdog.guarding { try await body.call() }
                }
                do {
                    // The group has exactly one child.
                    return try await group.next()!
                } catch is DeadlineWatchdog.TimedOut {
                    logger.warning("request timed out", metadata: ["http.timeout_ms": .stringConvertible(Int(watchdog.timeout.inSeconds * 1000))])
                    throw KeelError(.serviceUnavailable, code: .timeout, message: "The request took too long.", headers: [.retryAfter: retryAfter])
                }
            }
        }
    }
}

/// The deadlines of every in-flight request of one `RequestDeadline`, and the one timer task that cancels
/// those past due. The timer runs only while requests are in flight: it ends itself once none are left, so nothing
/// outlives the server's drain at shutdown by more than one tick.
final class DeadlineWatchdog: Sendable {
    struct TimedOut: Error {}

    /// A pointer to a running handler task. Only used under `state`'s lock, and only while the task is registered:
    /// the task removes itself (under the same lock) before it can finish, so the pointer never outlives the task.
    private struct TaskHandle: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let handle: TaskHandle
        /// Set (with the task cancelled) once the deadline passed.
        var expired = false
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var timerRunning = false
    }

    let timeout: Duration
    /// How often the timer looks: a tenth of the timeout, between 5 ms and 500 ms, so a deadline fires at most one
    /// tick late.
    let tick: Duration
    private let state = Mutex(State())

    init(timeout: Duration) {
        self.timeout = timeout
        self.tick = min(max(timeout / 10, .milliseconds(5)), .milliseconds(500))
    }

    /// Runs `body` in the current task with the deadline armed. Throws `TimedOut` when the deadline passed, whatever
    /// `body` did after its cancellation.
    func guarding<T>(_ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        // An async function always runs in a task, so there is always one to register.
        let (id, startTimer) = withUnsafeCurrentTask { task -> (UInt64, Bool) in
            state.withLock { state in
                let id = state.nextID
                state.nextID &+= 1
                state.entries[id] = Entry(deadline: deadline, handle: TaskHandle(task: task!))
                let start = !state.timerRunning
                state.timerRunning = true
                return (id, start)
            }
        }
        if startTimer { startTimerTask() }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        let expired = state.withLock { state in state.entries.removeValue(forKey: id)?.expired ?? false }
        if expired { throw TimedOut() }
        return try result.get()
    }

    /// A repeating NIO timer, not a Swift task: it exists only while requests are in flight and cancels itself when
    /// the last one leaves, so there is no unstructured task to outlive the server (and nothing for ServiceLifecycle
    /// to stop: it ends with the requests it watches).
    private func startTimerTask() {
        let tick = TimeAmount(self.tick)
        MultiThreadedEventLoopGroup.singleton.any().scheduleRepeatedTask(initialDelay: tick, delay: tick) { [self] timer in
            if !sweep(now: ContinuousClock.now) { timer.cancel() }
        }
    }

    /// Cancels every handler past its deadline; returns whether any is still registered (the timer keeps running).
    private func sweep(now: ContinuousClock.Instant) -> Bool {
        state.withLock { state -> Bool in
            for (id, entry) in state.entries where entry.deadline <= now && !entry.expired {
                state.entries[id]?.expired = true
                entry.handle.task.cancel()
            }
            if state.entries.isEmpty {
                state.timerRunning = false
                return false
            }
            return true
        }
    }
}

extension ErrorCode {
    /// `http.timeout`: The handler ran past `http.requestTimeout`.
    public static let timeout: ErrorCode = "http.timeout"
}
