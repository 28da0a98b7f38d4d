// ThreadingTests — host tests for the futex table, the scheduler's queues and the
// thread/signal/event syscalls that do not need a second CPU context to run.
import XCTest
@testable import KernelCore
import LinuxABI

final class FutexTableTests: XCTestCase {
    func testWakeTakesWaitersInArrivalOrderPerAddress() {
        var t = FutexTable()
        t.enqueue(address: 0x1000, tid: 2, bitset: ~0)
        t.enqueue(address: 0x1000, tid: 3, bitset: ~0)
        t.enqueue(address: 0x2000, tid: 4, bitset: ~0)
        XCTAssertEqual(t.take(address: 0x1000, count: 1), [2])
        XCTAssertTrue(t.isWaiting(address: 0x1000, tid: 3))
        XCTAssertEqual(t.take(address: 0x1000, count: 10), [3])
        XCTAssertEqual(t.take(address: 0x1000, count: 10), [])
        XCTAssertTrue(t.isWaiting(address: 0x2000, tid: 4))
    }

    func testBitsetWakeOnlyMatchesIntersectingWaiters() {
        var t = FutexTable()
        t.enqueue(address: 8, tid: 1, bitset: 0b01)
        t.enqueue(address: 8, tid: 2, bitset: 0b10)
        XCTAssertEqual(t.take(address: 8, count: 5, bitset: 0b10), [2])
        XCTAssertEqual(t.take(address: 8, count: 5, bitset: 0b10), [])
        XCTAssertEqual(t.take(address: 8, count: 5), [1])
    }

    func testRequeueMovesWaitersToTheTargetAddress() {
        var t = FutexTable()
        for tid in 1...4 { t.enqueue(address: 0x10, tid: tid, bitset: ~0) }
        XCTAssertEqual(t.requeue(from: 0x10, to: 0x20, count: 3), 3)
        XCTAssertEqual(t.take(address: 0x20, count: 10), [1, 2, 3])
        XCTAssertEqual(t.take(address: 0x10, count: 10), [4])
    }

    func testRemoveDropsATimedOutWaiter() {
        var t = FutexTable()
        t.enqueue(address: 0x40, tid: 7, bitset: ~0)
        t.remove(address: 0x40, tid: 7)
        XCTAssertFalse(t.isWaiting(address: 0x40, tid: 7))
        XCTAssertTrue(t.queues.isEmpty)
    }
}

final class ThreadSyscallTests: XCTestCase {
    func testCloneCreatesARunnableThreadWithTheChildsRegisters() throws {
        let k = TestKernel()
        k.platform.registers.rip = 0x401000
        k.platform.registers.rax = 56
        let tidAddress = k.scratch + 64
        // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
        let flags: UInt64 = 0x3D0F00
        guard case .success(let tid) = k.call(.clone, flags, 0x7000_0000, tidAddress, tidAddress, 0x5000) else {
            return XCTFail("clone failed")
        }
        XCTAssertGreaterThan(tid, 1)
        XCTAssertEqual(k.platform.createdThreads.count, 1)
        let (child, fsBase) = k.platform.createdThreads[0]
        XCTAssertEqual(child.rax, 0, "the child sees 0 from clone")
        XCTAssertEqual(child.rsp, 0x7000_0000)
        XCTAssertEqual(child.rip, 0x401000)
        XCTAssertEqual(fsBase, 0x5000)
        XCTAssertEqual(k.state.scheduler.threads.count, 2)
        XCTAssertEqual(k.state.scheduler.thread(withID: tid)?.clearChildTID, tidAddress)
        var word = [UInt8](repeating: 0, count: 4)
        XCTAssertNil(k.space.copyIn(UserAddress(tidAddress), count: 4, into: &word))
        XCTAssertEqual(Int(word[0]) | Int(word[1]) << 8, tid, "PARENT_SETTID stored the tid")
    }

    func testForkStyleCloneIsENOSYSAndThreadWithoutSighandIsEINVAL() {
        let k = TestKernel()
        XCTAssertEqual(k.call(.clone, 17, 0, 0, 0, 0), .failure(.ENOSYS))        // SIGCHLD only: fork
        XCTAssertEqual(k.call(.clone, 0x10100, 0, 0, 0, 0), .failure(.EINVAL))   // THREAD|VM, no SIGHAND
    }

    func testFutexWaitWithAStaleValueIsEAGAINAndWakeCountsWaiters() {
        let k = TestKernel()
        let word = k.poke([5, 0, 0, 0])
        XCTAssertEqual(k.call(.futex, word, 128, 4), .failure(.EAGAIN))  // FUTEX_WAIT_PRIVATE
        XCTAssertEqual(k.call(.futex, word, 129, 10), .success(0))       // nobody waits
        XCTAssertEqual(k.call(.futex, word | 1, 128, 5), .failure(.EINVAL), "misaligned futex word")
    }

