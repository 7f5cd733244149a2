public import Configuration
public import Logging

/// A setting that takes one of a fixed set of names: conform an enum with `String` raw values, and the allowed values,
/// the parser and the docs come from its cases.
///
/// ```swift
/// public enum SessionStoreKind: String, SettingEnum { case database, memory }
/// static let store = Setting<SessionStoreKind>("security.session.store", default: .database, doc: "Where sessions live.")
/// let kind = settings[store]   // a SessionStoreKind, never a string compared by hand
/// ```
/// A value that names no case stops start-up (`is not a valid choice; got "redis"; allowed: one of database, memory`):
/// there is no `?? default` that could swallow a typo. Names match exactly, or, failing that, ignoring case.
public protocol SettingEnum: SettingValue, RawRepresentable, CaseIterable where RawValue == String {}

extension SettingEnum {
    public static var typeName: String { "choice" }
    public static var configType: ConfigType { .string }
    public static var inherentAllowed: String { "one of " + allCases.map(\.rawValue).joined(separator: ", ") }

    public init?(settingString: String) {
        let text = settingString.trimmingWhitespace()
        if let exact = Self(rawValue: text) {
            self = exact
            return
        }
        let folded = Self.allCases.filter { $0.rawValue.lowercased() == text.lowercased() }
        guard folded.count == 1, let only = folded.first else { return nil }
        self = only
    }

    public init?(configContent: ConfigContent) {
        guard case .string(let text) = configContent else { return nil }
        self.init(settingString: text)
    }

    public var configContent: ConfigContent? { .string(rawValue) }
    public var settingDescription: String { rawValue }
}

/// `log.level`: swift-log's levels by their names (`trace` … `critical`).
extension Logger.Level: SettingEnum {}
