import Foundation
import Testing

/// `Benchmarks/run` is a Python program; its report writer has tests of its own (Benchmarks/tests/, fed a fixed set of
/// measurements). They run here, so `swift test` runs them in CI like every other test.
@Suite struct BenchmarkDriverTests {
    @Test func theReportWritersTestsPass() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "unittest", "discover", "-s", "Benchmarks/tests"]
        process.currentDirectoryURL = repository
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Bounded: the tests take milliseconds; a hang is a failure, not a wait.
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("OK"), "\(text)")
    }
}
