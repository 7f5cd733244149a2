#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Cryptographically secure random bytes from the kernel, 256 bytes per system call.
///
/// `SystemRandomNumberGenerator` makes one `getrandom` call per 8 bytes; `getentropy` fills up to 256 at once. For
/// the tokens every request needs, `RandomPool` reads ahead through `fill` instead of a call per token.
public enum SecureRandom {
    /// `count` random bytes (any number: `fill` reads them 256 at a time).
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom.bytes needs a count of zero or more")
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Fills `buffer` with random bytes, in calls of at most 256 bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            let chunk = min(256, buffer.count - offset)
            #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
            if getentropy(buffer.baseAddress! + offset, chunk) == 0 {
                offset += chunk
                continue
            }
            #endif
            // Without getentropy (Linux before 3.17): the standard library's generator, also the kernel's CSPRNG.
            var generator = SystemRandomNumberGenerator()
            for index in offset..<offset + chunk { buffer[index] = generator.next() }
            offset += chunk
        }
    }
}
