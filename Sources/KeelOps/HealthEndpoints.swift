public import KeelKernel
public import Hummingbird
import HTTPTypes
import KeelCore
import NIOCore
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `/health/live` and `/health/ready`.
///
/// Bodies name each check with its status and duration and never carry secrets or personal data:
/// ```json
/// {"status":"ok","checks":[{"name":"shutdown","status":"ok","durationMs":0.01}]}
/// ```
/// Readiness is 503 as soon as graceful shutdown begins, or while any check fails or exceeds `timeout`.
public struct HealthEndpoints: Sendable {
    public let checks: [ReadinessCheck]
    public let lifecycle: LifecycleState
    public let timeout: Duration

    public init(checks: [ReadinessCheck], lifecycle: LifecycleState, timeout: Duration = .seconds(2)) {
        self.checks = checks
        self.lifecycle = lifecycle
        self.timeout = timeout
    }

    struct CheckResult: Codable, Sendable, Equatable {
        let name: String
        let status: String
        let durationMs: Double
        let reason: String?
    }

    struct Report: Codable, Sendable {
        let status: String
        let checks: [CheckResult]
    }

    /// Adds the two routes to a router.
    public func register<Context: RequestContext>(on router: some RouterMethods<Context>) {
        router.get("/health/live") { _, _ in
            Self.json(status: .ok, Report(status: "ok", checks: []))
        }
        router.get("/health/ready") { _, _ in
            let report = await self.readiness()
            return Self.json(status: report.status == "ok" ? .ok : .serviceUnavailable, report)
        }
    }

    /// Runs every check concurrently, each bounded by `timeout`.
    func readiness() async -> Report {
        var results: [CheckResult] = [
            CheckResult(name: "shutdown", status: lifecycle.isShuttingDown ? "failing" : "ok", durationMs: 0,
                        reason: lifecycle.isShuttingDown ? "shutting down" : nil)
        ]
        let timeout = self.timeout
        let ran = await withTaskGroup(of: (Int, CheckResult).self) { group in
            for (position, check) in checks.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    let outcome = await Self.run(check, timeout: timeout)
                    let elapsed = ContinuousClock.now - start
                    let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                    return (position, CheckResult(name: check.name, status: outcome == nil ? "ok" : "failing",
                                                  durationMs: (ms * 1000).rounded() / 1000, reason: outcome))
                }
            }
            var collected: [(Int, CheckResult)] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        results += ran
        let healthy = results.allSatisfy { $0.status == "ok" }
        return Report(status: healthy ? "ok" : "unavailable", checks: results)
    }

    /// `nil` when the check passed, else a reason safe to show.
    private static func run(_ check: ReadinessCheck, timeout: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await check.check()
                    return nil
                } catch let failure as ReadinessFailure {
                    return failure.reason
                } catch {
                    return "check failed"
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return "timed out after \(timeout)"
            }
            let first = await group.next() ?? "check failed"
            group.cancelAll()
            return first
        }
    }

    private static func json(status: HTTPResponse.Status, _ report: Report) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(report)) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
