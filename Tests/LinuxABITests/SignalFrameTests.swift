// SignalFrameTests — the signal frame layouts (siginfo, sigcontext, ucontext, rt_sigframe)
// against the frame the host Linux kernel really builds: the test takes a SIGUSR1 with an
// SA_SIGINFO handler and decodes what the kernel put on the stack.
// Neighbours: StructLayoutTests.swift (the other layouts).

import Glibc
import LinuxABI
import XCTest

nonisolated(unsafe) private var capturedContextBytes: [UInt8] = []
nonisolated(unsafe) private var capturedInfoBytes: [UInt8] = []
nonisolated(unsafe) private var infoMinusContext = 0

final class SignalFrameTests: XCTestCase {
    func testSizes() {
        XCTAssertEqual(Siginfo(signal: 11, code: 1).encode().count, 128)
        XCTAssertEqual(SignalStack().encode().count, 24)
        XCTAssertEqual(SignalContext().encode().count, 256)
        XCTAssertEqual(UserContext(machineContext: SignalContext(), signalMask: .empty).encode().count, 304)
        let frame = RtSigframe(returnAddress: 0x401000,
                               context: UserContext(machineContext: SignalContext(), signalMask: .empty),
                               info: Siginfo(signal: 10, code: 0))
        XCTAssertEqual(frame.encode().count, 440)
        XCTAssertEqual(MemoryLayout<siginfo_t>.size, Siginfo.byteSize)
        XCTAssertEqual(MemoryLayout<mcontext_t>.size, SignalContext.byteSize)
        XCTAssertEqual(MemoryLayout<stack_t>.size, SignalStack.byteSize)
        XCTAssertEqual(MemoryLayout<ucontext_t>.offset(of: \ucontext_t.uc_mcontext), UserContext.machineContextOffset)
    }

    func testSigchldInfoMatchesGlibcUnion() {
        var c = siginfo_t()
        c.si_signo = SIGCHLD
        c.si_code = 1
        c._sifields._sigchld.si_pid = 42
        c._sifields._sigchld.si_uid = 1000
        c._sifields._sigchld.si_status = 7
        c._sifields._sigchld.si_utime = 9
        c._sifields._sigchld.si_stime = 11
        let bytes = withUnsafeBytes(of: &c) { Array($0) }
        let ours = Siginfo(signal: SIGCHLD, code: SignalCode.CLD_EXITED,
                           detail: .child(pid: 42, uid: 1000, status: 7, userTime: 9, systemTime: 11))
        XCTAssertEqual(ours.encode(), bytes)
    }

    func testFrameAddressIsAlignedLikeAfterACall() {
        for top in [UInt64(0x7fff_ffff_e000), 0x7fff_ffff_e008, 0x7fff_ffff_dff3] {
            let frame = RtSigframe.frameAddress(stackTop: top, reserved: 512)
            XCTAssertEqual((frame + 8) % 16, 0)
            XCTAssertLessThanOrEqual(frame + UInt64(RtSigframe.byteSize), top - 128 - 512)
        }
    }

    func testHostKernelFrameDecodes() throws {
        let handler: @convention(c) (Int32, UnsafeMutablePointer<siginfo_t>?, UnsafeMutableRawPointer?) -> Void = {
            _, info, context in
            guard let info, let context else { return }
            capturedContextBytes = Array(UnsafeRawBufferPointer(start: context, count: UserContext.byteSize))
            capturedInfoBytes = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(info), count: Siginfo.byteSize))
            infoMinusContext = Int(bitPattern: UnsafeRawPointer(info)) - Int(bitPattern: UnsafeRawPointer(context))
        }
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = handler
        action.sa_flags = SA_SIGINFO
        var old = sigaction()
        guard sigaction(SIGUSR1, &action, &old) == 0 else { throw XCTSkip("sigaction failed") }
        defer { sigaction(SIGUSR1, &old, nil) }
        raise(SIGUSR1)

        // info follows uc in struct rt_sigframe.
        XCTAssertEqual(infoMinusContext, RtSigframe.infoOffset - RtSigframe.contextOffset)
        // glibc's raise() is tgkill: SI_TKILL with the sender's pid and uid.
        let expected = Siginfo(signal: SIGUSR1, code: SignalCode.SI_TKILL,
                               detail: .sender(pid: getpid(), uid: getuid()))
        XCTAssertEqual(capturedInfoBytes, expected.encode())

        let context = try UserContext.decode(from: capturedContextBytes)
        // The kernel stores field by field and leaves padding (stack_t after ss_flags) and
        // sigcontext.reserved1 as stack garbage; everything else must round-trip.
        var meaningful = capturedContextBytes
        for index in 28..<32 { meaningful[index] = 0 }
        for index in (UserContext.machineContextOffset + 192)..<(UserContext.machineContextOffset + 256) {
            meaningful[index] = 0
        }
        XCTAssertEqual(context.encode(), meaningful)
        XCTAssertEqual(context.machineContext.cs, 0x33, "64-bit user code segment")
        XCTAssertNotEqual(context.machineContext.registers[SignalContext.RIP], 0)
        XCTAssertNotEqual(context.machineContext.fpstate, 0, "the kernel saved FPU state")
        XCTAssertEqual(context.flags & UserContext.UC_SIGCONTEXT_SS, UserContext.UC_SIGCONTEXT_SS)
        XCTAssertFalse(context.signalMask.contains(.SIGUSR1), "the mask from before delivery")
    }
}
