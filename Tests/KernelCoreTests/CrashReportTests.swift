// CrashReportTests — the message printed when the guest dies of a fault
// (Sources/KernelCore/CrashReport.swift).
@testable import KernelCore
import XCTest

final class CrashReportTests: XCTestCase {
    func registers(rip: UInt64, rsp: UInt64) -> CrashRegisters {
        CrashRegisters(rax: 0x1111, rbx: 2, rcx: 3, rdx: 4, rsi: 5, rdi: 6, rbp: 7, rsp: rsp, r8: 8, r9: 9,
                       r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 0xF15, rip: rip, rflags: 0x246,
                       cs: 0x2B, ss: 0x23)
    }

    func testPageFaultReportNamesSignalAddressAndRip() {
        let report = CrashReport(signal: 11, exceptionName: "Page fault", vector: 14, errorCode: 6,
                                 faultAddress: 0xDEAD_BEEF, registers: registers(rip: 0x40_1234, rsp: 0x7FFF_F000),
                                 executable: Array("/bin/crash".utf8))
        let text = report.render()
        XCTAssertTrue(text.contains("/bin/crash: killed by SIGSEGV (Segmentation fault)"), text)
        XCTAssertTrue(text.contains("segfault at deadbeef"), text)
        XCTAssertTrue(text.contains("ip 0000000000401234"), text)
        XCTAssertTrue(text.contains("sp 000000007ffff000"), text)
        XCTAssertTrue(text.contains("write, page not present"), text)
        XCTAssertTrue(text.contains("RIP: 0000000000401234"), text)
        XCTAssertTrue(text.contains("RAX: 0000000000001111"), text)
        XCTAssertTrue(text.contains("R15: 0000000000000f15"), text)
    }

    func testOtherTrapReport() {
        let report = CrashReport(signal: 4, exceptionName: "Invalid opcode", vector: 6, errorCode: 0,
                                 faultAddress: nil, registers: registers(rip: 0xABC, rsp: 0),
                                 executable: Array("a.out".utf8))
        let text = report.render()
        XCTAssertTrue(text.contains("killed by SIGILL (Illegal instruction)"), text)
        XCTAssertTrue(text.contains("Invalid opcode (trap 6) ip 0000000000000abc"), text)
        XCTAssertFalse(text.contains("segfault"), text)
    }

    func testPageFaultDescriptions() {
        XCTAssertEqual(CrashReport.describePageFault(4), "read, page not present")
        XCTAssertEqual(CrashReport.describePageFault(7), "write, protection violation")
        XCTAssertEqual(CrashReport.describePageFault(0x15), "instruction fetch, protection violation")
    }

    func testSignalNamesAndHex() {
        XCTAssertEqual(CrashReport.signalName(6), "SIGABRT")
        XCTAssertEqual(CrashReport.signalName(40), "signal 40")
        XCTAssertEqual(CrashReport.signalDescription(8), "Floating point exception")
        XCTAssertEqual(hex16(0), "0000000000000000")
        XCTAssertEqual(hex16(UInt64.max), "ffffffffffffffff")
    }
}
