/// How serious a check finding is. `error` and `critical` stop `serve` in the profiles that enforce checks.
public enum CheckLevel: String, Sendable, Comparable, CaseIterable, Codable {
    case debug, info, warning, error, critical

    public static func < (lhs: CheckLevel, rhs: CheckLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A check's stable id: `area.` + `I W E C` + 3 digits (`security.W009`). Ids are public API, declared once as
/// constants beside the check that reports them (`CheckID.weakSigningKey`), append-only, never reused.
public struct CheckID: RawRepresentable, Hashable, Sendable, Comparable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: CheckID, rhs: CheckID) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One problem a check found: a stable id, a level, what is wrong and how to fix it.
public struct CheckFinding: Sendable, Equatable, Codable {
    public let id: CheckID
    public let level: CheckLevel
    public let message: String
    public let hint: String

    public init(id: CheckID, level: CheckLevel, message: String, hint: String) {
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
/// extension CheckID { static let largePages: CheckID = "blog.W001" }
/// SystemCheck(ids: [.largePages], deploy: true) { settings in
///     settings[BlogSettings.pageSize] > 50 ? [CheckFinding(id: .largePages, level: .warning, message: "…", hint: "…")] : []
/// }
/// ```
public struct SystemCheck: Sendable {
    /// The ids this check can report, for `check --list` and the docs.
    public let ids: [CheckID]
    public let isDeployCheck: Bool
    public let run: @Sendable (ResolvedSettings) -> [CheckFinding]

    public init(ids: [CheckID], deploy: Bool, run: @escaping @Sendable (ResolvedSettings) -> [CheckFinding]) {
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
            .filter { !silenced.contains($0.id.rawValue) }
            .sorted { ($0.level, $1.id) > ($1.level, $0.id) }
    }
}
