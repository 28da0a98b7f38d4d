// SyscallHandlerTests — built-in handlers driven through KernelState.dispatch with raw
// registers, as the syscall entry does (Sources/KernelCore/Syscalls/*.swift), on a
// TestKernel (Fakes.swift). Expected values follow the Linux man pages named per test.
@testable import KernelCore
import LinuxABI
import XCTest

final class SyscallHandlerTests: XCTestCase {
    var k: TestKernel!
    override func setUp() { k = TestKernel() }

    static let protRW: UInt64 = 3
    static let mapPrivateAnonymous: UInt64 = 0x22
    static let mapFixed: UInt64 = 0x10
    static let mapFixedNoReplace: UInt64 = 0x10_0000
    static let atFDCWD = UInt64(bitPattern: -100)

    func mmapAnonymous(_ address: UInt64 = 0, _ length: UInt64, prot: UInt64 = protRW,
                       extraFlags: UInt64 = 0) -> SyscallResult {
        k.call(.mmap, address, length, prot, Self.mapPrivateAnonymous | extraFlags, UInt64.max, 0)
    }

    // MARK: write(2), writev(2)

    func testWriteToStdoutReachesTheConsoleExactly() {
        let text = Array("hello, egg\n".utf8)
        let buf = k.poke(text)
        assertSuccess(k.call(.write, 1, buf, UInt64(text.count)), text.count)
        XCTAssertEqual(k.platform.consoleOutput, text)
        assertSuccess(k.call(.write, 2, buf, 5), 5)
        XCTAssertEqual(k.platform.consoleText, "hello, egg\nhello")
        assertSuccess(k.call(.write, 1, buf, 0), 0)
        XCTAssertEqual(k.platform.consoleOutput.count, text.count + 5)
    }

