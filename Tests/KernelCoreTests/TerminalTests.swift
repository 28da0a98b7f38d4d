// TerminalTests — the console's line discipline (Sources/KernelCore/Devices/Terminal.swift)
// on its own, and through read(2), poll(2) and the tty ioctls on the console
// (ConsoleTerminal.swift) with a FakePlatform whose "typed" bytes arrive as input.
// Expected echo bytes and read results are what Linux's n_tty gives (drivers/tty/n_tty.c).
import XCTest
import LinuxABI
@testable import KernelCore

final class TerminalDisciplineTests: XCTestCase {
    let t = Terminal()

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
    let erased: [UInt8] = [0x08, 0x20, 0x08]   // "\b \b"

    func settings(_ change: (inout Termios) -> Void) {
        var s = t.settings
        change(&s)
        t.apply(s)
    }

    // MARK: canonical mode

    func testCanonicalLineEchoesAndEndsAtCarriageReturnMappedToNewline() {
        let e = t.receive(bytes("abc"))
        XCTAssertEqual(e.echo, bytes("abc"))
        XCTAssertFalse(t.hasInput, "no complete line yet")
        XCTAssertNil(t.readLine(maximum: 100))
        XCTAssertEqual(t.receive([0x0D]).echo, [0x0A], "ICRNL: CR is a newline and echoes as one")
        XCTAssertTrue(t.hasInput)
        XCTAssertEqual(t.readLine(maximum: 100), bytes("abc\n"))
        XCTAssertFalse(t.hasInput)
    }

