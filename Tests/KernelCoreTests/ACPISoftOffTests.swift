// ACPISoftOffTests — finding how to power a machine off (S5) in its FADT and DSDT
// (Sources/Drivers/ACPITables.swift, ACPITables.softOff), with tables built here byte by
// byte as QEMU's firmware and a PC's lay them out (ACPI 6.5 §5.2.9, §7.4.2, §20.2).
import XCTest
@testable import Drivers

final class ACPISoftOffTests: XCTestCase {
    func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    /// A table with a valid header and checksum.
    func table(_ signature: String, _ body: [UInt8], revision: UInt8 = 2) -> [UInt8] {
        var t = Array(signature.utf8) + le(UInt64(36 + body.count), 4) + [revision, 0] + Array("EGGTST".utf8)
            + Array("EGGTABLE".utf8) + le(1, 4) + le(0, 4) + le(0, 4) + body
        var s: UInt8 = 0
        for b in t { s = s &+ b }
        t[9] = 0 &- s
        return t
    }

    /// A FADT body (bytes 36...) with the fields softOff reads; 244 bytes long in all (ACPI 2.0+).
    func fadt(dsdt: UInt32, pm1a: UInt32, pm1b: UInt32 = 0, smi: UInt32 = 0xB2, enable: UInt8 = 0xF1,
              xDSDT: UInt64 = 0, xPM1a: UInt64 = 0) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 244 - 36)
        func put(_ at: Int, _ bytes: [UInt8]) { for (i, b) in bytes.enumerated() { body[at - 36 + i] = b } }
        put(40, le(UInt64(dsdt), 4))
        put(48, le(UInt64(smi), 4))
        put(52, [enable])
        put(64, le(UInt64(pm1a), 4))
        put(68, le(UInt64(pm1b), 4))
        put(140, le(xDSDT, 8))
        if xPM1a != 0 { put(172, [1, 16, 0, 2] + le(xPM1a, 8)) }  // GAS: system I/O, 16 bits
        return table("FACP", body)
    }

    /// AML as QEMU writes it (hw/i386/acpi-build.c): Name(_S5, Package(4){Zero, Zero, Zero, Zero}).
    let qemuS5: [UInt8] = [0x08] + Array("_S5_".utf8) + [0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00]
    /// As a PC's DSDT often has it: Name(\_S5, Package(){0x07, 0x07, 0, 0}) with BytePrefix.
    let chipsetS5: [UInt8] = [0x08, 0x5C] + Array("_S5_".utf8) + [0x12, 0x0A, 0x04, 0x0A, 0x07, 0x0A, 0x07, 0x00, 0x00]

    func memory(_ tables: [(UInt64, [UInt8])]) -> (UInt64, Int) -> [UInt8] {
        return { address, count in
            for (base, bytes) in tables where address >= base && address < base + UInt64(bytes.count) {
                let start = Int(address - base)
                return Array(bytes[start..<min(start + count, bytes.count)])
            }
            return []
        }
    }

    func rsdp(rsdt: UInt32) -> [UInt8] {
        var r = Array("RSD PTR ".utf8) + [0] + Array("EGGTST".utf8) + [0] + le(UInt64(rsdt), 4)
        var s: UInt8 = 0
        for b in r { s = s &+ b }
        r[8] = 0 &- s
        return r
    }

    func testQEMUsTablesGiveSleepTypeZeroOnItsPM1Port() throws {
        // QEMU pc: PIIX4 PM at 0x600, PM1a_CNT_BLK 0x604, no PM1b.
        let dsdt = table("DSDT", [0x10, 0x20] + qemuS5)
        let facp = fadt(dsdt: 0x2000, pm1a: 0x604)
        let rsdt = table("RSDT", le(0x1000, 4))
        let read = memory([(0x1000, facp), (0x2000, dsdt), (0x3000, rsdt)])
        let off = try XCTUnwrap(ACPITables.softOff(rsdp: rsdp(rsdt: 0x3000), read: read))
        XCTAssertEqual(off.pm1aControlPort, 0x604)
        XCTAssertEqual(off.pm1bControlPort, 0)
        XCTAssertEqual(off.sleepTypeA, 0)
        XCTAssertEqual(off.pm1aValue, 0x2000)  // SLP_EN only
        XCTAssertEqual(off.smiCommandPort, 0xB2)
        XCTAssertEqual(off.acpiEnableValue, 0xF1)
    }

    func testChipsetSleepTypeFromBytePrefixPackage() throws {
        let s5 = try XCTUnwrap(ACPITables.sleepTypeS5(dsdt: table("DSDT", [0xA0] + chipsetS5)))
        XCTAssertEqual(s5.0, 7)
        XCTAssertEqual(s5.1, 7)
        let off = ACPISoftOff(pm1aControlPort: 0x1804, pm1bControlPort: 0, sleepTypeA: 7, sleepTypeB: 7,
                              smiCommandPort: 0, acpiEnableValue: 0)
        XCTAssertEqual(off.pm1aValue, 7 << 10 | 1 << 13)
    }

    func testOneOpAndSingleElement() {
        let aml: [UInt8] = [0x08] + Array("_S5_".utf8) + [0x12, 0x03, 0x01, 0x01]
        XCTAssertEqual(ACPITables.sleepTypeS5(dsdt: table("DSDT", aml)).map { [$0.0, $0.1] }, [1, 1])
    }

    func testNoS5OrAMentionThatIsNotANameIsNil() {
        XCTAssertNil(ACPITables.sleepTypeS5(dsdt: table("DSDT", [0x10, 0x11, 0x12])))
        // "_S5_" inside a method call, not a Name: ignored.
        XCTAssertNil(ACPITables.sleepTypeS5(dsdt: table("DSDT", [0x70] + Array("_S5_".utf8) + [0x12, 0x03, 0x01, 0x00])))
        // Cut short after the PackageOp: nil, no trap.
        XCTAssertNil(ACPITables.sleepTypeS5(dsdt: table("DSDT", [0x08] + Array("_S5_".utf8) + [0x12])))
    }

    func testExtendedFieldsAreUsedWhenTheOldOnesAreZero() throws {
        let f = try XCTUnwrap(ACPITables.parseFADT(fadt(dsdt: 0, pm1a: 0, xDSDT: 0x1_2345_0000, xPM1a: 0x1804)))
        XCTAssertEqual(f.pm1a, 0x1804)
        XCTAssertEqual(f.dsdt, 0x1_2345_0000)
        XCTAssertNil(ACPITables.parseFADT(table("APIC", [0, 0, 0, 0])))
    }

    func testMissingPM1PortOrDSDTGivesNoPlan() {
        let dsdt = table("DSDT", qemuS5)
        let rsdt = table("RSDT", le(0x1000, 4))
        let noPort = memory([(0x1000, fadt(dsdt: 0x2000, pm1a: 0)), (0x2000, dsdt), (0x3000, rsdt)])
        XCTAssertNil(ACPITables.softOff(rsdp: rsdp(rsdt: 0x3000), read: noPort))
        let noDSDT = memory([(0x1000, fadt(dsdt: 0x2000, pm1a: 0x604)), (0x3000, rsdt)])
        XCTAssertNil(ACPITables.softOff(rsdp: rsdp(rsdt: 0x3000), read: noDSDT))
    }
}
