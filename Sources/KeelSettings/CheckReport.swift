/// Findings formatted for people, in the manner of Django's `check`.
public struct CheckReport: Sendable {
    public let findings: [CheckFinding]
    public let silencedCount: Int

    public init(findings: [CheckFinding], silencedCount: Int) {
        self.findings = findings
        self.silencedCount = silencedCount
    }

    /// One block per level, worst first, each finding with its hint; then the count.
    public func text() -> String {
        let silenced = silencedCount == 0 ? "" : " (\(silencedCount) silenced)"
        guard !findings.isEmpty else { return "System check identified no issues\(silenced)." }
        var lines: [String] = []
        for level in CheckLevel.allCases.reversed() {
            let atLevel = findings.filter { $0.level == level }
            guard !atLevel.isEmpty else { continue }
            lines.append("\(level.rawValue.uppercased())S:")
            for finding in atLevel {
                lines.append("?: (\(finding.id)) \(finding.message)")
                lines.append("\tHINT: \(finding.hint)")
            }
        }
        let count = findings.count == 1 ? "1 issue" : "\(findings.count) issues"
        lines.append("\nSystem check identified \(count)\(silenced).")
        return lines.joined(separator: "\n")
    }
}
