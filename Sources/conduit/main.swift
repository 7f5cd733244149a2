import Conduit
import Keel
import KeelCLI
import Logging
import Metrics
import NIOCore
import NIOPosix

// Swift Concurrency's global executor becomes NIO's event loops, so a handler awaiting a database query or a socket
// write resumes on the loop that did the work instead of hopping to another thread pool and back.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

// The only place that touches the process-wide logging and metrics backends.
await KeelCommandLine<ConduitApp>.main { settings, metrics in
    LoggingSystem.bootstrap(KeelLogging.handlerFactory(settings))
    MetricsSystem.bootstrap(metrics.factory)
    var logger = Logger(label: ConduitApp.name)
    logger.logLevel = Logger.Level(rawValue: settings[CoreSettings.logLevel]) ?? .info
    return logger
}
