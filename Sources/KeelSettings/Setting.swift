public import Configuration

/// What values a setting allows, with the description shown in errors and docs.
public struct SettingConstraint<Value: SettingValue>: Sendable {
    /// Shown as "allowed: …" in errors and in the settings reference; empty when anything of the type is allowed.
    public let allowed: String
    /// Returns `nil` when the value is allowed, or the problem with it.
    let check: @Sendable (Value) -> String?

    public init(allowed: String, check: @escaping @Sendable (Value) -> String?) {
        self.allowed = allowed
        self.check = check
    }

    /// Anything of the type.
    public static var any: Self { .init(allowed: "") { _ in nil } }

    /// One of a fixed list.
    public static func oneOf(_ values: [Value]) -> Self {
        let list = values.map(\.settingDescription).joined(separator: ", ")
        return .init(allowed: "one of \(list)") { values.contains($0) ? nil : "must be one of \(list)" }
    }

    /// Every combination of the two checks.
    public func and(_ other: Self) -> Self {
        let allowed = [self.allowed, other.allowed].filter { !$0.isEmpty }.joined(separator: "; ")
        return .init(allowed: allowed) { self.check($0) ?? other.check($0) }
    }
}

extension SettingConstraint where Value: Comparable {
    /// A closed range.
    public static func range(_ range: ClosedRange<Value>) -> Self {
        let text = "\(range.lowerBound.settingDescription)...\(range.upperBound.settingDescription)"
        return .init(allowed: text) { range.contains($0) ? nil : "must be within \(text)" }
    }
}

extension SettingConstraint where Value == String {
    /// A non-empty string.
    public static var nonEmpty: Self { .init(allowed: "non-empty") { $0.isEmpty ? "must not be empty" : nil } }
}

/// A typed settings key: its type, defaults per profile, where it is required, whether it is secret, what it allows
/// and one line of documentation.
///
/// Declare keys as static members of a namespace and list them in your module's `settings`:
/// ```swift
/// enum BlogSettings {
///     static let pageSize = Setting<Int>("blog.pageSize", default: 20, allowed: .range(1...100),
///                                        doc: "Articles per page.")
/// }
/// let size = settings[BlogSettings.pageSize]
/// ```
/// The environment variable is derived from the key: `blog.pageSize` → `BLOG_PAGE_SIZE`.
public struct Setting<Value: SettingValue>: Sendable {
    /// The dotted key, such as `http.port`.
    public let key: String
    /// The default for every profile without an entry in `profileDefaults`.
    public let defaultValue: Value
    /// Defaults for profiles where they differ.
    public let profileDefaults: [Profile: Value]
    /// Profiles in which the key must be given by a source (no default applies there).
    public let requiredIn: Set<Profile>
    /// A secret is never printed: errors, `settings show` and logs redact it.
    public let isSecret: Bool
    /// What values are allowed.
    public let constraint: SettingConstraint<Value>
    /// One line of documentation for the settings reference.
    public let doc: String

    public init(
        _ key: String,
        default defaultValue: Value,
        profiles profileDefaults: [Profile: Value] = [:],
        requiredIn: Set<Profile> = [],
        secret: Bool = false,
        allowed constraint: SettingConstraint<Value> = .any,
        doc: String
    ) {
        self.key = key
        self.defaultValue = defaultValue
        self.profileDefaults = profileDefaults
        self.requiredIn = requiredIn
        self.isSecret = secret
        self.constraint = constraint
        self.doc = doc
    }

    /// The default that applies in a profile, or `nil` when the key is required there.
    public func defaultValue(in profile: Profile) -> Value? {
        requiredIn.contains(profile) ? nil : (profileDefaults[profile] ?? defaultValue)
    }
}

/// A setting with its value type erased, as held by a `SettingsSchema`.
public protocol AnySetting: Sendable {
    var key: String { get }
    var isSecret: Bool { get }
    var doc: String { get }
    var requiredIn: Set<Profile> { get }
    var typeName: String { get }
    var allowed: String { get }
    /// The default shown for a profile (redacted for secrets), or `nil` when required there.
    func defaultDescription(in profile: Profile) -> String?
    /// Resolution helpers, used by the loader.
    func parse(string: String) -> (any SettingValue)?
    func parse(content: ConfigContent) -> (any SettingValue)?
    func validate(_ value: any SettingValue) -> String?
    func defaultValueErased(in profile: Profile) -> (any SettingValue)?
    var configType: ConfigType { get }
    /// Whether the profile has a default of its own, different from the general one.
    func hasProfileDefault(_ profile: Profile) -> Bool
}

extension Setting: AnySetting {
    public var typeName: String { Value.typeName }
    /// The type's own rule (an enum's cases) and the key's constraint, as shown in errors and docs.
    public var allowed: String { [Value.inherentAllowed, constraint.allowed].filter { !$0.isEmpty }.joined(separator: "; ") }

    public func defaultDescription(in profile: Profile) -> String? {
        guard let value = defaultValue(in: profile) else { return nil }
        return isSecret ? SettingsRedaction.placeholder : value.settingDescription
    }

    public func parse(string: String) -> (any SettingValue)? { Value(settingString: string) }
    public func parse(content: ConfigContent) -> (any SettingValue)? { Value(configContent: content) }
    public func validate(_ value: any SettingValue) -> String? {
        guard let typed = value as? Value else { return "is not a \(Value.typeName)" }
        return constraint.check(typed)
    }
    public func defaultValueErased(in profile: Profile) -> (any SettingValue)? { defaultValue(in: profile) }
    public var configType: ConfigType { Value.configType }
    public func hasProfileDefault(_ profile: Profile) -> Bool { profileDefaults[profile] != nil && !requiredIn.contains(profile) }
}

/// How secrets are shown.
public enum SettingsRedaction {
    /// What is printed in place of a secret value.
    public static let placeholder = "********"
}
