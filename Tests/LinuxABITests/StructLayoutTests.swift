// StructLayoutTests — the byte layouts LinuxABI encodes match x86-64 Linux: sizes, field
// offsets, and where Swift's Glibc module has the C structure, byte-for-byte equality with
// the C structure holding the same values (the host is x86-64 Linux, so glibc's kernel-facing
// structs share the kernel layout). The terminal layout is checked against a real TCGETS.
// Neighbours: NameTableTests.swift, FlagRenderingTests.swift.

import Glibc
import LinuxABI
import XCTest

/// The bytes of a C structure value.
private func bytesOf<T>(_ value: T) -> [UInt8] {
    var copy = value
    return withUnsafeBytes(of: &copy) { Array($0) }
}

private func readLE64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    var value: UInt64 = 0
    for index in 0..<8 { value |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
    return value
}

final class StructLayoutTests: XCTestCase {
    func testEncodedSizesMatchLinux() {
        XCTAssertEqual(Stat().encode().count, 144)
        XCTAssertEqual(Statx().encode().count, 256)
        XCTAssertEqual(Timespec(seconds: 1, nanoseconds: 2).encode().count, 16)
        XCTAssertEqual(Timeval(seconds: 1, microseconds: 2).encode().count, 16)
        XCTAssertEqual(Utsname(nodename: "egg", release: "6.1.0", version: "#1").encode().count, 390)
        XCTAssertEqual(Winsize(rows: 24, columns: 80).encode().count, 8)
        XCTAssertEqual(Termios.linuxDefault.encode().count, 36)
        XCTAssertEqual(Rlimit(current: 1, maximum: 2).encode().count, 16)
        XCTAssertEqual(Iovec(base: 1, length: 2).encode().count, 16)
        XCTAssertEqual(SigactionKernel().encode().count, 32)
        XCTAssertEqual(Sysinfo().encode().count, 112)
        XCTAssertEqual(Rusage().encode().count, 144)
        XCTAssertEqual(Tms().encode().count, 32)
        XCTAssertEqual(PollFd(fd: 0, events: 1).encode().count, 8)
        XCTAssertEqual(EpollEvent(events: 1, data: 2).encode().count, 12)
        XCTAssertEqual(SockaddrIn(port: 1, address: 2).encode().count, 16)
    }

    func testByteSizesAgreeWithEncoders() {
        XCTAssertEqual(Stat.byteSize, MemoryLayout<Glibc.stat>.size)
        XCTAssertEqual(Utsname.byteSize, MemoryLayout<utsname>.size)
        XCTAssertEqual(Rusage.byteSize, MemoryLayout<rusage>.size)
        XCTAssertEqual(Tms.byteSize, MemoryLayout<tms>.size)
        XCTAssertEqual(PollFd.byteSize, MemoryLayout<pollfd>.size)
        XCTAssertEqual(SockaddrIn.byteSize, MemoryLayout<sockaddr_in>.size)
        XCTAssertEqual(Rlimit.byteSize, MemoryLayout<rlimit>.size)
        XCTAssertEqual(Timespec.byteSize, MemoryLayout<timespec>.size)
    }

    func testStatIsByteIdenticalToGlibcStat() {
        var stat = Stat()
        stat.dev = 0x0102_0304_0506_0708
        stat.ino = 0x1112_1314_1516_1718
        stat.nlink = 3
        stat.mode = FileMode(FileMode.S_IFREG | 0o644)
        stat.uid = 1000
        stat.gid = 1001
        stat.rdev = encodeDeviceNumber(major: 4, minor: 64)
        stat.size = 123_456
        stat.blksize = 4096
        stat.blocks = 248
        stat.atime = Timespec(seconds: 1_700_000_000, nanoseconds: 1)
        stat.mtime = Timespec(seconds: 1_700_000_001, nanoseconds: 2)
        stat.ctime = Timespec(seconds: 1_700_000_002, nanoseconds: 999_999_999)

        var c = Glibc.stat()
        c.st_dev = UInt(stat.dev)
        c.st_ino = UInt(stat.ino)
        c.st_nlink = UInt(stat.nlink)
        c.st_mode = stat.mode.rawValue
        c.st_uid = stat.uid
        c.st_gid = stat.gid
        c.st_rdev = UInt(stat.rdev)
        c.st_size = Int(stat.size)
        c.st_blksize = Int(stat.blksize)
        c.st_blocks = Int(stat.blocks)
        c.st_atim = timespec(tv_sec: 1_700_000_000, tv_nsec: 1)
        c.st_mtim = timespec(tv_sec: 1_700_000_001, tv_nsec: 2)
        c.st_ctim = timespec(tv_sec: 1_700_000_002, tv_nsec: 999_999_999)
        XCTAssertEqual(stat.encode(), bytesOf(c))
        XCTAssertEqual(try Stat.decode(from: stat.encode()), stat)
    }

