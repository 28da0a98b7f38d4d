// ACPITablesTests — the RSDP/RSDT/XSDT/MADT parser (Sources/Drivers/ACPITables.swift) on
// tables built here byte by byte, as QEMU's and a PC's firmware lay them out.
import XCTest
@testable import Drivers

final class ACPITablesTests: XCTestCase {
    /// A fake physical memory: tables placed at addresses.
    final class Memory {
        var regions: [(UInt64, [UInt8])] = []
        func place(_ at: UInt64, _ bytes: [UInt8]) { regions.append((at, bytes)) }
        func read(_ address: UInt64, _ count: Int) -> [UInt8] {
            for (base, bytes) in regions where address >= base && address < base + UInt64(bytes.count) {
                let start = Int(address - base)
                return Array(bytes[start..<min(start + count, bytes.count)])
            }
            return []
        }
    }

    func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    /// Sets byte `at` so that all bytes in `range` sum to zero.
    func fixChecksum(_ b: inout [UInt8], at: Int, over range: Range<Int>) {
        b[at] = 0
        var s: UInt8 = 0
        for i in range { s = s &+ b[i] }
        b[at] = 0 &- s
    }

    func table(_ signature: String, _ body: [UInt8]) -> [UInt8] {
        var t = Array(signature.utf8) + le(UInt64(36 + body.count), 4) + [1, 0] + Array("EGGOEM".utf8)
            + Array("EGGTABLE".utf8) + le(1, 4) + le(0, 4) + le(0, 4)
        XCTAssertEqual(t.count, 36)
        t += body
        fixChecksum(&t, at: 9, over: 0..<t.count)
        return t
    }

    func rsdp(rsdt: UInt32, xsdt: UInt64?) -> [UInt8] {
        var r = Array("RSD PTR ".utf8) + [0] + Array("EGGOEM".utf8) + [xsdt == nil ? 0 : 2] + le(UInt64(rsdt), 4)
        if let xsdt { r += le(36, 4) + le(xsdt, 8) + [0, 0, 0, 0] }
        fixChecksum(&r, at: 8, over: 0..<20)
        if xsdt != nil { fixChecksum(&r, at: 32, over: 0..<36) }
        return r
    }

    func madtBody() -> [UInt8] {
        var b = le(0xFEE0_0000, 4) + le(1, 4)
        b += [0, 8, 0, 0] + le(1, 4)        // CPU uid 0, APIC id 0, enabled
        b += [0, 8, 1, 2] + le(1, 4)        // CPU uid 1, APIC id 2, enabled
        b += [0, 8, 2, 4] + le(0, 4)        // CPU uid 2, APIC id 4, not enabled
        b += [1, 12, 7, 0] + le(0xFEC0_0000, 4) + le(0, 4)    // I/O APIC 7
        b += [2, 10, 0, 0] + le(2, 4) + le(0, 2)              // IRQ0 → GSI 2
        b += [9, 16, 0, 0] + le(300, 4) + le(1, 4) + le(3, 4) // x2APIC id 300, enabled
        return b
    }

    func testMADTThroughXSDT() {
        let m = Memory()
        let madt = table("APIC", madtBody())
        let facp = table("FACP", [UInt8](repeating: 0, count: 8))
        m.place(0x7000, facp)
        m.place(0x8000, madt)
        m.place(0x9000, table("XSDT", le(0x7000, 8) + le(0x8000, 8)))
        m.place(0xA000, table("RSDT", le(0x7000, 4)))   // no MADT here: proves the XSDT is used
        let machine = ACPITables.machine(rsdp: rsdp(rsdt: 0xA000, xsdt: 0x9000), read: m.read)
        XCTAssertEqual(machine?.enabledAPICIDs, [0, 2, 300])
        XCTAssertEqual(machine?.processors.count, 4)
        XCTAssertEqual(machine?.hasLegacyPICs, true)
        XCTAssertEqual(machine?.localAPICAddress, 0xFEE0_0000)
        XCTAssertEqual(machine?.ioAPICs, [ACPIIOAPIC(id: 7, address: 0xFEC0_0000, globalInterruptBase: 0)])
        XCTAssertEqual(machine?.overrides, [ACPIInterruptOverride(source: 0, globalInterrupt: 2, flags: 0)])
    }

    func testMADTThroughRSDTForACPI1() {
        let m = Memory()
        m.place(0x8000, table("APIC", madtBody()))
        m.place(0xA000, table("RSDT", le(0x8000, 4)))
        XCTAssertEqual(ACPITables.machine(rsdp: rsdp(rsdt: 0xA000, xsdt: nil), read: m.read)?.enabledAPICIDs, [0, 2, 300])
    }

    func testBadChecksumsAreRefused() {
        var r = rsdp(rsdt: 0xA000, xsdt: nil)
        r[12] ^= 1
        XCTAssertNil(ACPITables.parseRSDP(r))
        let m = Memory()
        var madt = table("APIC", madtBody())
        madt[50] ^= 0x40
        m.place(0x8000, madt)
        m.place(0xA000, table("RSDT", le(0x8000, 4)))
        XCTAssertNil(ACPITables.machine(rsdp: rsdp(rsdt: 0xA000, xsdt: nil), read: m.read))
    }

    func testFindRSDPOnSixteenByteBoundaries() {
        var region = [UInt8](repeating: 0, count: 256)
        // A signature at an unaligned offset is not an RSDP.
        let r = rsdp(rsdt: 0x1234, xsdt: nil)
        region.replaceSubrange(5..<25, with: r)
        XCTAssertNil(ACPITables.findRSDP(in: region))
        region.replaceSubrange(96..<116, with: r)
        XCTAssertEqual(ACPITables.findRSDP(in: region), 96)
        XCTAssertEqual(ACPITables.parseRSDP(Array(region[96..<116]))?.rsdt, 0x1234)
    }

    func testMalformedEntriesStopParsingWithoutCrashing() {
        var body = le(0xFEE0_0000, 4) + le(0, 4)
        body += [0, 8, 0, 1] + le(1, 4)
        body += [0, 0]                  // length 0 would loop forever
        body += [0, 8, 1, 5] + le(1, 4)
        let machine = ACPITables.parseMADT(table("APIC", body))
        XCTAssertEqual(machine?.enabledAPICIDs, [1])
        XCTAssertEqual(machine?.hasLegacyPICs, false)
        var truncated = le(0xFEE0_0000, 4) + le(0, 4)
        truncated += [0, 8, 0, 1]       // runs past the end
        XCTAssertEqual(ACPITables.parseMADT(table("APIC", truncated))?.processors, [])
        XCTAssertNil(ACPITables.parseMADT(table("FACP", body)))
    }
}
