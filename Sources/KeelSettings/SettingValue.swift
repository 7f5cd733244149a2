public import Configuration

/// A type a setting can hold. Keel provides `Int`, `Double`, `Bool`, `String`, `[String]`, `Duration` and
/// optionals of those.
public protocol SettingValue: Sendable, Equatable {
    /// The name shown in errors and docs, such as `integer` or `duration`.
    static var typeName: String { get }
    /// The native swift-configuration type to ask a structured provider (a JSON or YAML file) for.
    static var configType: ConfigType { get }
    /// Parses the textual form used by the command line and environment; `nil` when it does not convert.
    init?(settingString: String)
    /// Converts a structured provider's value; `nil` when it does not convert.
    init?(configContent: ConfigContent)
    /// The value as swift-configuration content, for `ResolvedSettings.configReader`; `nil` for an unset optional.
    var configContent: ConfigContent? { get }
    /// How the value is shown by `settings show` and the docs.
    var settingDescription: String { get }
    /// What every value of the type must be, whatever the key (`one of text, json` for a `SettingEnum`); empty when
    /// the type itself allows anything it can parse.
    static var inherentAllowed: String { get }
}

extension SettingValue {
    public static var inherentAllowed: String { "" }
}

extension Int: SettingValue {
    public static var typeName: String { "integer" }
    public static var configType: ConfigType { .int }
    public init?(settingString: String) { self.init(settingString.trimmingWhitespace()) }
    public init?(configContent: ConfigContent) {
        switch configContent {
        case .int(let value): self = value
        case .string(let value): self.init(settingString: value)
        default: return nil
        }
    }
    public var configContent: ConfigContent? { .int(self) }
    public var settingDescription: String { String(self) }
}

extension Double: SettingValue {
    public static var typeName: String { "number" }
    public static var configType: ConfigType { .double }
    public init?(settingString: String) {
        guard let value = Double(settingString.trimmingWhitespace()), value.isFinite else { return nil }
        self = value
    }
    public init?(configContent: ConfigContent) {
        switch configContent {
        case .double(let value) where value.isFinite: self = value
        case .int(let value): self = Double(value)
        case .string(let value): self.init(settingString: value)
        default: return nil
        }
    }
    public var configContent: ConfigContent? { .double(self) }
    public var settingDescription: String { String(self) }
}

extension Bool: SettingValue {
    public static var typeName: String { "boolean" }
    public static var configType: ConfigType { .bool }
    public init?(settingString: String) {
        switch settingString.trimmingWhitespace().lowercased() {
        case "true", "1", "yes", "on": self = true
        case "false", "0", "no", "off": self = false
        default: return nil
        }
    }
    public init?(configContent: ConfigContent) {
        switch configContent {
        case .bool(let value): self = value
        case .string(let value): self.init(settingString: value)
        default: return nil
        }
    }
    public var configContent: ConfigContent? { .bool(self) }
    public var settingDescription: String { self ? "true" : "false" }
}

extension String: SettingValue {
    public static var typeName: String { "string" }
    public static var configType: ConfigType { .string }
    public init?(settingString: String) { self = settingString }
    public init?(configContent: ConfigContent) {
        switch configContent {
        case .string(let value): self = value
        case .int(let value): self = String(value)
        default: return nil
        }
    }
    public var configContent: ConfigContent? { .string(self) }
    public var settingDescription: String { self }
}

extension Array: SettingValue where Element == String {
    public static var typeName: String { "list of strings" }
    public static var configType: ConfigType { .stringArray }
    /// A comma-separated list; blank entries are dropped.
    public init?(settingString: String) {
        self = settingString.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }
    public init?(configContent: ConfigContent) {
        switch configContent {
        case .stringArray(let value): self = value
        case .string(let value): self.init(settingString: value)
        default: return nil
        }
    }
    public var configContent: ConfigContent? { .stringArray(self) }
    public var settingDescription: String { joined(separator: ",") }
}

extension Duration: SettingValue {
    public static var typeName: String { "duration" }
    public static var configType: ConfigType { .string }
    /// `30s`, `500ms`, `5m`, `1h`, `1.5s`, or a plain number of seconds.
    public init?(settingString: String) {
        let text = settingString.trimmingWhitespace().lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, let value = Double(number), value.isFinite, abs(value * scale) < 1e12 else { return nil }
        self = .microseconds(Int64((value * scale * 1_000_000).rounded()))
    }
    public init?(configContent: ConfigContent) {
        switch configContent {
        case .string(let value): self.init(settingString: value)
        case .int(let value): self = .seconds(value)
        case .double(let value) where value.isFinite && abs(value) < 1e12: self = .microseconds(Int64((value * 1_000_000).rounded()))
        default: return nil
        }
    }
    public var configContent: ConfigContent? { .string(settingDescription) }
    public var settingDescription: String {
        let micros = components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
        if micros % 1000 != 0 { return "\(Double(micros) / 1000)ms" }
        let ms = micros / 1000
        if ms % 3_600_000 == 0 && ms != 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms != 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension Optional: SettingValue where Wrapped: SettingValue {
    public static var typeName: String { Wrapped.typeName }
    public static var inherentAllowed: String { Wrapped.inherentAllowed }
    public static var configType: ConfigType { Wrapped.configType }
    /// An empty string reads as "not set".
    public init?(settingString: String) {
        if settingString.trimmingWhitespace().isEmpty {
            self = .none
            return
        }
        guard let value = Wrapped(settingString: settingString) else { return nil }
        self = .some(value)
    }
    public init?(configContent: ConfigContent) {
        guard let value = Wrapped(configContent: configContent) else { return nil }
        self = .some(value)
    }
    public var configContent: ConfigContent? { self?.configContent }
    public var settingDescription: String { self?.settingDescription ?? "(not set)" }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
