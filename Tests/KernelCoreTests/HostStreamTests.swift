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
}