    func testBackspaceErasesWithBackSpaceBackEcho() {
        let e = t.receive(bytes("abc") + [0x7F] + bytes("d\n"))
        XCTAssertEqual(e.echo, bytes("abc") + erased + bytes("d\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("abd\n"))
    }

    func testEraseOnEmptyLineDoesNothing() {
        let e = t.receive([0x7F, 0x7F])
        XCTAssertEqual(e.echo, [])
        XCTAssertEqual(t.receive(bytes("x\n")).echo, bytes("x\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("x\n"))
    }

    func testEraseWithoutECHOEEchoesTheEraseCharacter() {
        settings { $0.localFlags &= ~TermiosBits.ECHOE }
        XCTAssertEqual(t.receive(bytes("ab") + [0x7F]).echo, bytes("ab^?"))
        _ = t.receive([0x0A])
        XCTAssertEqual(t.readLine(maximum: 10), bytes("a\n"))
    }

    func testKillErasesTheLineCharacterByCharacterWithECHOKE() {
        let e = t.receive(bytes("hello") + [0x15] + bytes("x\n"))
        XCTAssertEqual(e.echo, bytes("hello") + Array([[UInt8]](repeating: erased, count: 5).joined()) + bytes("x\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("x\n"))
    }

    func testKillWithoutECHOKEEchoesCaretUAndNewline() {
        settings { $0.localFlags &= ~TermiosBits.ECHOKE }
        let e = t.receive(bytes("hey") + [0x15])
        XCTAssertEqual(e.echo, bytes("hey^U\n"))
        _ = t.receive(bytes("ok\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("ok\n"))
    }

    func testWordEraseRemovesTrailingBlanksAndTheWordBeforeThem() {
        let e = t.receive(bytes("foo bar  ") + [0x17])
        XCTAssertEqual(e.echo, bytes("foo bar  ") + Array([[UInt8]](repeating: erased, count: 5).joined()))
        _ = t.receive(bytes("baz\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("foo baz\n"))
    }

    func testWordEraseNeedsIEXTEN() {
        settings { $0.localFlags &= ~TermiosBits.IEXTEN }
        _ = t.receive(bytes("a") + [0x17] + bytes("\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("a\u{17}\n"))
    }

    func testEndOfFileAtLineStartReadsAsZeroBytes() {
        let e = t.receive([0x04])
        XCTAssertEqual(e.echo, [], "VEOF is not echoed")
        XCTAssertTrue(t.hasInput)
        XCTAssertEqual(t.readLine(maximum: 100), [])
        XCTAssertFalse(t.hasInput)
    }

    func testEndOfFileInsideALineEndsTheReadWithoutTheCharacter() {
        _ = t.receive(bytes("ab") + [0x04] + [0x04])
        XCTAssertEqual(t.readLine(maximum: 100), bytes("ab"))
        XCTAssertEqual(t.readLine(maximum: 100), [], "a second ^D is end of file")
        XCTAssertNil(t.readLine(maximum: 100))
    }

    func testShortReadsLeaveTheRestOfTheLine() {
        _ = t.receive(bytes("abcd\nef\n"))
        XCTAssertEqual(t.readableByteCount, 8)
        XCTAssertEqual(t.readLine(maximum: 2), bytes("ab"))
        XCTAssertEqual(t.readableByteCount, 6)
        XCTAssertEqual(t.readLine(maximum: 100), bytes("cd\n"), "one line per read")
        XCTAssertEqual(t.readLine(maximum: 100), bytes("ef\n"))
    }

    func testReadableByteCountLeavesOutEndOfFileMarksAndThePartialLine() {
        _ = t.receive(bytes("ab") + [0x04] + bytes("cd"))
        XCTAssertEqual(t.readableByteCount, 2)
    }

    func testEOLEndsALineAndIsKept() {
        settings { $0.controlCharacters[TermiosBits.VEOL] = 0x3B }  // ';'
        XCTAssertEqual(t.receive(bytes("a;b")).echo, bytes("a;b"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("a;"))
        XCTAssertNil(t.readLine(maximum: 100))
    }

    func testControlCharactersEchoAsCaretPairsAndEraseAsTwoCells() {
        XCTAssertEqual(t.receive(bytes("a") + [0x01]).echo, bytes("a^A"))
        XCTAssertEqual(t.receive([0x7F]).echo, erased + erased)
        XCTAssertEqual(t.receive([0x09]).echo, [0x09], "tab is echoed as itself")
    }

    func testErasingATabBacksUpToItsStart() {
        _ = t.receive(bytes("a\tb"))
        XCTAssertEqual(t.receive([0x7F]).echo, erased)
        XCTAssertEqual(t.receive([0x7F]).echo, [UInt8](repeating: 0x08, count: 7), "tab from column 1 to 8")
        _ = t.receive([0x0A])
        XCTAssertEqual(t.readLine(maximum: 10), bytes("a\n"))
    }

    func testIUTF8EraseRemovesAWholeCharacter() {
        settings { $0.inputFlags |= TermiosBits.IUTF8 }
        XCTAssertEqual(t.receive(bytes("xé") + [0x7F]).echo, bytes("xé") + erased)
        _ = t.receive([0x0A])
        XCTAssertEqual(t.readLine(maximum: 10), bytes("x\n"))
    }

    func testLinesStopAt4095CharactersButStillTakeTheNewline() {
        _ = t.receive([UInt8](repeating: 0x61, count: 5000))
        _ = t.receive([0x0A])
        let line = t.readLine(maximum: 1 << 16)
        XCTAssertEqual(line?.count, 4096)
        XCTAssertEqual(line?.last, 0x0A)
    }

    // MARK: signals

    func testInterruptSendsSIGINTFlushesAndEchoesCaretC() {
        _ = t.receive(bytes("done\n"))
        let e = t.receive(bytes("abc") + [0x03])
        XCTAssertEqual(e.signals, [2])
        XCTAssertEqual(e.echo, bytes("abc^C"))
        XCTAssertFalse(t.hasInput, "complete lines are flushed too")
        _ = t.receive(bytes("x\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("x\n"), "the partial line went")
    }

    func testQuitSendsSIGQUIT() {
        let e = t.receive([0x1C])
        XCTAssertEqual(e.signals, [3])
        XCTAssertEqual(e.echo, bytes("^\\"))
    }

    func testNOFLSHKeepsTheInput() {
        settings { $0.localFlags |= TermiosBits.NOFLSH }
        let e = t.receive(bytes("ab\n") + [0x03])
        XCTAssertEqual(e.signals, [2])
        XCTAssertEqual(t.readLine(maximum: 10), bytes("ab\n"))
    }

    func testWithoutISIGInterruptIsAnOrdinaryCharacter() {
        settings { $0.localFlags &= ~TermiosBits.ISIG }
        let e = t.receive([0x03, 0x0A])
        XCTAssertEqual(e.signals, [])
        XCTAssertEqual(t.readLine(maximum: 10), [0x03, 0x0A])
    }

    func testInterruptWithoutEchoSendsTheSignalSilently() {
        settings { $0.localFlags &= ~TermiosBits.ECHO }
        let e = t.receive([0x03])
        XCTAssertEqual(e, TerminalEffects(echo: [], signals: [2]))
    }

    // MARK: input flags and echo flags

    func testNoEchoButECHONLEchoesOnlyNewlines() {
        settings { $0.localFlags = ($0.localFlags & ~TermiosBits.ECHO) | TermiosBits.ECHONL }
        XCTAssertEqual(t.receive(bytes("secret\r")).echo, [0x0A])
        XCTAssertEqual(t.readLine(maximum: 100), bytes("secret\n"))
    }

    func testIGNCRDropsCarriageReturns() {
        settings { $0.inputFlags |= TermiosBits.IGNCR }
        _ = t.receive(bytes("a\r\n"))
        XCTAssertEqual(t.readLine(maximum: 10), bytes("a\n"))
    }

    func testINLCRTurnsNewlineIntoCarriageReturn() {
        settings { $0.inputFlags = ($0.inputFlags & ~TermiosBits.ICRNL) | TermiosBits.INLCR }
        _ = t.receive(bytes("a\n"))
        XCTAssertNil(t.readLine(maximum: 10), "CR does not end a line")
        _ = t.receive([0x04])
        XCTAssertEqual(t.readLine(maximum: 10), bytes("a\r"))
    }

    func testWithoutICRNLCarriageReturnIsData() {
        settings { $0.inputFlags &= ~TermiosBits.ICRNL }
        _ = t.receive(bytes("a\r\n"))
        XCTAssertEqual(t.readLine(maximum: 10), bytes("a\r\n"))
    }

    func testISTRIPClearsTheEighthBit() {
        settings { $0.inputFlags |= TermiosBits.ISTRIP }
        _ = t.receive([0xE1, 0x0A])
        XCTAssertEqual(t.readLine(maximum: 10), [0x61, 0x0A])
    }

    func testDisabledControlCharacterIsOrdinary() {
        settings { $0.controlCharacters[TermiosBits.VERASE] = 0 }
        _ = t.receive([0x61, 0x7F, 0x00, 0x0A])
        XCTAssertEqual(t.readLine(maximum: 10), [0x61, 0x7F, 0x00, 0x0A], "neither DEL nor NUL erases")
    }

    // MARK: non-canonical mode

    func testRawModeStoresEveryByteAndStillEchoes() {
        settings { $0.localFlags &= ~TermiosBits.ICANON }
        let e = t.receive([0x61, 0x7F, 0x04])
        XCTAssertEqual(e.echo, bytes("a^?^D"))
        XCTAssertTrue(t.hasInput)
        XCTAssertEqual(t.readableByteCount, 3)
        XCTAssertEqual(t.takeQueued(maximum: 2), [0x61, 0x7F])
        XCTAssertEqual(t.takeQueued(maximum: 2), [0x04])
        XCTAssertEqual(t.takeQueued(maximum: 2), [])
    }

    func testPollReadinessHonoursVMINWhenVTIMEIsZero() {
        settings {
            $0.localFlags &= ~TermiosBits.ICANON
            $0.controlCharacters[TermiosBits.VMIN] = 3
        }
        _ = t.receive(bytes("ab"))
        XCTAssertFalse(t.pollReadable)
        XCTAssertTrue(t.hasInput)
        _ = t.receive(bytes("c"))
        XCTAssertTrue(t.pollReadable)
    }

    func testLeavingCanonicalModeMakesTypedTextReadable() {
        _ = t.receive(bytes("l1\npart"))
        settings { $0.localFlags &= ~TermiosBits.ICANON }
        XCTAssertEqual(t.takeQueued(maximum: 100), bytes("l1\npart"))
    }

    func testEnteringCanonicalModePushesPendingBytesAsALine() {
        settings { $0.localFlags &= ~TermiosBits.ICANON }
        _ = t.receive(bytes("xy"))
        settings { $0.localFlags |= TermiosBits.ICANON }
        XCTAssertEqual(t.readLine(maximum: 100), bytes("xy"))
    }

    func testFlushEmptiesEverything() {
        _ = t.receive(bytes("a\nb"))
        t.flushInput()
        XCTAssertFalse(t.hasInput)
        XCTAssertEqual(t.readableByteCount, 0)
        _ = t.receive(bytes("\n"))
        XCTAssertEqual(t.readLine(maximum: 10), bytes("\n"))
    }

    // MARK: piped input

    func testPipedInputPassesBytesUnchangedWithoutEcho() {
        t.configureForPipedInput()
        let e = t.receive([0x61, 0x0D, 0x7F, 0x15, 0x17, 0x03, 0x0A])
        XCTAssertEqual(e, TerminalEffects())
        XCTAssertEqual(t.readLine(maximum: 100), [0x61, 0x0D, 0x7F, 0x15, 0x17, 0x03, 0x0A])
        _ = t.receive(bytes("tail") + [0x04, 0x04])
        XCTAssertEqual(t.readLine(maximum: 100), bytes("tail"))
        XCTAssertEqual(t.readLine(maximum: 100), [], "^D still ends the input")
    }

    func testPipedEndOfInputStaysEndOfFile() {
        t.configureForPipedInput()
        _ = t.receive(bytes("last\n") + [0x04])
        XCTAssertEqual(t.readLine(maximum: 100), bytes("last\n"))
        for _ in 0..<3 {
            XCTAssertEqual(t.readLine(maximum: 100), [], "a pipe at its end reads 0 every time")
            XCTAssertTrue(t.hasInput)
            XCTAssertTrue(t.pollReadable)
        }
    }

    func testPipedEndAfterAnUnterminatedLineStaysEndOfFile() {
        t.configureForPipedInput()
        _ = t.receive(bytes("tail") + [0x04, 0x04])   // what egg sends after a last line without '\n'
        XCTAssertEqual(t.readLine(maximum: 100), bytes("tail"))
        XCTAssertEqual(t.readLine(maximum: 100), [])
        XCTAssertEqual(t.readLine(maximum: 100), [])
    }

    func testTerminalEndOfFileIsConsumedAndTheNextReadWaits() {
        // n_tty on a terminal: ^D gives one 0-byte read; the next read waits for typing.
        _ = t.receive([0x04])
        XCTAssertEqual(t.readLine(maximum: 100), [])
        XCTAssertNil(t.readLine(maximum: 100))
        XCTAssertFalse(t.pollReadable)
        _ = t.receive(bytes("more\n"))
        XCTAssertEqual(t.readLine(maximum: 100), bytes("more\n"))
    }

    func testPipedLongLinesAreDeliveredWhole() {
        t.configureForPipedInput()
        _ = t.receive([UInt8](repeating: 0x62, count: 9000) + [0x0A])
        var total: [UInt8] = []
        while let part = t.readLine(maximum: 1 << 16) { total += part }
        XCTAssertEqual(total.count, 9001)
        XCTAssertEqual(total.last, 0x0A)
    }
}

/// The console through the syscall layer.
final class ConsoleTerminalSyscallTests: XCTestCase {
    var k: TestKernel!
    static let oNonblock: UInt64 = 0o4000

    override func setUp() {
        k = TestKernel()
    }

    func read(_ count: Int, at offset: UInt64 = 0x3000) -> (SyscallResult, [UInt8]) {
        let address = k.scratch + offset
        let r = k.call(.read, 0, address, UInt64(count))
        if case .success(let n) = r { return (r, k.peek(address, count: n)) }
        return (r, [])
    }

    func setTermios(_ change: (inout Termios) -> Void, request: UInt64 = 0x5402) {
        var t = k.state.terminal.settings
        change(&t)
        let address = k.poke(t.encode(), at: 0x1000)
        assertSuccess(k.call(.ioctl, 0, request, address), 0)
    }

    func testReadBlocksUntilALineIsTypedAndEchoesIt() {
        k.platform.consoleInputOnIdle = [Array("ab".utf8), [0x7F], Array("c\r".utf8)]
        let (r, data) = read(100)
        assertSuccess(r, 3)
        XCTAssertEqual(data, Array("ac\n".utf8))
        XCTAssertEqual(k.platform.consoleOutput, Array("ab\u{8} \u{8}c\n".utf8))
        XCTAssertGreaterThanOrEqual(k.platform.idleCalls, 3, "the read waited for each chunk")
    }

    func testInterruptDuringReadPostsSIGINTAndTheReadFailsWithEINTR() {
        k.state.signalHandlers[2] = 0x40_1000   // a handler: the process survives
        k.platform.consoleInputOnIdle = [Array("par".utf8), [0x03]]
        let (r, _) = read(100)
        assertFailure(r, .EINTR)
        XCTAssertNotEqual(k.state.processPendingSignals & (1 << 1), 0, "SIGINT pending")
        XCTAssertEqual(k.platform.consoleText, "par^C")
        XCTAssertFalse(k.state.terminal.hasInput, "the partial line was flushed")
    }

    func testIgnoredInterruptLeavesTheReadWaiting() {
        k.state.signalHandlers[2] = 1   // SIG_IGN
        k.platform.consoleInputOnIdle = [[0x03], Array("ok\n".utf8)]
        let (r, data) = read(100)
        assertSuccess(r, 3)
        XCTAssertEqual(data, Array("ok\n".utf8))
        XCTAssertEqual(k.state.processPendingSignals, 0)
    }

    func testNonblockingCanonicalReadWithoutALineIsEAGAIN() {
        k.platform.consoleInput = Array("partial".utf8)
        assertSuccess(k.call(.fcntl, 0, 4, Self.oNonblock), 0)
        assertFailure(read(100).0, .EAGAIN)
        k.platform.consoleInput = [0x0A]
        assertSuccess(read(100).0, 8)
    }

    func testRawModeVMIN0VTIME0ReturnsAtOnce() {
        setTermios { $0.localFlags &= ~(TermiosBits.ICANON | TermiosBits.ECHO); $0.controlCharacters[TermiosBits.VMIN] = 0 }
        assertSuccess(read(10).0, 0)
        k.platform.consoleInput = [0x71]
        let (r, data) = read(10)
        assertSuccess(r, 1)
        XCTAssertEqual(data, [0x71])
        XCTAssertEqual(k.platform.consoleOutput, [], "ECHO off")
    }

    func testRawModeVMINWaitsForThatManyBytes() {
        setTermios { $0.localFlags &= ~TermiosBits.ICANON; $0.controlCharacters[TermiosBits.VMIN] = 3 }
        k.platform.consoleInputOnIdle = [[0x31], [0x32], [0x33, 0x34]]
        let (r, data) = read(10)
        assertSuccess(r, 4)
        XCTAssertEqual(data, [0x31, 0x32, 0x33, 0x34], "what arrived once MIN is reached")
        XCTAssertEqual(k.platform.consoleText, "1234")
    }

    func testRawModeVMINIsCappedByTheReadSize() {
        setTermios { $0.localFlags &= ~TermiosBits.ICANON; $0.controlCharacters[TermiosBits.VMIN] = 5 }
        k.platform.consoleInput = [0x31, 0x32]
        assertSuccess(read(1).0, 1)
        assertSuccess(read(1).0, 1)
    }

    func testRawModeVTIMEWithoutVMINTimesOutWithZero() {
        setTermios { $0.localFlags &= ~TermiosBits.ICANON; $0.controlCharacters[TermiosBits.VMIN] = 0
                     $0.controlCharacters[TermiosBits.VTIME] = 1 }
        let before = k.platform.monotonic
        assertSuccess(read(10).0, 0)
        XCTAssertGreaterThanOrEqual(k.platform.monotonic - before, 100_000_000, "waited a tenth of a second")
    }

    func testRawModeInterByteTimerEndsTheReadAfterABurst() {
        setTermios { $0.localFlags &= ~TermiosBits.ICANON; $0.controlCharacters[TermiosBits.VMIN] = 10
                     $0.controlCharacters[TermiosBits.VTIME] = 1 }
        k.platform.consoleInputOnIdle = [[0x61, 0x62]]
        let (r, data) = read(20)
        assertSuccess(r, 2)
        XCTAssertEqual(data, [0x61, 0x62])
    }

    func testPollSeesOnlyCompleteLines() {
        let pollfd = k.poke([0, 0, 0, 0, 1, 0, 0, 0], at: 0x2000)  // fd 0, POLLIN
        k.platform.consoleInput = Array("half".utf8)
        assertSuccess(k.call(.poll, pollfd, 1, 0), 0)
        k.platform.consoleInput = [0x0D]
        assertSuccess(k.call(.poll, pollfd, 1, 0), 1)
        XCTAssertEqual(k.peek(pollfd + 6, count: 2), [1, 0], "POLLIN, as asked")
    }

    func testTCGETSReportsLinuxDefaultsAndTCSETSFFlushes() {
        let buf = k.scratch + 0x1800
        assertSuccess(k.call(.ioctl, 1, 0x5401, buf), 0)
        XCTAssertEqual(k.peek(buf, count: 36), Termios.linuxDefault.encode())
        k.platform.consoleInput = Array("pending\n".utf8)
        k.state.pullConsoleInput()
        setTermios({ $0.localFlags &= ~TermiosBits.ECHO }, request: 0x5404)
        XCTAssertFalse(k.state.terminal.hasInput, "TCSETSF flushed the input")
        XCTAssertFalse(k.state.terminal.settings.echoes)
        setTermios({ $0.localFlags |= TermiosBits.ECHO }, request: 0x5403)   // TCSETSW
        XCTAssertTrue(k.state.terminal.settings.echoes)
    }

    func testFIONREADAndTCFLSH() {
        k.platform.consoleInput = Array("abc\nde".utf8)
        let buf = k.scratch + 0x1900
        assertSuccess(k.call(.ioctl, 0, 0x541B, buf), 0)
        XCTAssertEqual(k.peek(buf, count: 4), [4, 0, 0, 0])
        assertFailure(k.call(.ioctl, 0, 0x540B, 7), .EINVAL)
        assertSuccess(k.call(.ioctl, 0, 0x540B, 1), 0)   // TCOFLUSH: input untouched
        XCTAssertTrue(k.state.terminal.hasInput)
        assertSuccess(k.call(.ioctl, 0, 0x540B, 0), 0)   // TCIFLUSH
        XCTAssertFalse(k.state.terminal.hasInput)
        assertSuccess(k.call(.ioctl, 0, 0x541B, buf), 0)
        XCTAssertEqual(k.peek(buf, count: 4), [0, 0, 0, 0])
    }

    func testProcessGroupAndSessionIoctls() {
        let buf = k.scratch + 0x1A00
        assertSuccess(k.call(.ioctl, 0, 0x540F, buf), 0)   // TIOCGPGRP
        XCTAssertEqual(k.peek(buf, count: 4), [1, 0, 0, 0])
        assertSuccess(k.call(.ioctl, 0, 0x5429, buf + 8), 0)   // TIOCGSID
        XCTAssertEqual(k.peek(buf + 8, count: 4), [1, 0, 0, 0])
        assertSuccess(k.call(.ioctl, 0, 0x5410, buf), 0)   // TIOCSPGRP to itself
        let other = k.poke([7, 0, 0, 0], at: 0x1A10)
        assertFailure(k.call(.ioctl, 0, 0x5410, other), .ESRCH)
        let negative = k.poke([0xFF, 0xFF, 0xFF, 0xFF], at: 0x1A20)
        assertFailure(k.call(.ioctl, 0, 0x5410, negative), .EINVAL)
    }

    func testWindowSizeRoundTrip() {
        let size = k.poke(Winsize(rows: 50, columns: 132).encode(), at: 0x1B00)
        assertSuccess(k.call(.ioctl, 1, 0x5414, size), 0)
        let buf = k.scratch + 0x1B40
        assertSuccess(k.call(.ioctl, 2, 0x5413, buf), 0)
        XCTAssertEqual(k.peek(buf, count: 8), [50, 0, 132, 0, 0, 0, 0, 0])
    }

    func testPipeOptionTurnsEchoOff() {
        k.state.configureConsole(options: ["trace=1", "console=pipe"])
        XCTAssertFalse(k.state.terminal.settings.echoes)
        k.platform.consoleInput = Array("abc\n".utf8)
        assertSuccess(read(100).0, 4)
        XCTAssertEqual(k.platform.consoleOutput, [], "no echo of piped input")
    }

    func testPipedConsoleReadsZeroAgainAfterEndOfInput() {
        k.state.configureConsole(options: ["console=pipe"])
        k.platform.consoleInput = Array("x\n".utf8) + [0x04]
        assertSuccess(read(100).0, 2)
        assertSuccess(read(100).0, 0)
        // The second read after the end must return 0 at once; O_NONBLOCK makes a wrong
        // answer show as EAGAIN instead of hanging the test.
        assertSuccess(k.call(.fcntl, 0, 4, Self.oNonblock), 0)
        assertSuccess(read(100).0, 0)
        assertSuccess(read(100).0, 0)
        // Non-canonical reads at the end of piped input return 0 too, whatever VMIN says.
        setTermios { $0.localFlags &= ~TermiosBits.ICANON; $0.controlCharacters[TermiosBits.VMIN] = 1 }
        assertSuccess(read(100).0, 0)
    }

    func testTerminalConsoleWaitsForMoreInputAfterEndOfFile() {
        k.platform.consoleInput = [0x04]
        assertSuccess(read(100).0, 0)
        k.platform.consoleInputOnIdle = [Array("again\n".utf8)]
        let (r, data) = read(100)
        assertSuccess(r, 6)
        XCTAssertEqual(data, Array("again\n".utf8))
        XCTAssertGreaterThanOrEqual(k.platform.idleCalls, 1, "the read after ^D waited")
    }

    func testWithoutTheOptionTheConsoleEchoes() {
        k.state.configureConsole(options: ["trace=1"])
        XCTAssertTrue(k.state.terminal.settings.echoes)
    }
}
