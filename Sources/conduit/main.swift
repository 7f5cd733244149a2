import Conduit
import Keel
import KeelCLI
import NIOCore
import NIOPosix

// Swift Concurrency's global executor becomes NIO's event loops, so a handler awaiting a database query or a socket
// write resumes on the loop that did the work instead of hopping to another thread pool and back.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

// The only place that touches the process-wide logging and metrics backends. JSON log lines are batched through one
// writer this executable owns, flushed before it exits (after a graceful shutdown too).
let logs = LogWriter(fd: 1)
await KeelCommandLine<ConduitApp>.main(
    bootstrap: CommandEnvironment.standardBootstrap(label: ConduitApp.name, logs: logs), beforeExit: { logs.flush() })
