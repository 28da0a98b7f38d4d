// HostStreamTests — the control-port protocol of the virtio host streams
// (Sources/KernelCore/Devices/HostStream.swift, HostControlParser): "signal N" lines from
// egg (Sources/EggHost/HostStreams.swift) become signals posted to the guest.
import LinuxABI
import XCTest
@testable import KernelCore

/// A device with `pending` bytes waiting on port 0 and nothing else.
final class WaitingBytesChannel: HostStreamChannel {
    var pending: Int
    init(pending: Int) { self.pending = pending }
    func refresh() {}
    func inputAvailable(port: Int) -> Int { port == 0 ? pending : 0 }
    func receive(_ k: KernelState, port: Int, into address: UserAddress, maximum: Int) throws(Errno) -> Int { 0 }
    func inputEnded(port: Int) -> Bool { false }
    func transmit(_ k: KernelState, port: Int, from address: UserAddress, count: Int) throws(Errno) -> Int { count }
    func outputClosed(port: Int) -> Bool { false }
}

final class HostStreamTests: XCTestCase {
    func testSignalLinesSplitAcrossFeedsBecomeSignals() {
        var parser = HostControlParser()
        XCTAssertEqual(parser.feed(Array("signal 1".utf8)), [])
        XCTAssertEqual(parser.feed(Array("5\nsignal 2\n".utf8)), [15, 2])
        XCTAssertEqual(parser.feed(Array("signal 10\nsignal 12\n".utf8)), [10, 12])
    }

    func testMalformedOrOutOfRangeLinesAreIgnored() {
        var parser = HostControlParser()
        XCTAssertEqual(parser.feed(Array("signal 0\nsignal 65\nsignal x\nresize 80 24\nsignal -9\n".utf8)), [])
        // A very long line does not grow without bound and does not hide the next line.
        XCTAssertEqual(parser.feed([UInt8](repeating: 0x41, count: 10_000) + Array("\nsignal 3\n".utf8)), [3])
    }

    /// FIONREAD on the virtio stdin counts the bytes waiting, as on a pipe (it was ENOTTY);
    /// on the output streams it is 0.
    func testFIONREADCountsTheBytesWaitingOnStdin() {
        let k = TestKernel()
        let channel = WaitingBytesChannel(pending: 1234)
        let input = (try? k.state.installObject(HostStream(channel: channel, port: 0, isInput: true), flags: 0, closeOnExec: false)) ?? -1
        let output = (try? k.state.installObject(HostStream(channel: channel, port: 1, isInput: false), flags: 1, closeOnExec: false)) ?? -1
        let count = k.scratch + 0x100
        assertSuccess(k.call(.ioctl, UInt64(input), 0x541B, count), 0)
        XCTAssertEqual(k.peek(count, count: 4), [0xD2, 0x04, 0, 0])   // 1234
        assertSuccess(k.call(.ioctl, UInt64(output), 0x541B, count), 0)
        XCTAssertEqual(k.peek(count, count: 4), [0, 0, 0, 0])
        assertFailure(k.call(.ioctl, UInt64(input), 0x5401, count), .ENOTTY)   // TCGETS: not a terminal
    }

    /// Terminal mode's resize: "winsize ROWS COLS" lines (egg's SIGWINCH handler,
    /// Sources/EggHost/HostStreams.swift) are parsed; the newest one wins; bad ones are ignored.
    func testWinsizeLinesAreParsedAndBadOnesIgnored() {
        var parser = HostControlParser()
        XCTAssertEqual(parser.feed(Array("winsize 0 80\nwinsize 24\nwinsize 70000 80\nwinsize a b\n".utf8)), [])
        XCTAssertNil(parser.pendingWindowSize)
        XCTAssertEqual(parser.feed(Array("winsize 30 100\nsignal 15\nwinsize 41 1".utf8)), [15])
        XCTAssertEqual(parser.pendingWindowSize, Winsize(rows: 30, columns: 100))
        _ = parser.feed(Array("20\n".utf8))
        XCTAssertEqual(parser.pendingWindowSize, Winsize(rows: 41, columns: 120))
    }

    /// A resize changes what TIOCGWINSZ reports and posts SIGWINCH (as Linux's tty_do_resize);
    /// the same size again posts nothing.
    func testResizeConsoleSetsTheSizeAndPostsSIGWINCHOnlyOnAChange() {
        let k = TestKernel()
        k.state.process.signalHandlers[28] = 0x40_0000  // a handler, so SIGWINCH is not discarded
        k.state.resizeConsole(Winsize(rows: 41, columns: 120))
        XCTAssertEqual(k.state.terminal.windowSize, Winsize(rows: 41, columns: 120))
        XCTAssertNotEqual(k.state.process.processPendingSignals & (1 << 27), 0, "SIGWINCH pending")
        k.state.process.processPendingSignals = 0
        k.state.resizeConsole(Winsize(rows: 41, columns: 120))
        XCTAssertEqual(k.state.process.processPendingSignals & (1 << 27), 0, "no SIGWINCH without a change")
    }
}
