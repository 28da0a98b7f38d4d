// ConsoleJobControlTests — host tests for the console as a controlling terminal: the
// foreground process group (TIOCSPGRP/TIOCGPGRP), typed ^C/^Z going to that group,
// SIGTTIN/SIGTTOU for background use, ENOTTY/EPERM/ESRCH as tty_jobctrl.c, orphaned
// groups (EIO, SIGHUP+SIGCONT when a stopped group is orphaned), and the scheduling
// calls' bookkeeping. Code under test: Sources/KernelCore/Devices/ConsoleTerminal.swift,
// Signals/JobControl.swift, Syscalls/SchedulingSyscalls.swift.
import XCTest
@testable import KernelCore
import LinuxABI

final class ConsoleJobControlTests: XCTestCase {
    func fork(_ k: TestKernel) -> KernelCore.Process? {
        guard case .success(let pid) = k.call(.fork) else { XCTFail("fork failed"); return nil }
        return k.state.processes[pid]
    }

    func asProcess(_ k: TestKernel, _ p: KernelCore.Process, _ body: () -> Void) {
        let me = k.state.scheduler.current
        k.state.scheduler.current = p.threads[0]
        body()
        k.state.scheduler.current = me
    }

    func bit(_ s: Int) -> UInt64 { 1 << UInt64(s - 1) }

    /// A child moved into its own group, made the foreground group by PID 1.
    func foregroundChild(_ k: TestKernel, _ groupArgument: UInt64) -> KernelCore.Process? {
        guard let child = fork(k) else { return nil }
        assertSuccess(k.call(.setpgid, UInt64(child.pid), 0), 0)
        XCTAssertEqual(child.processGroup, child.pid)
        XCTAssertNil(k.space.copyOut(UserAddress(groupArgument), from: [UInt8(child.pid), 0, 0, 0]))
        assertSuccess(k.call(.ioctl, 0, 0x5410, groupArgument), 0)            // TIOCSPGRP
        return child
    }

    func testTypedInterruptGoesToTheForegroundGroupOnly() {
        let k = TestKernel()
        let arg = k.scratch + 0x100
        guard let child = foregroundChild(k, arg) else { return }
        assertSuccess(k.call(.ioctl, 0, 0x540F, arg + 8), 0)                    // TIOCGPGRP
        XCTAssertEqual(k.peek(arg + 8, count: 4), [UInt8(child.pid), 0, 0, 0])
        k.state.receiveConsoleInput([0x03])                                     // ^C
        XCTAssertNotEqual(child.processPendingSignals & bit(2), 0, "SIGINT to the foreground group")
        XCTAssertEqual(k.state.initProcess.processPendingSignals & bit(2), 0, "not to the shell behind it")
    }

    func testBackgroundReadSendsSIGTTINToItsGroupOrFailsWithEIO() {
        let k = TestKernel()
        let buf = k.scratch + 0x200
        guard let child = fork(k) else { return }
        assertSuccess(k.call(.setpgid, UInt64(child.pid), 0), 0)                 // a background job
        asProcess(k, child) {
            assertFailure(k.call(.read, 0, buf, 16), .EINTR)                     // restarted after the stop
            XCTAssertNotEqual(child.processPendingSignals & bit(21), 0, "SIGTTIN")
            child.processPendingSignals = 0
            child.signalHandlers[21] = 1                                         // SIGTTIN ignored
            assertFailure(k.call(.read, 0, buf, 16), .EIO)
            child.signalHandlers[22] = 1                                         // SIGTTOU ignored: tcsetattr goes through
        }
        // The foreground group may read as before (nothing typed: EAGAIN with O_NONBLOCK is
        // not set here, so only the ioctl side is checked).
        asProcess(k, child) {
            let termios = k.scratch + 0x400
            assertSuccess(k.call(.ioctl, 0, 0x5401, termios), 0)                 // TCGETS
            assertSuccess(k.call(.ioctl, 0, 0x5402, termios), 0)                 // TCSETS, SIGTTOU ignored
            child.signalHandlers[22] = 0
            assertFailure(k.call(.ioctl, 0, 0x5402, termios), .EINTR)
            XCTAssertNotEqual(child.processPendingSignals & bit(22), 0, "SIGTTOU for tcsetattr")
        }
    }

    /// n_tty_write: a background group's write to the console goes through unless TOSTOP is
    /// set; then it gets SIGTTOU (and restarts after the stop).
    func testBackgroundWriteWithTOSTOPGetsSIGTTOU() {
        let k = TestKernel()
        let buf = k.scratch + 0x200
        XCTAssertNil(k.space.copyOut(UserAddress(buf), from: Array("hi\n".utf8)))
        guard let child = fork(k) else { return }
        assertSuccess(k.call(.setpgid, UInt64(child.pid), 0), 0)                 // a background job
        asProcess(k, child) {
            assertSuccess(k.call(.write, 1, buf, 3), 3)                          // TOSTOP clear: written
            XCTAssertEqual(child.processPendingSignals & bit(22), 0)
        }
        // The foreground shell sets TOSTOP (struct termios: c_lflag at byte 12).
        let termios = k.scratch + 0x400
        assertSuccess(k.call(.ioctl, 0, 0x5401, termios), 0)                     // TCGETS
        var lflag = k.peek(termios + 12, count: 4)
        lflag[1] |= UInt8((TermiosBits.TOSTOP >> 8) & 0xFF)
        XCTAssertNil(k.space.copyOut(UserAddress(termios + 12), from: lflag))
        assertSuccess(k.call(.ioctl, 0, 0x5402, termios), 0)                     // TCSETS
        asProcess(k, child) {
            assertFailure(k.call(.write, 1, buf, 3), .EINTR)
            XCTAssertNotEqual(child.processPendingSignals & bit(22), 0, "SIGTTOU for a TOSTOP write")
        }
        // The foreground group writes as before.
        assertSuccess(k.call(.write, 1, buf, 3), 3)
    }

