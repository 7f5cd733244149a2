import Foundation
@testable import KeelOps
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `LogWriter` on a pipe: what has reached the reading end, and when.
@Suite struct LogWriterTests {
    /// A pipe whose reading end never blocks.
    struct Pipe {
        let read: Int32
        let write: Int32

        init() {
            var fds: [Int32] = [0, 0]
            precondition(pipe(&fds) == 0)
            read = fds[0]
            write = fds[1]
            precondition(fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK) == 0)
        }

        /// Everything readable now.
        func drain() -> String {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(read, $0.baseAddress!, $0.count) }
                if count <= 0 { break }
                bytes += buffer[..<count]
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        func close() {
            Glibc.close(read)
            Glibc.close(write)
        }
    }

    @Test func routineLinesArriveTogetherWithinTheDelay() async throws {
        let pipe = Pipe()
        defer { pipe.close() }
        let writer = LogWriter(fd: pipe.write, delay: .milliseconds(50))
        writer.append(Array("one\n".utf8), immediately: false)
        writer.append(Array("two\n".utf8), immediately: false)
        #expect(pipe.drain() == "")
        // Generous: the flush runs on an event loop of a machine that may be busy.
        var read = ""
        for _ in 0..<100 where read.isEmpty {
            try await Task.sleep(for: .milliseconds(20))
            read = pipe.drain()
        }
        #expect(read == "one\ntwo\n")
    }

    @Test func anImmediateLineWritesWhatIsPendingFirst() {
        let pipe = Pipe()
        defer { pipe.close() }
        let writer = LogWriter(fd: pipe.write, delay: .seconds(60))
        writer.append(Array("access\n".utf8), immediately: false)
        writer.append(Array("warning\n".utf8), immediately: true)
        #expect(pipe.drain() == "access\nwarning\n")
    }

    @Test func aFullBatchIsWrittenWithoutWaiting() {
        let pipe = Pipe()
        defer { pipe.close() }
        let writer = LogWriter(fd: pipe.write, delay: .seconds(60), limit: 10)
        writer.append(Array("12345\n".utf8), immediately: false)
        #expect(pipe.drain() == "")
        writer.append(Array("67890\n".utf8), immediately: false)
        #expect(pipe.drain() == "12345\n67890\n")
    }

    @Test func flushWritesEverythingPending() {
        let pipe = Pipe()
        defer { pipe.close() }
        let writer = LogWriter(fd: pipe.write, delay: .seconds(60))
        writer.append(Array("last words\n".utf8), immediately: false)
        writer.flush()
        #expect(pipe.drain() == "last words\n")
    }
}
