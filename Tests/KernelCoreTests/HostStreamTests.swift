// HostStreamTests — the control-port protocol of the virtio host streams
// (Sources/KernelCore/Devices/HostStream.swift, HostControlParser): "signal N" lines from
// egg (Sources/EggHost/HostStreams.swift) become signals posted to the guest.
import XCTest
@testable import KernelCore

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
}
