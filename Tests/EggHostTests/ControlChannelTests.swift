// ControlChannelTests — from the kernel's port-0xE9 text to egg's exit status (tests for
// Sources/EggHost/ControlChannel.swift).

import EggHost
import XCTest

final class ControlChannelTests: XCTestCase {
    func status(_ text: String, timedOut: Bool = false, signal: Int32? = nil) -> Int32 {
        decideOutcome(report: ControlReport(parsing: text), timedOut: timedOut, interruptedBy: signal).exitStatus
    }

    func testExitLineGivesTheGuestStatus() {
        XCTAssertEqual(status("info boot multiboot\nboot-tsc 123\nexit 0\n"), 0)
        XCTAssertEqual(status("exit 42\n"), 42)
        XCTAssertEqual(status("exit 255\n"), 255)
        XCTAssertEqual(status("exit 139\n"), 139) // died of SIGSEGV: 128 + 11
    }

    func testExitLineWithoutNewlineOrWithCarriageReturnCounts() {
        XCTAssertEqual(status("exit 7"), 7)
        XCTAssertEqual(status("exit 7\r\n"), 7)
    }

    func testFirstExitLineWins() {
        XCTAssertEqual(ControlReport(parsing: "exit 3\nexit 4\n").exitStatus, 3)
    }

    func testPanicGives250AndKeepsTheMessage() {
        let report = ControlReport(parsing: "boot-tsc 1\npanic out of memory building page tables\nexit 1\n")
        XCTAssertEqual(report.panicMessage, "out of memory building page tables")
        XCTAssertEqual(decideOutcome(report: report, timedOut: false, interruptedBy: nil),
                       .kernelPanic("out of memory building page tables"))
        XCTAssertEqual(status("panic x\n"), EggStatus.kernelPanic)
        XCTAssertEqual(EggStatus.kernelPanic, 250)
    }

    func testNoExitLineIsABootFailure() {
        XCTAssertEqual(status(""), 251)
        XCTAssertEqual(status("info boot multiboot\nboot-tsc 5\n"), EggStatus.bootFailure)
    }

    func testMalformedExitLinesAreNotTrusted() {
        for text in ["exit\n", "exit -1\n", "exit 256\n", "exit abc\n", "exiting 3\n", "xexit 3\n"] {
            let report = ControlReport(parsing: text)
            XCTAssertNil(report.exitStatus, text)
            XCTAssertEqual(report.diagnostics.count, 1, text)
            XCTAssertEqual(status(text), 251, text)
        }
    }

    func testOtherLinesAreDiagnosticsInOrder() {
        let report = ControlReport(parsing: "info a\n\nboot-tsc 9\nexit 1\ninfo after\n")
        XCTAssertEqual(report.diagnostics, ["info a", "boot-tsc 9", "info after"])
    }

    func testTimeoutAndSignalsOverrideTheChannel() {
        XCTAssertEqual(status("exit 0\n", timedOut: true), 124)
        XCTAssertEqual(status("", signal: SIGINT), 130)
        XCTAssertEqual(status("exit 0\n", signal: SIGTERM), 143)
    }

    func testDebugExitCrossCheck() {
        XCTAssertTrue(debugExitAgrees(qemuExitCode: 1, status: 0))
        XCTAssertTrue(debugExitAgrees(qemuExitCode: 85, status: 42))    // (42<<1)|1
        XCTAssertTrue(debugExitAgrees(qemuExitCode: 255, status: 255))  // 511 truncated by exit(3)
        XCTAssertFalse(debugExitAgrees(qemuExitCode: 0, status: 0))
        XCTAssertFalse(debugExitAgrees(qemuExitCode: 3, status: 0))
    }
}
