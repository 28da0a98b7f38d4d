// SyscallRestartTests — restarting a syscall interrupted by a signal (signal(7); Sources/
// KernelCore/Signals/SignalDelivery.swift): rewound when no handler runs or the handler has
// SA_RESTART, left as EINTR otherwise, and only for the calls Linux restarts.
@testable import KernelCore
import LinuxABI
import XCTest

final class SyscallRestartTests: XCTestCase {
    let syscallSite: UInt64 = 0x40_1000   // the `syscall` instruction; the guest resumes 2 bytes on
    let eintr = UInt64(bitPattern: -4)

    /// A thread just back from `read` with EINTR, its stack in the scratch area.
    func interruptedRead(_ k: TestKernel) {
        var regs = UserRegisters()
        regs.rip = syscallSite + 2
        regs.rax = eintr
        regs.rdi = 3
        regs.rsp = k.scratch + TestKernel.scratchLength - 64
        k.platform.registers = regs
        k.state.currentThread.restartableSyscall = SyscallNumber.read.rawValue
    }

    /// The saved rip and rax in the rt_sigframe the handler got (uc_mcontext after uc_flags,
    /// uc_link and the 24-byte uc_stack).
    func savedRIPAndRAX(_ k: TestKernel) -> (UInt64, UInt64) {
        let base = k.platform.registers.rsp + UInt64(RtSigframe.contextOffset) + 40
        let r = ByteReader(k.peek(base, count: 8 * SignalContext.registerCount))
        return (r.u64(8 * SignalContext.RIP), r.u64(8 * SignalContext.RAX))
    }

    func handler(_ k: TestKernel, signal s: Int, flags: UInt64) {
        k.state.signalHandlers[s] = 0x40_2000
        k.state.signalFlags[s] = flags | 0x0400_0000   // SA_RESTORER, required on x86-64
        k.state.signalRestorers[s] = 0x40_3000
    }

    func testOnlyTheCallsLinuxRestartsAreRestartable() {
        for n in [SyscallNumber.read, .write, .readv, .ioctl, .openat, .wait4, .accept4, .recvfrom, .sendmsg] {
            XCTAssertTrue(KernelState.isRestartable(n.rawValue), "\(n.rawValue)")
        }
        for n in [SyscallNumber.nanosleep, .poll, .ppoll, .epoll_wait, .select, .futex, .connect, .rt_sigsuspend] {
            XCTAssertFalse(KernelState.isRestartable(n.rawValue), "\(n.rawValue)")
        }
    }

    func testWithoutAHandlerTheCallIsRewound() {
        let k = TestKernel()
        interruptedRead(k)
        k.state.returnToUser()
        XCTAssertEqual(k.platform.registers.rip, syscallSite)
        XCTAssertEqual(k.platform.registers.rax, 0)          // read's number, run again
        XCTAssertEqual(k.platform.registers.rdi, 3)
        XCTAssertNil(k.state.currentThread.restartableSyscall)
        k.state.returnToUser()                                 // a later return changes nothing
        XCTAssertEqual(k.platform.registers.rip, syscallSite)
    }

    func testSARestartHandlerReturnsToTheRewoundCall() {
        let k = TestKernel()
        handler(k, signal: 10, flags: 0x1000_0000)              // SA_RESTART
        interruptedRead(k)
        k.state.postThreadSignal(10, to: k.state.currentThread)
        k.state.returnToUser()
        XCTAssertEqual(k.platform.registers.rip, 0x40_2000)   // in the handler
        let (rip, rax) = savedRIPAndRAX(k)
        XCTAssertEqual(rip, syscallSite)                       // sigreturn lands on `syscall`
        XCTAssertEqual(rax, 0)
    }

    func testHandlerWithoutSARestartSeesEINTR() {
        let k = TestKernel()
        handler(k, signal: 12, flags: 0)
        interruptedRead(k)
        k.state.postThreadSignal(12, to: k.state.currentThread)
        k.state.returnToUser()
        XCTAssertEqual(k.platform.registers.rip, 0x40_2000)
        let (rip, rax) = savedRIPAndRAX(k)
        XCTAssertEqual(rip, syscallSite + 2)
        XCTAssertEqual(rax, eintr)
    }

    func testACallThatIsNotRestartableKeepsItsEINTR() {
        let k = TestKernel()
        interruptedRead(k)
        k.state.currentThread.restartableSyscall = nil          // e.g. nanosleep: dispatch left it unset
        k.state.returnToUser()
        XCTAssertEqual(k.platform.registers.rip, syscallSite + 2)
        XCTAssertEqual(k.platform.registers.rax, eintr)
    }
}
