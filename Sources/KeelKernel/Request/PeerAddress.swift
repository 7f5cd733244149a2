package import NIOCore
import KeelCore

/// The TCP peer of a request, as text (logs, throttling, `clientAddress`) and as address bytes (the trusted-proxy
/// check), made once per request.
///
/// IPv4 is formatted here: `SocketAddress.ipAddress` goes through glibc's `inet_ntop`, which formats with `vfprintf`,
/// and the text was then parsed back with `inet_pton` for the proxy check, together about 1.5% of a trivial request.
package struct PeerAddress: Sendable {
    package let text: String
    package let bytes: [UInt8]

    package init?(_ address: SocketAddress?) {
        switch address {
        case .some(let v4) where v4.protocol == .inet:
            // sockaddr_in's sin_addr sits at byte 4 on Linux (family, port) and Darwin (length, family, port), in
            // network order: its bytes in memory are the address's bytes in order. (On Linux NIO's `sockaddr_in` comes
            // from its internal CNIOLinux module, so `sin_addr` cannot be named here.)
            let offset = 4
            let bytes = v4.withSockAddr { pointer, _ in Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer) + offset, count: 4)) }
            self.bytes = bytes
            self.text = Self.dotted(bytes)
        case .some(let other):
            guard let text = other.ipAddress, let bytes = IPAddressRange.parse(text) else { return nil }
            self.text = text
            self.bytes = bytes
        case .none:
            return nil
        }
    }

    /// `192.168.0.1` from four bytes.
    static func dotted(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: 15) { output in
            var written = 0
            for (index, byte) in bytes.enumerated() {
                if index > 0 { output[written] = UInt8(ascii: "."); written += 1 }
                if byte >= 100 { output[written] = 0x30 + byte / 100; written += 1 }
                if byte >= 10 { output[written] = 0x30 + byte / 10 % 10; written += 1 }
                output[written] = 0x30 + byte % 10
                written += 1
            }
            return written
        }
    }
}
