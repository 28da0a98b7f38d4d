// ProcessTests — host tests for fork's copy-on-write (frame reference counts, the write
// fault, mprotect and teardown honouring them) and for the process lifecycle calls (fork,
// zombies, wait4/waitid, getppid, process groups, kill of other processes).
// The code under test is Sources/KernelCore/Process/ and Paging/FramePool.swift.
import XCTest
@testable import KernelCore
import LinuxABI

final class CopyOnWriteTests: XCTestCase {
    func frame(_ space: AddressSpace, _ va: UInt64) -> UInt64 { space.pageTable.translate(va)!.physical }

    func testForkSharesFramesReadOnlyAndTheFirstWriteCopies() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: 2 * pageSize)
        XCTAssertNil(m.space.copyOut(UserAddress(base), from: Array("parent".utf8)))
        let original = frame(m.space, base)
        guard let child = m.space.forkCopy() else { return XCTFail("forkCopy failed") }
        XCTAssertEqual(frame(child, base), original, "fork copies tables, not pages")
        XCTAssertEqual(m.pool.references(original), 2)
        XCTAssertFalse(m.space.pageTable.translate(base)!.flags.contains(.writable))
        XCTAssertFalse(child.pageTable.translate(base)!.flags.contains(.writable))
        XCTAssertNil(m.space.pageTable.translate(base + pageSize), "untouched pages stay absent")

        // The child writes: it gets its own copy; the parent keeps the original bytes.
        XCTAssertNil(child.copyOut(UserAddress(base), from: Array("child!".utf8)))
        XCTAssertNotEqual(frame(child, base), original)
        XCTAssertEqual(m.pool.references(original), 1)
        XCTAssertEqual(successValue(m.space.copyIn(UserAddress(base), count: 6)), Array("parent".utf8))
        XCTAssertEqual(successValue(child.copyIn(UserAddress(base), count: 6)), Array("child!".utf8))

        // The parent, now the only owner, writes in place: no copy.
        XCTAssertNil(m.space.copyOut(UserAddress(base), from: Array("again".utf8)))
        XCTAssertEqual(frame(m.space, base), original)
        XCTAssertTrue(m.space.pageTable.translate(base)!.flags.contains(.writable))
    }

    func testWriteFaultInASharedPageIsResolvedByCopying() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: pageSize)
        XCTAssertNil(m.space.copyOut(UserAddress(base), from: [1, 2, 3]))
        guard let child = m.space.forkCopy() else { return XCTFail("forkCopy failed") }
        XCTAssertEqual(m.space.handleFault(at: base + 8, write: true, execute: false), .resolved)
        XCTAssertNotEqual(frame(m.space, base), frame(child, base))
        XCTAssertEqual(successValue(child.copyIn(UserAddress(base), count: 3)), [1, 2, 3])
        XCTAssertEqual(successValue(m.space.copyIn(UserAddress(base), count: 3)), [1, 2, 3])
    }

    func testMprotectDoesNotMakeASharedPageWritable() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: pageSize)
        XCTAssertNil(m.space.copyOut(UserAddress(base), from: [7]))
        guard let child = m.space.forkCopy() else { return XCTFail("forkCopy failed") }
        m.space.reprotect(AddressRange(start: base, end: base + pageSize), to: .read)
        m.space.reprotect(AddressRange(start: base, end: base + pageSize), to: .readWrite)
        XCTAssertFalse(m.space.pageTable.translate(base)!.flags.contains(.writable),
                       "a shared page made writable would let the parent write into the child")
        XCTAssertNil(m.space.copyOut(UserAddress(base), from: [9]))
        XCTAssertEqual(successValue(child.copyIn(UserAddress(base), count: 1)), [7])
    }

    func testSharedMappingsStayOneFrameAcrossFork() {
        let m = TestMachine()
        guard case .success(let r) = m.space.map.map(at: 0, length: pageSize, protection: .readWrite, placement: .hint,
                                                      backing: .anonymous, shared: true, name: "") else {
            return XCTFail("map failed")
        }
        // Not touched before fork: fork makes it present so both sides share one frame.
        guard let child = m.space.forkCopy() else { return XCTFail("forkCopy failed") }
        XCTAssertNil(child.copyOut(UserAddress(r.address), from: [42]))
        XCTAssertEqual(successValue(m.space.copyIn(UserAddress(r.address), count: 1)), [42])
        XCTAssertEqual(frame(child, r.address), frame(m.space, r.address))
    }

    func testTeardownFreesTheChildsTablesAndDropsOnlyItsReferences() {
        let m = TestMachine()
        let initial = m.freeFrames
        let base = m.mapAnonymous(length: 8 * pageSize)
        for i in 0..<8 { XCTAssertNil(m.space.copyOut(UserAddress(base + UInt64(i) * pageSize), from: [UInt8(i)])) }
        let before = m.freeFrames
        guard let child = m.space.forkCopy() else { return XCTFail("forkCopy failed") }
        XCTAssertNil(child.copyOut(UserAddress(base), from: [99]))  // one private copy
        child.releaseAll()
        XCTAssertEqual(m.freeFrames, before, "the child's root, tables and copied page all came back")
        XCTAssertEqual(m.pool.sharedFrames, 0)
        for i in 0..<8 {
            XCTAssertEqual(successValue(m.space.copyIn(UserAddress(base + UInt64(i) * pageSize), count: 1)), [UInt8(i)])
        }
        m.space.releaseAll()
        XCTAssertEqual(m.freeFrames, initial + 1, "every user page and table, and the root, came back")
    }

    func testForkWithoutMemoryFailsCleanly() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: pageSize)
        XCTAssertNil(m.space.copyOut(UserAddress(base), from: [1]))
        var hoard: [UInt64] = []
        while let f = m.pool.allocateFrame() { hoard.append(f) }
        XCTAssertNil(m.space.forkCopy())
        XCTAssertEqual(m.pool.references(frame(m.space, base)), 1)
        XCTAssertTrue(m.space.pageTable.translate(base)!.flags.contains(.writable), "a failed fork leaves the parent as it was")
        for f in hoard { m.pool.freeFrame(f) }
    }
}

