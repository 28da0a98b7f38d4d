// JobControlTests — host tests for stopping and continuing processes (the state changes,
// the parent's CLD_STOPPED / CLD_CONTINUED SIGCHLD, wait4's WUNTRACED / WCONTINUED reports)
// and for pidfds (pidfd_open, poll readiness, pidfd_send_signal, waitid(P_PIDFD),
// pidfd_getfd). The code under test is Sources/KernelCore/Signals/JobControl.swift,
// Process/PidFile.swift and Process/WaitSyscalls.swift; the parking of a stopped thread
// needs a real scheduler and is covered by Guest/c/jobctl_test.c.
import XCTest
@testable import KernelCore
import LinuxABI

final class JobControlTests: XCTestCase {
    func fork(_ k: TestKernel) -> KernelCore.Process? {
        guard case .success(let pid) = k.call(.fork) else { XCTFail("fork failed"); return nil }
        return k.state.processes[pid]
    }

    /// Runs `body` as `p`'s first thread.
    func asProcess(_ k: TestKernel, _ p: KernelCore.Process, _ body: () -> Void) {
        let me = k.state.scheduler.current
        k.state.scheduler.current = p.threads[0]
        body()
        k.state.scheduler.current = me
    }

    func handleSigchld(_ k: TestKernel, flags: UInt64 = 0) {
        k.state.signalHandlers[17] = 0x401000
        k.state.signalFlags[17] = 4 | 0x0400_0000 | flags  // SA_SIGINFO | SA_RESTORER
    }

    func testStopThenContinueIsReportedOnceEachWithLinuxStatusWords() {
        let k = TestKernel()
        handleSigchld(k)
        guard let child = fork(k) else { return }
        asProcess(k, child) { k.state.stopCurrentProcess(signal: 19) }
        XCTAssertTrue(child.stopped)
        XCTAssertEqual(k.state.process.childSignalInfo?.code, 5)  // CLD_STOPPED
        XCTAssertEqual(k.state.process.childSignalInfo?.detail,
                       .child(pid: Int32(child.pid), uid: 0, status: 19, userTime: 0, systemTime: 0))
        XCTAssertNotEqual(k.state.processPendingSignals & (1 << 16), 0, "SIGCHLD for the stop")
        k.state.processPendingSignals = 0
        let status = k.scratch
        // Without WUNTRACED the stop is not reported.
        assertSuccess(k.call(.wait4, UInt64(child.pid), status, 1), 0)
        assertSuccess(k.call(.wait4, UInt64(child.pid), status, 1 | 2), child.pid)
        XCTAssertEqual(ByteReader(k.peek(status, count: 4)).u32(0), 0x137F)
        assertSuccess(k.call(.wait4, UInt64(child.pid), status, 1 | 2), 0)  // taken
        XCTAssertNotNil(k.state.processes[child.pid], "a stopped child is not reaped")

        assertSuccess(k.call(.kill, UInt64(child.pid), 18), 0)   // SIGCONT
        XCTAssertFalse(child.stopped)
        XCTAssertEqual(child.processPendingSignals, 0, "SIGCONT's default is to ignore")
        XCTAssertEqual(k.state.process.childSignalInfo?.code, 6)  // CLD_CONTINUED
        assertSuccess(k.call(.wait4, UInt64(child.pid), status, 1 | 8), child.pid)
        XCTAssertEqual(ByteReader(k.peek(status, count: 4)).u32(0), 0xFFFF)
        assertSuccess(k.call(.wait4, UInt64(child.pid), status, 1 | 8), 0)
    }

