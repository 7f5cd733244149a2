/// A deployment profile: which defaults apply and which keys are required.
///
/// Chosen by `--profile` or `KEEL_PROFILE`; `development` when neither is given.
public enum Profile: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    /// A laptop: readable logs, `.env` file honoured, migrations applied by `serve`.
    case development
    /// Automated tests: strict (an N+1 query is an error), nothing persistent by default.
    case test
    /// A production-like deployment: production rules, different data.
    case staging
    /// Live traffic: JSON logs, every secret required, deploy checks enforced at start.
    case production

    public var description: String { rawValue }

    /// Whether this profile serves real traffic and so gets production's strict rules.
    public var isDeployed: Bool { self == .staging || self == .production }

    public static func < (lhs: Profile, rhs: Profile) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
