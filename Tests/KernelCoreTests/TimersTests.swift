// TimersTests — interval timers, POSIX timers, CPU-time clocks, the robust-list walk and the
// PI futex word protocol (Sources/KernelCore/Threads/IntervalTimers.swift, PosixTimers.swift,
// Futex.swift), on the host: pure arithmetic first, then handlers through KernelState.dispatch
// on a TestKernel (Fakes.swift). Expected values follow setitimer(2), alarm(2),
// timer_create(2), futex(2) and kernel/futex/core.c as cited in the sources.
@testable import KernelCore
import LinuxABI
import XCTest

/// A sparse guest memory for the robust-list walk: 8-byte and 4-byte cells by address;
/// anything else faults.
final class FakeFutexMemory: FutexMemory {
    var words64: [UInt64: UInt64] = [:]
    var words32: [UInt64: UInt32] = [:]
    var readOnly: Set<UInt64> = []
    func load64(_ address: UInt64) -> UInt64? { words64[address] }
    func load32(_ address: UInt64) -> UInt32? { words32[address] }
    func store32(_ address: UInt64, _ value: UInt32) -> Bool {
        guard words32[address] != nil, !readOnly.contains(address) else { return false }
        words32[address] = value
        return true
    }
}

final class TimersTests: XCTestCase {
    // MARK: TimerSchedule

    func testOneShotExpiresOnceThenDisarms() {
        var s = TimerSchedule(expiry: 1000, interval: 0)
        XCTAssertEqual(s.expire(now: 999), 0)
        XCTAssertEqual(s.expire(now: 1000), 1)
        XCTAssertFalse(s.isArmed)
        XCTAssertEqual(s.expire(now: 5000), 0)
    }

    func testPeriodicCountsEveryMissedPeriodAndMovesPastNow() {
        var s = TimerSchedule(expiry: 1000, interval: 100)
        XCTAssertEqual(s.expire(now: 1250), 3)   // 1000, 1100, 1200
        XCTAssertEqual(s.expiry, 1300)
        XCTAssertEqual(s.expire(now: 1299), 0)
        XCTAssertEqual(s.remaining(now: 1250, dueFloor: 1), 50)
    }

    func testPeriodicExpiryBeyondTheClockDisarmsInsteadOfWrapping() {
        var s = TimerSchedule(expiry: UInt64.max - 10, interval: UInt64.max / 2)
        XCTAssertEqual(s.expire(now: UInt64.max - 5), 1)
        XCTAssertNil(s.expiry)
    }

    func testDueButUnprocessedTimerReadsTheFloorNotZero() {
        let s = TimerSchedule(expiry: 1000, interval: 0)
        XCTAssertEqual(s.remaining(now: 2000, dueFloor: 1000), 1000)
        XCTAssertEqual(TimerSchedule().remaining(now: 2000, dueFloor: 1000), 0)
    }

    // MARK: overruns

    func testExpiriesWhileTheSignalIsQueuedBecomeTheOverrun() {
        let t = PosixTimer(id: 0, clock: .monotonic, notification: .signal(34, value: 7))
        XCTAssertTrue(t.record(expiries: 1))      // posts the signal
        XCTAssertFalse(t.record(expiries: 4))     // pending: counted only
        XCTAssertFalse(t.record(expiries: 2))
        XCTAssertEqual(t.delivered(), 6)
        XCTAssertEqual(t.overrun, 6)
        XCTAssertTrue(t.record(expiries: 3))      // the next signal carries 2 overruns
        XCTAssertEqual(t.delivered(), 2)
    }

    func testOverrunIsCappedAtDelaytimerMax() {
        XCTAssertEqual(PosixTimer.clampOverrun(UInt64(Int32.max) + 5), Int32.max)
        let t = PosixTimer(id: 0, clock: .monotonic, notification: .signal(34, value: 0))
        _ = t.record(expiries: UInt64.max)
        _ = t.record(expiries: UInt64.max)
        XCTAssertEqual(t.delivered(), Int32.max)
    }

    func testSigevNoneNeverPosts() {
        let t = PosixTimer(id: 0, clock: .monotonic, notification: .none)
        XCTAssertFalse(t.record(expiries: 1))
    }

    // MARK: robust list walk

