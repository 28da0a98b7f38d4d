// FileMappingTests — MAP_SHARED and MAP_PRIVATE mappings of files on a TestKernel: stores
// through a shared mapping are the file's bytes and vice versa, munmap leaves the file's
// frames alone, truncation unmaps pages (a fault past EOF is SIGBUS), hole punching unmaps
// shared pages only, memfd seals and their EPERM/EBUSY, msync and mincore
// (Sources/KernelCore/Process/FileMappingFaults.swift, Syscalls/MemorySyscalls.swift,
// Syscalls/FileSyncSyscalls.swift, VFS/MemFD.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class FileMappingTests: XCTestCase {
    static let atFDCWD = UInt64(bitPattern: -100)
    static let protRW: UInt64 = 3, mapShared: UInt64 = 1, mapPrivate: UInt64 = 2
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    func openFile(_ path: String, size: Int) -> Int? {
        let p = k.pokeString(path, at: 32_768)
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, p, 2 | 0o100, 0o600)) else { return nil }
        guard successValue(k.call(.ftruncate, UInt64(fd), UInt64(size))) != nil else { return nil }
        return fd
    }

    func map(_ fd: Int, length: UInt64, shared: Bool = true, offset: UInt64 = 0) -> UInt64? {
        successValue(k.call(.mmap, 0, length, Self.protRW, shared ? Self.mapShared : Self.mapPrivate,
                            UInt64(fd), offset)).map(UInt64.init)
    }

    func pread(_ fd: Int, _ count: Int, at offset: UInt64) -> [UInt8] {
        guard let n = successValue(k.call(.pread64, UInt64(fd), k.scratch + 20_000, UInt64(count), offset)) else { return [] }
        return k.peek(k.scratch + 20_000, count: n)
    }

    func pwrite(_ fd: Int, _ text: String, at offset: UInt64) {
        let bytes = Array(text.utf8)
        let address = k.poke(bytes, at: 16_384)
        assertSuccess(k.call(.pwrite64, UInt64(fd), address, UInt64(bytes.count), offset), bytes.count)
    }

    func store(_ text: String, at address: UInt64) {
        XCTAssertNil(k.space.copyOut(UserAddress(address), from: Array(text.utf8)))
    }

    func testSharedMappingsAndPreadSeeEachOthersWrites() {
        guard let fd = openFile("/tmp/shared", size: 8192), let a = map(fd, length: 8192),
              let b = map(fd, length: 4096, offset: 4096) else { return XCTFail("setup") }
        store("via a", at: a + 4096 + 7)
        XCTAssertEqual(pread(fd, 5, at: 4096 + 7), Array("via a".utf8), "pread sees the mapping")
        XCTAssertEqual(k.peek(b + 7, count: 5), Array("via a".utf8), "the other mapping sees it")
        pwrite(fd, "pwrite", at: 4096 + 100)
        XCTAssertEqual(k.peek(a + 4096 + 100, count: 6), Array("pwrite".utf8))
        XCTAssertEqual(k.peek(b + 100, count: 6), Array("pwrite".utf8))
        // Both mappings use the file's own frame.
        XCTAssertEqual(k.space.pageTable.translate(a + 4096)?.physical, k.space.pageTable.translate(b)?.physical)
    }

    func testMunmapLeavesTheFilesFrames() {
        guard let fd = openFile("/tmp/kept", size: 4096), let a = map(fd, length: 4096) else { return XCTFail("setup") }
        store("kept", at: a)
        let blocks = k.state.fileBlocks.blocksInUse
        guard let frame = k.space.pageTable.translate(a)?.physical else { return XCTFail("not present") }
        XCTAssertTrue(k.state.fileBlocks.ownsFrame(frame))
        assertSuccess(k.call(.munmap, a, 4096), 0)
        XCTAssertEqual(k.state.fileBlocks.blocksInUse, blocks)
        XCTAssertEqual(pread(fd, 4, at: 0), Array("kept".utf8), "the file keeps its bytes")
        // The frame is still the file's: a new anonymous page must not get it.
        guard let anon = successValue(k.call(.mmap, 0, 4096, 3, 0x22, UInt64(bitPattern: -1), 0)) else { return XCTFail("mmap") }
        store("anon", at: UInt64(anon))
        XCTAssertEqual(pread(fd, 4, at: 0), Array("kept".utf8))
        XCTAssertTrue(k.state.fileBlocks.mappedFiles.isEmpty, "no mapping left: the file is forgotten")
    }

    func testTruncationUnmapsPagesPastTheEndAndFaultsThereAreSIGBUS() {
        guard let fd = openFile("/tmp/shrink", size: 3 * 4096), let a = map(fd, length: 3 * 4096),
              let p = map(fd, length: 3 * 4096, shared: false) else { return XCTFail("setup") }
        store("third", at: a + 8192)
        XCTAssertEqual(k.peek(p + 8192, count: 5), Array("third".utf8), "private copy made")
        assertSuccess(k.call(.ftruncate, UInt64(fd), 100), 0)
        XCTAssertNil(k.space.pageTable.translate(a + 8192), "shared page past EOF unmapped")
        XCTAssertNil(k.space.pageTable.translate(p + 8192), "private copy past EOF unmapped too")
        XCTAssertEqual(k.space.handleFault(at: a + 8192, write: false, execute: false), .busError)
        XCTAssertEqual(k.space.handleFault(at: p + 4096, write: true, execute: false), .busError)
        XCTAssertEqual(k.space.handleFault(at: a + 50, write: true, execute: false), .resolved)
        // Growing brings zero pages back.
        assertSuccess(k.call(.ftruncate, UInt64(fd), UInt64(3 * 4096)), 0)
        XCTAssertEqual(k.peek(a + 8192, count: 5), [0, 0, 0, 0, 0])
    }

    func testMprotectCannotMakeAReadOnlyDescriptorsSharedMappingWritable() {
        guard let fd = openFile("/tmp/ro", size: 4096) else { return XCTFail("setup") }
        let p = k.pokeString("/tmp/ro", at: 32_768)
        guard let ro = successValue(k.call(.openat, Self.atFDCWD, p, 0, 0)),
              let shared = successValue(k.call(.mmap, 0, 4096, 1, Self.mapShared, UInt64(ro), 0)),
              let priv = successValue(k.call(.mmap, 0, 4096, 1, Self.mapPrivate, UInt64(ro), 0)) else { return XCTFail("mmap") }
        assertFailure(k.call(.mprotect, UInt64(shared), 4096, 3), .EACCES)
        assertSuccess(k.call(.mprotect, UInt64(priv), 4096, 3), 0)   // private: a copy, allowed
        guard let rw = map(fd, length: 4096) else { return XCTFail("mmap rw") }
        assertSuccess(k.call(.mprotect, rw, 4096, 1), 0)
        assertSuccess(k.call(.mprotect, rw, 4096, 3), 0)
    }

    func testPrivateMappingNeverWritesThrough() {
        guard let fd = openFile("/tmp/private", size: 4096) else { return XCTFail("setup") }
        pwrite(fd, "file", at: 0)
        guard let p = map(fd, length: 4096, shared: false) else { return XCTFail("mmap") }
        XCTAssertEqual(k.peek(p, count: 4), Array("file".utf8))
        store("mine", at: p)
        XCTAssertEqual(pread(fd, 4, at: 0), Array("file".utf8))
        guard let frame = k.space.pageTable.translate(p)?.physical else { return XCTFail("not present") }
        XCTAssertFalse(k.state.fileBlocks.ownsFrame(frame), "a private page is an anonymous frame")
    }

    func testPunchHoleUnmapsSharedPagesAndKeepsPrivateCopies() {
        guard let fd = openFile("/tmp/punch", size: 8192), let a = map(fd, length: 8192),
              let p = map(fd, length: 8192, shared: false) else { return XCTFail("setup") }
        store("data", at: a)
        XCTAssertEqual(k.peek(p, count: 4), Array("data".utf8))
        assertSuccess(k.call(.fallocate, UInt64(fd), 3, 0, 4096), 0)   // PUNCH_HOLE|KEEP_SIZE
        XCTAssertNil(k.space.pageTable.translate(a), "shared page unmapped before its block went")
        XCTAssertEqual(k.peek(a, count: 4), [0, 0, 0, 0])
        XCTAssertEqual(k.peek(p, count: 4), Array("data".utf8), "private copy kept (even_cows = 0)")
    }

    func testPunchingAHugeSparseRangeVisitsOnlyBlocksAndEdges() {
        guard let fd = openFile("/tmp/sparse", size: 0) else { return XCTFail("setup") }
        let tib: UInt64 = 1 << 40
        pwrite(fd, "head", at: 0)
        pwrite(fd, "middle", at: tib / 2)
        pwrite(fd, "tail", at: tib - 4)
        let blocks = k.state.fileBlocks.blocksInUse
        // [2, 1 TiB - 2): 2^28 pages, but only three hold blocks.
        assertSuccess(k.call(.fallocate, UInt64(fd), 3, 2, tib - 4), 0)
        XCTAssertEqual(pread(fd, 4, at: 0), Array("he\0\0".utf8))
        XCTAssertEqual(pread(fd, 4, at: tib - 4), Array("\0\0il".utf8))
        XCTAssertEqual(pread(fd, 6, at: tib / 2), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(k.state.fileBlocks.blocksInUse, blocks - 1, "the middle block freed, the edge pages kept")
    }

    func testFallocateKeepSizeAllocatesAndENOSPCBeforeAllocating() {
        guard let fd = openFile("/tmp/alloc", size: 0) else { return XCTFail("setup") }
        let before = k.state.fileBlocks.blocksInUse
        assertSuccess(k.call(.fallocate, UInt64(fd), 1, 0, 3 * 4096), 0)
        XCTAssertEqual(k.state.fileBlocks.blocksInUse, before + 3)
        assertSuccess(k.call(.fstat, UInt64(fd), k.scratch + 24_000), 0)
        XCTAssertEqual((try? Stat.decode(from: k.peek(k.scratch + 24_000, count: Stat.byteSize)))?.size, 0)
        let free = k.state.fileBlocks.freeBlocks
        assertFailure(k.call(.fallocate, UInt64(fd), 0, 0, UInt64((free + 10) * 4096)), .ENOSPC)
        XCTAssertEqual(k.state.fileBlocks.freeBlocks, free, "nothing allocated on ENOSPC")
    }

    func testSealsForbidWritesResizesAndWritableSharedMappings() {
        let name = k.pokeString("seal", at: 32_768)
        guard let fd = successValue(k.call(.memfd_create, name, 2)) else { return XCTFail("memfd_create") }
        assertSuccess(k.call(.fcntl, UInt64(fd), 1034), 0)
        assertSuccess(k.call(.ftruncate, UInt64(fd), 4096), 0)
        guard let a = map(fd, length: 4096) else { return XCTFail("mmap") }
        assertFailure(k.call(.fcntl, UInt64(fd), 1033, 8), .EBUSY)          // F_SEAL_WRITE
        assertSuccess(k.call(.munmap, a, 4096), 0)
        assertSuccess(k.call(.fcntl, UInt64(fd), 1033, 8 | 2), 0)           // WRITE | SHRINK
        assertSuccess(k.call(.fcntl, UInt64(fd), 1034), 10)
        assertFailure(k.call(.pwrite64, UInt64(fd), k.scratch, 1, 0), .EPERM)
        assertFailure(k.call(.ftruncate, UInt64(fd), 0), .EPERM)
        assertSuccess(k.call(.ftruncate, UInt64(fd), 8192), 0)               // growing is allowed
        assertFailure(k.call(.mmap, 0, 4096, 3, 1, UInt64(fd), 0), .EPERM)
        XCTAssertNotNil(successValue(k.call(.mmap, 0, 4096, 1, 1, UInt64(fd), 0)), "read-only shared mapping")
        // A plain tmpfs file carries F_SEAL_SEAL: no seals can be added.
        guard let plain = openFile("/tmp/plain", size: 0) else { return XCTFail("open") }
        assertSuccess(k.call(.fcntl, UInt64(plain), 1034), 1)
        assertFailure(k.call(.fcntl, UInt64(plain), 1033, 2), .EPERM)
    }

    func testMsyncAndMincoreRules() {
        guard let fd = openFile("/tmp/sync", size: 8192), let a = map(fd, length: 8192) else { return XCTFail("setup") }
        store("x", at: a)
        assertSuccess(k.call(.msync, a, 8192, 4), 0)
        assertFailure(k.call(.msync, a, 8192, 5), .EINVAL)
        assertFailure(k.call(.msync, a + 1, 10, 4), .EINVAL)
        assertFailure(k.call(.msync, a, UInt64.max - 100, 4), .ENOMEM)
        let vector = k.scratch + 28_000
        assertSuccess(k.call(.mincore, a, 8192, vector), 0)
        XCTAssertEqual(k.peek(vector, count: 2), [1, 0], "written page resident, hole not")
        assertFailure(k.call(.mincore, a, 8192, 0), .EFAULT)
        assertSuccess(k.call(.munmap, a + 4096, 4096), 0)
        assertFailure(k.call(.mincore, a, 8192, vector), .ENOMEM)
        assertFailure(k.call(.msync, a, 8192, 4), .ENOMEM)
    }
}
