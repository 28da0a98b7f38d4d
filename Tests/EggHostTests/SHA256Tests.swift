// SHA256Tests — FIPS 180-4's example vectors (NIST CSRC "Examples with Intermediate
// Values", SHA-256) for the --syscalls cache's hash (Sources/EggHost/SHA256.swift), and the
// cache key's sensitivity to its inputs (CustomSyscallKernel.swift).

@testable import EggHost
import XCTest

final class SHA256Tests: XCTestCase {
    func hex(_ bytes: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.finish().map { String(format: "%02x", $0) }.joined()
    }

    func testFIPSVectors() {
        XCTAssertEqual(hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex([UInt8](repeating: 0x61, count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testPiecewiseUpdatesEqualOneUpdate() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var hash = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 200, 607] {
            hash.update(Array(data[offset..<offset + size]))
            offset += size
        }
        XCTAssertEqual(offset, 1000)
        XCTAssertEqual(hash.finish().map { String(format: "%02x", $0) }.joined(), hex(data))
    }

    func testCacheKeyChangesWithEveryInput() throws {
        let recipe = try XCTUnwrap(KernelBuildRecipe(text: "swiftflags -Osize\nobjects a.o b.o\nldflags -nostdlib\n", directory: "/k"))
        var files: [String: [UInt8]] = ["/src.swift": [1], "/k/kernel.ld": [2], "/k/a.o": [3], "/k/b.o": [4], "/k/kernel.elf": [5]]
        func key() -> String? {
            customKernelCacheKey(source: "/src.swift", recipe: recipe, baseKernel: "/k/kernel.elf", swiftc: "/nonexistent/swiftc",
                                 read: { files[$0] })
        }
        let first = try XCTUnwrap(key())
        XCTAssertEqual(key(), first)  // same inputs, same key
        for path in files.keys.sorted() {
            let saved = files[path]
            files[path] = [9, 9]
            XCTAssertNotEqual(key(), first, path)
            files[path] = nil
            XCTAssertNil(key(), "unreadable \(path): no key, so no cache")
            files[path] = saved
        }
        XCTAssertEqual(key(), first)
    }
}
