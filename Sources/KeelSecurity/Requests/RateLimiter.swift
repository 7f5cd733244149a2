import Foundation
import Synchronization

/// A fixed-window counter: at most `perMinute` events per minute of the application's clock, per instance.
final class RateLimiter: Sendable {
    private let state = Mutex<(window: Int64, count: Int)>((0, 0))
    let perMinute: Int
    let clock: @Sendable () -> Date

    init(perMinute: Int, clock: @escaping @Sendable () -> Date) {
        self.perMinute = perMinute
        self.clock = clock
    }

    func allow() -> Bool {
        let window = Int64(clock().timeIntervalSince1970 / 60)
        return state.withLock { state in
            if state.window != window { state = (window, 0) }
            guard state.count < perMinute else { return false }
            state.count += 1
            return true
        }
    }
}
