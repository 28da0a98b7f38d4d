// EntropyTests — the ChaCha20 generator behind getrandom and AT_RANDOM
// (Sources/KernelCore/Entropy.swift), checked against RFC 8439 §2.3.2.
@testable import KernelCore
import XCTest

final class EntropyTests: XCTestCase {
    /// Little-endian words of a byte string, as ChaCha20's state takes them (RFC 8439 §2.3).
    func words(_ bytes: [UInt8]) -> [UInt32] {
        stride(from: 0, to: bytes.count, by: 4).map { i in
            UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
        }
    }

    func testBlockMatchesRFC8439TestVector() {
        // RFC 8439 §2.3.2: key 00:01:...:1f, nonce 00:00:00:09:00:00:00:4a:00:00:00:00, counter 1.
        let key = words((0..<32).map { UInt8($0) })
        let nonce = words([0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x4a, 0x00, 0x00, 0x00, 0x00])
        XCTAssertEqual(key[0], 0x0302_0100)
        XCTAssertEqual(nonce, [0x0900_0000, 0x4a00_0000, 0])
        let expected: [UInt8] = [
            0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4,
            0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22, 0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e,
            0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa, 0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2,
            0xb5, 0x12, 0x9c, 0xd1, 0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
        ]
        XCTAssertEqual(EntropyPool.block(key: key, counter: 1, nonce: nonce), expected)
    }

    func testBlockDependsOnCounter() {
        let key = [UInt32](repeating: 0, count: 8)
        let a = EntropyPool.block(key: key, counter: 0, nonce: [0, 0, 0])
        let b = EntropyPool.block(key: key, counter: 1, nonce: [0, 0, 0])
        XCTAssertEqual(a.count, 64)
        XCTAssertNotEqual(a, b)
        // RFC 8439 appendix A.1 test vector #1 (all-zero key and nonce, counter 0) starts 76 b8 e0 ad.
        XCTAssertEqual(Array(a[0..<4]), [0x76, 0xb8, 0xe0, 0xad])
    }

    func testFillDiffersAcrossCallsAndFillsOddSizes() {
        var pool = EntropyPool(seed: [1, 2, 3, 4])
        var a = [UInt8](repeating: 0, count: 100)
        var b = [UInt8](repeating: 0, count: 100)
        pool.fill(&a, count: 100)
        pool.fill(&b, count: 100)
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(Array(a[64..<100]), [UInt8](repeating: 0, count: 36), "the tail past one block is filled")
        var short = [UInt8](repeating: 0xEE, count: 8)
        pool.fill(&short, count: 3)
        XCTAssertEqual(Array(short[3...]), [UInt8](repeating: 0xEE, count: 5), "only count bytes are written")
    }

    func testSameSeedSameStreamDifferentSeedDifferentStream() {
        var p1 = EntropyPool(seed: Array("seed".utf8))
        var p2 = EntropyPool(seed: Array("seed".utf8))
        var p3 = EntropyPool(seed: Array("seee".utf8))
        var x = [UInt8](repeating: 0, count: 32), y = x, z = x
        p1.fill(&x, count: 32); p2.fill(&y, count: 32); p3.fill(&z, count: 32)
        XCTAssertEqual(x, y)
        XCTAssertNotEqual(x, z)
        p2.mix([0x42])
        p1.fill(&x, count: 32); p2.fill(&y, count: 32)
        XCTAssertNotEqual(x, y, "mixing changes the stream")
    }
}
