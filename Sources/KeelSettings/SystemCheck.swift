/// How serious a check finding is. `error` and `critical` stop `serve` in the profiles that enforce checks.
public enum CheckLevel: String, Sendable, Comparable, CaseIterable, Codable {
    case debug, info, warning, error, critical

    public static func < (lhs: CheckLevel, rhs: CheckLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One problem a check found: a stable id (`area.` + `I W E C` + 3 digits), a level, what is wrong and how to fix it.
public struct CheckFinding: Sendable, Equatable, Codable {
    public let id: String
    public let level: CheckLevel
    public let message: String
    public let hint: String

    public init(id: String, level: CheckLevel, message: String, hint: String) {
        self.id = id
        self.level = level
        self.message = message
        self.hint = hint
    }
}

/// A system check: a pure function of the resolved settings.
///
/// Deploy checks (`isDeployCheck`) run under `check --deploy` and at `serve` in `staging` and `production`; the
/// others run on every `check`. IDs are append-only and never reused.
/// ```swift
/// SystemCheck(ids: ["blog.W001"], deploy: true) { settings in
///     settings[BlogSettings.pageSize] > 50 ? [CheckFinding(id: "blog.W001", level: .warning, message: "…", hint: "…")] : []
/// }
/// ```
public struct SystemCheck: Sendable {
    /// The ids this check can report, for `check --list` and the docs.
    public let ids: [String]
    public let isDeployCheck: Bool
    public let run: @Sendable (ResolvedSettings) -> [CheckFinding]

    public init(ids: [String], deploy: Bool, run: @escaping @Sendable (ResolvedSettings) -> [CheckFinding]) {
        self.ids = ids
        self.isDeployCheck = deploy
        self.run = run
    }
}

/// The checks an application runs, as a value built from its modules.
public struct CheckRegistry: Sendable {
    public let checks: [SystemCheck]

    public init(checks: [SystemCheck]) {
        self.checks = checks
    }

    /// Runs the checks (the deploy ones too when `deploy`), dropping silenced ids, most serious first.
    public func run(_ settings: ResolvedSettings, deploy: Bool, silenced: Set<String>) -> [CheckFinding] {
        checks.filter { deploy || !$0.isDeployCheck }
            .flatMap { $0.run(settings) }
            .filter { !silenced.contains($0.id) }
            .sorted { ($0.level, $1.id) > ($1.level, $0.id) }
    }
}