    func testWaitidReportsCLDStoppedAndWNOWAITKeepsTheReport() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        asProcess(k, child) { k.state.stopCurrentProcess(signal: 20) }
        let infop = k.scratch
        // P_PID, WSTOPPED | WNOHANG | WNOWAIT, twice: the report stays.
        for _ in 0..<2 {
            assertSuccess(k.call(.waitid, 1, UInt64(child.pid), infop, 2 | 1 | 0x0100_0000), 0)
            let r = ByteReader(k.peek(infop, count: 28))
            XCTAssertEqual(r.u32(8), 5)  // CLD_STOPPED
            XCTAssertEqual(Int(r.u32(16)), child.pid)
            XCTAssertEqual(r.u32(24), 20)
        }
        assertSuccess(k.call(.waitid, 1, UInt64(child.pid), infop, 2 | 1), 0)
        assertSuccess(k.call(.waitid, 1, UInt64(child.pid), infop, 2 | 1), 0)
        XCTAssertEqual(ByteReader(k.peek(infop, count: 28)).u32(16), 0, "nothing left: zeroed siginfo")
    }

    func testSANOCLDSTOPSuppressesTheStopSignalButNotTheReport() {
        let k = TestKernel()
        handleSigchld(k, flags: 1)   // SA_NOCLDSTOP
        guard let child = fork(k) else { return }
        asProcess(k, child) { k.state.stopCurrentProcess(signal: 19) }
        XCTAssertEqual(k.state.processPendingSignals, 0)
        assertSuccess(k.call(.wait4, UInt64(child.pid), k.scratch, 1 | 2), child.pid)
    }

    func testSIGCONTDiscardsPendingStopSignalsAndAStopSignalDiscardsSIGCONT() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        child.signalHandlers[18] = 0x401000   // a handled SIGCONT stays pending
        assertSuccess(k.call(.kill, UInt64(child.pid), 20), 0)   // SIGTSTP
        XCTAssertEqual(child.processPendingSignals, 1 << 19, "a default stop signal is now delivered")
        assertSuccess(k.call(.kill, UInt64(child.pid), 18), 0)
        XCTAssertEqual(child.processPendingSignals, 1 << 17, "SIGCONT took the pending SIGTSTP away")
        assertSuccess(k.call(.kill, UInt64(child.pid), 19), 0)
        XCTAssertEqual(child.processPendingSignals, 1 << 18, "SIGSTOP took the pending SIGCONT away")
    }

    func testStopSignalsToPIDOneAreDiscarded() {
        let k = TestKernel()
        assertSuccess(k.call(.kill, 1, 19), 0)
        assertSuccess(k.call(.kill, 1, 20), 0)
        XCTAssertEqual(k.state.processPendingSignals, 0)
        k.state.stopCurrentProcess(signal: 19)
        XCTAssertFalse(k.state.initProcess.stopped, "a stopped init would freeze the machine")
    }

    func testPidfdIsReadableOnceTheProcessEndedAndWaitidTakesIt() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        guard case .success(let fd) = k.call(.pidfd_open, UInt64(child.pid), 0) else { return XCTFail("pidfd_open") }
        XCTAssertTrue(k.state.files.closeOnExecFlags[fd])
        guard let pidfd = k.state.files[fd]?.object else { return XCTFail("no object") }
        XCTAssertEqual(pidfd.pollEvents(k.state), 0)
        assertFailure(k.call(.pidfd_open, UInt64(child.pid), 1), .EINVAL)
        assertFailure(k.call(.pidfd_open, 999, 0), .ESRCH)
        assertFailure(k.call(.pidfd_send_signal, UInt64(fd), 15, 0, 1), .EINVAL)
        assertSuccess(k.call(.pidfd_send_signal, UInt64(fd), 15, 0, 0), 0)
        XCTAssertEqual(child.processPendingSignals, 1 << 14)
        // The child ends.
        child.waitStatus = WaitOptions.signaledStatus(15)
        for t in child.threads { t.state = .exited }
        child.threads = []
        k.state.processEnded(child)
        XCTAssertEqual(pidfd.pollEvents(k.state), PollEvents.input)
        let infop = k.scratch
        assertSuccess(k.call(.waitid, 3, UInt64(fd), infop, 4), 0)   // P_PIDFD, WEXITED
        let r = ByteReader(k.peek(infop, count: 28))
        XCTAssertEqual(r.u32(8), 2)  // CLD_KILLED
        XCTAssertEqual(Int(r.u32(16)), child.pid)
        XCTAssertEqual(r.u32(24), 15)
        XCTAssertNil(k.state.processes[child.pid])
        assertFailure(k.call(.pidfd_send_signal, UInt64(fd), 15, 0, 0), .ESRCH)
        assertFailure(k.call(.waitid, 3, UInt64(fd), infop, 4), .ECHILD)
        assertFailure(k.call(.waitid, 3, 0, infop, 4), .EBADF)   // stdin is no pidfd
    }

    func testPidfdGetfdNeedsPtraceRights() {
        let k = TestKernel()
        guard let child = fork(k) else { return }
        guard case .success(let fd) = k.call(.pidfd_open, UInt64(child.pid), 0) else { return XCTFail("pidfd_open") }
        guard case .success(let copy) = k.call(.pidfd_getfd, UInt64(fd), 1, 0) else { return XCTFail("root may") }
        XCTAssertTrue(k.state.files[copy] === child.fileTable?[1], "the same open file description")
        assertFailure(k.call(.pidfd_getfd, UInt64(fd), 77, 0), .EBADF)
        // An unprivileged caller with other ids than the target: EPERM.
        var user = Credentials()
        user.uid = 1000; user.euid = 1000; user.suid = 1000; user.fsuid = 1000
        user.effective = .empty; user.permitted = .empty
        k.state.currentThread.credentials = user
        assertFailure(k.call(.pidfd_getfd, UInt64(fd), 1, 0), .EPERM)
    }
}
