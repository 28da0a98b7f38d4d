// TraceCrashBacktraceTests — the frame-pointer walk and the control-channel line of a guest
// crash report (Sources/KernelCore/CrashReport.swift), which egg symbolizes
// (Sources/EggHost/CrashSymbolizer.swift). Frames are laid out in a TestKernel's memory as
// the System V psABI describes: [rbp] = caller's rbp, [rbp+8] = return address.
@testable import KernelCore
import LinuxABI
import XCTest

final class TraceCrashBacktraceTests: XCTestCase {
    func words(_ values: [UInt64]) -> [UInt8] {
        var w = ByteWriter()
        for v in values { w.u64(v) }
        return w.bytes
    }

    func report(rbp: UInt64, rsp: UInt64) -> CrashReport {
        let r = CrashRegisters(rax: 0, rbx: 0, rcx: 0, rdx: 0, rsi: 0, rdi: 0, rbp: rbp, rsp: rsp, r8: 0, r9: 0,
                               r10: 0, r11: 0, r12: 0, r13: 0, r14: 0, r15: 0, rip: 0x401007, rflags: 0x202,
                               cs: 0x2b, ss: 0x23)
        return CrashReport(signal: 11, exceptionName: "Page fault", vector: 14, errorCode: 4, faultAddress: 0x10,
                           registers: r, executable: Array("/p".utf8))
    }

    func testWalkFollowsTheChainUntilANullFrame() {
        let k = TestKernel()
        let f0 = k.scratch + 0x100, f1 = k.scratch + 0x200, f2 = k.scratch + 0x300
        _ = k.poke(words([f1, 0x401111]), at: 0x100)
        _ = k.poke(words([f2, 0x402222]), at: 0x200)
        _ = k.poke(words([0, 0x403333]), at: 0x300)
        _ = k.poke(words([0x401500]), at: 0x80)
        XCTAssertEqual(CrashReport.walkFramePointers(rbp: f0, memory: k.space), [0x401111, 0x402222, 0x403333])
        var r = report(rbp: f0, rsp: k.scratch + 0x80)
        r.captureStack(k.space)
        XCTAssertEqual(r.hostChannelLine(), "crash ip 0x401007 top 0x401500 bt 0x401111 0x402222 0x403333\n")
        XCTAssertTrue(r.render().contains("Call trace (frame pointers): 0000000000401111 0000000000402222 0000000000403333\n"))
    }

    func testWalkStopsAtBadFramesWithoutFaulting() {
        let k = TestKernel()
        XCTAssertEqual(CrashReport.walkFramePointers(rbp: 0x10, memory: k.space), [], "unmapped")
        XCTAssertEqual(CrashReport.walkFramePointers(rbp: k.scratch + 3, memory: k.space), [], "misaligned")
        let f0 = k.scratch + 0x100
        _ = k.poke(words([f0, 0x401111]), at: 0x100)   // points at itself: a loop
        XCTAssertEqual(CrashReport.walkFramePointers(rbp: f0, memory: k.space), [0x401111])
        var limited: [UInt64] = []
        for i in 0..<20 {   // a chain longer than the limit
            let next = k.scratch + UInt64(0x1000 + (i + 1) * 16)
            _ = k.poke(words([next, 0x400000 + UInt64(i)]), at: UInt64(0x1000 + i * 16))
            limited.append(0x400000 + UInt64(i))
        }
        XCTAssertEqual(CrashReport.walkFramePointers(rbp: k.scratch + 0x1000, memory: k.space, limit: 16),
                       Array(limited.prefix(16)))
    }

    func testNoStackMeansAPlainLine() {
        let r = report(rbp: 0, rsp: 0)
        XCTAssertEqual(r.hostChannelLine(), "crash ip 0x401007\n")
        XCTAssertFalse(r.render().contains("Call trace"))
    }
}
