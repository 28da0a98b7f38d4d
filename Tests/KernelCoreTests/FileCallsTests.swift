// FileCallsTests — the file calls of issue 14 item 6 through dispatch on a TestKernel: the
// fsync family's errors, sync_file_range's checks, splice/tee/copy_file_range between pipes
// and files, mknod of character devices (egg's numbers work, others are ENXIO on open) and
// O_PATH descriptors refusing ioctl (Sources/KernelCore/Syscalls/FileSyncSyscalls.swift,
// SpliceSyscalls.swift, PathSyscalls.swift, VFS/MemFD.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class FileCallsTests: XCTestCase {
    static let atFDCWD = UInt64(bitPattern: -100)
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    func open(_ path: String, _ flags: UInt64, slot: UInt64 = 0) -> SyscallResult {
        k.call(.openat, Self.atFDCWD, k.pokeString(path, at: 32_768 + slot * 512), flags, 0o644)
    }

    func pipe() -> (Int, Int)? {
        let at = k.scratch + 40_000
        guard successValue(k.call(.pipe2, at, 0)) != nil else { return nil }
        let b = k.peek(at, count: 8)
        return (Int(b[0]), Int(b[4]))
    }

    func testFsyncIsEINVALOnPipesAndZeroOnFiles() {
        guard let fd = successValue(open("/tmp/s", 2 | 0o100)), let (r, w) = pipe() else { return XCTFail("setup") }
        assertSuccess(k.call(.fsync, UInt64(fd)), 0)
        assertSuccess(k.call(.fdatasync, UInt64(fd)), 0)
        assertFailure(k.call(.fsync, UInt64(r)), .EINVAL)
        assertSuccess(k.call(.syncfs, UInt64(w)), 0)
        assertFailure(k.call(.fsync, 99), .EBADF)
        assertFailure(k.call(.sync_file_range, UInt64(r), 0, 0, 0), .ESPIPE)
        assertFailure(k.call(.sync_file_range, UInt64(fd), 0, 0, 8), .EINVAL)
        assertFailure(k.call(.sync_file_range, UInt64(fd), UInt64(Int64.max), 10, 0), .EINVAL)
    }

    func testSpliceFileToPipeToFileAndTeeLeavesTheInput() {
        guard let src = successValue(open("/tmp/src", 2 | 0o100)), let dst = successValue(open("/tmp/dst", 2 | 0o100, slot: 1)),
              let (r, w) = pipe(), let (r2, w2) = pipe() else { return XCTFail("setup") }
        let text = k.poke(Array("abcdef".utf8), at: 16_384)
        assertSuccess(k.call(.write, UInt64(src), text, 6), 6)
        let offset = k.poke([1, 0, 0, 0, 0, 0, 0, 0], at: 16_500)
        assertSuccess(k.call(.splice, UInt64(src), offset, UInt64(w), 0, 4, 0), 4)
        XCTAssertEqual(k.peek(offset, count: 1), [5], "the offset pointer moved")
        assertSuccess(k.call(.tee, UInt64(r), UInt64(w2), 100, 0), 4)
        assertSuccess(k.call(.splice, UInt64(r), 0, UInt64(dst), 0, 100, 0), 4)
        assertSuccess(k.call(.pread64, UInt64(dst), k.scratch + 20_000, 10, 0), 4)
        XCTAssertEqual(k.peek(k.scratch + 20_000, count: 4), Array("bcde".utf8))
        assertSuccess(k.call(.read, UInt64(r2), k.scratch + 20_100, 10), 4)
        XCTAssertEqual(k.peek(k.scratch + 20_100, count: 4), Array("bcde".utf8), "tee copied")
        assertFailure(k.call(.splice, UInt64(src), 0, UInt64(dst), 0, 1, 0), .EINVAL)
        assertFailure(k.call(.splice, UInt64(r), 0, UInt64(w2), 0, 1, 2), .EAGAIN)
        assertSuccess(k.call(.copy_file_range, UInt64(src), 0, UInt64(dst), 0, 100, 0), 0)   // src's offset is at its end
        assertSuccess(k.call(.lseek, UInt64(src), 0, 0), 0)
        assertSuccess(k.call(.copy_file_range, UInt64(src), 0, UInt64(dst), 0, 100, 0), 6)
        assertFailure(k.call(.copy_file_range, UInt64(src), 0, UInt64(dst), 0, 100, 1), .EINVAL)
    }

    func testMknodCharacterDevicesByNumber() {
        let null = k.pokeString("/tmp/null", at: 32_768)
        assertSuccess(k.call(.mknod, null, UInt64(FileMode.S_IFCHR | 0o666), 0x103), 0)
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, null, 2, 0)) else { return XCTFail("open null") }
        assertSuccess(k.call(.write, UInt64(fd), k.scratch, 5), 5)
        assertSuccess(k.call(.read, UInt64(fd), k.scratch, 5), 0)
        let odd = k.pokeString("/tmp/odd", at: 33_768)
        assertSuccess(k.call(.mknod, odd, UInt64(FileMode.S_IFCHR | 0o600), (250 << 8) | 7), 0)
        assertFailure(k.call(.openat, Self.atFDCWD, odd, 0, 0), .ENXIO)
        guard let path = successValue(k.call(.openat, Self.atFDCWD, odd, 0o10000000, 0)) else { return XCTFail("O_PATH") }
        assertFailure(k.call(.ioctl, UInt64(path), 0x541B, k.scratch), .EBADF)   // FIONREAD
        XCTAssertEqual(DeviceKind.character(major: 1, minor: 9), .urandom)
        XCTAssertEqual(DeviceKind.character(major: 250, minor: 7).number.major, 250)
    }
}
