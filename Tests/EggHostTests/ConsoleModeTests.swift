// ConsoleModeTests — how egg's stdin reaches the guest's console (Sources/EggHost/
// ConsoleMode.swift): the boot option for piped input and QEMU's signal=off for a terminal,
// in both the -kernel and the ISO command lines.

import EggHost
import XCTest

final class ConsoleModeTests: XCTestCase {
    func testPipedStdinTurnsTheGuestTerminalsEchoOffAndKeepsQEMUSignals() {
        let piped = ConsoleMode(stdinIsTerminal: false)
        XCTAssertEqual(piped.kernelOptions, ["console=pipe"])
        XCTAssertEqual(piped.chardev, "stdio,id=console")
    }

    func testTerminalStdinPassesControlCToTheGuest() {
        let terminal = ConsoleMode(stdinIsTerminal: true)
        XCTAssertEqual(terminal.kernelOptions, [])
        XCTAssertEqual(terminal.chardev, "stdio,id=console,signal=off")
    }

    func testCommandLinesCarryTheChardev() {
        var kernel = QEMUConfiguration(kernelPath: "/k", bundlePath: "/b", controlPath: "/c")
        XCTAssertTrue(kernel.arguments.contains("stdio,id=console"))
        kernel.console = ConsoleMode(stdinIsTerminal: true)
        XCTAssertTrue(kernel.arguments.contains("stdio,id=console,signal=off"))
        XCTAssertFalse(kernel.arguments.contains("stdio,id=console"))
        var image = ISOQEMUConfiguration(imagePath: "/i.iso", controlPath: "/c")
        image.console = ConsoleMode(stdinIsTerminal: true)
        XCTAssertTrue(image.arguments.contains("stdio,id=console,signal=off"))
    }
}
