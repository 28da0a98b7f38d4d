// SysVSharedMemoryTests — System V shared memory on a TestKernel: a segment's id, its attaches
// sharing one set of frames, shm_nattch across a forked address space and its teardown,
// IPC_RMID while attached (freed at the last detach) and the shmat/shmdt address rules
// (Sources/KernelCore/IPC/SysVSharedMemory.swift, Syscalls/SysVSharedMemorySyscalls.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class SysVSharedMemoryTests: XCTestCase {
    static let ipcRMID: UInt64 = 0, ipcStat: UInt64 = 2
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    func shmget(_ size: UInt64, key: UInt64 = 0, flags: UInt64 = 0o600) -> Int? {
        successValue(k.call(.shmget, key, size, flags))
    }

    func attach(_ id: Int, at address: UInt64 = 0, flags: UInt64 = 0) -> UInt64? {
        successValue(k.call(.shmat, UInt64(id), address, flags)).map(UInt64.init)
    }

    /// shm_nattch from IPC_STAT (struct shmid64_ds: 48-byte perm, segsz, 3 times, 2 pids, nattch).
    func attachCount(_ id: Int) -> UInt64? {
        guard successValue(k.call(.shmctl, UInt64(id), Self.ipcStat, k.scratch)) != nil else { return nil }
        return k.peek64(k.scratch + 88)
    }

    func testAttachesShareOneFrameAndRemovalWaitsForTheLastDetach() {
        let baseline = k.state.fileBlocks.blocksInUse
        guard let id = shmget(5000), let a = attach(id), let b = attach(id) else { return XCTFail("setup") }
        XCTAssertNotEqual(a, b)
        XCTAssertNil(k.space.copyOut(UserAddress(a + 4100), from: Array("shared".utf8)))
        XCTAssertEqual(k.peek(b + 4100, count: 6), Array("shared".utf8))
        XCTAssertEqual(k.space.pageTable.translate(a + 4096)?.physical, k.space.pageTable.translate(b + 4096)?.physical)
        XCTAssertEqual(k.state.fileBlocks.blocksInUse, baseline + 1, "one frame for the page touched, not one per attach")
        XCTAssertEqual(attachCount(id), 2)
        XCTAssertEqual(k.peek64(k.scratch + 48), 5000, "shm_segsz")

        assertSuccess(k.call(.shmctl, UInt64(id), Self.ipcRMID, 0), 0)
        XCTAssertEqual(attachCount(id), 2, "still there while attached")
        XCTAssertEqual(ByteReader(k.peek(k.scratch + 20, count: 4)).u32(0) & 0o1000, 0o1000, "SHM_DEST")
        XCTAssertEqual(ByteReader(k.peek(k.scratch, count: 4)).u32(0), 0, "key made private")
        assertSuccess(k.call(.shmdt, a), 0)
        XCTAssertEqual(k.peek(b + 4100, count: 6), Array("shared".utf8), "contents kept for the other attach")
        XCTAssertEqual(attachCount(id), 1)
        assertSuccess(k.call(.shmdt, b), 0)
        XCTAssertEqual(k.state.fileBlocks.blocksInUse, baseline, "the last detach frees the frames")
        assertFailure(k.call(.shmctl, UInt64(id), Self.ipcStat, k.scratch), .EINVAL)
        assertFailure(k.call(.shmat, UInt64(id), 0, 0), .EINVAL)
    }

    func testForkedAttachesCountAndTeardownDetaches() {
        let baseline = k.state.fileBlocks.blocksInUse
        guard let id = shmget(4096), let a = attach(id) else { return XCTFail("setup") }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [7]))
        guard let child = k.space.forkCopy() else { return XCTFail("fork") }
        XCTAssertEqual(attachCount(id), 2, "fork copies the attach")
        XCTAssertNil(child.copyOut(UserAddress(a), from: [9]))
        XCTAssertEqual(k.peek(a, count: 1), [9], "the child's store is the parent's")
        child.releaseAll()
        XCTAssertEqual(attachCount(id), 1, "exit detaches")
        assertSuccess(k.call(.shmctl, UInt64(id), Self.ipcRMID, 0), 0)
        XCTAssertEqual(k.peek(a, count: 1), [9])
        k.space.releaseMappings()   // execve
        XCTAssertEqual(k.state.fileBlocks.blocksInUse, baseline, "exec's teardown was the last detach")
        assertFailure(k.call(.shmctl, UInt64(id), Self.ipcStat, k.scratch), .EINVAL)
    }

    func testKeysSizesAndAddressRules() {
        assertFailure(k.call(.shmget, 0, 0, 0o600), .EINVAL)
        assertFailure(k.call(.shmget, 77, 4096, 0o600), .ENOENT)
        guard let id = shmget(8192, key: 77, flags: 0o1600) else { return XCTFail("create") }
        assertFailure(k.call(.shmget, 77, 4096, 0o3600), .EEXIST)
        assertSuccess(k.call(.shmget, 77, 100, 0), id)
        assertFailure(k.call(.shmget, 77, 8193, 0), .EINVAL)
        guard let a = attach(id) else { return XCTFail("attach") }
        assertFailure(k.call(.shmat, UInt64(id), a + 1, 0), .EINVAL)
        assertFailure(k.call(.shmat, UInt64(id), a, 0), .EINVAL)    // occupied
        assertFailure(k.call(.shmat, UInt64(id), 0, 0o40000), .EINVAL)   // SHM_REMAP without an address
        assertFailure(k.call(.shmdt, a + 4096), .EINVAL)
        assertSuccess(k.call(.shmdt, a), 0)
        assertFailure(k.call(.shmdt, a), .EINVAL)
        XCTAssertEqual(attach(id, at: a + 12, flags: 0o20000), a, "SHM_RND")
        guard let r = attach(id, flags: 0o10000) else { return XCTFail("SHM_RDONLY") }
        assertFailure(k.call(.mprotect, r, 4096, 3), .EACCES)
        XCTAssertEqual(attachCount(id), 2)
    }
}