    /// head at 0x1000 → A (0x2000) → B (0x3000, PI) → head; futex_offset 8.
    func makeList(_ m: FakeFutexMemory, pending: UInt64 = 0) {
        m.words64[0x1000] = 0x2000
        m.words64[0x1008] = 8
        m.words64[0x1010] = pending
        m.words64[0x2000] = 0x3000 | 1
        m.words64[0x3000] = 0x1000
    }

    func testExitMarksOwnedWordsOwnerDiedAndWakesOnlyWhereWaiters() {
        let m = FakeFutexMemory()
        makeList(m)
        m.words32[0x2008] = 42 | FutexWord.waiters
        m.words32[0x3008] = 42
        var woken: [UInt64] = []
        let marked = RobustList.release(head: 0x1000, tid: 42, memory: m) { woken.append($0) }
        XCTAssertEqual(marked, [0x2008, 0x3008])
        XCTAssertEqual(m.words32[0x2008], FutexWord.waiters | FutexWord.ownerDied)
        XCTAssertEqual(m.words32[0x3008], FutexWord.ownerDied)
        XCTAssertEqual(woken, [0x2008])
    }

    func testWordsOwnedBySomeoneElseAreLeftAlone() {
        let m = FakeFutexMemory()
        makeList(m)
        m.words32[0x2008] = 43 | FutexWord.waiters
        m.words32[0x3008] = 0
        var woken: [UInt64] = []
        XCTAssertEqual(RobustList.release(head: 0x1000, tid: 42, memory: m) { woken.append($0) }, [])
        XCTAssertEqual(m.words32[0x2008], 43 | FutexWord.waiters)
        XCTAssertTrue(woken.isEmpty)
    }

    func testPendingEntryIsHandledOnceAndAZeroPendingWordStillWakes() {
        let m = FakeFutexMemory()
        makeList(m, pending: 0x2000)
        m.words32[0x2008] = 0        // the lock was being taken: no owner yet
        m.words32[0x3008] = 42
        var woken: [UInt64] = []
        let marked = RobustList.release(head: 0x1000, tid: 42, memory: m) { woken.append($0) }
        XCTAssertEqual(marked, [0x3008])
        XCTAssertEqual(woken, [0x2008])   // handle_futex_death's pending_op wake
    }

    func testALoopedListStopsAtTheLimit() {
        let m = FakeFutexMemory()
        m.words64[0x1000] = 0x2000
        m.words64[0x1008] = 8
        m.words64[0x1010] = 0
        m.words64[0x2000] = 0x2000   // points at itself, never back to the head
        m.words32[0x2008] = 7
        var calls = 0
        let marked = RobustList.release(head: 0x1000, tid: 42, memory: m) { _ in calls += 1 }
        XCTAssertTrue(marked.isEmpty)
        XCTAssertEqual(calls, 0)
    }

    func testAFaultingEntryEndsTheWalkWithoutHarm() {
        let m = FakeFutexMemory()
        m.words64[0x1000] = 0x2000
        m.words64[0x1008] = 8
        m.words64[0x1010] = 0
        m.words32[0x2008] = 42          // readable word, but the next pointer faults
        let marked = RobustList.release(head: 0x1000, tid: 42, memory: m) { _ in }
        XCTAssertEqual(marked, [0x2008])
        XCTAssertTrue(RobustList.release(head: 0x9000, tid: 42, memory: m) { _ in }.isEmpty)
    }

    // MARK: PI ownership

    func testPIOwnershipTransitions() {
        let alive: (UInt32) -> Bool = { $0 == 7 || $0 == 9 }
        XCTAssertEqual(PILockStep.decide(value: 0, tid: 9, othersWaiting: false, ownerExists: alive), .acquire(9))
        XCTAssertEqual(PILockStep.decide(value: 0, tid: 9, othersWaiting: true, ownerExists: alive), .acquire(9 | FutexWord.waiters))
        XCTAssertEqual(PILockStep.decide(value: FutexWord.ownerDied, tid: 9, othersWaiting: false, ownerExists: alive),
                       .acquire(9 | FutexWord.ownerDied))
        XCTAssertEqual(PILockStep.decide(value: 9, tid: 9, othersWaiting: false, ownerExists: alive), .deadlock)
        XCTAssertEqual(PILockStep.decide(value: 7, tid: 9, othersWaiting: false, ownerExists: alive), .wait(7 | FutexWord.waiters))
        XCTAssertEqual(PILockStep.decide(value: 5 | FutexWord.ownerDied, tid: 9, othersWaiting: false, ownerExists: alive), .ownerGone)
    }

