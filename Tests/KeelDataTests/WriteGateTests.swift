@testable import KeelData
import Synchronization
import Testing

@Suite struct WriteGateTests {
    /// One holder at a time, in the order they came; a waiter that is cancelled leaves the queue and the others go on.
    @Test func writersTakeTurnsInOrderAndACancelledOneLeaves() async throws {
        final class Seen: Sendable {
            let inside = Mutex(0)
            let most = Mutex(0)
            let order = Mutex<[Int]>([])
            let release = Mutex<CheckedContinuation<Void, Never>?>(nil)
        }
        let gate = WriteGate()
        let seen = Seen()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await gate.withTurn {
                        let now = seen.inside.withLock { $0 += 1; return $0 }
                        seen.most.withLock { $0 = max($0, now) }
                        seen.order.withLock { $0.append(index) }
                        try await Task.sleep(for: .milliseconds(1))
                        seen.inside.withLock { $0 -= 1 }
                    }
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            try await group.waitForAll()
        }
        #expect(seen.most.withLock { $0 } == 1, "never two holders at once")
        #expect(seen.order.withLock { $0 } == Array(0..<20), "first come, first served")

        // A waiter cancelled while it queues throws CancellationError; the gate still opens for the next.
        let holder = Task<Void, any Error> {
            try await gate.withTurn { () async -> Void in
                await withCheckedContinuation { continuation in seen.release.withLock { $0 = continuation } }
            }
        }
        while seen.release.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(1)) }
        let waiter = Task { try await gate.withTurn { "got in" } }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        let continuation = seen.release.withLock { $0 }
        continuation?.resume()
        try await holder.value
        #expect(try await gate.withTurn { "next" } == "next")
    }
}