    /// fstat on a real file, then decode the kernel's bytes with our layout.
    func testStatDecodesWhatTheHostKernelWrote() throws {
        var c = Glibc.stat()
        guard lstat("/", &c) == 0 else { throw XCTSkip("stat(/) failed") }
        let decoded = try Stat.decode(from: bytesOf(c))
        XCTAssertTrue(decoded.mode.isDirectory)
        XCTAssertEqual(decoded.ino, UInt64(c.st_ino))
        XCTAssertEqual(decoded.nlink, UInt64(c.st_nlink))
        XCTAssertEqual(decoded.mtime.seconds, Int64(c.st_mtim.tv_sec))
        XCTAssertEqual(decoded.blocks, Int64(c.st_blocks))
    }

    func testDeviceNumbersFollowMakedev() {
        XCTAssertEqual(encodeDeviceNumber(major: 1, minor: 3), 0x103)
        XCTAssertEqual(encodeDeviceNumber(major: 136, minor: 0), 0x8800)
        let big = encodeDeviceNumber(major: 0x12345, minor: 0x6789a)
        XCTAssertEqual(decodeDeviceNumber(big).major, 0x12345)
        XCTAssertEqual(decodeDeviceNumber(big).minor, 0x6789a)
    }

    func testStatxFieldOffsets() {
        var statx = Statx()
        statx.mask = .STATX_BASIC_STATS
        statx.mode = UInt16(FileMode.S_IFDIR | 0o755)
        statx.ino = 0xAABB
        statx.size = 0x1122
        statx.mtime = StatxTimestamp(seconds: 77, nanoseconds: 5)
        statx.rdevMajor = 9
        statx.mountId = 0x4242
        statx.dioOffsetAlign = 512
        let bytes = statx.encode()
        XCTAssertEqual(bytes[0], 0xff)
        XCTAssertEqual(bytes[1], 0x07)
        XCTAssertEqual(bytes[28], 0xed)  // stx_mode low byte (0o40755 = 0x41ed)
        XCTAssertEqual(bytes[29], 0x41)
        XCTAssertEqual(readLE64(bytes, 32), 0xAABB)
        XCTAssertEqual(readLE64(bytes, 40), 0x1122)
        XCTAssertEqual(readLE64(bytes, 112), 77)
        XCTAssertEqual(bytes[120], 5)
        XCTAssertEqual(bytes[128], 9)
        XCTAssertEqual(readLE64(bytes, 144), 0x4242)
        XCTAssertEqual(bytes[156], 0x00)
        XCTAssertEqual(bytes[157], 0x02)
        XCTAssertEqual(Array(bytes[188...]), [UInt8](repeating: 0, count: 68))
    }

    func testStatxFromStat() {
        var stat = Stat()
        stat.mode = FileMode(FileMode.S_IFREG | 0o600)
        stat.size = 42
        stat.dev = encodeDeviceNumber(major: 8, minor: 1)
        let statx = Statx(stat)
        XCTAssertEqual(statx.size, 42)
        XCTAssertEqual(statx.mode, UInt16(FileMode.S_IFREG | 0o600))
        XCTAssertEqual(statx.devMajor, 8)
        XCTAssertEqual(statx.devMinor, 1)
    }

    func testUtsnameFields() {
        let uts = Utsname(nodename: "egg", release: "6.1.0-egg", version: "#1 SMP")
        let bytes = uts.encode()
        XCTAssertEqual(Array(bytes[0..<6]), Array("Linux\0".utf8))
        XCTAssertEqual(Array(bytes[65..<69]), Array("egg\0".utf8))
        XCTAssertEqual(Array(bytes[130..<139]), Array("6.1.0-egg".utf8))
        XCTAssertEqual(Array(bytes[260..<267]), Array("x86_64\0".utf8))
        XCTAssertEqual(Array(bytes[325..<332]), Array("(none)\0".utf8))
        // An overlong field is cut to 64 bytes and stays NUL-terminated.
        let long = Utsname(nodename: String(repeating: "n", count: 100), release: "", version: "")
        let longBytes = long.encode()
        XCTAssertEqual(longBytes.count, 390)
        XCTAssertEqual(longBytes[65 + 63], UInt8(ascii: "n"))
        XCTAssertEqual(longBytes[65 + 64], 0)
    }