    // MARK: handlers

    func testAlarmReturnsTheRoundedSecondsLeft() {
        let k = TestKernel()
        assertSuccess(k.call(.alarm, 10), 0)
        assertSuccess(k.call(.alarm, 0), 10)   // a few fake milliseconds passed: rounds to 10
        assertSuccess(k.call(.alarm, 0), 0)
    }

    func testSetitimerRejectsBadArgumentsAndReportsTheOldValue() {
        let k = TestKernel()
        var w = ByteWriter()
        w.i64(0); w.i64(0); w.i64(0); w.i64(1_000_000)   // tv_usec 1000000
        let bad = k.poke(w.bytes)
        assertFailure(k.call(.setitimer, 0, bad, 0), .EINVAL)
        assertFailure(k.call(.setitimer, 3, 0, 0), .EINVAL)
        var g = ByteWriter()
        g.i64(0); g.i64(20_000); g.i64(2); g.i64(0)      // every 20 ms, first in 2 s
        let good = k.poke(g.bytes, at: 64)
        assertSuccess(k.call(.setitimer, 0, good, 0), 0)
        let old = k.scratch + 128
        assertSuccess(k.call(.getitimer, 0, old), 0)
        XCTAssertEqual(k.peek64(old), 0)
        XCTAssertEqual(k.peek64(old + 8), 20_000)
        XCTAssertEqual(k.peek64(old + 16), 1)            // 1.9xx s left
    }

    func testITimerRealPostsSIGALRMWhenDue() {
        let k = TestKernel()
        k.platform.monotonicStep = 0
        assertSuccess(k.call(.alarm, 1), 0)
        k.platform.monotonic += 2_000_000_000
        k.state.fireDueTimers()
        XCTAssertNotEqual(k.state.processPendingSignals & (1 << 13), 0)
    }

    func testTimerCreateValidatesSigeventAndTimerDeleteForgets() {
        let k = TestKernel()
        var ev = ByteWriter()
        ev.u64(5); ev.i32(34); ev.i32(3); ev.zeros(48)   // sigev_notify 3: invalid
        let evp = k.poke(ev.bytes)
        let idp = k.scratch + 256
        assertFailure(k.call(.timer_create, 1, evp, idp), .EINVAL)
        assertFailure(k.call(.timer_create, 4, 0, idp), .EOPNOTSUPP)   // MONOTONIC_RAW
        assertSuccess(k.call(.timer_create, 1, 0, idp), 0)
        let id = k.peek64(idp) & 0xFFFF_FFFF
        assertSuccess(k.call(.timer_delete, id), 0)
        assertFailure(k.call(.timer_delete, id), .EINVAL)
    }

    func testPosixTimerSignalCarriesSITimerAndOverrun() {
        let k = TestKernel()
        k.platform.monotonicStep = 0   // the clock moves only when the test says
        k.state.signalHandlers[34] = 0x401000              // a handler, so not ignored
        var ev = ByteWriter()
        ev.u64(0xABCD); ev.i32(34); ev.i32(0); ev.zeros(48)
        let evp = k.poke(ev.bytes)
        let idp = k.scratch + 256
        assertSuccess(k.call(.timer_create, 1, evp, idp), 0)
        let id = k.peek64(idp) & 0xFFFF_FFFF
        var its = ByteWriter()
        its.i64(0); its.i64(1_000_000); its.i64(0); its.i64(1_000_000)   // every 1 ms
        let itsp = k.poke(its.bytes, at: 512)
        assertSuccess(k.call(.timer_settime, id, 0, itsp, 0), 0)
        k.platform.monotonic += 10_500_000
        k.state.fireDueTimers()
        let info = k.state.takeTimerSignalInfo(34, thread: k.state.currentThread, fromThread: false)
        XCTAssertEqual(info?.code, -2)
        XCTAssertEqual(info?.detail, .timer(id: Int32(id), overrun: 9, value: 0xABCD))
        assertSuccess(k.call(.timer_getoverrun, id), 9)
    }

