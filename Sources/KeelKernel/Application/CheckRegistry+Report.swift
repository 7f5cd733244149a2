public import KeelSettings

extension CheckRegistry {
    /// The findings for these settings, with the ids `checks.silenced` names left out and counted: what `check`
    /// prints, what `serve` refuses to start on, what a staff page shows. The one place silencing is applied.
    public func report(_ settings: ResolvedSettings, deploy: Bool) -> CheckReport {
        let silenced = Set(settings[CoreSettings.checksSilenced])
        let all = run(settings, deploy: deploy, silenced: [])
        let findings = all.filter { !silenced.contains($0.id.rawValue) }
        return CheckReport(findings: findings, silencedCount: all.count - findings.count)
    }
}
