// ExtendedAttributeTests — the tmpfs xattr store's rules and limits
// (Sources/KernelCore/VFS/ExtendedAttributes.swift), and the xattr, positioned-vector and
// legacy file calls through dispatch on a TestKernel (Syscalls/XattrSyscalls.swift,
// PositionedVectorSyscalls.swift, LegacyFileSyscalls.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class ExtendedAttributeTests: XCTestCase {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func testNamespacesFollowXattrResolveName() {
        XCTAssertEqual(try? ExtendedAttributes.namespace(of: bytes("user.a")).get(), .user)
        XCTAssertEqual(try? ExtendedAttributes.namespace(of: bytes("trusted.a")).get(), .trusted)
        XCTAssertEqual(try? ExtendedAttributes.namespace(of: bytes("security.a")).get(), .security)
        XCTAssertEqual(ExtendedAttributes.namespace(of: bytes("user.")), .failure(.EINVAL))
        XCTAssertEqual(ExtendedAttributes.namespace(of: bytes("system.posix_acl_access")), .failure(.EOPNOTSUPP))
        XCTAssertEqual(ExtendedAttributes.namespace(of: bytes("users.a")), .failure(.EOPNOTSUPP))
        XCTAssertEqual(ExtendedAttributes.namespace(of: []), .failure(.ERANGE))
        XCTAssertEqual(ExtendedAttributes.namespace(of: [UInt8](repeating: 0x61, count: 256)), .failure(.ERANGE))
    }

    func testCreateReplaceAndRemove() {
        var x = ExtendedAttributes()
        XCTAssertEqual(x.set(bytes("user.a"), bytes("v"), flags: 0, available: nil), .success(40 + 1 + 6))
        XCTAssertEqual(x.set(bytes("user.a"), bytes("w"), flags: ExtendedAttributes.create, available: nil), .failure(.EEXIST))
        XCTAssertEqual(x.set(bytes("user.b"), bytes("w"), flags: ExtendedAttributes.replace, available: nil), .failure(.ENODATA))
        XCTAssertEqual(x.set(bytes("user.a"), bytes("w"), flags: 8, available: nil), .failure(.EINVAL))
        // Replacing with a longer value charges only the difference.
        XCTAssertEqual(x.set(bytes("user.a"), bytes("wxyz"), flags: ExtendedAttributes.replace, available: nil), .success(3))
        XCTAssertEqual(x.value(of: bytes("user.a")), bytes("wxyz"))
        XCTAssertEqual(x.remove(bytes("user.a")), .success(40 + 4 + 6))
        XCTAssertEqual(x.remove(bytes("user.a")), .failure(.ENODATA))
        XCTAssertTrue(x.isEmpty)
    }

    func testSizeLimitAndSpaceBudget() {
        var x = ExtendedAttributes()
        let max = [UInt8](repeating: 1, count: ExtendedAttributes.sizeMax)
        XCTAssertEqual(x.set(bytes("user.big"), max + [1], flags: 0, available: nil), .failure(.E2BIG))
        XCTAssertEqual(x.set(bytes("user.big"), max, flags: 0, available: 1000), .failure(.ENOSPC))
        XCTAssertNil(x.value(of: bytes("user.big")))
        XCTAssertEqual(x.set(bytes("user.s"), bytes("12345"), flags: 0, available: 51), .success(51))
        XCTAssertEqual(x.spaceUsed, 51)
        // A smaller replacement gives space back even with nothing available.
        XCTAssertEqual(x.set(bytes("user.s"), bytes("1"), flags: 0, available: 0), .success(-4))
    }

    func testListIsSortedAndHidesTrustedFromTheUnprivileged() {
        var x = ExtendedAttributes()
        for n in ["user.z", "trusted.t", "security.s", "user.a"] {
            XCTAssertEqual(x.set(bytes(n), [], flags: 0, available: nil).map { _ in 0 }, .success(0))
        }
        XCTAssertEqual(x.list(showTrusted: true), bytes("security.s\0trusted.t\0user.a\0user.z\0"))
        XCTAssertEqual(x.list(showTrusted: false), bytes("security.s\0user.a\0user.z\0"))
    }

    // MARK: through dispatch

    var k: TestKernel!
    override func setUp() { k = TestKernel() }
    static let atFDCWD = UInt64(bitPattern: -100)

    func makeFile(_ name: String) -> Int {
        let p = k.pokeString(name, at: 0)
        guard case .success(let fd) = k.call(.openat, Self.atFDCWD, p, 0o102, 0o644) else { XCTFail("open"); return -1 }
        return fd
    }

    func testGetxattrSizeQueryAndShortBuffer() {
        let fd = makeFile("/x")
        let name = k.pokeString("user.k", at: 512)
        let value = k.poke(bytes("value"), at: 1024)
        XCTAssertEqual(k.call(.fsetxattr, UInt64(fd), name, value, 5, 0), .success(0))
        let out = k.scratch + 4096
        XCTAssertEqual(k.call(.fgetxattr, UInt64(fd), name, out, 0), .success(5))
        XCTAssertEqual(k.call(.fgetxattr, UInt64(fd), name, out, 4), .failure(.ERANGE))
        XCTAssertEqual(k.call(.fgetxattr, UInt64(fd), name, out, 64), .success(5))
        XCTAssertEqual(k.peek(out, count: 5), bytes("value"))
        XCTAssertEqual(k.call(.flistxattr, UInt64(fd), out, 0), .success(7))
        XCTAssertEqual(k.call(.flistxattr, UInt64(fd), out, 6), .failure(.ERANGE))
        // The space is charged to the file system and returned with the attribute.
        let store = k.state.files.fileSystem.root.contents.store
        let before = store.xattrSpaceInUse
        XCTAssertEqual(k.call(.fremovexattr, UInt64(fd), name), .success(0))
        XCTAssertEqual(store.xattrSpaceInUse, before - (40 + 5 + 6))
    }

    func testPreadv2RejectsUnknownFlagsAndNegativeOffsets() {
        let fd = makeFile("/v")
        let iov = k.poke(ByteWriter.iovec(k.scratch + 8192, 4), at: 2048)
        XCTAssertEqual(k.call(.preadv2, UInt64(fd), iov, 1, 0, 0, 0x100), .failure(.EOPNOTSUPP))
        XCTAssertEqual(k.call(.preadv, UInt64(fd), iov, 1, UInt64(bitPattern: -2)), .failure(.EINVAL))
        XCTAssertEqual(k.call(.preadv2, UInt64(fd), iov, 1, UInt64(bitPattern: -1), 0, 0), .success(0))
    }

    func testOldDirentHasTheTypeInTheLastByte() {
        let r = LegacyFileSyscalls.record(inode: 7, offset: 3, type: DirentType.DT_REG, name: bytes("abc"))
        XCTAssertEqual(r.count, 24)   // ALIGN(18 + 3 + 2, 8)
        XCTAssertEqual(r[16], 24)
        XCTAssertEqual(Array(r[18..<22]), bytes("abc") + [0])
        XCTAssertEqual(r[23], DirentType.DT_REG)
    }
}

extension ByteWriter {
    /// One struct iovec.
    static func iovec(_ base: UInt64, _ length: Int) -> [UInt8] {
        var w = ByteWriter()
        w.u64(base)
        w.u64(UInt64(length))
        return w.bytes
    }
}
