public import Keel

/// Conduit, Keel's reference application: the RealWorld API, a server-rendered UI and a staff area, built only on
/// Keel's public API. Its business modules (accounts, profiles, articles) arrive with the Conduit issue; today it is
/// Keel's core: settings, health, metrics, request ids, the error format and graceful shutdown.
public enum ConduitApp: KeelApp {
    public static var name: String { "conduit" }
    public static var modules: [any KeelModule] { [] }
}
