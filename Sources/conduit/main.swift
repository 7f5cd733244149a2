import Conduit
import KeelCLI
import NIOCore
import NIOPosix

// Swift Concurrency's global executor becomes NIO's event loops, so a handler awaiting a database query or a socket
// write resumes on the loop that did the work instead of hopping to another thread pool and back.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

// The only place that touches the process-wide logging and metrics backends.
await KeelCommandLine<ConduitApp>.main(bootstrap: CommandEnvironment.standardBootstrap(label: ConduitApp.name))