    func testLargeWriteCrossesPagesAndChunks() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let buf = k.poke(data, at: 100)
        assertSuccess(k.call(.write, 1, buf, UInt64(data.count)), data.count)
        XCTAssertEqual(k.platform.consoleOutput, data)
    }

    func testWriteWithBadPointerIsEFAULT() {
        assertFailure(k.call(.write, 1, 0, 4), .EFAULT)
        assertFailure(k.call(.write, 1, kernelWindowBase, 4), .EFAULT)
        assertFailure(k.call(.write, 1, 0xFFFF_8000_0000_0000, 4), .EFAULT)
        XCTAssertTrue(k.platform.consoleOutput.isEmpty)
    }

    func testWriteRunningOffTheMappingReturnsWhatWasWritten() {
        // write(2): a partial write returns the bytes written before the fault.
        let end = k.scratch + TestKernel.scratchLength
        let buf = end - 4096
        assertSuccess(k.call(.write, 1, buf, 8192), 4096)
        XCTAssertEqual(k.platform.consoleOutput.count, 4096)
    }

    func testWriteToInvalidOrClosedDescriptorIsEBADF() {
        let buf = k.poke([1, 2, 3])
        assertFailure(k.call(.write, 7, buf, 3), .EBADF)
        assertFailure(k.call(.write, UInt64(bitPattern: -1), buf, 3), .EBADF)
        assertFailure(k.call(.write, 100_000, buf, 3), .EBADF)
        assertSuccess(k.call(.close, 1), 0)
        assertFailure(k.call(.write, 1, buf, 3), .EBADF)
        assertFailure(k.call(.close, 1), .EBADF)
        assertSuccess(k.call(.write, 2, buf, 3), 3)
        XCTAssertEqual(k.platform.consoleOutput, [1, 2, 3])
    }

    func testWritevGathersInOrder() {
        let a = k.poke(Array("one ".utf8), at: 0)
        let b = k.poke(Array("two ".utf8), at: 4090)  // spans a page boundary
        let c = k.poke(Array("three".utf8), at: 8000)
        let iov = k.poke(le64(a, 4, 0, 0, b, 4, c, 5), at: 12_000)  // the empty vector is skipped
        assertSuccess(k.call(.writev, 1, iov, 4), 13)
        XCTAssertEqual(k.platform.consoleText, "one two three")
    }

    func testWritevErrors() {
        let iov = k.poke(le64(k.scratch, 4), at: 0)
        assertFailure(k.call(.writev, 1, 0, 1), .EFAULT)
        assertFailure(k.call(.writev, 1, iov, 1025), .EINVAL)  // IOV_MAX
        assertFailure(k.call(.writev, 9, iov, 1), .EBADF)
        let negative = k.poke(le64(k.scratch, UInt64(bitPattern: -1)), at: 64)
        assertFailure(k.call(.writev, 1, negative, 1), .EINVAL)
        let badBase = k.poke(le64(0x10, 4), at: 128)
        assertFailure(k.call(.writev, 1, badBase, 1), .EFAULT)
        assertSuccess(k.call(.writev, 1, iov, 0), 0)
        XCTAssertTrue(k.platform.consoleOutput.isEmpty)
    }

    func testWritevLengthsOverflowingSsizeTAreEFAULTNotATrap() {
        // Regression: the kernel summed iov_len with a trapping `+` and died on this guest
        // input. Linux (__import_iovec, checked natively on 6.18) refuses each segment that
        // is not user memory with EFAULT before summing, so a sum past ssize_t cannot occur.
        let half = UInt64(Int64.max / 2 + 1)
        let iov = k.poke(le64(k.scratch, half, k.scratch, half), at: 0)
        assertFailure(k.call(.writev, 1, iov, 2), .EFAULT)
        let max = k.poke(le64(k.scratch, UInt64(Int64.max), k.scratch, UInt64(Int64.max),
                              k.scratch, UInt64(Int64.max)), at: 64)
        assertFailure(k.call(.writev, 1, max, 3), .EFAULT)
        assertFailure(k.call(.readv, 0, max, 3), .EFAULT)
        XCTAssertTrue(k.platform.consoleOutput.isEmpty)
    }

    // MARK: read(2)

    func testReadFromConsole() {
        k.platform.consoleInput = Array("typed\n\u{4}".utf8)
        let buf = k.scratch + 200
        assertSuccess(k.call(.read, 0, buf, 100), 6)
        XCTAssertEqual(k.peek(buf, count: 7), Array("typed\n".utf8) + [0])
        assertSuccess(k.call(.read, 0, buf, 100), 0)  // ^D at the start of a line: end of input
    }

    // MARK: brk(2)

    func testBrkGrowAndShrink() {
        k.space.map.initializeBreak(imageEnd: 0x60_1234)
        assertSuccess(k.call(.brk, 0), 0x60_2000)
        assertFailure(k.space.copyIn(UserAddress(0x60_2000), count: 1), .EFAULT)
        assertSuccess(k.call(.brk, 0x60_5800), 0x60_5800)
        XCTAssertNil(k.space.copyOut(UserAddress(0x60_2000), from: [UInt8](repeating: 0x5A, count: 0x3800)))
        assertSuccess(k.space.copyIn(UserAddress(0x60_57FF), count: 2), [0x5A, 0])  // rest of last page
        assertFailure(k.space.copyIn(UserAddress(0x60_6000), count: 1), .EFAULT)
        let before = k.machine.freeFrames
        assertSuccess(k.call(.brk, 0x60_3000), 0x60_3000)
        XCTAssertEqual(k.machine.freeFrames - before, 3, "three heap pages freed")
        assertSuccess(k.space.copyIn(UserAddress(0x60_2FFF), count: 1), [0x5A])
        assertFailure(k.space.copyIn(UserAddress(0x60_3000), count: 1), .EFAULT)
        // Growing again gives zeroes, not the old contents.
        assertSuccess(k.call(.brk, 0x60_4000), 0x60_4000)
        assertSuccess(k.space.copyIn(UserAddress(0x60_3000), count: 1), [0])
        // Below the start: refused, the break is unchanged.
        assertSuccess(k.call(.brk, 0x50_0000), 0x60_4000)
    }

    func testBrkCannotGrowIntoAnotherMapping() {
        k.space.map.initializeBreak(imageEnd: 0x60_0000)
        XCTAssertNotNil(successValue(mmapAnonymous(0x60_4000, 4096, extraFlags: Self.mapFixed)))
        assertSuccess(k.call(.brk, 0x60_8000), 0x60_0000)
    }

    // MARK: mmap(2), munmap(2), mprotect(2)

    func testMmapAnonymousIsPageAlignedAndZeroed() {
        k.machine.dirtyFreeFrames()
        guard let address = successValue(mmapAnonymous(0, 3 * 4096 + 5)) else { return }
        let a = UInt64(address)
        XCTAssertEqual(a & 0xFFF, 0)
        XCTAssertGreaterThanOrEqual(a, ProgramLoader.layout.mmapMin)
        XCTAssertLessThanOrEqual(a + 4 * 4096, ProgramLoader.layout.userTop)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 4 * 4096), [UInt8](repeating: 0, count: 4 * 4096))
        XCTAssertNil(k.space.copyOut(UserAddress(a + 4 * 4096 - 1), from: [1]), "length rounds up to pages")
        guard let second = successValue(mmapAnonymous(0, 4096)) else { return }
        XCTAssertFalse(AddressRange(start: a, end: a + 4 * 4096).contains(UInt64(second)))
    }

    func testMmapHintIsUsedWhenFree() {
        assertSuccess(mmapAnonymous(0x4000_0000, 4096), 0x4000_0000)
    }

    func testMapFixedReplacesAndFreesTheOldPages() {
        guard let address = successValue(mmapAnonymous(0, 2 * 4096)) else { return }
        let a = UInt64(address)
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 9, count: 8192)))
        let before = k.machine.freeFrames
        assertSuccess(mmapAnonymous(a, 4096, extraFlags: Self.mapFixed), address)
        XCTAssertEqual(k.machine.freeFrames - before, 1, "the replaced page's frame is freed")
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [0])
        assertSuccess(k.space.copyIn(UserAddress(a + 4096), count: 1), [9])
    }

    func testMapFixedNoReplaceOnAMappingIsEEXIST() {
        guard let address = successValue(mmapAnonymous(0, 2 * 4096)) else { return }
        assertFailure(mmapAnonymous(UInt64(address) + 4096, 4096, extraFlags: Self.mapFixedNoReplace), .EEXIST)
        // Mappings are placed top-down, so the page below is free.
        assertSuccess(mmapAnonymous(UInt64(address) - 4096, 4096, extraFlags: Self.mapFixedNoReplace),
                      address - 4096)
    }

    func testMmapArgumentErrors() {
        assertFailure(mmapAnonymous(0, 4096, prot: 0x8), .EINVAL)        // unknown prot bit
        assertFailure(mmapAnonymous(0, 0), .EINVAL)                      // zero length
        assertFailure(k.call(.mmap, 0, 4096, 3, 0x20, UInt64.max, 0), .EINVAL)  // neither shared nor private
        assertFailure(mmapAnonymous(0x4000_0100, 4096, extraFlags: Self.mapFixed), .EINVAL)  // unaligned fixed
        assertFailure(k.call(.mmap, 0, 4096, 3, 0x22, UInt64.max, 0x10), .EINVAL)  // unaligned offset
        assertFailure(k.call(.mmap, 0, 4096, 1, 0x02, 99, 0), .EBADF)     // file mapping, bad fd
        assertFailure(k.call(.mmap, 0, 4096, 1, 0x02, 1, 0), .ENODEV)     // the console cannot be mapped
    }

    func testMunmapThenAccessIsEFAULT() {
        guard let address = successValue(mmapAnonymous(0, 3 * 4096)) else { return }
        let a = UInt64(address)
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 1, count: 3 * 4096)))
        let before = k.machine.freeFrames
        assertSuccess(k.call(.munmap, a + 4096, 4096), 0)
        XCTAssertEqual(k.machine.freeFrames - before, 1)
        assertFailure(k.space.copyIn(UserAddress(a + 4096), count: 1), .EFAULT)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [1])
        assertSuccess(k.space.copyIn(UserAddress(a + 8192), count: 1), [1])
        let buf = a + 4096
        assertFailure(k.call(.write, 1, buf, 1), .EFAULT)
        assertFailure(k.call(.munmap, a + 1, 4096), .EINVAL)
        assertSuccess(k.call(.munmap, a + 4096, 4096), 0)  // unmapping a hole is fine
    }

    func testMprotectReadOnlyThenCopyOutIsEFAULT() {
        guard let address = successValue(mmapAnonymous(0, 2 * 4096)) else { return }
        let a = UInt64(address)
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [4, 5, 6]))
        assertSuccess(k.call(.mprotect, a, 4096, 1), 0)
        XCTAssertEqual(k.space.copyOut(UserAddress(a), from: [1]), .EFAULT)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 3), [4, 5, 6])
        XCTAssertNil(k.space.copyOut(UserAddress(a + 4096), from: [1]), "second page still writable")
        // A read-only buffer is fine for write(2) but not as a read(2) target.
        assertSuccess(k.call(.write, 1, a, 3), 3)
        k.platform.consoleInput = Array("x\n".utf8)
        assertFailure(k.call(.read, 0, a, 1), .EFAULT)
        assertSuccess(k.call(.mprotect, a, 4096, 3), 0)
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [1]))
    }

    func testMprotectErrors() {
        guard let address = successValue(mmapAnonymous(0x5000_0000, 4096, extraFlags: Self.mapFixed)) else { return }
        assertFailure(k.call(.mprotect, UInt64(address), 4096, 0x8), .EINVAL)
        assertFailure(k.call(.mprotect, UInt64(address) + 1, 4096, 1), .EINVAL)
        assertFailure(k.call(.mprotect, UInt64(address), 2 * 4096, 1), .ENOMEM)  // runs into a hole
    }

    func testMadviseDontNeedZeroesAnonymousPages() {
        guard let address = successValue(mmapAnonymous(0, 2 * 4096)) else { return }
        let a = UInt64(address)
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 3, count: 8192)))
        assertSuccess(k.call(.madvise, a, 4096, 4), 0)  // MADV_DONTNEED
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [0])
        assertSuccess(k.space.copyIn(UserAddress(a + 4096), count: 1), [3])
        assertFailure(k.call(.madvise, a + 1, 4096, 4), .EINVAL)
        assertFailure(k.call(.madvise, a, 4096, 999), .EINVAL)
    }

    // MARK: uname(2), sysinfo(2)

    func testUnameFieldsAreAt65ByteOffsets() {
        let buf = k.scratch + 1000
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: [UInt8](repeating: 0xEE, count: 400)))
        assertSuccess(k.call(.uname, buf), 0)
        let b = k.peek(buf, count: 400)
        func field(_ i: Int) -> String {
            let slice = b[(i * 65)..<(i * 65 + 65)]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
        XCTAssertEqual(field(0), "Linux")
        XCTAssertEqual(field(1), "egg")
        XCTAssertTrue(field(2).hasPrefix("6."), field(2))
        XCTAssertEqual(field(4), "x86_64")
        for i in 0..<6 { XCTAssertEqual(b[i * 65 + 64], 0, "field \(i) NUL-terminated") }
        XCTAssertEqual(b[390], 0xEE, "struct utsname is 390 bytes")
        assertFailure(k.call(.uname, 0), .EFAULT)
    }

    func testSysinfoReportsMemory() {
        let buf = k.scratch + 2000
        assertSuccess(k.call(.sysinfo, buf), 0)
        let r = ByteReader(k.peek(buf, count: 112))
        XCTAssertEqual(r.u64(32), k.machine.pool.totalBytes)
        XCTAssertLessThanOrEqual(r.u64(40), r.u64(32))
        XCTAssertGreaterThan(r.u64(40), 0)
        XCTAssertEqual(r.u32(104), 1, "mem_unit")
    }

    // MARK: clock_gettime(2)

    func testClockGettimeRealtimeAndMonotonic() {
        let buf = k.scratch + 3000
        assertSuccess(k.call(.clock_gettime, 0, buf), 0)
        let r = ByteReader(k.peek(buf, count: 16))
        XCTAssertEqual(r.i64(0), 1_764_000_000)
        XCTAssertEqual(r.i64(8), 123_456_789)
        assertSuccess(k.call(.clock_gettime, 1, buf), 0)
        let m1 = ByteReader(k.peek(buf, count: 16))
        XCTAssertTrue((0..<1_000_000_000).contains(m1.i64(8)))
        assertSuccess(k.call(.clock_gettime, 1, buf), 0)
        let m2 = ByteReader(k.peek(buf, count: 16))
        let t1 = m1.i64(0) * 1_000_000_000 + m1.i64(8), t2 = m2.i64(0) * 1_000_000_000 + m2.i64(8)
        XCTAssertGreaterThan(t2, t1, "monotonic advances")
    }

    func testClockGettimeErrors() {
        assertFailure(k.call(.clock_gettime, 99, k.scratch), .EINVAL)
        assertFailure(k.call(.clock_gettime, UInt64(bitPattern: -1), k.scratch), .EINVAL)
        assertFailure(k.call(.clock_gettime, 0, 0), .EFAULT)
    }

    // MARK: getrandom(2)

    func testGetrandomFillsDifferentBytesEachCall() {
        let a = k.scratch + 4000, b = k.scratch + 4200
        assertSuccess(k.call(.getrandom, a, 64, 0), 64)
        assertSuccess(k.call(.getrandom, b, 64, 1), 64)  // GRND_NONBLOCK
        let x = k.peek(a, count: 64), y = k.peek(b, count: 64)
        XCTAssertNotEqual(x, y)
        XCTAssertNotEqual(x, [UInt8](repeating: 0, count: 64))
        assertSuccess(k.call(.getrandom, a, 0, 0), 0)
        assertFailure(k.call(.getrandom, a, 16, 0x10), .EINVAL)
        assertFailure(k.call(.getrandom, 0, 16, 0), .EFAULT)
    }

    // MARK: arch_prctl(2)

    func testArchPrctlFSRoundTrip() {
        let out = k.scratch + 5000
        assertSuccess(k.call(.arch_prctl, 0x1002, 0x7F00_1234_5000), 0)  // ARCH_SET_FS
        assertSuccess(k.call(.arch_prctl, 0x1003, out), 0)               // ARCH_GET_FS
        XCTAssertEqual(k.peek64(out), 0x7F00_1234_5000)
        XCTAssertEqual(k.platform.fsBase(), 0x7F00_1234_5000)
        assertSuccess(k.call(.arch_prctl, 0x1001, 0x1000), 0)            // ARCH_SET_GS
        assertSuccess(k.call(.arch_prctl, 0x1004, out), 0)
        XCTAssertEqual(k.peek64(out), 0x1000)
        XCTAssertEqual(k.platform.fsBase(), 0x7F00_1234_5000, "GS did not touch FS")
        assertFailure(k.call(.arch_prctl, 0x1002, 0xFFFF_8000_0000_0000), .EPERM)
        assertFailure(k.call(.arch_prctl, 0x1003, 0), .EFAULT)
        assertFailure(k.call(.arch_prctl, 0x9999, 0), .EINVAL)
    }

    // MARK: readlink(2)

    func testReadlinkProcSelfExe() {
        let path = k.pokeString("/proc/self/exe", at: 0)
        let buf = k.scratch + 6000
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: [UInt8](repeating: 0xEE, count: 64)))
        let exe = Array(TestKernel.executablePath.utf8)
        assertSuccess(k.call(.readlink, path, buf, 256), exe.count)
        XCTAssertEqual(k.peek(buf, count: exe.count + 1), exe + [0xEE], "no NUL is appended")
        // A short buffer is filled and the result truncated (readlink(2)).
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: [UInt8](repeating: 0xEE, count: 64)))
        assertSuccess(k.call(.readlink, path, buf, 5), 5)
        XCTAssertEqual(k.peek(buf, count: 6), Array(exe[0..<5]) + [0xEE])
        let byPid = k.pokeString("/proc/1/exe", at: 100)
        assertSuccess(k.call(.readlinkat, Self.atFDCWD, byPid, buf, 256), exe.count)
    }

    func testReadlinkErrors() {
        let path = k.pokeString("/proc/self/exe", at: 0)
        let other = k.pokeString("/etc/passwd", at: 100)
        assertFailure(k.call(.readlink, path, k.scratch + 6000, 0), .EINVAL)
        assertFailure(k.call(.readlink, other, k.scratch + 6000, 64), .ENOENT)
        assertFailure(k.call(.readlink, 0, k.scratch + 6000, 64), .EFAULT)
        assertFailure(k.call(.readlink, path, 0, 64), .EFAULT)
    }

    // MARK: openat(2), read(2) of /proc/self/maps

    func testOpenatNonexistentIsENOENT() {
        let path = k.pokeString("/nonexistent", at: 0)
        assertFailure(k.call(.openat, Self.atFDCWD, path, 0), .ENOENT)
        assertFailure(k.call(.openat, Self.atFDCWD, 0, 0), .EFAULT)
    }

    func testOpenProcSelfMapsReadsRenderMaps() {
        k.space.map.initializeBreak(imageEnd: 0x40_3000)
        _ = k.call(.brk, 0x40_5000)
        XCTAssertNotNil(successValue(mmapAnonymous(0, 4096, prot: 1)))
        let path = k.pokeString("/proc/self/maps", at: 0)
        let expected = Array(k.space.map.renderMaps().utf8)
        XCTAssertTrue(expected.count > 0)
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, path, 0o2000000)) else { return }
        XCTAssertEqual(fd, 3, "lowest free descriptor")
        // Read in small pieces to exercise the offset.
        var got: [UInt8] = []
        let buf = k.scratch + 8192
        while true {
            guard let n = successValue(k.call(.read, UInt64(fd), buf, 50)) else { return }
            if n == 0 { break }
            got += k.peek(buf, count: n)
            if got.count > expected.count { break }
        }
        XCTAssertEqual(got, expected)
        let text = String(decoding: got, as: UTF8.self)
        XCTAssertTrue(text.contains("[heap]"), text)
        for line in text.split(separator: "\n") {
            XCTAssertTrue(line.contains(" 00:00 0"), String(line))
        }
        assertFailure(k.call(.write, UInt64(fd), buf, 1), .EBADF)
        assertSuccess(k.call(.lseek, UInt64(fd), 0, 0), 0)
        assertSuccess(k.call(.read, UInt64(fd), buf, 8), 8)
        XCTAssertEqual(k.peek(buf, count: 8), Array(expected[0..<8]))
        assertFailure(k.call(.lseek, 1, 0, 0), .ESPIPE)
        assertFailure(k.call(.openat, Self.atFDCWD, path, 2), .EACCES)  // O_RDWR
        assertSuccess(k.call(.close, UInt64(fd)), 0)
        assertFailure(k.call(.read, UInt64(fd), buf, 8), .EBADF)
    }

    func testLseekOverflowIsEINVALNotATrap() {
        // lseek(2): a resulting offset that cannot be represented is an error, not a crash.
        // Regression: SEEK_CUR/SEEK_END added with a trapping `+`.
        let path = k.pokeString("/proc/self/maps", at: 0)
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, path, 0)).map(UInt64.init) else { return }
        let size = successValue(k.call(.lseek, fd, 0, 2)) ?? -1
        XCTAssertEqual(size, k.space.map.renderMaps().utf8.count, "SEEK_END gives the size")
        assertSuccess(k.call(.lseek, fd, UInt64(Int64.max), 0), Int.max)     // SEEK_SET: allowed
        assertFailure(k.call(.lseek, fd, 1, 1), .EINVAL)                     // SEEK_CUR past the top
        assertFailure(k.call(.lseek, fd, UInt64(Int64.max), 2), .EINVAL)     // SEEK_END past the top
        assertSuccess(k.call(.lseek, fd, UInt64(bitPattern: -10), 1), Int.max - 10)
        assertSuccess(k.call(.read, fd, k.scratch, 16), 0)                   // far past the end: EOF
        assertFailure(k.call(.lseek, fd, UInt64(bitPattern: -1), 0), .EINVAL)
        assertFailure(k.call(.lseek, fd, 0, 3), .EINVAL)
    }

    // MARK: ioctl(2)

    func testIoctlTCGETSWrites36Bytes() {
        let buf = k.scratch + 9000
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: [UInt8](repeating: 0xEE, count: 64)))
        assertSuccess(k.call(.ioctl, 1, 0x5401, buf), 0)
        let b = k.peek(buf, count: 40)
        XCTAssertEqual(b[36], 0xEE, "struct termios (kernel) is 36 bytes")
        XCTAssertNotEqual(b[35], 0xEE)
        let r = ByteReader(b)
        XCTAssertNotEqual(r.u32(12) & 0x2, 0, "ICANON")
        XCTAssertEqual(b[17 + 4], 4, "VEOF is ^D")
        // TCSETS stores, TCGETS reads it back.
        var changed = Array(b[0..<36]); changed[12] = 0
        let set = k.poke(changed, at: 9100)
        assertSuccess(k.call(.ioctl, 0, 0x5402, set), 0)
        assertSuccess(k.call(.ioctl, 1, 0x5401, buf), 0)
        XCTAssertEqual(k.peek(buf, count: 36), changed)
    }

    func testIoctlTIOCGWINSZWrites8Bytes() {
        let buf = k.scratch + 9200
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: [UInt8](repeating: 0xEE, count: 16)))
        assertSuccess(k.call(.ioctl, 1, 0x5413, buf), 0)
        XCTAssertEqual(k.peek(buf, count: 9), [24, 0, 80, 0, 0, 0, 0, 0, 0xEE])
    }

    func testIoctlErrors() {
        assertFailure(k.call(.ioctl, 1, 0x1234, k.scratch), .ENOTTY)
        assertFailure(k.call(.ioctl, 1, 0x5401, 0), .EFAULT)
        assertFailure(k.call(.ioctl, 42, 0x5401, k.scratch), .EBADF)
        let path = k.pokeString("/dev/null", at: 0)
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, path, 0)) else { return }
        assertFailure(k.call(.ioctl, UInt64(fd), 0x5401, k.scratch + 64), .ENOTTY)
    }

    // MARK: rt_sigprocmask(2), rt_sigaction(2)

    func testRtSigprocmaskRoundTrip() {
        let set = k.poke(le64((1 << 1) | (1 << 8) | (1 << 9)), at: 0)  // SIGINT, SIGKILL, SIGUSR1
        let old = k.scratch + 64
        assertSuccess(k.call(.rt_sigprocmask, 2, set, old, 8), 0)  // SIG_SETMASK
        XCTAssertEqual(k.peek64(old), 0)
        assertSuccess(k.call(.rt_sigprocmask, 0, 0, old, 8), 0)    // query
        XCTAssertEqual(k.peek64(old), (1 << 1) | (1 << 9), "SIGKILL cannot be blocked")
        let unblock = k.poke(le64(1 << 1), at: 128)
        assertSuccess(k.call(.rt_sigprocmask, 1, unblock, 0, 8), 0)  // SIG_UNBLOCK
        assertSuccess(k.call(.rt_sigprocmask, 0, 0, old, 8), 0)
        XCTAssertEqual(k.peek64(old), 1 << 9)
        assertFailure(k.call(.rt_sigprocmask, 0, set, old, 4), .EINVAL)
        assertFailure(k.call(.rt_sigprocmask, 7, set, old, 8), .EINVAL)
        assertFailure(k.call(.rt_sigprocmask, 0, 8, old, 8), .EFAULT)
    }

    func testRtSigactionStoresAndReturnsOldAction() {
        let act = k.poke(le64(0x40_1000, 0x0400_0000, 0x40_2000, 1 << 3), at: 0)
        let old = k.scratch + 64
        assertSuccess(k.call(.rt_sigaction, 10, act, 0, 8), 0)
        assertSuccess(k.call(.rt_sigaction, 10, 0, old, 8), 0)
        XCTAssertEqual(k.peek(old, count: 32), le64(0x40_1000, 0x0400_0000, 0x40_2000, 1 << 3))
        assertFailure(k.call(.rt_sigaction, 9, act, 0, 8), .EINVAL)
        assertFailure(k.call(.rt_sigaction, 65, 0, old, 8), .EINVAL)
    }

    // MARK: prlimit64(2)

    func testPrlimit64Stack() {
        let old = k.scratch + 64
        assertSuccess(k.call(.prlimit64, 0, 3, 0, old), 0)  // RLIMIT_STACK
        XCTAssertEqual(k.peek(old, count: 16), le64(8 << 20, UInt64.max))
        let same = k.poke(le64(8 << 20, UInt64.max), at: 128)
        assertSuccess(k.call(.prlimit64, 1, 3, same, 0), 0)
        // Root may raise a soft limit up to the hard one; the new value is kept (do_prlimit).
        let bigger = k.poke(le64(16 << 20, UInt64.max), at: 256)
        assertSuccess(k.call(.prlimit64, 0, 3, bigger, 0), 0)
        assertSuccess(k.call(.prlimit64, 0, 3, 0, old), 0)
        XCTAssertEqual(k.peek(old, count: 16), le64(16 << 20, UInt64.max))
        let inverted = k.poke(le64(2, 1), at: 384)
        assertFailure(k.call(.prlimit64, 0, 3, inverted, 0), .EINVAL)
        assertFailure(k.call(.prlimit64, 99, 3, 0, old), .ESRCH)
        assertFailure(k.call(.prlimit64, 0, 77, 0, old), .EINVAL)
        assertFailure(k.call(.prlimit64, 0, 3, 0, 8), .EFAULT)
    }

    // MARK: small process calls

    func testIdentityCalls() {
        assertSuccess(k.call(.getpid), 1)
        assertSuccess(k.call(.gettid), 1)
        assertSuccess(k.call(.getuid), 0)
        assertSuccess(k.call(.set_tid_address, 0x1234), 1)
        XCTAssertEqual(k.state.currentThread.clearChildTID, 0x1234)
        assertFailure(k.call(.set_robust_list, 0x1000, 16), .EINVAL)
        assertSuccess(k.call(.set_robust_list, 0x1000, 24), 0)
    }

    func testFstatOfConsoleIsACharacterDevice() {
        let buf = k.scratch + 10_000
        assertSuccess(k.call(.fstat, 1, buf), 0)
        let r = ByteReader(k.peek(buf, count: 144))
        XCTAssertEqual(r.u32(24) & 0o170000, 0o020000, "S_IFCHR")
        let empty = k.pokeString("", at: 0)
        assertSuccess(k.call(.newfstatat, 1, empty, buf, 0x1000), 0)  // AT_EMPTY_PATH
        assertFailure(k.call(.newfstatat, 1, empty, buf, 0), .ENOENT)
        assertFailure(k.call(.fstat, 1, 0), .EFAULT)
    }
}
