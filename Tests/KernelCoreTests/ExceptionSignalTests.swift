// ExceptionSignalTests — the CPU exception → signal mapping used by the trap path
// (Sources/KernelCore/Signals/ExceptionSignal.swift), checked against Linux's
// arch/x86/kernel/traps.c choices and the si_code values of include/uapi/asm-generic/siginfo.h.
@testable import KernelCore
import XCTest

final class ExceptionSignalTests: XCTestCase {
    func testEachGuestExceptionBecomesLinuxsSignal() {
        let expected: [(UInt64, Int, String)] = [
            (0, 8, "divide error"), (1, 5, "debug"), (3, 5, "breakpoint"), (4, 11, "overflow"),
            (5, 11, "bound range"), (6, 4, "invalid opcode"), (11, 7, "segment not present"),
            (12, 7, "stack segment"), (13, 11, "general protection"), (14, 11, "page fault"),
            (16, 8, "x87 floating point"), (17, 7, "alignment check"), (19, 8, "SIMD floating point"),
            (31, 11, "exception"),
        ]
        for (vector, signal, name) in expected {
            let s = ExceptionSignal(vector: vector, errorCode: 0)
            XCTAssertEqual(s.signal, signal, "vector \(vector)")
            XCTAssertEqual(s.name, name, "vector \(vector)")
        }
    }

    func testSiCodes() {
        XCTAssertEqual(ExceptionSignal(vector: 0, errorCode: 0).code, 1, "FPE_INTDIV")
        XCTAssertEqual(ExceptionSignal(vector: 6, errorCode: 0).code, 2, "ILL_ILLOPN")
        XCTAssertEqual(ExceptionSignal(vector: 3, errorCode: 0).code, 1, "TRAP_BRKPT")
        XCTAssertEqual(ExceptionSignal(vector: 13, errorCode: 0x10).code, 0x80, "SI_KERNEL")
        XCTAssertEqual(ExceptionSignal(vector: 14, errorCode: 0b110).code, 1, "not present: SEGV_MAPERR")
        XCTAssertEqual(ExceptionSignal(vector: 14, errorCode: 0b111).code, 2, "present: SEGV_ACCERR")
    }

    func testPageFaultErrorCodeBits() {
        let write = PageFaultAccess(errorCode: 0b00111)
        XCTAssertEqual(write, PageFaultAccess(errorCode: 7))
        XCTAssertTrue(write.write && write.protectionViolation && !write.execute)
        let fetch = PageFaultAccess(errorCode: 0b10100)
        XCTAssertTrue(fetch.execute && !fetch.write && !fetch.protectionViolation)
    }
}
