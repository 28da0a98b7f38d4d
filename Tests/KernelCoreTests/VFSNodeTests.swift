// VFSNodeTests — special inodes through syscall dispatch on a TestKernel: FIFOs made by
// mknod (fifo(7) open rules, one shared pipe, S_IFIFO), /dev/fb0 as a character-device
// node, O_TMPFILE with linkat(AT_EMPTY_PATH), and sendfile into a pipe
// (Sources/KernelCore/VFS/Fifo.swift, CharacterDevice.swift, Devices/FramebufferNode.swift,
// Syscalls/PathSyscalls.swift, FileSyscalls.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class VFSNodeTests: XCTestCase {
    static let atFDCWD = UInt64(bitPattern: -100)
    static let oNonblock: UInt64 = 0o4000, oExcl: UInt64 = 0o200, oCreat: UInt64 = 0o100
    static let oTmpfile: UInt64 = 0o20200000, oDirectory: UInt64 = 0o200000
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    func path(_ s: String, slot: UInt64 = 0) -> UInt64 { k.pokeString(s, at: 32_768 + slot * 4096) }

    func open(_ s: String, _ flags: UInt64, _ mode: UInt64 = 0o666) -> SyscallResult {
        k.call(.openat, Self.atFDCWD, path(s), flags, mode)
    }

    func write(_ fd: Int, _ text: String) -> SyscallResult {
        let bytes = Array(text.utf8)
        return k.call(.write, UInt64(fd), k.poke(bytes, at: 16_384), UInt64(bytes.count))
    }

    func read(_ fd: Int, _ count: Int) -> SyscallResult {
        k.call(.read, UInt64(fd), k.scratch + 20_000, UInt64(count))
    }

    func readText(_ fd: Int, _ count: Int) -> String? {
        guard let n = successValue(read(fd, count)) else { return nil }
        return String(decoding: k.peek(k.scratch + 20_000, count: n), as: UTF8.self)
    }

    func stat(_ s: String) -> Stat? {
        let buf = k.scratch + 24_000
        guard successValue(k.call(.newfstatat, Self.atFDCWD, path(s, slot: 1), buf, 0)) != nil else { return nil }
        return try? Stat.decode(from: k.peek(buf, count: Stat.byteSize))
    }

    func fstat(_ fd: Int) -> Stat? {
        let buf = k.scratch + 24_000
        guard successValue(k.call(.fstat, UInt64(fd), buf)) != nil else { return nil }
        return try? Stat.decode(from: k.peek(buf, count: Stat.byteSize))
    }

    /// poll(2) on one descriptor with timeout 0: the revents.
    func poll(_ fd: Int, _ events: UInt16) -> UInt16? {
        let buf = k.scratch + 28_000
        var w = ByteWriter()
        w.u32(UInt32(fd)); w.u16(events); w.u16(0)
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: w.bytes))
        guard successValue(k.call(.poll, buf, 1, 0)) != nil else { return nil }
        let b = k.peek(buf, count: 8)
        return UInt16(b[6]) | UInt16(b[7]) << 8
    }

    func mkfifo(_ s: String) -> SyscallResult { k.call(.mknodat, Self.atFDCWD, path(s), UInt64(FileMode.S_IFIFO) | 0o666, 0) }

    // MARK: FIFOs

    func testMknodFifoReportsSIfifoAndOpenNonblockingRules() {
        assertSuccess(mkfifo("/tmp/f"), 0)
        XCTAssertEqual(stat("/tmp/f")?.mode.rawValue, FileMode.S_IFIFO | 0o644, "S_IFIFO, umask 022")
        assertFailure(mkfifo("/tmp/f"), .EEXIST)
        // fifo(7): a non-blocking writer with no reader is ENXIO.
        assertFailure(open("/tmp/f", 1 | Self.oNonblock), .ENXIO)
        // A non-blocking reader opens at once; with no writer it reads EOF and sees no hang-up
        // (no writer has come and gone since it opened).
        guard let r = successValue(open("/tmp/f", 0 | Self.oNonblock)) else { return }
        XCTAssertEqual(readText(r, 10), "")
        XCTAssertEqual(poll(r, 1), 0, "no POLLHUP before a writer has opened")
        guard let w = successValue(open("/tmp/f", 1 | Self.oNonblock)) else { return }
        assertFailure(read(r, 10), .EAGAIN)
        assertSuccess(write(w, "through the fifo"), 16)
        XCTAssertEqual(poll(r, 1), 1, "POLLIN")
        XCTAssertEqual(readText(r, 100), "through the fifo")
        XCTAssertEqual(fstat(r)?.mode.rawValue, FileMode.S_IFIFO | 0o644)
        XCTAssertEqual(fstat(r)?.ino, stat("/tmp/f")?.ino, "the descriptor is the FIFO inode")
        assertSuccess(k.call(.fcntl, UInt64(w), 3), Int(1 | Self.oNonblock | 0o100000))  // F_GETFL
        assertFailure(write(r, "x"), .EBADF)
        assertFailure(read(w, 1), .EBADF)
        assertFailure(k.call(.lseek, UInt64(r), 0, 0), .ESPIPE)
        // The writer goes: EOF and POLLHUP for the reader.
        assertSuccess(k.call(.close, UInt64(w)), 0)
        XCTAssertEqual(readText(r, 10), "")
        XCTAssertEqual(poll(r, 1).map { $0 & 0x10 }, 0x10, "POLLHUP after the writer closed")
    }

    func testTwoOpensShareOnePipeAndReadWriteNeverBlocks() {
        assertSuccess(mkfifo("/tmp/shared"), 0)
        guard let both = successValue(open("/tmp/shared", 2)) else { return }   // O_RDWR: no wait
        guard let w = successValue(open("/tmp/shared", 1)) else { return }      // a reader exists: no wait
        assertSuccess(write(w, "one "), 4)
        assertSuccess(write(both, "two"), 3)
        XCTAssertEqual(readText(both, 100), "one two")
        XCTAssertEqual(poll(both, 5), 4, "O_RDWR end: writable, nothing to read")
        // The last close drops the pipe and any unread bytes (Linux frees pipe_inode_info).
        assertSuccess(write(w, "lost"), 4)
        assertSuccess(k.call(.close, UInt64(w)), 0)
        assertSuccess(k.call(.close, UInt64(both)), 0)
        guard let again = successValue(open("/tmp/shared", 2 | Self.oNonblock)) else { return }
        assertFailure(read(again, 10), .EAGAIN)
    }

    func testBlockingOpenInterruptedBySignalIsEINTRAndUndone() {
        assertSuccess(mkfifo("/tmp/wait"), 0)
        let thread = k.state.currentThread
        k.state.postThreadSignal(10, to: thread)   // SIGUSR1 pending: the wait gives up at once
        assertFailure(open("/tmp/wait", 0), .EINTR)
        assertFailure(open("/tmp/wait", 1), .EINTR)
        thread.pendingSignals = 0
        // The interrupted reader was taken back: a non-blocking writer still finds none.
        assertFailure(open("/tmp/wait", 1 | Self.oNonblock), .ENXIO)
        XCTAssertNil(k.state.files.fileSystem.root.lookup(Array("tmp".utf8))?.lookup(Array("wait".utf8))?.fifoChannel,
                     "no pipe is left behind")
    }

    func testFifoInFilesArchiveOpensToo() {
        // A FIFO from --files (cpio) is the same kind of inode as one from mknod.
        let fifo = k.state.files.fileSystem.makeInode(.fifo, permissions: 0o600)
        k.state.files.fileSystem.place(fifo, at: Array("/srv/pipe".utf8))
        guard let fd = successValue(open("/srv/pipe", 2)) else { return }
        assertSuccess(write(fd, "ok"), 2)
        XCTAssertEqual(readText(fd, 10), "ok")
    }

    // MARK: /dev/fb0

    func testFramebufferIsACharacterDeviceNode() {
        assertFailure(open("/dev/fb0", 2), .ENOENT)   // no framebuffer, no node
        let device = FramebufferDevice(description: FramebufferDescription(
            physicalAddress: 0xFD00_0000, width: 640, height: 480, pitch: 2560, bitsPerPixel: 32))
        device.install(in: k.state)
        guard let s = stat("/dev/fb0") else { return }
        XCTAssertEqual(s.mode.rawValue, FileMode.S_IFCHR | 0o660)
        XCTAssertEqual(s.rdev, encodeDeviceNumber(major: 29, minor: 0))
        // ls -l /dev: getdents64 lists fb0 as DT_CHR.
        guard let dev = successValue(open("/dev", Self.oDirectory)) else { return }
        let buf = k.scratch + 40_000
        guard let n = successValue(k.call(.getdents64, UInt64(dev), buf, 4096)) else { return }
        let bytes = k.peek(buf, count: n)
        var offset = 0, found: UInt8? = nil
        while offset < n {
            let length = Int(bytes[offset + 16]) | Int(bytes[offset + 17]) << 8
            let name = bytes[(offset + 19)...].prefix { $0 != 0 }
            if Array(name) == Array("fb0".utf8) { found = bytes[offset + 18] }
            offset += length
        }
        XCTAssertEqual(found, DirentType.DT_CHR)
        // open and ioctl go to the device through the node.
        guard let fd = successValue(open("/dev/fb0", 2)) else { return }
        XCTAssertEqual(fstat(fd)?.rdev, encodeDeviceNumber(major: 29, minor: 0))
        assertSuccess(k.call(.ioctl, UInt64(fd), 0x4600, k.scratch), 0)
        let v = ByteReader(k.peek(k.scratch, count: 160))
        XCTAssertEqual([v.u32(0), v.u32(4), v.u32(24)], [640, 480, 32])
        assertFailure(k.call(.ioctl, UInt64(fd), 0x5401, k.scratch), .ENOTTY)
        assertFailure(open("/dev/fb0", 2 | Self.oDirectory), .ENOTDIR)
        assertFailure(open("/dev/fb0", 2 | Self.oCreat | Self.oExcl), .EEXIST)
        // Installing twice keeps one node.
        let inode = device.install(in: k.state)
        XCTAssertEqual(inode.number, s.ino)
    }

    // MARK: O_TMPFILE

    func testTmpfileIsUnnamedUntilLinked() {
        guard let fd = successValue(open("/tmp", Self.oTmpfile | 2, 0o600)) else { return }
        assertSuccess(write(fd, "scratch data"), 12)
        assertSuccess(k.call(.lseek, UInt64(fd), 0, 0), 0)
        XCTAssertEqual(readText(fd, 100), "scratch data")
        XCTAssertEqual(fstat(fd)?.nlink, 0)
        XCTAssertEqual(fstat(fd)?.mode.rawValue, FileMode.S_IFREG | 0o600)
        XCTAssertEqual(k.state.files.fileSystem.root.lookup(Array("tmp".utf8))?.entries.count, 0, "no name in /tmp")
        // linkat(fd, "", AT_FDCWD, "/tmp/kept", AT_EMPTY_PATH) names it.
        assertSuccess(k.call(.linkat, UInt64(fd), path("", slot: 2), Self.atFDCWD, path("/tmp/kept", slot: 3), 0x1000), 0)
        XCTAssertEqual(stat("/tmp/kept")?.size, 12)
        XCTAssertEqual(fstat(fd)?.nlink, 1)
        // Unlinked again, it cannot come back (I_LINKABLE is gone).
        assertSuccess(k.call(.unlink, path("/tmp/kept")), 0)
        assertFailure(k.call(.linkat, UInt64(fd), path("", slot: 2), Self.atFDCWD, path("/tmp/again", slot: 3), 0x1000), .ENOENT)
    }

    func testTmpfileErrorRules() {
        assertFailure(open("/tmp", Self.oTmpfile | 0), .EINVAL)                    // read-only
        assertFailure(open("/tmp", Self.oTmpfile | 2 | Self.oCreat), .EINVAL)      // O_CREAT
        assertFailure(open("/tmp", 0o20000000 | 2), .EINVAL)                        // __O_TMPFILE without O_DIRECTORY
        assertFailure(open("/nonexistent", Self.oTmpfile | 2), .ENOENT)
        assertSuccess(k.call(.mknodat, Self.atFDCWD, path("/tmp/file"), UInt64(FileMode.S_IFREG) | 0o644, 0), 0)
        assertFailure(open("/tmp/file", Self.oTmpfile | 2), .ENOTDIR)
        assertFailure(open("/proc", Self.oTmpfile | 2), .EOPNOTSUPP)
        // O_EXCL: never linkable.
        guard let fd = successValue(open("/tmp", Self.oTmpfile | 1 | Self.oExcl)) else { return }
        assertFailure(k.call(.linkat, UInt64(fd), path("", slot: 2), Self.atFDCWD, path("/tmp/n", slot: 3), 0x1000), .ENOENT)
        // Without AT_EMPTY_PATH an empty path is ENOENT.
        assertFailure(k.call(.linkat, UInt64(fd), path("", slot: 2), Self.atFDCWD, path("/tmp/n", slot: 3), 0), .ENOENT)
    }

    // MARK: sendfile

    func testSendfileIntoAPipeAndAFifo() {
        guard let src = successValue(open("/tmp/src", 2 | Self.oCreat)) else { return }
        assertSuccess(write(src, "0123456789"), 10)
        let fds = k.scratch + 30_000
        assertSuccess(k.call(.pipe2, fds, 0), 0)
        let pair = k.peek(fds, count: 8)
        let r = Int(pair[0]), w = Int(pair[4])
        let offset = k.poke(le64(2), at: 30_100)
        assertSuccess(k.call(.sendfile, UInt64(w), UInt64(src), offset, 5), 5)
        XCTAssertEqual(k.peek64(offset), 7, "*offset advanced")
        XCTAssertEqual(readText(r, 100), "23456")
        assertSuccess(k.call(.lseek, UInt64(src), 8, 0), 8)
        assertSuccess(k.call(.sendfile, UInt64(w), UInt64(src), 0, 100), 2)
        assertSuccess(k.call(.lseek, UInt64(src), 0, 1), 10)
        XCTAssertEqual(readText(r, 100), "89")
        // Into a FIFO, and EPIPE once nobody reads.
        assertSuccess(mkfifo("/tmp/sf"), 0)
        guard let fifo = successValue(open("/tmp/sf", 2)) else { return }
        assertSuccess(k.call(.sendfile, UInt64(fifo), UInt64(src), offset, 3), 3)
        XCTAssertEqual(readText(fifo, 100), "789")
        assertSuccess(k.call(.close, UInt64(r)), 0)
        k.state.signalHandlers[13] = 1   // SIG_IGN for SIGPIPE, as a careful program does
        XCTAssertNil(k.space.copyOut(UserAddress(offset), from: le64(0)))
        assertFailure(k.call(.sendfile, UInt64(w), UInt64(src), offset, 3), .EPIPE)
    }
}
