public import Keel

extension SettingsOptions {
    /// Resolves the settings of an application, or prints every problem and returns `nil` (the caller exits 78).
    public func resolve<App: KeelApp>(
        _ app: App.Type, extra: [SettingsInput.CommandLineValue] = [], in environment: CommandEnvironment
    ) async -> ResolvedSettings? {
        let loader = SettingsLoader(schema: KeelApplication.schema(name: App.name, modules: App.modules))
        do {
            return try await loader.load(input(extra: extra, environment: environment.environment))
        } catch {
            environment.errorOutput(error.description)
            return nil
        }
    }
}