    func testTgkillToAnUnknownThreadIsESRCHAndSignalZeroChecksOnly() {
        let k = TestKernel()
        XCTAssertEqual(k.call(.tgkill, 1, 99, 10), .failure(.ESRCH))
        XCTAssertEqual(k.call(.tgkill, 1, 1, 0), .success(0))
        XCTAssertEqual(k.state.currentThread.pendingSignals, 0)
    }

    func testABlockedSignalStaysPendingAndShowsInSigpending() {
        let k = TestKernel()
        let set = k.poke(le64(1 << 9))                                  // SIGUSR1 (10)
        XCTAssertEqual(k.call(.rt_sigprocmask, 0, set, 0, 8), .success(0))
        XCTAssertEqual(k.call(.tgkill, 1, 1, 10), .success(0))
        XCTAssertEqual(k.state.currentThread.pendingSignals, 1 << 9)
        let out = k.scratch + 256
        XCTAssertEqual(k.call(.rt_sigpending, out, 8), .success(0))
        XCTAssertEqual(k.space.readUInt64(UserAddress(out)), .success(1 << 9))
    }

    func testSigaltstackRejectsATooSmallStackAndReportsTheInstalledOne() {
        let k = TestKernel()
        var small = ByteWriter()
        small.u64(0x6000_0000); small.u32(0); small.u32(0); small.u64(1024)
        XCTAssertEqual(k.call(.sigaltstack, k.poke(small.bytes), 0), .failure(.ENOMEM))
        var good = ByteWriter()
        good.u64(0x6000_0000); good.u32(0); good.u32(0); good.u64(65536)
        XCTAssertEqual(k.call(.sigaltstack, k.poke(good.bytes), 0), .success(0))
        let old = k.scratch + 512
        XCTAssertEqual(k.call(.sigaltstack, 0, old), .success(0))
        XCTAssertEqual(k.space.readUInt64(UserAddress(old)), .success(0x6000_0000))
        XCTAssertEqual(k.space.readUInt64(UserAddress(old + 16)), .success(65536))
    }
}

final class EventSyscallTests: XCTestCase {
    func descriptors(_ k: TestKernel, _ address: UInt64) -> (Int, Int) {
        var b = [UInt8](repeating: 0, count: 8)
        XCTAssertNil(k.space.copyIn(UserAddress(address), count: 8, into: &b))
        return (Int(b[0]), Int(b[4]))
    }

    func testPipeCarriesBytesAndReportsEOFAfterTheWriterCloses() {
        let k = TestKernel()
        let fds = k.scratch + 1024
        XCTAssertEqual(k.call(.pipe2, fds, 0o4000), .success(0))   // O_NONBLOCK
        let (r, w) = descriptors(k, fds)
        let data = k.poke(Array("hello".utf8))
        XCTAssertEqual(k.call(.write, UInt64(w), data, 5), .success(5))
        let out = k.scratch + 2048
        XCTAssertEqual(k.call(.read, UInt64(r), out, 100), .success(5))
        XCTAssertEqual(k.call(.read, UInt64(r), out, 100), .failure(.EAGAIN))
        XCTAssertEqual(k.call(.close, UInt64(w)), .success(0))
        XCTAssertEqual(k.call(.read, UInt64(r), out, 100), .success(0), "EOF once no writer is left")
    }

    func testEventfdAddsUpAndEpollReportsItLevelTriggered() {
        let k = TestKernel()
        guard case .success(let efd) = k.call(.eventfd2, 0, 0o4000),
              case .success(let ep) = k.call(.epoll_create1, 0) else { return XCTFail("create") }
        var ev = ByteWriter()
        ev.u32(1); ev.u64(0xABCD)                                   // EPOLLIN, data
        XCTAssertEqual(k.call(.epoll_ctl, UInt64(ep), 1, UInt64(efd), k.poke(ev.bytes)), .success(0))
        let events = k.scratch + 4096
        XCTAssertEqual(k.call(.epoll_wait, UInt64(ep), events, 4, 0), .success(0))
        XCTAssertEqual(k.call(.write, UInt64(efd), k.poke(le64(2), at: 128), 8), .success(8))
        XCTAssertEqual(k.call(.write, UInt64(efd), k.poke(le64(3), at: 128), 8), .success(8))
        XCTAssertEqual(k.call(.epoll_wait, UInt64(ep), events, 4, 0), .success(1))
        XCTAssertEqual(k.space.readUInt64(UserAddress(events + 4)), .success(0xABCD))
        XCTAssertEqual(k.call(.epoll_wait, UInt64(ep), events, 4, 0), .success(1), "level-triggered: still ready")
        let out = k.scratch + 3000
        XCTAssertEqual(k.call(.read, UInt64(efd), out, 8), .success(8))
        XCTAssertEqual(k.space.readUInt64(UserAddress(out)), .success(5))
        XCTAssertEqual(k.call(.epoll_wait, UInt64(ep), events, 4, 0), .success(0))
        XCTAssertEqual(k.call(.epoll_ctl, UInt64(ep), 1, UInt64(efd), k.poke(ev.bytes)), .failure(.EEXIST))
        XCTAssertEqual(k.call(.epoll_ctl, UInt64(ep), 2, 99, 0), .failure(.EBADF))
    }
}
