// EntropyPool — ChaCha20-based random generator for getrandom and AT_RANDOM (KernelCore).
//
// The kernel seeds it from RDSEED/RDRAND (or TSC jitter) and mixes fresh hardware entropy
// in before each request when it can. Output is the ChaCha20 keystream (RFC 8439 §2.3);
// after every request the key is replaced by keystream (fast key erasure), so earlier output
// cannot be recomputed from a later state.

public struct EntropyPool {
    var key: [UInt32]      // 8 words
    var counter: UInt32 = 0
    var nonce: [UInt32] = [0, 0, 0]

    public init(seed: [UInt8]) {
        key = [UInt32](repeating: 0, count: 8)
        mix(seed)
    }

    /// XOR `bytes` into the key (then the next request rekeys).
    public mutating func mix(_ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() {
            key[(i / 4) % 8] ^= UInt32(b) << (8 * UInt32(i % 4))
        }
        nonce[0] &+= 1
    }

    @inline(__always) static func rotl(_ v: UInt32, _ n: UInt32) -> UInt32 { (v << n) | (v >> (32 - n)) }

    static func quarterRound(_ s: inout [UInt32], _ a: Int, _ b: Int, _ c: Int, _ d: Int) {
        s[a] &+= s[b]; s[d] ^= s[a]; s[d] = rotl(s[d], 16)
        s[c] &+= s[d]; s[b] ^= s[c]; s[b] = rotl(s[b], 12)
        s[a] &+= s[b]; s[d] ^= s[a]; s[d] = rotl(s[d], 8)
        s[c] &+= s[d]; s[b] ^= s[c]; s[b] = rotl(s[b], 7)
    }

    /// One 64-byte ChaCha20 block for (key, counter, nonce).
    public static func block(key: [UInt32], counter: UInt32, nonce: [UInt32]) -> [UInt8] {
        let initial: [UInt32] = [0x6170_7865, 0x3320_646E, 0x7962_2D32, 0x6B20_6574]
            + key + [counter] + nonce
        var s = initial
        for _ in 0..<10 {
            quarterRound(&s, 0, 4, 8, 12); quarterRound(&s, 1, 5, 9, 13)
            quarterRound(&s, 2, 6, 10, 14); quarterRound(&s, 3, 7, 11, 15)
            quarterRound(&s, 0, 5, 10, 15); quarterRound(&s, 1, 6, 11, 12)
            quarterRound(&s, 2, 7, 8, 13); quarterRound(&s, 3, 4, 9, 14)
        }
        var out = [UInt8]()
        out.reserveCapacity(64)
        for i in 0..<16 {
            let w = s[i] &+ initial[i]
            for b in 0..<4 { out.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(b)))) }
        }
        return out
    }

    mutating func nextBlock() -> [UInt8] {
        let b = EntropyPool.block(key: key, counter: counter, nonce: nonce)
        counter &+= 1
        if counter == 0 { nonce[1] &+= 1 }
        return b
    }

    public mutating func fill(_ buffer: inout [UInt8], count: Int) {
        var done = 0
        while done < count {
            let b = nextBlock()
            let n = min(64, count - done)
            for i in 0..<n { buffer[done + i] = b[i] }
            done += n
        }
        // Fast key erasure: the next key is fresh keystream nobody has seen.
        let k = nextBlock()
        for i in 0..<8 {
            key[i] = UInt32(k[4 * i]) | UInt32(k[4 * i + 1]) << 8 | UInt32(k[4 * i + 2]) << 16 | UInt32(k[4 * i + 3]) << 24
        }
    }
}
