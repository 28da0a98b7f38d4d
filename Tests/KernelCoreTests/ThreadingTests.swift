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

    func testManyFutexesKeepTheirOwnQueuesAndHasWaitersSeesOthers() {
        var t = FutexTable()
        for i in 0..<1000 { t.enqueue(address: UInt64(i) * 4, tid: i + 1, bitset: ~0) }
        t.enqueue(address: 400, tid: 5000, bitset: ~0)
        XCTAssertEqual(t.queues.count, 1000)
        XCTAssertEqual(t.take(address: 400, count: 1), [101])
        XCTAssertTrue(t.hasWaiters(address: 400))
        XCTAssertFalse(t.hasWaiters(address: 400, other: 5000))
        XCTAssertFalse(t.hasWaiters(address: 4000))
        XCTAssertEqual(t.take(address: 3996, count: 5), [1000])
        XCTAssertFalse(t.isWaiting(address: 3996, tid: 1000))
        XCTAssertEqual(t.queues.count, 999)
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

    func testForkStyleCloneMakesAProcessAndThreadWithoutSighandIsEINVAL() {
        let k = TestKernel()
        XCTAssertEqual(k.call(.clone, 17, 0, 0, 0, 0), .success(2))              // SIGCHLD only: fork
        XCTAssertEqual(k.state.processes[2]?.exitSignal, 17)
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

/// Guest time values → deadlines (Sources/KernelCore/Threads/Deadline.swift), and the calls
/// that sleep on them: validation as timespec64_valid, saturation instead of a trap.
final class DeadlineTests: XCTestCase {
    let llongMax = Int64.max

    func testTimespecValidationMatchesTimespec64Valid() {
        XCTAssertEqual(GuestTime.nanoseconds(seconds: 1, nanoseconds: 5), .success(1_000_000_005))
        XCTAssertEqual(GuestTime.nanoseconds(seconds: -1, nanoseconds: 0), .failure(.EINVAL))
        XCTAssertEqual(GuestTime.nanoseconds(seconds: 0, nanoseconds: -1), .failure(.EINVAL))
        XCTAssertEqual(GuestTime.nanoseconds(seconds: 0, nanoseconds: 1_000_000_000), .failure(.EINVAL))
        XCTAssertEqual(GuestTime.nanoseconds(seconds: 0, nanoseconds: 999_999_999), .success(999_999_999))
    }

    func testHugeTimespecsSaturateAtKTIMEMAX() {
        XCTAssertEqual(GuestTime.nanoseconds(seconds: llongMax, nanoseconds: 0), .success(Int64.max))
        XCTAssertEqual(GuestTime.nanoseconds(seconds: 9_223_372_036, nanoseconds: 999_999_999), .success(Int64.max))
        XCTAssertEqual(GuestTime.nanoseconds(seconds: 9_223_372_036, nanoseconds: 0), .success(9_223_372_036_000_000_000))
    }

    func testSelectTimevalCarriesMicrosecondsAndRejectsNegatives() {
        XCTAssertEqual(GuestTime.nanoseconds(selectTimevalSeconds: 1, microseconds: 1_500_000), .success(2_500_000_000))
        XCTAssertEqual(GuestTime.nanoseconds(selectTimevalSeconds: 0, microseconds: -1), .failure(.EINVAL))
        XCTAssertEqual(GuestTime.nanoseconds(selectTimevalSeconds: -1, microseconds: 0), .failure(.EINVAL))
        XCTAssertEqual(GuestTime.nanoseconds(selectTimevalSeconds: llongMax, microseconds: 999_999), .success(Int64.max))
        XCTAssertEqual(GuestTime.nanoseconds(milliseconds: -1), nil)
        XCTAssertEqual(GuestTime.nanoseconds(milliseconds: Int32.max), Int64(Int32.max) * 1_000_000)
    }

    func testDeadlinesSaturateToNeverAndPastTimesAreDueNow() {
        let now: UInt64 = 5_000_000_000
        XCTAssertEqual(Deadline.after(10, now: now), Deadline(monotonic: now + 10))
        XCTAssertEqual(Deadline.after(Int64.max, now: now), .never)
        XCTAssertEqual(Deadline.after(-5, now: now), Deadline(monotonic: now))
        XCTAssertEqual(Deadline.at(Int64.max, clockNow: 1_764_000_000_000_000_000, now: now).monotonic,
                       now + UInt64(Int64.max - 1_764_000_000_000_000_000), "far, but representable")
        XCTAssertEqual(Deadline.at(Int64.max, clockNow: -5, now: now), .never, "target - clockNow overflows")
        XCTAssertEqual(Deadline.at(0, clockNow: 1_764_000_000_000_000_000, now: now), Deadline(monotonic: now))
        XCTAssertEqual(Deadline.at(Int64.min, clockNow: Int64.max, now: now), Deadline(monotonic: now))
        XCTAssertEqual(Deadline.at(Int64(now) + 7, clockNow: Int64(now), now: now).monotonic, now + 7)
        XCTAssertEqual(Deadline.never.remaining(now: now), Int64.max)
        XCTAssertEqual(Deadline(monotonic: 3).remaining(now: now), 0)
        XCTAssertEqual(Deadline(monotonic: now + 9).remaining(now: now), 9)
        XCTAssertFalse(Deadline.never.hasPassed(now: UInt64.max))
        XCTAssertEqual(Deadline.never.earlier(Deadline(monotonic: 4)), Deadline(monotonic: 4))
        XCTAssertEqual(GuestTime.timespec(Int64.max), le64(9_223_372_036, 854_775_807))
        XCTAssertEqual(GuestTime.timeval(-3), le64(0, 0))
    }

    // MARK: through the calls

    /// struct timespec {sec, nsec} in guest memory.
    func timespec(_ k: TestKernel, _ sec: Int64, _ nsec: Int64, at offset: UInt64 = 0x800) -> UInt64 {
        k.poke(le64(UInt64(bitPattern: sec), UInt64(bitPattern: nsec)), at: offset)
    }

    /// A signal is pending and unblocked: the next wait ends at once with EINTR, so a call
    /// that really sleeps says so without the test sleeping.
    func interruptNextWait(_ k: TestKernel) { k.state.currentThread.pendingSignals = 1 << 9 }

    func testFutexWaitWithLLONGMAXTimeoutSleepsInsteadOfTrapping() {
        let k = TestKernel()
        let word = k.poke([5, 0, 0, 0])
        let forever = timespec(k, llongMax, 0)
        XCTAssertEqual(k.call(.futex, word, 128, 4, forever), .failure(.EAGAIN), "value mismatch, timeout accepted")
        interruptNextWait(k)
        XCTAssertEqual(k.call(.futex, word, 128, 5, forever), .failure(.EINTR), "it waited (until the signal)")
        k.state.currentThread.pendingSignals = 0
        // FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME with an absolute LLONG_MAX.
        interruptNextWait(k)
        XCTAssertEqual(k.call(.futex, word, 9 | 128 | 256, 5, forever, 0, 0xFFFF_FFFF), .failure(.EINTR))
        k.state.currentThread.pendingSignals = 0
        XCTAssertTrue(k.state.futexes.isEmpty, "interrupted waiters leave the queue")
    }

    func testFutexTimeoutErrorsAreEINVALAndEFAULT() {
        let k = TestKernel()
        let word = k.poke([5, 0, 0, 0])
        XCTAssertEqual(k.call(.futex, word, 128, 5, timespec(k, -1, 0)), .failure(.EINVAL))
        XCTAssertEqual(k.call(.futex, word, 128, 5, timespec(k, 0, 1_000_000_000)), .failure(.EINVAL))
        XCTAssertEqual(k.call(.futex, word, 128, 4, timespec(k, 0, -1)), .failure(.EINVAL), "checked before the value")
        XCTAssertEqual(k.call(.futex, word, 128, 5, 0x10), .failure(.EFAULT))
        XCTAssertEqual(k.call(.futex, word, 128, 5, timespec(k, 0, 1000)), .failure(.ETIMEDOUT))
    }

    func testHugeNanosleepSleepsUntilInterruptedAndReportsTheTimeLeft() {
        let k = TestKernel()
        let rem = k.scratch + 0x900
        interruptNextWait(k)
        XCTAssertEqual(k.call(.nanosleep, timespec(k, llongMax, 999_999_999), rem), .failure(.EINTR))
        let left = ByteReader(k.peek(rem, count: 16))
        XCTAssertGreaterThan(left.i64(0), 9_000_000_000, "about KTIME_MAX left")
        XCTAssertTrue((0..<1_000_000_000).contains(left.i64(8)))
        k.state.currentThread.pendingSignals = 0
        XCTAssertEqual(k.call(.nanosleep, timespec(k, -1, 0), 0), .failure(.EINVAL))
        XCTAssertEqual(k.call(.nanosleep, timespec(k, 0, 1_000_000_000), 0), .failure(.EINVAL))
        XCTAssertEqual(k.call(.nanosleep, timespec(k, 0, 5_000_000), 0), .success(0))
    }

    func testClockNanosleepAbsoluteHugeDeadlineSleepsAndPastOneReturns() {
        let k = TestKernel()
        interruptNextWait(k)
        XCTAssertEqual(k.call(.clock_nanosleep, 0, 1, timespec(k, llongMax, 0), 0), .failure(.EINTR))
        interruptNextWait(k)
        XCTAssertEqual(k.call(.clock_nanosleep, 1, 1, timespec(k, llongMax, 999_999_999), 0), .failure(.EINTR))
        interruptNextWait(k)
        let rem = k.scratch + 0x900
        XCTAssertEqual(k.call(.clock_nanosleep, 1, 0, timespec(k, llongMax, 0), rem), .failure(.EINTR))
        XCTAssertGreaterThan(ByteReader(k.peek(rem, count: 16)).i64(0), 9_000_000_000)
        k.state.currentThread.pendingSignals = 0
        XCTAssertEqual(k.call(.clock_nanosleep, 1, 1, timespec(k, 1, 0), 0), .success(0), "a past absolute time")
        XCTAssertEqual(k.call(.clock_nanosleep, 0, 1, timespec(k, -1, 0), 0), .failure(.EINVAL))
    }

    func testHugeSelectAndPollTimeoutsWaitAndBadOnesAreEINVAL() {
        let k = TestKernel()
        let tv = k.poke(le64(UInt64(Int64.max), 999_999), at: 0xA00)
        interruptNextWait(k)
        XCTAssertEqual(k.call(.select, 0, 0, 0, 0, tv), .failure(.EINTR), "select with a huge timeval waits")
        k.state.currentThread.pendingSignals = 0
        let bad = k.poke(le64(0, UInt64(bitPattern: -1)), at: 0xA20)
        XCTAssertEqual(k.call(.select, 0, 0, 0, 0, bad), .failure(.EINVAL))
        let carry = k.poke(le64(0, 1_000_000), at: 0xA40)
        XCTAssertEqual(k.call(.select, 0, 0, 0, 0, carry), .success(0), "tv_usec of a whole second carries")
        interruptNextWait(k)
        XCTAssertEqual(k.call(.ppoll, 0, 0, timespec(k, llongMax, 0), 0, 8), .failure(.EINTR))
        k.state.currentThread.pendingSignals = 0
        XCTAssertEqual(k.call(.ppoll, 0, 0, timespec(k, -1, 0), 0, 8), .failure(.EINVAL))
        XCTAssertEqual(k.call(.pselect6, 0, 0, 0, 0, timespec(k, 0, 1_000_000_000), 0), .failure(.EINVAL))
        let ep = successValue(k.call(.epoll_create1, 0)) ?? -1
        let events = k.scratch + 0xC00
        XCTAssertEqual(k.call(.epoll_pwait2, UInt64(ep), events, 4, timespec(k, -1, 0), 0, 8), .failure(.EINVAL))
        interruptNextWait(k)
        XCTAssertEqual(k.call(.epoll_pwait2, UInt64(ep), events, 4, timespec(k, llongMax, 0), 0, 8), .failure(.EINTR))
        k.state.currentThread.pendingSignals = 0
    }

    func testTimerfdWithHugeValuesNeverFiresAndBadOnesAreEINVAL() {
        let k = TestKernel()
        let fd = successValue(k.call(.timerfd_create, 1, 0)) ?? -1
        let huge = k.poke(le64(UInt64(Int64.max), 0, UInt64(Int64.max), 999_999_999), at: 0xB00)
        XCTAssertEqual(k.call(.timerfd_settime, UInt64(fd), 0, huge, 0), .success(0))
        XCTAssertEqual(k.call(.timerfd_settime, UInt64(fd), 1, huge, 0), .success(0), "TFD_TIMER_ABSTIME")
        let now = k.scratch + 0xB40
        XCTAssertEqual(k.call(.timerfd_gettime, UInt64(fd), now), .success(0))
        XCTAssertGreaterThan(ByteReader(k.peek(now, count: 32)).i64(16), 9_000_000_000, "armed, far away")
        let bad = k.poke(le64(0, 0, 0, 1_000_000_000), at: 0xB80)
        XCTAssertEqual(k.call(.timerfd_settime, UInt64(fd), 0, bad, 0), .failure(.EINVAL))
        // A short first expiry with a huge interval: fires once, then the next is out of range.
        let once = k.poke(le64(UInt64(Int64.max), 0, 0, 1), at: 0xBC0)
        XCTAssertEqual(k.call(.timerfd_settime, UInt64(fd), 0, once, 0), .success(0))
        let count = k.scratch + 0xC00
        XCTAssertEqual(k.call(.read, UInt64(fd), count, 8), .success(8))
        XCTAssertEqual(k.peek(count, count: 8), le64(1))
    }

    func testThreadCreationWithoutMemoryIsENOMEMNotAPanic() {
        let k = TestKernel()
        // Take every free frame: the platform would need a kernel stack it cannot get.
        while k.state.frames.allocateFrame() != nil {}
        XCTAssertEqual(k.call(.clone, 0x3D0F00, 0x7000_0000, 0, 0, 0), .failure(.ENOMEM))
        XCTAssertEqual(k.platform.createdThreads.count, 0)
        XCTAssertEqual(k.state.scheduler.threads.count, 1)
    }
}
