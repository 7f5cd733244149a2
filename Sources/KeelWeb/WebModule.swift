public import KeelKernel
public import KeelSettings
import Hummingbird
import KeelCore

/// Keel's web capability as a module: templates (`web.*` settings, the `web.E001` check), the route option
/// `SignInRequired` (`requiringSignIn(at:)`), the page values modules add (`PageValues`), no tables or commands, and
/// two stages:
///
/// | stage | slot | groups |
/// |---|---|---|
/// | `web.errorPages` (an error renderer): errors as the application's `errors/<status>` or `errors/default` template | errors | groups with HTML errors (`web`, `static`; unmatched requests that prefer HTML) |
/// | `web.signIn`: people not signed in go to the sign-in page (`?next=` where they were going); JSON groups answer 401 | access | groups made with `requiringSignIn(at:)` |
///
/// Without an `errors/default` template errors keep Keel's built-in page. Add it to an application's modules with
/// the folder its templates ship in; `web.templates` overrides it (a deployment's own copy):
/// ```swift
/// static var modules: [any KeelModule] { [WebModule(templates: Bundle.module.path(forResource: "Templates", ofType: nil)), …] }
/// ```
public struct WebModule: KeelModule {
    /// The application's template folder, used when `web.templates` is not set.
    public let defaultDirectory: String?

    public init(templates defaultDirectory: String? = nil) {
        self.defaultDirectory = defaultDirectory
    }

    public var name: String { "web" }
    public var settings: [any AnySetting] { WebSettings.all }

    public var checks: [SystemCheck] {
        let fallback = defaultDirectory
        return [SystemCheck(ids: [.templatesBroken], deploy: false) { settings in
            let directory = Self.directory(settings, fallback: fallback)
            do {
                _ = try TemplateSet.load(directory: directory)
                return []
            } catch {
                return [CheckFinding(id: .templatesBroken, level: .error, message: String(describing: error),
                                     hint: "Fix the template, or point WEB_TEMPLATES at the application's template folder.")]
            }
        }]
    }

    static func directory(_ settings: ResolvedSettings, fallback: String?) -> String {
        settings[WebSettings.templates] ?? fallback ?? "Templates"
    }

    public func install(into parts: inout KeelApplication.Parts) throws {
        let settings = parts.settings
        parts.install(try Templates(
            directory: Self.directory(settings, fallback: defaultDirectory), reloads: settings[WebSettings.templatesReload],
            strict: settings[WebSettings.strictVariables]))
    }

    public func stages(for group: RoutePolicy, app: KeelApplication) -> [PipelineStage] {
        var stages: [PipelineStage] = []
        if group.errorFormat != .json {
            stages.append(.errorRenderer("web.errorPages", ErrorPages(templates: app.templates, format: group.errorFormat)))
        }
        if let signInPath = group[SignInRequired.self] {
            stages.append(.hook(.access, "web.signIn", SignInHook(signInPath: signInPath, format: group.errorFormat)))
        }
        return stages
    }
}

extension Templates: ApplicationPart {}

extension KeelApplication {
    /// The application's templates (installed by `WebModule`).
    public var templates: Templates { part(Templates.self) }
}

extension CheckID {
    /// `web.E001`: the template folder is missing, a template does not parse, or one includes a template that does not exist.
    public static let templatesBroken: CheckID = "web.E001"
}
