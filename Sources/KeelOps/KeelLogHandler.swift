public import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    static func jsonLine(timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var object: [String: String] = [:]
        for (key, value) in metadata { object[key] = "\(value)" }
        object["ts"] = timestamp
        object["level"] = level.rawValue
        object["logger"] = label
        object["msg"] = message
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else { return #"{"msg":"unencodable log line"}"# }
        return String(decoding: data, as: UTF8.self)
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true).timeSeparator(.colon))
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
