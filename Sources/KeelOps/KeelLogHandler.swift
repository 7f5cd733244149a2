public import Logging
import KeelCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Log line formats: readable lines for people (`text`), one JSON object per line for machines (`json`).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// Keel's log handler: writes whole lines to standard error (text) or standard output (JSON) with one `write` call.
///
/// Bootstrapped by the executable's `@main` only: `LoggingSystem.bootstrap { KeelLogHandler(label: $0, format: .json) }`.
/// Hummingbird's own `hb.request.id` duplicate of `keel.request.id` is dropped.
public struct KeelLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let sink: @Sendable (String) -> Void

    public init(label: String, format: LogFormat, level: Logger.Level = .info, sink: (@Sendable (String) -> Void)? = nil) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink ?? { line in Self.writeLine(line, fd: format == .json ? 1 : 2) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        merged["hb.request.id"] = nil
        let timestamp = Self.timestamp()
        switch format {
        case .json:
            sink(Self.jsonLine(timestamp: timestamp, level: event.level, label: label, message: "\(event.message)", metadata: merged))
        case .text:
            var line = "\(timestamp) \(event.level.rawValue.uppercased()) \(label): \(event.message)"
            for key in merged.keys.sorted() {
                line += " \(key)=\(merged[key]!)"
            }
            sink(line)
        }
    }

    /// One JSON object with sorted keys, every value a string. Hand-written rather than `JSONEncoder`: this runs for
    /// every request's access line, and the encoder's boxing was the largest single cost of a trivial request.
    static func jsonLine(timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var fields: [(key: String, value: String)] = []
        fields.reserveCapacity(metadata.count + 4)
        for (key, value) in metadata where key != "ts" && key != "level" && key != "logger" && key != "msg" {
            fields.append((key, "\(value)"))
        }
        fields.append(("ts", timestamp))
        fields.append(("level", level.rawValue))
        fields.append(("logger", label))
        fields.append(("msg", message))
        fields.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var line: [UInt8] = []
        line.reserveCapacity(256)
        line.append(UInt8(ascii: "{"))
        for (index, field) in fields.enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            JSONText.appendString(field.key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONText.appendString(field.value, to: &line)
        }
        line.append(UInt8(ascii: "}"))
        return String(decoding: line, as: UTF8.self)
    }

    static func timestamp() -> String {
        UTCTimestamp.now()
    }

    static func writeLine(_ line: String, fd: Int32) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
