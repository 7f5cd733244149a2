public import Keel

/// Conduit, Keel's reference application: the RealWorld API, a server-rendered UI and a staff area, built only on
/// Keel's public API. Built so far: `Accounts` (register, login, current user, update) and `Profiles` (profiles, follow, unfollow); articles follow.
public enum ConduitApp: KeelApp {
    public static var name: String { "conduit" }
    public static var modules: [any KeelModule] { [Accounts(), Profiles()] }
}
