#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Cryptographically secure random bytes from the kernel, in one system call.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` call per 8 bytes (`getentropy` here makes one for all); request ids and CSP nonces need 16 bytes on
/// every request, so this halves their system calls.
public enum SecureRandom {
    /// `count` random bytes (at most 256).
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition((0...256).contains(count), "SecureRandom.bytes reads at most 256 bytes at a time")
        #if os(Linux)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0, getentropy(buffer.baseAddress!, count) != 0 {
                // getentropy only fails on a kernel without getrandom (before Linux 3.17): fall back to the stdlib.
                var generator = SystemRandomNumberGenerator()
                for index in 0..<count { buffer[index] = generator.next() }
            }
            initialized = count
        }
        #else
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in generator.next() }
        #endif
    }
}