    func testTermiosMatchesWhatLinuxReturnsForTCGETS() throws {
        let fd = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw XCTSkip("no /dev/ptmx") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0xAA, count: 64)
        guard ioctl(fd, UInt(TCGETS), &buffer) == 0 else { throw XCTSkip("TCGETS failed") }
        // The kernel writes exactly the 36-byte struct termios.
        XCTAssertEqual(Array(buffer[36...]), [UInt8](repeating: 0xAA, count: 28))
        let kernel = try Termios.decode(from: Array(buffer[0..<36]))
        XCTAssertEqual(kernel.encode(), Array(buffer[0..<36]))
        XCTAssertTrue(kernel.isCanonical)
        XCTAssertEqual(kernel.controlCharacters[TermiosBits.VINTR], 3)
        XCTAssertEqual(kernel.controlCharacters[TermiosBits.VERASE], 0x7f)
        XCTAssertEqual(kernel.controlCharacters[TermiosBits.VMIN], 1)
        // A fresh pty starts from tty_std_termios like our console default, except that
        // drivers/tty/pty.c sets c_cflag to B38400|CS8|CREAD (no HUPCL).
        var console = Termios.linuxDefault
        XCTAssertEqual(console.controlFlags & TermiosBits.HUPCL, TermiosBits.HUPCL)
        console.controlFlags &= ~TermiosBits.HUPCL
        XCTAssertEqual(kernel.encode(), console.encode())
    }

    func testTermiosDecodeRejectsShortInput() {
        XCTAssertThrowsError(try Termios.decode(from: [UInt8](repeating: 0, count: 35)))
        do {
            _ = try Termios.decode(from: [1, 2, 3])
            XCTFail("decoded three bytes")
        } catch {
            XCTAssertEqual(error, .truncated(offset: 0, needed: 4))
        }
    }

    func testEpollEventIsPacked() throws {
        let event = EpollEvent(events: 0x8000_0001, data: 0x0102_0304_0506_0708)
        XCTAssertEqual(event.encode(), [0x01, 0, 0, 0x80, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01])
        let pair = encodeArray([event, EpollEvent(events: 4, data: 9)])
        XCTAssertEqual(pair.count, 24)
        XCTAssertEqual(try EpollEvent.decodeArray(from: pair, count: 2)[1], EpollEvent(events: 4, data: 9))
    }

    func testSigactionLayout() throws {
        let action = SigactionKernel(handler: 0x401000, flags: [.SA_RESTORER, .SA_SIGINFO],
                                     restorer: 0x402000, mask: SignalSet([.SIGINT]))
        let bytes = action.encode()
        XCTAssertEqual(readLE64(bytes, 0), 0x401000)
        XCTAssertEqual(readLE64(bytes, 8), 0x0400_0004)
        XCTAssertEqual(readLE64(bytes, 16), 0x402000)
        XCTAssertEqual(readLE64(bytes, 24), 2)
        XCTAssertEqual(try SigactionKernel.decode(from: bytes), action)
    }

    func testPollFdAndIovecMatchGlibc() throws {
        let poll = PollFd(fd: 7, events: 0x1 | 0x4, revents: 0x10)
        XCTAssertEqual(poll.encode(), bytesOf(pollfd(fd: 7, events: 5, revents: 0x10)))
        let vectors = [Iovec(base: 0x1000, length: 5), Iovec(base: 0x2000, length: 7)]
        let bytes = encodeArray(vectors)
        XCTAssertEqual(bytes.count, 32)
        XCTAssertEqual(try Iovec.decodeArray(from: bytes, count: 2), vectors)
        XCTAssertThrowsError(try Iovec.decodeArray(from: bytes, count: 3))
    }

    func testSockaddrInMatchesGlibc() throws {
        let address = SockaddrIn(port: 8080, address: SockaddrIn.INADDR_LOOPBACK)
        var c = sockaddr_in()
        c.sin_family = sa_family_t(AF_INET)
        c.sin_port = in_port_t(8080).bigEndian
        c.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        XCTAssertEqual(address.encode(), bytesOf(c))
        XCTAssertEqual(try SockaddrIn.decode(from: bytesOf(c)), address)
    }

    func testRusageAndTimesMatchGlibc() {
        var usage = Rusage()
        usage.userTime = Timeval(seconds: 3, microseconds: 4)
        usage.maxrss = 2048
        usage.nivcsw = 9
        var c = rusage()
        c.ru_utime = timeval(tv_sec: 3, tv_usec: 4)
        c.ru_maxrss = 2048
        c.ru_nivcsw = 9
        XCTAssertEqual(usage.encode(), bytesOf(c))

        let times = Tms(userTime: 1, systemTime: 2, childrenUserTime: 3, childrenSystemTime: 4)
        XCTAssertEqual(times.encode(), bytesOf(tms(tms_utime: 1, tms_stime: 2, tms_cutime: 3, tms_cstime: 4)))
    }

    func testSysinfoOffsets() {
        var info = Sysinfo()
        info.uptime = 5
        info.totalram = 0x1000
        info.procs = 3
        info.totalhigh = 0x77
        info.memUnit = 1
        let bytes = info.encode()
        XCTAssertEqual(readLE64(bytes, 0), 5)
        XCTAssertEqual(readLE64(bytes, 32), 0x1000)
        XCTAssertEqual(bytes[80], 3)
        XCTAssertEqual(readLE64(bytes, 88), 0x77)
        XCTAssertEqual(bytes[104], 1)
    }

    func testWinsizeAndRlimitRoundTrip() throws {
        let size = Winsize(rows: 24, columns: 80)
        XCTAssertEqual(size.encode(), [24, 0, 80, 0, 0, 0, 0, 0])
        XCTAssertEqual(try Winsize.decode(from: size.encode()), size)
        let limit = Rlimit(current: 8 << 20, maximum: RlimitResource.RLIM_INFINITY)
        XCTAssertEqual(bytesOf(rlimit(rlim_cur: 8 << 20, rlim_max: UInt.max)), limit.encode())
        XCTAssertEqual(try Rlimit.decode(from: limit.encode()), limit)
    }

    func testDirent64Records() {
        let dot = Dirent64(inode: 2, offset: 1, type: DirentType.DT_DIR, name: ".")
        XCTAssertEqual(dot.recordLength, 24)
        let bytes = dot.encode()
        XCTAssertEqual(bytes.count, 24)
        XCTAssertEqual(readLE64(bytes, 0), 2)
        XCTAssertEqual(readLE64(bytes, 8), 1)
        XCTAssertEqual(bytes[16], 24)
        XCTAssertEqual(bytes[18], DirentType.DT_DIR)
        XCTAssertEqual(bytes[19], UInt8(ascii: "."))
        XCTAssertEqual(bytes[20], 0)
        // 19 + 5 + NUL = 25 → 32; 19 + 12 + NUL = 32 stays 32; 19 + 13 + NUL = 33 → 40.
        XCTAssertEqual(Dirent64(inode: 1, offset: 2, type: 8, name: "hello").recordLength, 32)
        XCTAssertEqual(Dirent64(inode: 1, offset: 2, type: 8, name: "twelve_chars").recordLength, 32)
        XCTAssertEqual(Dirent64(inode: 1, offset: 2, type: 8, name: "thirteen_char").recordLength, 40)

        let entries = [dot, Dirent64(inode: 3, offset: 2, type: 4, name: ".."),
                       Dirent64(inode: 4, offset: 3, type: 8, name: "file.txt")]
        let packed = Dirent64.pack(entries, capacity: 50)
        XCTAssertEqual(packed.count, 2)
        XCTAssertEqual(packed.bytes.count, 48)
        XCTAssertEqual(Dirent64.pack(entries, capacity: 10).count, 0)
    }

    func testTimespecValidation() {
        XCTAssertTrue(Timespec(seconds: 1, nanoseconds: 999_999_999).isValid)
        XCTAssertFalse(Timespec(seconds: 1, nanoseconds: 1_000_000_000).isValid)
        XCTAssertFalse(Timespec(seconds: -1, nanoseconds: 0).isValid)
        XCTAssertEqual(Timespec(seconds: 2, nanoseconds: 5).totalNanoseconds, 2_000_000_005)
        XCTAssertEqual(Timespec(seconds: Int64.max, nanoseconds: 0).totalNanoseconds, UInt64.max)
        XCTAssertEqual(Timespec(totalNanoseconds: 1_500_000_000), Timespec(seconds: 1, nanoseconds: 500_000_000))
    }

    func testByteReaderAndWriter() throws {
        var writer = ByteWriter()
        writer.u8(1)
        writer.u16(0x0302)
        writer.i32(-2)
        writer.u64(0x0807_0605_0403_0201)
        writer.u16BigEndian(0x1234)
        writer.align(to: 8)
        XCTAssertEqual(writer.bytes, [1, 2, 3, 0xfe, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0x12, 0x34,
                                      0, 0, 0, 0, 0, 0, 0])
        var reader = ByteReader(writer.bytes)
        XCTAssertEqual(try reader.u8(), 1)
        XCTAssertEqual(try reader.u16(), 0x0302)
        XCTAssertEqual(try reader.i32(), -2)
        XCTAssertEqual(try reader.u64(), 0x0807_0605_0403_0201)
        XCTAssertEqual(try reader.u16BigEndian(), 0x1234)
        XCTAssertEqual(reader.remaining, 7)
        XCTAssertThrowsError(try reader.u64())
        XCTAssertEqual(reader.remaining, 7, "a failed read consumes nothing")
    }
}
