// VFSFileDataTests — regular files in page-sized blocks through the syscalls on a TestKernel:
// sparse files and holes, the tmpfs size limit (ENOSPC), EFBIG, huge counts with bad
// pointers (EFAULT, nothing allocated), statfs/fstatfs figures, and --files members read in
// place from "boot bundle" memory (Sources/KernelCore/VFS/FileData.swift,
// FileDataTransfer.swift, Syscalls/FileSyscalls.swift, PathSyscalls.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class VFSFileDataTests: XCTestCase {
    static let atFDCWD = UInt64(bitPattern: -100)
    static let oCreat: UInt64 = 0o100, oAppend: UInt64 = 0o2000
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    var store: FileBlockStore { k.state.fileBlocks }

    func path(_ s: String) -> UInt64 { k.pokeString(s, at: 32_768) }

    func create(_ s: String, flags: UInt64 = 0) -> Int {
        successValue(k.call(.openat, Self.atFDCWD, path(s), 2 | Self.oCreat | flags, 0o644)) ?? -1
    }

    func fstat(_ fd: Int) -> Stat? {
        let buf = k.scratch + 24_000
        guard successValue(k.call(.fstat, UInt64(fd), buf)) != nil else { return nil }
        return try? Stat.decode(from: k.peek(buf, count: Stat.byteSize))
    }

    func statfs(_ s: String) -> Statfs? {
        let buf = k.scratch + 28_000
        guard successValue(k.call(.statfs, path(s), buf)) != nil else { return nil }
        return try? Statfs.decode(from: k.peek(buf, count: Statfs.byteSize))
    }

    func testSparseWriteAtOneTebibyteCostsOneBlockAndHolesReadAsZeros() {
        let fd = create("/tmp/sparse")
        let before = store.blocksInUse
        let byte = k.poke([0x5A], at: 100)
        assertSuccess(k.call(.pwrite64, UInt64(fd), byte, 1, 1 << 40), 1)
        XCTAssertEqual(store.blocksInUse - before, 1, "one page holds the byte; the gap is a hole")
        XCTAssertEqual(fstat(fd)?.size, (1 << 40) + 1)
        XCTAssertEqual(fstat(fd)?.blocks, 8, "st_blocks counts the one block, not the hole")
        // Reading inside the hole gives zeros (the buffer is dirtied first).
        _ = k.poke([UInt8](repeating: 0xEE, count: 4096), at: 4096)
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch + 4096, 4096, 1 << 39), 4096)
        XCTAssertEqual(k.peek(k.scratch + 4096, count: 4096), [UInt8](repeating: 0, count: 4096))
        // The last page: zeros then the byte, read across the hole/data boundary.
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch + 4096, 16, (1 << 40) - 8), 9)
        XCTAssertEqual(k.peek(k.scratch + 4096, count: 9), [0, 0, 0, 0, 0, 0, 0, 0, 0x5A])
        // SEEK_DATA finds the page, SEEK_HOLE the end.
        assertSuccess(k.call(.lseek, UInt64(fd), 0, 3), 1 << 40)
        assertSuccess(k.call(.lseek, UInt64(fd), 0, 4), 0)
        assertSuccess(k.call(.lseek, UInt64(fd), 1 << 40, 4), (1 << 40) + 1)
    }

    func testFtruncateToTwoTebibytesIsSparseAndShrinkingFreesBlocks() {
        let fd = create("/tmp/big")
        XCTAssertEqual(fstat(fd)?.size, 0)   // (touches fstat's buffer page before counting)
        let freeBefore = k.machine.freeFrames
        assertSuccess(k.call(.ftruncate, UInt64(fd), 2 << 40), 0)
        XCTAssertEqual(fstat(fd)?.size, 2 << 40)
        XCTAssertEqual(k.machine.freeFrames, freeBefore, "growing allocates nothing")
        let data = k.poke([UInt8](repeating: 0x11, count: 3 * 4096), at: 0)
        assertSuccess(k.call(.pwrite64, UInt64(fd), data, 3 * 4096, 0), 3 * 4096)
        XCTAssertEqual(store.blocksInUse, 3)
        assertSuccess(k.call(.ftruncate, UInt64(fd), 4096 + 10), 0)
        XCTAssertEqual(store.blocksInUse, 2, "the wholly cut page is freed")
        // Growing again shows zeros past the old cut, not the old bytes.
        assertSuccess(k.call(.ftruncate, UInt64(fd), 3 * 4096), 0)
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch + 40_000, 20, 4096), 20)
        XCTAssertEqual(k.peek(k.scratch + 40_000, count: 20), [UInt8](repeating: 0x11, count: 10) + [UInt8](repeating: 0, count: 10))
        assertSuccess(k.call(.ftruncate, UInt64(fd), 0), 0)
        XCTAssertEqual(store.blocksInUse, 0)
    }

    func testWritingPastTheSizeLimitIsENOSPCAndDeletingFreesSpace() {
        // A small limit (tmpfs size=64k) so the test stays quick.
        k.state.files.fileSystem.blocks.bind(memory: k.machine.memory, frames: k.machine.pool, limitBytes: 16 * 4096)
        let chunk = k.poke([UInt8](repeating: 7, count: 40_960), at: 0)
        let fd = create("/tmp/fill")
        assertSuccess(k.call(.write, UInt64(fd), chunk, 40_960), 40_960)
        assertSuccess(k.call(.write, UInt64(fd), chunk, 40_960), 16 * 4096 - 40_960)  // a short write up to the limit
        assertFailure(k.call(.write, UInt64(fd), chunk, 1), .ENOSPC)
        XCTAssertEqual(statfs("/tmp")?.freeBlocks, 0)
        // Holes need no space: growing with ftruncate still works at the limit.
        assertSuccess(k.call(.ftruncate, UInt64(fd), 1 << 30), 0)
        // Unlinking alone keeps the blocks for the open descriptor; closing frees them.
        assertSuccess(k.call(.unlinkat, Self.atFDCWD, path("/tmp/fill"), 0), 0)
        XCTAssertEqual(store.blocksInUse, 16)
        assertSuccess(k.call(.close, UInt64(fd)), 0)
        XCTAssertEqual(store.blocksInUse, 0)
        XCTAssertEqual(statfs("/tmp")?.freeBlocks, 16)
        let again = create("/tmp/again")
        assertSuccess(k.call(.write, UInt64(again), chunk, 4096), 4096)
    }

    func testEFBIGAtTheMaximumFileSizeAndEINVALWhenTheEndOverflows() {
        let fd = create("/tmp/max", flags: Self.oAppend)
        let byte = k.poke([1], at: 0)
        assertSuccess(k.call(.ftruncate, UInt64(fd), UInt64(Int64.max)), 0)
        // O_APPEND puts the write at s_maxbytes: generic_write_check_limits says EFBIG.
        assertFailure(k.call(.write, UInt64(fd), byte, 1), .EFBIG)
        let plain = create("/tmp/max2")
        // rw_verify_area: pos + count past LLONG_MAX is EINVAL.
        assertFailure(k.call(.pwrite64, UInt64(plain), byte, 2, UInt64(Int64.max - 1)), .EINVAL)
        assertSuccess(k.call(.pwrite64, UInt64(plain), byte, 1, UInt64(Int64.max - 1)), 1)
        XCTAssertEqual(fstat(plain)?.size, Int64.max)
    }

    func testHugeCountsWithBadPointersAreEFAULTAndAllocateNothing() {
        let fd = create("/tmp/huge")
        XCTAssertEqual(fstat(fd)?.size, 0)
        let freeBefore = k.machine.freeFrames
        assertFailure(k.call(.write, UInt64(fd), 0x10, 1 << 40), .EFAULT)
        assertFailure(k.call(.write, UInt64(fd), k.scratch, UInt64.max), .EFAULT)  // past the user half (access_ok)
        assertFailure(k.call(.write, UInt64(fd), 0xffff_8000_0000_0000, 16), .EFAULT)
        // At the end of the file Linux returns 0 without touching the buffer (shmem_file_read_iter).
        assertSuccess(k.call(.read, UInt64(fd), 0x10, 1 << 40), 0)
        XCTAssertEqual(k.machine.freeFrames, freeBefore, "no block, no buffer")
        XCTAssertEqual(fstat(fd)?.size, 0)
        // A huge count from a small valid buffer moves what is readable, then stops short.
        guard let n = successValue(k.call(.write, UInt64(fd), k.scratch, 1 << 28)) else { return }
        XCTAssertTrue(n > 0 && n <= Int(TestKernel.scratchLength), "short count \(n)")
        XCTAssertEqual(fstat(fd)?.size, Int64(n))
        // Reading it back into a buffer that ends early: the count so far, not an error.
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch + TestKernel.scratchLength - 100, UInt64(n), 0), 100)
        assertFailure(k.call(.pread64, UInt64(fd), 0x10, UInt64(n), 0), .EFAULT)
        // readv with one segment past the user half is EFAULT before anything moves.
        let iov = k.poke(le64(k.scratch, 16, 0x7fff_ffff_f000, 1 << 40), at: 200)
        assertFailure(k.call(.readv, UInt64(fd), iov, 2), .EFAULT)
    }

    func testCountsAreCutAtMaxRWCount() {
        // sendfile never moves more than MAX_RW_COUNT (0x7ffff000) per call.
        let fd = create("/tmp/cut")
        assertSuccess(k.call(.ftruncate, UInt64(fd), 0x1_0000_0000), 0)
        let offset = k.poke(le64(0), at: 300)
        // To /dev/null through the 64 KiB buffer: the whole 2 GiB - 4 KiB of zeros.
        guard let null = successValue(k.call(.openat, Self.atFDCWD, path("/dev/null"), 1)) else { return }
        assertSuccess(k.call(.sendfile, UInt64(null), UInt64(fd), offset, 0x1_0000_0000), 0x7fff_f000)
        XCTAssertEqual(k.peek64(offset), 0x7fff_f000)
    }

    func testStatfsReportsTmpfsFiguresAndProcAndPipes() {
        guard let tmp = statfs("/tmp") else { return }
        XCTAssertEqual(tmp.type, Statfs.tmpfsMagic)
        XCTAssertEqual(tmp.blockSize, 4096)
        XCTAssertEqual(tmp.blocks, k.machine.pool.totalBytes / 2 / 4096, "tmpfs's default: half of RAM")
        XCTAssertEqual(tmp.freeBlocks, tmp.blocks)
        XCTAssertEqual(tmp.nameLength, 255)
        XCTAssertTrue(tmp.files > tmp.freeFiles && tmp.freeFiles > 0)
        let fd = create("/tmp/one")
        let page = k.poke([UInt8](repeating: 1, count: 4096), at: 0)
        assertSuccess(k.call(.write, UInt64(fd), page, 4096), 4096)
        XCTAssertEqual(statfs("/tmp")?.freeBlocks, tmp.freeBlocks - 1)
        XCTAssertEqual(statfs("/tmp")?.freeFiles, tmp.freeFiles - 1)
        XCTAssertEqual(statfs("/proc/self")?.type, Statfs.procMagic)
        XCTAssertEqual(statfs("/proc/self")?.blocks, 0)
        XCTAssertEqual(statfs("/dev/null")?.type, Statfs.tmpfsMagic, "devtmpfs is tmpfs inside")
        assertFailure(k.call(.statfs, path("/nonexistent"), k.scratch), .ENOENT)
        assertFailure(k.call(.statfs, path("/tmp"), 0x10), .EFAULT)
        // fstatfs: a file's mount, a pipe's pipefs.
        let buf = k.scratch + 28_000
        assertSuccess(k.call(.fstatfs, UInt64(fd), buf), 0)
        XCTAssertEqual(try? Statfs.decode(from: k.peek(buf, count: Statfs.byteSize)).type, Statfs.tmpfsMagic)
        let fds = k.scratch + 30_000
        assertSuccess(k.call(.pipe2, fds, 0), 0)
        assertSuccess(k.call(.fstatfs, UInt64(ByteReader(k.peek(fds, count: 8)).u32(0)), buf), 0)
        XCTAssertEqual(try? Statfs.decode(from: k.peek(buf, count: Statfs.byteSize)).type, Statfs.pipefsMagic)
        assertFailure(k.call(.fstatfs, 99, buf), .EBADF)
    }

    func testFilesMembersAreReadInPlaceAndCopiedOnWrite() {
        // The archive in "boot bundle" memory: frames taken from the pool, as the kernel
        // reserves the module, with a 10000-byte file and a symlink.
        var payload = [UInt8](repeating: 0, count: 10_000)
        for i in 0..<payload.count { payload[i] = UInt8(truncatingIfNeeded: i * 7) }
        let archive = CpioArchive.build([
            CpioMember(name: Array("data/file".utf8), mode: 0o100644, data: payload),
            CpioMember(name: Array("data/link".utf8), mode: 0o120777, data: Array("file".utf8)),
        ])
        let pages = (archive.count + 4095) / 4096
        guard let base = k.machine.pool.allocator.allocateContiguous(frameCount: pages) else { return XCTFail("no frames") }
        k.machine.memory.write(base, from: archive, offset: 0, count: archive.count)
        k.state.installRootFileSystem(archive: PhysicalBytes(memory: k.machine.memory, base: base, count: archive.count),
                                      physicalBase: base)
        let boot = store.blocksInUse   // /etc/hostname, passwd, group: written at boot
        XCTAssertEqual(boot, 3, "nothing of the archive copied at boot")
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, path("/data/link"), 2)) else { return }
        XCTAssertEqual(fstat(fd)?.size, 10_000)
        assertSuccess(k.call(.read, UInt64(fd), k.scratch, 20_000), 10_000)
        XCTAssertEqual(k.peek(k.scratch, count: 10_000), payload)
        XCTAssertEqual(store.blocksInUse, boot, "reading copies nothing into blocks")
        // A write in the second page copies that page only; the bundle stays as it was.
        let patch = k.poke([0xFF, 0xFE], at: 20_000)
        assertSuccess(k.call(.pwrite64, UInt64(fd), patch, 2, 5000), 2)
        XCTAssertEqual(store.blocksInUse, boot + 1)
        XCTAssertEqual(k.machine.memory.bytes(at: base, count: archive.count), archive)
        var expected = payload
        expected[5000] = 0xFF; expected[5001] = 0xFE
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch, 20_000, 0), 10_000)
        XCTAssertEqual(k.peek(k.scratch, count: 10_000), expected)
        // Truncating into the backed part and growing again reads zeros past the cut.
        assertSuccess(k.call(.ftruncate, UInt64(fd), 100), 0)
        assertSuccess(k.call(.ftruncate, UInt64(fd), 9000), 0)
        assertSuccess(k.call(.pread64, UInt64(fd), k.scratch, 20_000, 0), 9000)
        XCTAssertEqual(k.peek(k.scratch, count: 9000), Array(payload[0..<100]) + [UInt8](repeating: 0, count: 8900))
        // MAP_PRIVATE of a backed file still sees its bytes.
        assertSuccess(k.call(.ftruncate, UInt64(fd), 0), 0)
        let fresh = successValue(k.call(.openat, Self.atFDCWD, path("/data/file"), 0)) ?? -1
        XCTAssertEqual(fstat(fresh)?.size, 0, "the same inode, now empty")
    }

    func testMapPrivateOfASparseFileReadsHolesAsZeros() {
        let fd = create("/tmp/mapped")
        let bytes = k.poke([9, 8, 7], at: 0)
        assertSuccess(k.call(.pwrite64, UInt64(fd), bytes, 3, 8192 + 5), 3)
        guard let address = successValue(k.call(.mmap, 0, 3 * 4096, 1, 2, UInt64(fd), 0)) else { return }
        let mapped = k.peek(UInt64(address), count: 8192 + 8)
        XCTAssertEqual(Array(mapped[0..<8192]), [UInt8](repeating: 0, count: 8192))
        XCTAssertEqual(Array(mapped[8192..<8200]), [0, 0, 0, 0, 0, 9, 8, 7])
    }

    func testStatfsIsTracedAsStracePrintsIt() {
        // strace 6.1's line for statfs("/proc") on Linux, with egg's figures.
        let formatter = SyscallTraceFormatter()
        let buf = k.scratch + 28_000
        let p = path("/proc")
        let a = SyscallArguments(number: SyscallNumber.statfs.rawValue, p, buf, 0, 0, 0, 0)
        let result = k.state.dispatch(a)
        XCTAssertEqual(formatter.call(a, result: result, memory: k.space),
                       "statfs(\"/proc\", {f_type=PROC_SUPER_MAGIC, f_bsize=4096, f_blocks=0, f_bfree=0, f_bavail=0, "
                       + "f_files=0, f_ffree=0, f_fsid={val=[0, 0]}, f_namelen=255, f_frsize=4096, "
                       + "f_flags=ST_VALID|ST_NOSUID|ST_NODEV|ST_NOEXEC})")
    }
}
