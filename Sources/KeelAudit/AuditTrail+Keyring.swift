import KeelData
import KeelSecurity
import SQLKit

extension AuditTrail {
    /// Records `security.keyring` when the signing keys differ from the last recorded set: which key ids were added
    /// and which retired (ids only: a key id is a hash prefix, never the key). The sealer does this as the server
    /// starts, so a rotation shows in the trail. Returns whether anything changed.
    @discardableResult
    public func recordKeyring() async throws -> Bool {
        try await seal()
        let current = [keyring.current.id] + keyring.fallbacks.map(\.id)
        let last = try await entries(matching: AuditFilter(action: "security.keyring"), limit: 1).first
        var previous: [String] = []
        if let ids = last?.fields["keys"]?.value, case .text(let text) = ids {
            previous = text.split(separator: ",").map(String.init)
        }
        guard previous != current else { return false }
        let added = current.filter { !previous.contains($0) }
        let retired = previous.filter { !current.contains($0) }
        try await database.record(ChangeEvent("security.keyring", details: [
            "keys": current.joined(separator: ","), "signing": keyring.current.id,
            "added": added.joined(separator: ","), "retired": retired.joined(separator: ","),
        ]))
        return true
    }
}
