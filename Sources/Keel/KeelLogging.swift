public import Logging
public import KeelSettings
import KeelOps

/// Builds the log handler the settings ask for, for the executable's `LoggingSystem.bootstrap`.
public enum KeelLogging {
    /// `log.format` and `log.level` applied: JSON lines on standard output in staging and production, readable lines
    /// on standard error elsewhere.
    /// JSON lines go through `writer` (batched; the executable flushes it before exiting).
    public static func handlerFactory(_ settings: ResolvedSettings, writer: LogWriter? = nil) -> @Sendable (String) -> any LogHandler {
        let format = settings[OpsSettings.logFormat]
        let level = settings[OpsSettings.logLevel]
        return { label in KeelLogHandler(label: label, format: format, level: level, writer: writer) }
    }
}
