public import KeelSettings

/// The settings keys KeelWeb reads (see `docs/web.md`).
public enum WebSettings {
    public static let templates = Setting<String?>(
        "web.templates", default: nil,
        doc: "Folder of `.mustache` templates (a file's path without the extension is its name: `errors/404`); unset, the application's own folder.")
    public static let templatesReload = Setting<Bool>(
        "web.templatesReload", default: false, profiles: [.development: true],
        doc: "Read the templates again for every page (development); otherwise they are compiled once at start.")
    public static let strictVariables = Setting<Bool>(
        "web.strictVariables", default: false, profiles: [.development: true, .test: true],
        doc: "A name a page's template uses and its model lacks fails the render with a 500 naming both (development, test); otherwise it is logged and renders empty.")

    /// Every key above, in reference order.
    public static var all: [any AnySetting] { [templates, templatesReload, strictVariables] }
}
