#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address or CIDR range, such as `127.0.0.1`, `10.0.0.0/8` or `fd00::/8`.
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    let network: [UInt8]
    let prefixLength: Int
    public let description: String

    /// Parses an address or range; `nil` when it is neither.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parse(String(parts[0])) else { return nil }
        let bits = address.count * 8
        var length = bits
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...bits).contains(parsed) else { return nil }
            length = parsed
        }
        network = address
        prefixLength = length
        description = text
    }

    /// Whether an address (in text) falls in this range.
    public func contains(_ addressText: String) -> Bool {
        guard let address = Self.parse(addressText) else { return false }
        return contains(bytes: address)
    }

    package func contains(bytes address: [UInt8]) -> Bool {
        var candidate = address
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 ranges.
        if candidate.count == 16, network.count == 4, candidate[0..<10].allSatisfy({ $0 == 0 }), candidate[10] == 0xFF, candidate[11] == 0xFF {
            candidate = Array(candidate[12...])
        }
        guard candidate.count == network.count else { return false }
        var remaining = prefixLength
        for index in 0..<network.count where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if candidate[index] & mask != network[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    /// The address's bytes (4 for IPv4, 16 for IPv6); `nil` when it is not an address.
    public static func parseBytes(_ text: String) -> [UInt8]? { parse(text) }

    package static func parse(_ text: String) -> [UInt8]? {
        var trimmed = text
        if trimmed.hasPrefix("["), trimmed.hasSuffix("]") { trimmed = String(trimmed.dropFirst().dropLast()) }
        if let zone = trimmed.firstIndex(of: "%") { trimmed = String(trimmed[..<zone]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
