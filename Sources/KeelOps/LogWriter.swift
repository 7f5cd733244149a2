import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole log lines to one file descriptor, routine ones in batches.
///
/// Routine lines (`info` and below: the access log) are collected for at most `delay` (5 ms) or `limit` bytes (32 KiB)
/// and written with one `write` call, instead of one call per request: at thousands of requests a second the
/// per-line system call was the largest part of the access log's cost. Lines at `notice` and above are written at
/// once, after whatever is pending, so order is kept and a warning is on disk before the code that logged it goes on.
/// The process's exit (`exit`, or `main` returning) writes what is pending; a process killed with SIGKILL can lose at
/// most the last `delay` of routine lines.
final class LogWriter: Sendable {
    /// Standard output, where JSON lines go.
    static let standardOutput: LogWriter = {
        let writer = LogWriter(fd: 1)
        atexit { LogWriter.standardOutput.flush() }
        return writer
    }()

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

    init(fd: Int32, delay: TimeAmount = .milliseconds(5), limit: Int = 32 * 1024) {
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
    func flush() {
        writing.withLock { _ in
            let batch = pending.withLock { pending -> [UInt8] in
                pending.flushScheduled = false
                defer { pending.bytes = [] }
                return pending.bytes
            }
            Self.writeAll(batch, fd: fd)
        }
    }

    /// Writes all of `bytes`, retrying short writes and interrupted calls.
    static func writeAll(_ bytes: [UInt8], fd: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