final class ProcessLifecycleTests: XCTestCase {
    func fork(_ k: TestKernel) -> KernelCore.Process? {
        guard case .success(let pid) = k.call(.fork) else { XCTFail("fork failed"); return nil }
        return k.state.processes[pid]
    }

    /// Ends `p` as its last thread's exit would (the scheduler part needs a real CPU).
    func end(_ k: TestKernel, _ p: KernelCore.Process, code: Int32) {
        p.waitStatus = WaitOptions.exitedStatus(code)
        for t in p.threads { t.state = .exited }
        p.threads = []
        k.state.processEnded(p)
    }

    func testForkMakesAChildWithItsOwnTablesAndTheParentsDescriptors() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        XCTAssertEqual(child.pid, 2)
        XCTAssertTrue(child.parent === k.state.initProcess)
        XCTAssertFalse(child.addressSpace === k.state.memory)
        XCTAssertFalse(child.fileTable === k.state.files)
        XCTAssertTrue(child.fileTable![1] === k.state.files[1], "open file descriptions are shared")
        XCTAssertEqual(child.threads.count, 1)
        XCTAssertTrue(child.threads[0].process === child)
        XCTAssertEqual(k.platform.createdThreads.last?.0.rax, 0, "the child sees 0 from fork")
        XCTAssertEqual(child.processGroup, 1)
    }

    func testWaitReapsAZombieWithItsStatusAndGetppidFollowsTheTree() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        let statusAddress = k.scratch
        assertSuccess(k.call(.wait4, UInt64(bitPattern: -1), statusAddress, 1), 0)  // WNOHANG: still running
        end(k, child, code: 7)
        XCTAssertEqual(k.state.processPendingSignals, 0, "SIGCHLD's default is to ignore")
        assertSuccess(k.call(.wait4, UInt64(bitPattern: -1), statusAddress, 1), child.pid)
        XCTAssertEqual(ByteReader(k.peek(statusAddress, count: 4)).u32(0), 7 << 8)
        XCTAssertNil(k.state.processes[child.pid])
        assertFailure(k.call(.wait4, UInt64(bitPattern: -1), statusAddress, 1), .ECHILD)
        assertSuccess(k.call(.getppid), 0)
    }

    func testSigchldCarriesTheChildsSiginfoWhenHandled() {
        let k = TestKernel()
        k.state.signalHandlers[17] = 0x401000
        k.state.signalFlags[17] = 4 | 0x0400_0000  // SA_SIGINFO | SA_RESTORER
        guard let child = fork(k) else { return }
        end(k, child, code: 3)
        XCTAssertNotEqual(k.state.processPendingSignals & (1 << 16), 0)
        let info = k.state.process.childSignalInfo
        XCTAssertEqual(info?.code, 1)  // CLD_EXITED
        XCTAssertEqual(info?.detail, .child(pid: Int32(child.pid), uid: 0, status: 3, userTime: 0, systemTime: 0))
    }

    func testIgnoredSigchldLeavesNoZombie() {
        let k = TestKernel()
        k.state.signalHandlers[17] = 1  // SIG_IGN
        guard let child = fork(k) else { return }
        end(k, child, code: 0)
        XCTAssertNil(k.state.processes[child.pid])
        assertFailure(k.call(.wait4, UInt64(bitPattern: -1), 0, 0), .ECHILD)
    }

    func testOrphansAreAdoptedByPIDOne() {
        let k = TestKernel()
        guard let middle = fork(k) else { return }
        // The middle process forks a grandchild: run as the middle one.
        let me = k.state.currentThread
        k.state.scheduler.current = middle.threads[0]
        guard let grandchild = fork(k) else { return }
        XCTAssertTrue(grandchild.parent === middle)
        assertSuccess(k.call(.getppid), 1)
        end(k, middle, code: 0)
        k.state.scheduler.current = me
        XCTAssertTrue(grandchild.parent === k.state.initProcess)
        XCTAssertTrue(k.state.initProcess.children.contains { $0 === grandchild })
        assertSuccess(k.call(.wait4, UInt64(middle.pid), 0, 1), middle.pid)
        assertSuccess(k.call(.wait4, UInt64(bitPattern: -1), 0, 1), 0)  // the grandchild still runs
    }

    func testWaitidReportsCLDExitedAndWNOWAITKeepsTheZombie() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        end(k, child, code: 9)
        let infop = k.scratch
        // P_PID, WEXITED | WNOWAIT
        assertSuccess(k.call(.waitid, 1, UInt64(child.pid), infop, 4 | 0x0100_0000), 0)
        let r = ByteReader(k.peek(infop, count: 28))
        XCTAssertEqual(r.u32(0), 17)
        XCTAssertEqual(r.u32(8), 1)
        XCTAssertEqual(Int(r.u32(16)), child.pid)
        XCTAssertEqual(r.u32(24), 9)
        XCTAssertNotNil(k.state.processes[child.pid])
        assertSuccess(k.call(.waitid, 0, 0, infop, 4), 0)
        XCTAssertNil(k.state.processes[child.pid])
        assertFailure(k.call(.waitid, 0, 0, infop, 0), .EINVAL)  // no WEXITED/WSTOPPED/WCONTINUED
    }

    func testWaitRejectsUnknownOptions() {
        let k = TestKernel()
        assertFailure(k.call(.wait4, UInt64(bitPattern: -1), 0, 0x10), .EINVAL)
    }

    func testProcessGroupsAndKillOfANegativePid() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        assertSuccess(k.call(.setpgid, UInt64(child.pid), 0), 0)
        XCTAssertEqual(child.processGroup, child.pid)
        assertSuccess(k.call(.getpgid, UInt64(child.pid)), child.pid)
        assertSuccess(k.call(.getsid, UInt64(child.pid)), 1)
        assertFailure(k.call(.setsid), .EPERM)  // PID 1 leads its group
        assertSuccess(k.call(.kill, UInt64(bitPattern: Int64(-child.pid)), 15), 0)
        XCTAssertNotEqual(child.processPendingSignals & (1 << 14), 0)
        XCTAssertEqual(k.state.processPendingSignals & (1 << 14), 0, "the caller is in another group")
        assertFailure(k.call(.kill, UInt64(bitPattern: -77), 15), .ESRCH)
        assertFailure(k.call(.kill, 77, 0), .ESRCH)
    }

    func testForkBeyondTheProcessCapIsEAGAIN() {
        let k = TestKernel()
        k.state.processLimit = 3
        XCTAssertNotNil(fork(k))
        XCTAssertNotNil(fork(k))
        assertFailure(k.call(.fork), .EAGAIN)
    }
}
