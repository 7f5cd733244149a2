import Foundation
import Synchronization

/// A fixed-window counter: at most `perMinute` events per wall-clock minute, per instance.
final class RateLimiter: Sendable {
    private let state = Mutex<(window: Int64, count: Int)>((0, 0))
    let perMinute: Int

    init(perMinute: Int) {
        self.perMinute = perMinute
    }

    func allow(now: Date = Date()) -> Bool {
        let window = Int64(now.timeIntervalSince1970 / 60)
        return state.withLock { state in
            if state.window != window { state = (window, 0) }
            guard state.count < perMinute else { return false }
            state.count += 1
            return true
        }
    }
}
