import Conduit
import Keel
import KeelCLI
import Logging
import Metrics

// The only place that touches the process-wide logging and metrics backends.
await KeelCommandLine<ConduitApp>.main { settings, metrics in
    LoggingSystem.bootstrap(KeelLogging.handlerFactory(settings))
    MetricsSystem.bootstrap(metrics.factory)
    var logger = Logger(label: ConduitApp.name)
    logger.logLevel = Logger.Level(rawValue: settings[CoreSettings.logLevel]) ?? .info
    return logger
}
