// PS2KeyboardTests — the scancode set 1 decoder and the i8042 access of
// Sources/Drivers/PS2Keyboard.swift, with a fake controller. Expected bytes are what a Linux
// console sends for the same keys (drivers/tty/vt/defkeymap.map).
import XCTest
@testable import Drivers

final class PS2KeyboardDecoderTests: XCTestCase {
    var d = PS2KeyboardDecoder()

    /// Press and release each make code in turn.
    func type(_ codes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for c in codes {
            out += d.decode(c)
            out += d.decode(c | 0x80)
        }
        return out
    }

    func testLettersDigitsAndPunctuation() {
        XCTAssertEqual(type([0x1E, 0x30, 0x2E]), Array("abc".utf8))
        XCTAssertEqual(type([0x02, 0x0B, 0x0C, 0x0D, 0x39, 0x35]), Array("10-= /".utf8))
    }

    func testReleasesAloneProduceNothing() {
        XCTAssertEqual(d.decode(0x9E), [])
    }

    func testShiftGivesCapitalsAndUpperSymbols() {
        XCTAssertEqual(d.decode(0x2A), [])                   // left shift down
        XCTAssertEqual(type([0x23, 0x02, 0x28]), Array("H!\"".utf8))
        _ = d.decode(0xAA)                                   // left shift up
        XCTAssertEqual(type([0x23]), Array("h".utf8))
        _ = d.decode(0x36)                                   // right shift
        XCTAssertEqual(type([0x1A]), Array("{".utf8))
    }

    func testCapsLockTogglesLettersOnlyAndShiftInvertsIt() {
        XCTAssertEqual(type([0x3A]), [])
        XCTAssertTrue(d.capsLock)
        XCTAssertEqual(type([0x1E, 0x02]), Array("A1".utf8))
        _ = d.decode(0x2A)
        XCTAssertEqual(type([0x1E]), Array("a".utf8))
        _ = d.decode(0xAA)
        XCTAssertEqual(type([0x3A]), [])
        XCTAssertEqual(type([0x1E]), Array("a".utf8))
    }

    func testControlLettersAreC0Codes() {
        _ = d.decode(0x1D)                                   // left ctrl down
        XCTAssertEqual(type([0x2E]), [0x03], "Ctrl+C")
        XCTAssertEqual(type([0x20]), [0x04], "Ctrl+D")
        XCTAssertEqual(type([0x1E, 0x2C]), [0x01, 0x1A], "Ctrl+A, Ctrl+Z")
        XCTAssertEqual(type([0x2B]), [0x1C], "Ctrl+\\ is FS (SIGQUIT)")
        XCTAssertEqual(type([0x16]), [0x15], "Ctrl+U")
        _ = d.decode(0x9D)
        _ = d.decode(0xE0); _ = d.decode(0x1D)               // right ctrl
        XCTAssertTrue(d.control)
        XCTAssertEqual(type([0x11]), [0x17], "Ctrl+W")
        _ = d.decode(0xE0); _ = d.decode(0x9D)
        XCTAssertFalse(d.control)
    }

    func testEnterBackspaceTabEscape() {
        XCTAssertEqual(type([0x1C, 0x0E, 0x0F, 0x01]), [0x0D, 0x7F, 0x09, 0x1B])
    }

    func testExtendedKeysSendLinuxConsoleSequences() {
        var out: [UInt8] = []
        for key: UInt8 in [0x48, 0x50, 0x4D, 0x4B, 0x53] {
            out += d.decode(0xE0) + d.decode(key) + d.decode(0xE0) + d.decode(key | 0x80)
        }
        XCTAssertEqual(out, Array("\u{1B}[A\u{1B}[B\u{1B}[C\u{1B}[D\u{1B}[3~".utf8))
        XCTAssertEqual(d.decode(0xE0) + d.decode(0x1C), [0x0D], "keypad Enter")
    }

    func testFunctionKeysAndKeypad() {
        XCTAssertEqual(type([0x3B]), Array("\u{1B}[[A".utf8))
        XCTAssertEqual(type([0x58]), Array("\u{1B}[24~".utf8))
        XCTAssertEqual(type([0x47, 0x4E, 0x53]), Array("7+.".utf8))
    }

    func testAltPrefixesEscape() {
        _ = d.decode(0x38)
        XCTAssertEqual(type([0x1E]), [0x1B, 0x61])
        _ = d.decode(0xB8)
        XCTAssertEqual(type([0x1E]), [0x61])
    }

    func testPauseSequenceIsSwallowed() {
        var out: [UInt8] = []
        for c: UInt8 in [0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5] { out += d.decode(c) }
        XCTAssertEqual(out, [])
        XCTAssertFalse(d.control, "the 0x1D inside Pause is not Ctrl")
        XCTAssertEqual(type([0x1E]), [0x61])
    }

    func testFakeShiftAroundPrintScreenIsIgnored() {
        _ = d.decode(0xE0); _ = d.decode(0x2A)
        XCTAssertFalse(d.shift)
    }
}

/// An i8042 with a queue of bytes for the data port.
final class FakeI8042: PortIO {
    var output: [(UInt8, fromMouse: Bool)] = []
    var configuration: UInt8 = 0x05
    var commands: [UInt8] = []
    var awaitingConfiguration = false

    func read8(_ port: UInt16) -> UInt8 {
        if port == 0x64 {
            guard let first = output.first else { return 0x00 }
            return 0x01 | (first.fromMouse ? 0x20 : 0)
        }
        guard !output.isEmpty else { return 0 }
        return output.removeFirst().0
    }

    func write8(_ port: UInt16, _ value: UInt8) {
        if port == 0x64 {
            commands.append(value)
            if value == 0x20 { output.append((configuration, false)) }
            awaitingConfiguration = value == 0x60
        } else if awaitingConfiguration {
            configuration = value
            awaitingConfiguration = false
        }
    }
}

final class PS2KeyboardControllerTests: XCTestCase {
    func testReadsScancodesAndSkipsMouseBytes() {
        let io = FakeI8042()
        io.output = [(0x1E, false), (0x08, true), (0x9E, false)]
        let kb = PS2Keyboard(io: io)
        XCTAssertEqual(kb.readScancode(), 0x1E)
        XCTAssertNil(kb.readScancode(), "a mouse byte is consumed, not returned")
        XCTAssertEqual(kb.readScancode(), 0x9E)
        XCTAssertNil(kb.readScancode())
    }

    func testInitializeDrainsAndTurnsOnTranslationAndIRQ1() {
        let io = FakeI8042()
        io.configuration = 0x00
        io.output = [(0xAA, false)]
        PS2Keyboard(io: io).initialize()
        XCTAssertEqual(io.commands, [0x20, 0x60])
        XCTAssertEqual(io.configuration, 0x41)
        XCTAssertTrue(io.output.isEmpty)
    }
}
