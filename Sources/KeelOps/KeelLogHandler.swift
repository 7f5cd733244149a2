public import Logging
public import KeelSettings
import KeelCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Log line formats: readable lines for people (`text`), one JSON object per line for machines (`json`).
public enum LogFormat: String, Sendable, SettingEnum {
    case text
    case json
}

/// Keel's log handler: whole lines to standard error (text, one `write` each) or standard output (JSON; routine lines
/// batched for at most 5 ms by `LogWriter`, `notice` and above written at once).
///
/// Bootstrapped by the executable's `@main` only: `LoggingSystem.bootstrap { KeelLogHandler(label: $0, format: .json) }`.
/// Hummingbird's own `hb.request.id` duplicate of `keel.request.id` is dropped.
public struct KeelLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    /// Where JSON lines go, batched; without one each line is written to standard output at once.
    let writer: LogWriter?
    /// Where lines go instead of standard output or standard error (tests).
    let sink: (@Sendable (String) -> Void)?

    public init(
        label: String, format: LogFormat, level: Logger.Level = .info, writer: LogWriter? = nil, sink: (@Sendable (String) -> Void)? = nil
    ) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.writer = writer
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        write(level: event.level, message: "\(event.message)", event: event.metadata.map { $0.map { ($0.key, $0.value) } } ?? [])
    }

    /// A line at `info` from Keel's own request pipeline (the access line), without swift-log's per-call costs: no
    /// metadata dictionary to build and hash, no `LogEvent`. Called when the request logger's handler is this one.
    package func logRoutine(_ message: String, event: [(key: String, value: Logger.MetadataValue)]) {
        guard logLevel <= .info else { return }
        write(level: .info, message: message, event: event)
    }

    private func write(level: Logger.Level, message: String, event: [(key: String, value: Logger.MetadataValue)]) {
        let timestamp = Self.timestamp()
        let fields = Self.fields(handler: metadata, provided: metadataProvider?.get(), event: event)
        switch format {
        case .json:
            var line = Self.jsonLine(timestamp: timestamp, level: level, label: label, message: message, fields: fields)
            if let sink {
                sink(String(decoding: line, as: UTF8.self))
            } else {
                line.append(UInt8(ascii: "\n"))
                if let writer {
                    writer.append(line, immediately: level > .info)
                } else {
                    LogWriter.writeAll(line, fd: 1)
                }
            }
        case .text:
            var line = "\(timestamp) \(level.rawValue.uppercased()) \(label): \(message)"
            for field in fields {
                line += " \(field.key)=\(field.value)"
            }
            if let sink {
                sink(line)
            } else {
                line += "\n"
                LogWriter.writeAll(Array(line.utf8), fd: 2)
            }
        }
    }

    /// The line's metadata sorted by key: the event's over the provider's over the handler's, without Hummingbird's
    /// `hb.request.id` (a duplicate of `keel.request.id`). No dictionary is merged: a request's few fields are put in
    /// one array, strongest source first, sorted stably (so the strongest of equal keys comes first) and deduplicated
    /// in place.
    static func fields(
        handler: Logger.Metadata, provided: Logger.Metadata?, event: [(key: String, value: Logger.MetadataValue)]
    ) -> [(key: String, value: Logger.MetadataValue)] {
        var all: [(key: String, value: Logger.MetadataValue)] = []
        all.reserveCapacity(handler.count + (provided?.count ?? 0) + event.count)
        all.append(contentsOf: event)
        if let provided { for (key, value) in provided { all.append((key, value)) } }
        for (key, value) in handler where key != "hb.request.id" { all.append((key, value)) }
        // `sort` is stable: equal keys keep their source order.
        all.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var kept = 0
        for index in all.indices where kept == 0 || all[kept - 1].key != all[index].key {
            if kept != index { all.swapAt(kept, index) }
            kept += 1
        }
        all.removeLast(all.count - kept)
        return all
    }

    /// One JSON object with sorted keys, every value a string. Hand-written rather than `JSONEncoder`: this runs for
    /// every request's access line, and the encoder's boxing was the largest single cost of a trivial request.
    /// `fields` are sorted by key; keys that collide with the line's own (`ts`, `level`, `logger`, `msg`) are dropped.
    static func jsonLine(
        timestamp: String, level: Logger.Level, label: String, message: String, fields: [(key: String, value: Logger.MetadataValue)]
    ) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(320)
        line.append(UInt8(ascii: "{"))
        var first = true
        func append(_ key: String, _ value: String) {
            if !first { line.append(UInt8(ascii: ",")) }
            first = false
            JSONText.appendString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONText.appendString(value, to: &line)
        }
        // The line's own four keys (in byte order), merged into the sorted metadata keys in order.
        func own(_ index: Int) -> (key: String, value: String) {
            switch index {
            case 0: ("level", level.rawValue)
            case 1: ("logger", label)
            case 2: ("msg", message)
            default: ("ts", timestamp)
            }
        }
        var ownIndex = 0
        for field in fields where field.key != "ts" && field.key != "level" && field.key != "logger" && field.key != "msg" {
            while ownIndex < 4, own(ownIndex).key.utf8.lexicographicallyPrecedes(field.key.utf8) {
                let (key, value) = own(ownIndex)
                append(key, value)
                ownIndex += 1
            }
            switch field.value {
            case .string(let text): append(field.key, text)
            default: append(field.key, field.value.description)
            }
        }
        while ownIndex < 4 {
            let (key, value) = own(ownIndex)
            append(key, value)
            ownIndex += 1
        }
        line.append(UInt8(ascii: "}"))
        return line
    }

    static func timestamp() -> String {
        UTCTimestamp.now()
    }
}
