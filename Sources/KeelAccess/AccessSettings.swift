public import KeelSettings

/// The access module's settings keys. Their names keep the `auth.` prefix they had when access was part of the
/// authentication module: a deployment's configuration names them.
public enum AccessSettings {
    public static let elevationTTL = Setting<Duration>(
        "auth.elevation.ttl", default: .seconds(600), allowed: .range(.seconds(60) ... .seconds(12 * 3600)),
        doc: "How long elevated access (password and reason given again) lasts before staff must confirm again.")
    public static let reviewStaleAfter = Setting<Duration>(
        "auth.review.staleAfter", default: .seconds(90 * 86_400), allowed: .range(.seconds(86_400) ... .seconds(3 * 365 * 86_400)),
        doc: "The access review flags a holder of permissions, staff or superuser status who has not signed in for this long.")

    public static var all: [any AnySetting] { [elevationTTL, reviewStaleAfter] }
}