    func testClockSettimeOnlyForRealtimeAndItMovesTheClock() {
        let k = TestKernel()
        let ts = k.poke(GuestTime.timespec(2_000_000_000_000_000_000))
        assertFailure(k.call(.clock_settime, 1, ts), .EINVAL)
        assertSuccess(k.call(.clock_settime, 0, ts), 0)
        XCTAssertGreaterThanOrEqual(k.state.realtimeNow(), 2_000_000_000_000_000_000)
        XCTAssertLessThan(k.state.realtimeNow(), 2_000_000_001_000_000_000)
    }

    func testCPUClocksReadChargedTime() {
        let k = TestKernel()
        let t = k.state.currentThread
        t.userNanoseconds = 3_000_000
        t.systemNanoseconds = 1_000_000
        t.accountingMark = 0
        let out = k.scratch + 256
        assertSuccess(k.call(.clock_gettime, 3, out), 0)   // THREAD_CPUTIME_ID
        XCTAssertEqual(k.peek64(out + 8), 4_000_000)
        // clock_getcpuclockid-style encoding for this process, VIRT (user only): (~0 << 3) | 1.
        let virt = UInt64(bitPattern: Int64(~0 << 3 | 1))
        assertSuccess(k.call(.clock_gettime, virt, out), 0)
        XCTAssertEqual(k.peek64(out + 8), 3_000_000)
    }

    func testUnlockPIByANonOwnerIsEPERMAndByTheOwnerClearsTheWord() {
        let k = TestKernel()
        let tid = UInt32(k.state.currentThread.tid)
        var w = ByteWriter()
        w.u32(tid + 5)
        let word = k.poke(w.bytes)
        assertFailure(k.call(.futex, word, 7), .EPERM)
        var mine = ByteWriter()
        mine.u32(tid)
        let owned = k.poke(mine.bytes, at: 64)
        assertFailure(k.call(.futex, owned, 6), .EDEADLK)
        assertSuccess(k.call(.futex, owned, 7), 0)
        XCTAssertEqual(k.peek(owned, count: 4), [0, 0, 0, 0])
        assertSuccess(k.call(.futex, owned, 8), 0)           // TRYLOCK_PI on 0 takes it
        XCTAssertEqual(k.peek(owned, count: 4), mine.bytes)
        assertFailure(k.call(.futex, word, 8), .ESRCH)       // owner tid+5 does not exist
    }

    func testGetRobustListReturnsTheHeadAndSize() {
        let k = TestKernel()
        assertSuccess(k.call(.set_robust_list, 0x7000, 24), 0)
        let out = k.scratch + 256
        assertSuccess(k.call(.get_robust_list, 0, out, out + 8), 0)
        XCTAssertEqual(k.peek64(out), 0x7000)
        XCTAssertEqual(k.peek64(out + 8), 24)
        assertFailure(k.call(.get_robust_list, 999, out, out + 8), .ESRCH)
    }

    func testFutexWaitvChecksItsArgumentsAndValues() {
        let k = TestKernel()
        var w = ByteWriter()
        w.u64(0); w.u64(k.scratch + 1024); w.u32(2 | 128); w.u32(0)   // {val 0, uaddr, U32|PRIVATE}
        let waiters = k.poke(w.bytes)
        assertFailure(k.call(.futex_waitv, waiters, 1, 1, 0, 0), .EINVAL)    // flags
        assertFailure(k.call(.futex_waitv, waiters, 0, 0, 0, 0), .EINVAL)    // no futexes
        assertFailure(k.call(.futex_waitv, waiters, 129, 0, 0, 0), .EINVAL)  // too many
        _ = k.poke([7, 0, 0, 0], at: 1024)
        assertFailure(k.call(.futex_waitv, waiters, 1, 0, 0, 0), .EAGAIN)    // word 7, expected 0
        _ = k.poke([0, 0, 0, 0], at: 1024)
        let past = k.poke(GuestTime.timespec(1), at: 2048)
        assertFailure(k.call(.futex_waitv, waiters, 1, 0, past, 1), .ETIMEDOUT)
        XCTAssertFalse(k.state.futexes.isWaiting(address: k.scratch + 1024, tid: k.state.currentThread.tid))
        var bad = ByteWriter()
        bad.u64(0); bad.u64(k.scratch + 1024); bad.u32(0); bad.u32(0)     // no size flag
        assertFailure(k.call(.futex_waitv, k.poke(bad.bytes, at: 3072), 1, 0, 0, 0), .EINVAL)
    }
}
