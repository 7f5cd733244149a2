import Synchronization

/// Random bytes for the tokens every request needs (request ids, CSP nonces), from a buffer the kernel's CSPRNG fills
/// 1 KiB at a time.
///
/// `SecureRandom.bytes` makes a system call per token: two per request, a visible share of a trivial request's CPU.
/// Like OpenSSL's `RAND_bytes`, this reads ahead instead and hands each byte out once; used bytes are zeroed at once,
/// so the buffer only ever holds bytes nobody has seen. One pool belongs to one request pipeline (no global state);
/// its lock is held for a copy of a few bytes.
package final class RandomPool: Sendable {
    private struct State {
        var buffer: [UInt8]
        var position: Int
    }

    private let state: Mutex<State>
    package static let capacity = 1024

    package init() {
        state = Mutex(State(buffer: [UInt8](repeating: 0, count: Self.capacity), position: Self.capacity))
    }

    /// Calls `body` with `count` (at most `capacity`) fresh random bytes, valid only inside it.
    package func withBytes<R: Sendable>(_ count: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        precondition((1...Self.capacity).contains(count), "RandomPool hands out 1 to \(Self.capacity) bytes at a time")
        return state.withLock { state in
            if state.position + count > state.buffer.count {
                state.buffer.withUnsafeMutableBytes { SecureRandom.fill($0) }
                state.position = 0
            }
            let start = state.position
            state.position += count
            return state.buffer.withUnsafeMutableBufferPointer { buffer in
                let slice = UnsafeMutableBufferPointer(rebasing: buffer[start..<start + count])
                defer { slice.update(repeating: 0) }
                return body(UnsafeBufferPointer(slice))
            }
        }
    }

    /// `byteCount` random bytes as lower-case hex (request ids).
    package func hex(byteCount: Int) -> String {
        withBytes(byteCount) { Hex.encode($0) }
    }

    /// `byteCount` random bytes as unpadded base64url (nonces).
    package func base64URL(byteCount: Int) -> String {
        withBytes(byteCount) { Base64URL.encode($0) }
    }
}
