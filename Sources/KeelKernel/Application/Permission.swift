/// Something a user may be allowed to do, declared by the module that checks it (`KeelModule.permissions`) and named
/// `module.action_model`, as Django names its permissions:
///
/// ```swift
/// public var permissions: [Permission] {
///     [Permission("articles.delete_article", "Delete any article, not only one's own")]
/// }
/// ```
///
/// The part before the dot is the declaring module's name; the rest is lower-case letters, digits and underscores.
/// `migrate` records every declared permission in the database (reporting those added and removed), users get them
/// directly or through groups, superusers hold all of them, and a route group requires them
/// (`RoutePolicy.requiring(_:)`, KeelAuth).
public struct Permission: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `module.action_model`, e.g. `articles.delete_article`.
    public let codename: String
    /// What holding it allows, for people (the access review, the staff area).
    public let summary: String

    public init(_ codename: String, _ summary: String) {
        self.codename = codename
        self.summary = summary
    }

    public var description: String { codename }

    /// Why the codename is not `module.action_model` for `module`, or `nil` when it is.
    func problem(declaredBy module: String) -> String? {
        let parts = codename.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == module else {
            return "permission \"\(codename)\" of module \(module) must be named \(module).action_model"
        }
        let allowed = parts[1].unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        guard allowed, !parts[1].isEmpty, parts[1].count <= 100 else {
            return "permission \"\(codename)\": after \"\(module).\" use 1 to 100 lower-case letters, digits and underscores"
        }
        return nil
    }
}

/// Modules declared permissions that are misnamed or declared twice: the application refuses to assemble.
public struct PermissionDeclarationError: Error, CustomStringConvertible {
    /// Each problem, naming the permission and the module.
    public let problems: [String]

    public var description: String { "The modules' permissions are wrong:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}
