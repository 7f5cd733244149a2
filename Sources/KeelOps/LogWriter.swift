public import NIOCore
import NIOPosix
import Synchronization

import SystemPackage

/// Whole log lines to one file descriptor, routine ones in batches.
///
/// Routine lines (`info` and below: the access log) are collected for at most `delay` (5 ms) or `limit` bytes (32 KiB)
/// and written with one `write` call, instead of one call per request: at thousands of requests a second the
/// per-line system call was the largest part of the access log's cost. Lines at `notice` and above are written at
/// once, after whatever is pending, so order is kept and a warning is on disk before the code that logged it goes on.
/// The executable owns its writer (no process-wide singleton): it hands it to the log handlers it bootstraps and
/// flushes it before the process exits (`KeelCommandLine.main(bootstrap:beforeExit:)`), which is also after a
/// graceful shutdown; a process killed with SIGKILL can lose at most the last `delay` of routine lines.
/// ```swift
/// let logs = LogWriter(fd: 1)
/// await KeelCommandLine<App>.main(bootstrap: .standardBootstrap(label: App.name, logs: logs), beforeExit: { logs.flush() })
/// ```
public final class LogWriter: Sendable {

    private struct Pending {
        var bytes: [UInt8] = []
        var flushScheduled = false
    }

    let fd: Int32
    let delay: TimeAmount
    let limit: Int
    private let pending = Mutex(Pending())
    /// Held while a batch is taken and written, so batches reach the file in the order their lines were logged.
    private let writing = Mutex(())

    /// - Parameters:
    ///   - fd: the file descriptor lines go to (1 for standard output).
    ///   - delay: how long routine lines wait to be written together.
    ///   - limit: how many pending bytes are written at once, whatever the delay.
    public init(fd: Int32, delay: TimeAmount = .milliseconds(5), limit: Int = 32 * 1024) {
        self.fd = fd
        self.delay = delay
        self.limit = limit
    }

    private enum Next { case nothing, scheduleFlush, flushNow }

    /// Adds one line (with its newline); `immediately` writes it, and everything before it, now.
    func append(_ line: [UInt8], immediately: Bool) {
        let next = pending.withLock { pending -> Next in
            pending.bytes.append(contentsOf: line)
            if immediately || pending.bytes.count >= limit { return .flushNow }
            if pending.flushScheduled { return .nothing }
            pending.flushScheduled = true
            return .scheduleFlush
        }
        switch next {
        case .nothing: break
        case .flushNow: flush()
        case .scheduleFlush: MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: delay) { self.flush() }
        }
    }

    /// Writes everything pending.
    public func flush() {
        writing.withLock { _ in
            let batch = pending.withLock { pending -> [UInt8] in
                pending.flushScheduled = false
                defer { pending.bytes = [] }
                return pending.bytes
            }
            Self.writeAll(batch, fd: fd)
        }
    }

    /// Writes all of `bytes` (swift-system retries short writes and interrupted calls); a log line that cannot be
    /// written is dropped, never a crash.
    static func writeAll(_ bytes: [UInt8], fd: Int32) {
        _ = try? FileDescriptor(rawValue: fd).writeAll(bytes)
    }
}