    func testForeignSessionsGetENOTTYAndEPERM() {
        let k = TestKernel()
        let arg = k.poke([1, 0, 0, 0], at: 0x300)
        guard let child = fork(k) else { return }
        asProcess(k, child) {
            assertSuccess(k.call(.setsid), child.pid)
            assertFailure(k.call(.ioctl, 0, 0x540F, arg + 8), .ENOTTY)           // TIOCGPGRP
            assertFailure(k.call(.ioctl, 0, 0x5429, arg + 8), .ENOTTY)           // TIOCGSID
            assertFailure(k.call(.ioctl, 0, 0x5422), .ENOTTY)                    // TIOCNOTTY
        }
        // PID 1 cannot make another session's group its foreground group.
        XCTAssertNil(k.space.copyOut(UserAddress(arg), from: [UInt8(child.pid), 0, 0, 0]))
        assertFailure(k.call(.ioctl, 0, 0x5410, arg), .EPERM)
        // The console belongs to session 1: the new leader may not take it without steal.
        asProcess(k, child) {
            assertFailure(k.call(.ioctl, 0, 0x540E, 0), .EPERM)                  // TIOCSCTTY
        }
        assertSuccess(k.call(.ioctl, 0, 0x540E, 0), 0)                           // already PID 1's
    }

    func testStoppedGroupOrphanedByItsParentsExitGetsHangupAndContinue() {
        let k = TestKernel()
        guard let leader = fork(k) else { return }
        assertSuccess(k.call(.setpgid, UInt64(leader.pid), 0), 0)
        var member: KernelCore.Process? = nil
        asProcess(k, leader) { member = fork(k) }
        guard let m = member else { return }
        XCTAssertEqual(m.processGroup, leader.pid)
        asProcess(k, m) { k.state.stopCurrentProcess(signal: 20) }               // ^Z: SIGTSTP
        XCTAssertTrue(m.stopped, "the group is still tied to the session through its leader's parent")
        k.state.processLeaving(leader)
        XCTAssertFalse(m.stopped, "SIGCONT after the group became orphaned")
        XCTAssertNotEqual(m.processPendingSignals & bit(1), 0, "SIGHUP")
    }

    func testPipedConsoleHasNoJobControl() {
        let k = TestKernel()
        k.state.configureConsole(options: ["console=pipe"])
        let buf = k.scratch + 0x500
        for request: UInt64 in [0x540F, 0x5410, 0x5429, 0x540E, 0x5422] {
            assertFailure(k.call(.ioctl, 0, request, buf), .ENOTTY)
        }
    }

    func testSchedulingAttributesReadBackAndResetOnFork() {
        let k = TestKernel()
        let param = k.poke([5, 0, 0, 0], at: 0x600)
        assertSuccess(k.call(.sched_setscheduler, 0, 2 | 0x4000_0000, param), 0)   // SCHED_RR 5, reset on fork
        assertSuccess(k.call(.sched_getscheduler, 0), 2 | 0x4000_0000)
        assertSuccess(k.call(.setpriority, 0, 0, UInt64(bitPattern: -5)), 0)
        assertSuccess(k.call(.getpriority, 0, 0), 25)
        guard let child = fork(k) else { return }
        XCTAssertEqual(child.threads[0].scheduling.policy, 0)
        XCTAssertEqual(child.threads[0].scheduling.nice, 0)
        XCTAssertFalse(child.threads[0].scheduling.resetOnFork)
        assertFailure(k.call(.sched_setscheduler, 0, 0, param), .EINVAL)              // OTHER needs 0
        let mask = k.poke([0xFE, 0, 0, 0, 0, 0, 0, 0], at: 0x700)                     // no CPU 0
        assertFailure(k.call(.sched_setaffinity, 0, 8, mask), .EINVAL)                // one CPU online
    }

    func iovec(_ base: UInt64, _ length: Int) -> [UInt8] {
        var b: [UInt8] = []
        for v in [base, UInt64(length)] { for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) } }
        return b
    }

    func testProcessVMReadvReadsTheChildsCopyAndStopsAtABadElement() {
        let k = TestKernel()
        let data = k.poke(Array("parent".utf8), at: 0x800)
        guard let child = fork(k) else { return }
        XCTAssertNil(child.addressSpace.copyOut(UserAddress(data), from: Array("child!".utf8)))
        let out = k.scratch + 0x900
        let local = k.poke(iovec(out, 64), at: 0xA00)
        let remote = k.poke(iovec(data, 6) + iovec(16, 8), at: 0xA40)   // the second is unmapped
        assertSuccess(k.call(.process_vm_readv, UInt64(child.pid), local, 1, remote, 2, 0), 6)
        XCTAssertEqual(k.peek(out, count: 6), Array("child!".utf8))
        XCTAssertEqual(k.peek(data, count: 6), Array("parent".utf8), "our own copy is untouched")
        assertFailure(k.call(.process_vm_readv, UInt64(child.pid), local, 1, remote + 16, 1, 0), .EFAULT)
        assertFailure(k.call(.process_vm_readv, UInt64(child.pid), local, 1, remote, 1, 1), .EINVAL)
        assertSuccess(k.call(.kcmp, 1, UInt64(child.pid), 1, 0, 0), 0 + (ObjectIdentifier(k.state.initProcess.addressSpace) < ObjectIdentifier(child.addressSpace) ? 1 : 2))
        assertSuccess(k.call(.kcmp, 1, 1, 1, 0, 0), 0)
    }
}
