// VFSSyscallTests — the file syscalls through dispatch on a TestKernel: open flags and
// modes, the descriptor table (dup, CLOEXEC, fcntl), offsets, getdents64, stat, pipes
// with poll, devices, /proc, getcwd/chdir and MAP_PRIVATE file mappings
// (Sources/KernelCore/Syscalls/FileSyscalls.swift, PathSyscalls.swift, PollSyscalls.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class VFSSyscallTests: XCTestCase {
    static let atFDCWD = UInt64(bitPattern: -100)
    static let oCreat: UInt64 = 0o100, oExcl: UInt64 = 0o200, oTrunc: UInt64 = 0o1000
    static let oAppend: UInt64 = 0o2000, oDirectory: UInt64 = 0o200000, oNofollow: UInt64 = 0o400000
    static let oCloexec: UInt64 = 0o2000000
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    func path(_ s: String, slot: UInt64 = 0) -> UInt64 { k.pokeString(s, at: 32_768 + slot * 4096) }

    func open(_ s: String, _ flags: UInt64, _ mode: UInt64 = 0o666) -> SyscallResult {
        k.call(.openat, Self.atFDCWD, path(s), flags, mode)
    }

    func write(_ fd: Int, _ text: String) -> SyscallResult {
        let bytes = Array(text.utf8)
        let address = k.poke(bytes, at: 16_384)
        return k.call(.write, UInt64(fd), address, UInt64(bytes.count))
    }

    func read(_ fd: Int, _ count: Int) -> String? {
        guard let n = successValue(k.call(.read, UInt64(fd), k.scratch + 20_000, UInt64(count))) else { return nil }
        return String(decoding: k.peek(k.scratch + 20_000, count: n), as: UTF8.self)
    }

    func stat(_ s: String, nofollow: Bool = false) -> Stat? {
        let buf = k.scratch + 24_000
        guard successValue(k.call(.newfstatat, Self.atFDCWD, path(s, slot: 1), buf, nofollow ? 0x100 : 0)) != nil else { return nil }
        return try? Stat.decode(from: k.peek(buf, count: Stat.byteSize))
    }

    func testCreateWriteReadWithUmaskAndOffsets() {
        guard let fd = successValue(open("/tmp/f", 2 | Self.oCreat | Self.oExcl, 0o666)) else { return }
        XCTAssertEqual(fd, 3)
        assertSuccess(write(fd, "hello world"), 11)
        XCTAssertEqual(stat("/tmp/f")?.mode.rawValue, 0o100644, "umask 022 applied")
        XCTAssertEqual(stat("/tmp/f")?.size, 11)
        assertFailure(open("/tmp/f", 2 | Self.oCreat | Self.oExcl), .EEXIST)
        assertSuccess(k.call(.lseek, UInt64(fd), 6, 0), 6)
        XCTAssertEqual(read(fd, 100), "world")
        XCTAssertEqual(read(fd, 100), "", "end of file")
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch + 20_000, 5, 0), 5)
        XCTAssertEqual(k.peek(k.scratch + 20_000, count: 5), Array("hello".utf8))
        assertSuccess(k.call(.lseek, UInt64(fd), 0, 1), 11)  // pread leaves the offset
        guard let ap = successValue(open("/tmp/f", 1 | Self.oAppend)) else { return }
        assertSuccess(write(ap, "!"), 1)
        XCTAssertEqual(stat("/tmp/f")?.size, 12)
        guard let ro = successValue(open("/tmp/f", 0)) else { return }
        assertFailure(write(ro, "x"), .EBADF)
        assertFailure(k.call(.ftruncate, UInt64(ro), 0), .EINVAL)
        guard successValue(open("/tmp/f", 1 | Self.oTrunc)) != nil else { return }
        XCTAssertEqual(stat("/tmp/f")?.size, 0)
    }

    func testOpenFlagErrors() {
        assertFailure(open("/tmp", 1), .EISDIR)
        assertFailure(open("/tmp/none", 0), .ENOENT)
        assertFailure(open("/etc/x", Self.oCreat | 1), .ENOENT)  // no /etc without an archive
        assertFailure(open("/dev/null", Self.oDirectory), .ENOTDIR)
        assertFailure(open("/tmp", Self.oCreat | Self.oDirectory), .EINVAL)
        assertSuccess(k.call(.symlinkat, path("/tmp", slot: 1), Self.atFDCWD, path("/t")), 0)
        assertFailure(open("/t", Self.oNofollow), .ELOOP)
        XCTAssertNotNil(successValue(open("/t/", Self.oDirectory)))
        assertFailure(open("/proc/meminfo", 1), .EACCES)
        assertFailure(open("/proc/new", Self.oCreat | 1), .EACCES)
        assertFailure(k.call(.openat, 99, path("rel"), 0), .EBADF)
        XCTAssertNotNil(successValue(k.call(.openat, 99, path("/tmp"), 0)), "an absolute path ignores dirfd")
        let long = String(repeating: "a", count: 4096)
        assertFailure(k.call(.openat, Self.atFDCWD, k.pokeString(long, at: 40_000), 0), .ENAMETOOLONG)
    }

    func testDescriptorTableDupAndCloexec() {
        guard let fd = successValue(open("/tmp/d", 2 | Self.oCreat | Self.oCloexec)) else { return }
        assertSuccess(k.call(.fcntl, UInt64(fd), 1), 1)  // F_GETFD after O_CLOEXEC
        guard let d = successValue(k.call(.dup, UInt64(fd))) else { return }
        assertSuccess(k.call(.fcntl, UInt64(d), 1), 0)  // dup clears FD_CLOEXEC on the copy
        assertSuccess(write(fd, "abc"), 3)
        assertSuccess(k.call(.lseek, UInt64(d), 0, 1), 3)  // the offset is shared
        assertSuccess(k.call(.dup3, UInt64(fd), 10, Self.oCloexec), 10)
        assertSuccess(k.call(.fcntl, 10, 1), 1)
        assertFailure(k.call(.dup3, 10, 10, 0), .EINVAL)
        assertFailure(k.call(.dup3, 10, 11, 1), .EINVAL)
        assertSuccess(k.call(.fcntl, UInt64(fd), 1030, 20), 20)   // F_DUPFD_CLOEXEC
        assertSuccess(k.call(.fcntl, 20, 2, 0), 0)
        assertSuccess(k.call(.fcntl, 20, 1), 0)
        assertSuccess(k.call(.fcntl, UInt64(fd), 4, 0o4000), 0)  // F_SETFL O_NONBLOCK
        XCTAssertNotEqual((successValue(k.call(.fcntl, 10, 3)) ?? 0) & 0o4000, 0, "status flags are per description")
        assertSuccess(k.call(.close, 10), 0)
        assertFailure(k.call(.close, 10), .EBADF)
        assertFailure(k.call(.dup2, 99, 5), .EBADF)
        assertSuccess(k.call(.dup2, 1, 1), 1)
    }

    func testGetdents64ListsEntriesAndSurvivesRemoval() throws {
        for name in ["a", "b", "c"] { XCTAssertNotNil(successValue(open("/tmp/" + name, Self.oCreat | 1))) }
        guard let dir = successValue(open("/tmp", Self.oDirectory)) else { return }
        let buf = k.scratch + 28_000
        // Room for ".", ".." and "a" only (24 bytes each).
        guard let n = successValue(k.call(.getdents64, UInt64(dir), buf, 72)) else { return }
        XCTAssertEqual(n, 72)
        assertSuccess(k.call(.unlink, path("/tmp/a")), 0)
        assertSuccess(k.call(.unlink, path("/tmp/b")), 0)
        guard let m = successValue(k.call(.getdents64, UInt64(dir), buf, 4096)) else { return }
        let bytes = k.peek(buf, count: m)
        XCTAssertEqual(m, 24)
        XCTAssertEqual(bytes[19], 0x63, "only 'c' is left after the cursor")
        XCTAssertEqual(bytes[18], DirentType.DT_REG)
        assertSuccess(k.call(.getdents64, UInt64(dir), buf, 4096), 0)
        assertSuccess(k.call(.lseek, UInt64(dir), 0, 0), 0)
        assertFailure(k.call(.getdents64, UInt64(dir), buf, 8), .EINVAL)  // entries left, none fits
    }

    func testStatOfDevicesAndSymlinks() {
        XCTAssertEqual(stat("/dev/null")?.mode.rawValue, 0o020666)
        XCTAssertEqual(stat("/dev/null")?.rdev, encodeDeviceNumber(major: 1, minor: 3))
        XCTAssertEqual(stat("/proc/self", nofollow: true)?.mode.rawValue, 0o120777)
        XCTAssertEqual(stat("/proc/self")?.mode.rawValue, 0o040555)
        XCTAssertEqual(stat("/proc/self/exe", nofollow: true)?.size, Int64(TestKernel.executablePath.utf8.count))
        // The executable itself is not in the tree: following the link finds nothing.
        assertFailure(k.call(.newfstatat, Self.atFDCWD, path("/proc/self/exe"), k.scratch + 24_000, 0), .ENOENT)
    }

    /// statx reports STATX_MNT_ID as Linux does (egg's tree is one device, so one id).
    func testStatxReportsTheMountID() {
        func statx(_ s: String) -> ByteReader? {
            let buf = k.scratch + 20_000
            guard successValue(k.call(.statx, Self.atFDCWD, path(s), 0, 0x7ff, buf)) != nil else { return nil }
            return ByteReader(k.peek(buf, count: 256))
        }
        guard let root = statx("/"), let procRoot = statx("/proc"), let proc = statx("/proc/self") else {
            return XCTFail("statx failed")
        }
        XCTAssertEqual(root.u32(0), 0x7ff | 0x1000)           // stx_mask
        XCTAssertNotEqual(root.u64(0x90), 0)                  // stx_mnt_id
        XCTAssertEqual(procRoot.u64(0x90), proc.u64(0x90))
        // Each mount its own id, the one /proc/self/mountinfo shows (1 + the st_dev minor).
        XCTAssertNotEqual(root.u64(0x90), proc.u64(0x90))
        XCTAssertEqual(root.u64(0x90), 1 + UInt64(MountKind.tmpfs.deviceMinor))
    }

    func testDevicesReadAndWrite() {
        guard let null = successValue(open("/dev/null", 2)) else { return }
        assertSuccess(write(null, "discard"), 7)
        XCTAssertEqual(read(null, 10), "")
        guard let zero = successValue(open("/dev/zero", 0)) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(k.scratch + 20_000), from: [UInt8](repeating: 9, count: 8)))
        assertSuccess(k.call(.read, UInt64(zero), k.scratch + 20_000, 8), 8)
        XCTAssertEqual(k.peek(k.scratch + 20_000, count: 8), [UInt8](repeating: 0, count: 8))
        guard let random = successValue(open("/dev/urandom", 0)) else { return }
        assertSuccess(k.call(.read, UInt64(random), k.scratch + 20_000, 32), 32)
        XCTAssertNotEqual(k.peek(k.scratch + 20_000, count: 32), [UInt8](repeating: 0, count: 32))
        guard let tty = successValue(open("/dev/tty", 2)) else { return }
        assertSuccess(k.call(.ioctl, UInt64(tty), 0x5401, k.scratch + 20_000), 0)  // isatty(/dev/tty)
        assertFailure(k.call(.ioctl, UInt64(null), 0x5401, k.scratch + 20_000), .ENOTTY)
    }

    func testProcMeminfoHasTrueFigures() {
        guard let fd = successValue(open("/proc/meminfo", 0)) else { return }
        let text = read(fd, 4096) ?? ""
        let totalKB = k.state.frames.totalBytes / 1024
        XCTAssertTrue(text.hasPrefix("MemTotal:" + String(repeating: " ", count: 16 - 9 + 8 - String(totalKB).count) + String(totalKB) + " kB\n"), text)
        guard let cpu = successValue(open("/proc/cpuinfo", 0)) else { return }
        XCTAssertTrue((read(cpu, 4096) ?? "").contains("model name\t: egg virtual CPU"))
    }

    func testGetcwdChdirAndRelativePaths() {
        assertSuccess(k.call(.mkdir, path("/tmp/w"), 0o777), 0)
        assertSuccess(k.call(.chdir, path("/tmp/w")), 0)
        let buf = k.scratch + 20_000
        assertSuccess(k.call(.getcwd, buf, 100), 7)
        XCTAssertEqual(k.peek(buf, count: 7), Array("/tmp/w\0".utf8))
        assertFailure(k.call(.getcwd, buf, 6), .ERANGE)
        XCTAssertNotNil(successValue(open("rel", Self.oCreat | 1)))
        XCTAssertNotNil(stat("/tmp/w/rel"))
        assertFailure(k.call(.chdir, path("/tmp/w/rel")), .ENOTDIR)
        assertSuccess(k.call(.chdir, path("..")), 0)
        assertFailure(k.call(.rmdir, path("w")), .ENOTEMPTY)
        assertSuccess(k.call(.unlink, path("w/rel")), 0)
        assertSuccess(k.call(.chdir, path("w")), 0)
        assertSuccess(k.call(.rmdir, path("/tmp/w")), 0)
        assertFailure(k.call(.getcwd, buf, 100), .ENOENT)  // the working directory was removed
    }

    func testPipePollAndEOF() {
        let fds = k.scratch + 20_000
        assertSuccess(k.call(.pipe2, fds, 0o4000), 0)
        let r = Int(k.peek(fds, count: 1)[0]), w = Int(k.peek(fds + 4, count: 1)[0])
        let pollfds = k.poke([UInt8(r), 0, 0, 0, 1, 0, 0, 0, UInt8(w), 0, 0, 0, 4, 0, 0, 0], at: 30_000)
        assertSuccess(k.call(.poll, pollfds, 2, 0), 1)
        XCTAssertEqual(k.peek(pollfds + 6, count: 2), [0, 0], "empty pipe: no POLLIN")
        XCTAssertEqual(k.peek(pollfds + 14, count: 2), [4, 0], "POLLOUT")
        assertSuccess(write(w, "xy"), 2)
        assertSuccess(k.call(.poll, pollfds, 1, 0), 1)
        XCTAssertEqual(k.peek(pollfds + 6, count: 1)[0] & 1, 1)
        XCTAssertEqual(read(r, 10), "xy")
        assertSuccess(k.call(.close, UInt64(w)), 0)
        XCTAssertEqual(read(r, 10), "", "EOF once the writer is gone")
        let badfd = k.poke([99, 0, 0, 0, 1, 0, 0, 0], at: 30_100)
        assertSuccess(k.call(.poll, badfd, 1, 0), 1)
        XCTAssertEqual(k.peek(badfd + 6, count: 1)[0], 0x20, "POLLNVAL")
    }

    func testMapPrivateCopiesFileBytes() {
        guard let fd = successValue(open("/tmp/m", 2 | Self.oCreat)) else { return }
        assertSuccess(write(fd, "mapped!"), 7)
        guard let address = successValue(k.call(.mmap, 0, 8192, 1, 2, UInt64(fd), 0)) else { return }
        XCTAssertEqual(k.peek(UInt64(address), count: 8), Array("mapped!\0".utf8))
        XCTAssertFalse(k.space.map.isRangeAccessible(start: UInt64(address), length: 1, write: true), "PROT_READ kept")
        XCTAssertNotNil(successValue(k.call(.mmap, 0, 4096, 1, 1, UInt64(fd), 0)), "MAP_SHARED of a file (FileMappingTests)")
        assertFailure(k.call(.mmap, 0, 4096, 1, 2, 77, 0), .EBADF)
    }
}
