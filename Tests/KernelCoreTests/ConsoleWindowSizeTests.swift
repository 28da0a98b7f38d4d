// ConsoleWindowSizeTests — the "winsize=ROWSxCOLS" boot option egg passes when its own
// stdin and stdout are terminals (Sources/KernelCore/Devices/ConsoleTerminal.swift,
// Sources/EggHost/ConsoleMode.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class ConsoleWindowSizeTests: XCTestCase {
    func testParsesRowsByColumns() {
        XCTAssertEqual(ConsoleTerminal.parseWindowSize("50x132"), Winsize(rows: 50, columns: 132))
    }

    func testRejectsMalformedOrZeroSizes() {
        for bad in ["", "x", "50", "0x80", "24x0", "24x80x1", "-1x80", "70000x80", "24 x80"] {
            XCTAssertNil(ConsoleTerminal.parseWindowSize(bad), bad)
        }
    }
}
