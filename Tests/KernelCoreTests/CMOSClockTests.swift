// CMOSClockTests — RTC decoding and the read protocol of the CMOS clock driver
// (Sources/Drivers/CMOSClock.swift) against a FakePortIO (Fakes.swift), plus the UART driver.
import Drivers
import XCTest

final class CMOSClockTests: XCTestCase {
    typealias Clock = CMOSClock<FakePortIO>
    // 2026-11-25 13:45:30 UTC
    let expected: Int64 = 20782 * 86400 + 13 * 3600 + 45 * 60 + 30

    func testDaysFromCivil() {
        XCTAssertEqual(Clock.daysFromCivil(year: 1970, month: 1, day: 1), 0)
        XCTAssertEqual(Clock.daysFromCivil(year: 1969, month: 12, day: 31), -1)
        XCTAssertEqual(Clock.daysFromCivil(year: 2000, month: 2, day: 29), 11016)
        XCTAssertEqual(Clock.daysFromCivil(year: 2000, month: 3, day: 1), 11017)
        XCTAssertEqual(Clock.daysFromCivil(year: 2026, month: 11, day: 25), 20782)
    }

    func testDecodeBCD24Hour() {
        let raw: [UInt8] = [0x30, 0x45, 0x13, 0x25, 0x11, 0x26, 0x20]
        XCTAssertEqual(Clock.decode(raw: raw, statusB: 0x02), expected)
    }

    func testDecodeBinary24Hour() {
        XCTAssertEqual(Clock.decode(raw: [30, 45, 13, 25, 11, 26, 20], statusB: 0x06), expected)
    }

    func testDecode12HourClock() {
        // Bit 7 of the hour is PM; 12 AM is hour 0 and 12 PM is hour 12.
        XCTAssertEqual(Clock.decode(raw: [0x30, 0x45, 0x81, 0x25, 0x11, 0x26, 0x20], statusB: 0x00), expected)
        let midnight = Clock.decode(raw: [0, 0, 0x12, 0x25, 0x11, 0x26, 0x20], statusB: 0)
        XCTAssertEqual(midnight, 20782 * 86400)
        let noon = Clock.decode(raw: [0, 0, 0x92, 0x25, 0x11, 0x26, 0x20], statusB: 0)
        XCTAssertEqual(noon, 20782 * 86400 + 12 * 3600)
        XCTAssertEqual(Clock.decode(raw: [30, 45, 0x80 | 1, 25, 11, 26, 20], statusB: 0x04), expected, "binary 12-hour")
    }

    func testMissingCenturyMeans20xx() {
        XCTAssertEqual(Clock.decode(raw: [0x30, 0x45, 0x13, 0x25, 0x11, 0x26, 0x00], statusB: 0x02), expected)
    }

    func testNonsenseIsNil() {
        XCTAssertNil(Clock.decode(raw: [0x30, 0x45, 0x13, 0x25, 0x13, 0x26, 0x20], statusB: 0x02), "month 13")
        XCTAssertNil(Clock.decode(raw: [0x60, 0x45, 0x13, 0x25, 0x11, 0x26, 0x20], statusB: 0x02), "second 60")
        XCTAssertNil(Clock.decode(raw: [0x30, 0x45, 0x24, 0x25, 0x11, 0x26, 0x20], statusB: 0x02), "hour 24")
        XCTAssertNil(Clock.decode(raw: [0x30, 0x45, 0x13, 0x00, 0x11, 0x26, 0x20], statusB: 0x02), "day 0")
    }

    /// A CMOS register file behind the index port 0x70 and data port 0x71.
    func makeCMOS(_ registers: [UInt8: UInt8]) -> FakePortIO {
        let io = FakePortIO()
        var index: UInt8 = 0
        io.onWrite = { port, value in if port == 0x70 { index = value } }
        io.onRead = { port in port == 0x71 ? (registers[index] ?? 0) : nil }
        return io
    }

    func testUnixTimeReadsTheRegisters() {
        let io = makeCMOS([0x00: 0x30, 0x02: 0x45, 0x04: 0x13, 0x07: 0x25, 0x08: 0x11, 0x09: 0x26,
                           0x32: 0x20, 0x0A: 0x26, 0x0B: 0x02])
        XCTAssertEqual(CMOSClock(io: io).unixTime(), expected)
        XCTAssertTrue(io.writes.contains(FakePortIO.Access(port: 0x70, value: 0x0B)), "status B consulted")
    }

    func testUARTConfigureAndPolledWrite() {
        let io = FakePortIO()
        let uart = UART16550(io: io, base: 0x3F8)
        uart.configure()
        XCTAssertEqual(io.writes.first, FakePortIO.Access(port: 0x3F9, value: 0))
        XCTAssertTrue(io.writes.contains(FakePortIO.Access(port: 0x3FB, value: 0x80)), "DLAB set for the divisor")
        XCTAssertTrue(io.writes.contains(FakePortIO.Access(port: 0x3F8, value: 0x01)), "divisor 1 = 115200 baud")
        XCTAssertEqual(io.writes.last, FakePortIO.Access(port: 0x3F9, value: 0), "no receive interrupt")
        let configured = io.writes.count
        io.script(0x3FD, [0x00, 0x00, 0x20])  // transmitter busy twice, then empty
        uart.write(UInt8(ascii: "A"))
        XCTAssertEqual(Array(io.writes[configured...]), [FakePortIO.Access(port: 0x3F8, value: 0x41)])
        io.script(0x3FD, [0x20])
        uart.write("hi")
        XCTAssertEqual(io.writes.suffix(2).map(\.value), [0x68, 0x69])
    }

    func testUARTReadByte() {
        let io = FakePortIO()
        let uart = UART16550(io: io, base: 0x2F8)
        io.script(0x2FD, [0x00])
        XCTAssertNil(uart.readByte())
        io.script(0x2FD, [0x01])
        io.script(0x2F8, [0x7A])
        XCTAssertEqual(uart.readByte(), 0x7A)
    }
}
