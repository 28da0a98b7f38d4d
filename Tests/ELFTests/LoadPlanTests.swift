// LoadPlanTests — addresses chosen by ELFImage.makeLoadPlan (Sources/ELF/LoadPlan.swift) and
// the auxv list derived from a plan (Sources/ELF/AuxiliaryVector.swift).

import XCTest
import ELF

final class LoadPlanTests: XCTestCase {
    func testStaticExecutableLoadsAtItsOwnAddresses() throws {
        let plan = try ELFImage(TestELFBuilder.staticExecutable().bytes()).makeLoadPlan()
        XCTAssertEqual(plan.base, 0)
        XCTAssertEqual(plan.entry, 0x401010)
        XCTAssertEqual(plan.segments, [
            LoadSegment(fileOffset: 0, fileSize: 0x1b8, virtualAddress: 0x400000,
                        memorySize: 0x1b8, readable: true, writable: false, executable: false),
            LoadSegment(fileOffset: 0x1000, fileSize: 0x40, virtualAddress: 0x401000,
                        memorySize: 0x40, readable: true, writable: false, executable: true),
            LoadSegment(fileOffset: 0x1f80, fileSize: 0x100, virtualAddress: 0x402f80,
                        memorySize: 0x1100, readable: true, writable: true, executable: false),
        ])
        XCTAssertEqual(plan.segments[2].pageStart, 0x402000)
        XCTAssertEqual(plan.segments[2].pageEnd, 0x405000)
        XCTAssertEqual(plan.mappings, [
            LoadMapping(start: 0x400000, end: 0x401000, readable: true, writable: false, executable: false),
            LoadMapping(start: 0x401000, end: 0x402000, readable: true, writable: false, executable: true),
            LoadMapping(start: 0x402000, end: 0x405000, readable: true, writable: true, executable: false),
        ])
        XCTAssertEqual(plan.programBreakStart, 0x405000)
        XCTAssertFalse(plan.executableStack)
        XCTAssertEqual(plan.programHeaderEntrySize, 56)
        XCTAssertEqual(plan.programHeaderCount, 5)
    }

    func testBaseArgumentIsIgnoredForExecutables() throws {
        let plan = try ELFImage(TestELFBuilder.staticExecutable().bytes())
            .makeLoadPlan(base: 0x7000_0000_0000)
        XCTAssertEqual(plan.base, 0)
        XCTAssertEqual(plan.entry, 0x401010)
    }

    func testProgramHeaderAddressComesFromTheLoadContainingThem() throws {
        let plan = try ELFImage(TestELFBuilder.staticExecutable().bytes()).makeLoadPlan()
        XCTAssertEqual(plan.programHeaderAddress, 0x400040)
    }

    func testProgramHeaderAddressIsNilWhenNoSegmentMapsThem() throws {
        var b = TestELFBuilder.staticExecutable()
        b.headers[0].offset = 0x1000 // first segment no longer starts at file offset 0
        b.headers[0].fileSize = 0x20
        b.headers[0].memorySize = 0x20
        let plan = try ELFImage(b.bytes()).makeLoadPlan()
        XCTAssertNil(plan.programHeaderAddress)
        XCTAssertFalse(plan.standardAuxiliaryVector().contains { $0.type == AuxvType.programHeaders.rawValue })
    }

    func testStaticPIEIsRelocatedToTheLinuxDefaultBase() throws {
        let image = try ELFImage(TestELFBuilder.staticPIE().bytes())
        XCTAssertEqual(image.type, .sharedObject)
        XCTAssertEqual(image.programHeaderTableAddress, 64)
        let plan = try image.makeLoadPlan()
        XCTAssertEqual(plan.base, 0x5555_5555_4000)
        XCTAssertEqual(plan.entry, 0x5555_5555_5020)
        XCTAssertEqual(plan.segments.map(\.virtualAddress),
                       [0x5555_5555_4000, 0x5555_5555_5000, 0x5555_5555_6800])
        XCTAssertEqual(plan.segments.map(\.fileOffset), [0, 0x1000, 0x1800])
        XCTAssertEqual(plan.programHeaderAddress, 0x5555_5555_4040) // from PT_PHDR
        XCTAssertEqual(plan.programBreakStart, 0x5555_5555_9000)     // 0x4800 rounded up
    }

    func testStaticPIEWithExplicitBase() throws {
        let plan = try ELFImage(TestELFBuilder.staticPIE().bytes()).makeLoadPlan(base: 0x10_0000)
        XCTAssertEqual(plan.base, 0x10_0000)
        XCTAssertEqual(plan.entry, 0x10_1020)
        XCTAssertEqual(plan.mappings.first?.start, 0x10_0000)
        XCTAssertEqual(plan.mappings.last?.end, 0x10_5000)
    }

    func testStaticPIEBaseMustBePageAlignedAndKeepTheImageInUserSpace() throws {
        let image = try ELFImage(TestELFBuilder.staticPIE().bytes())
        XCTAssertThrowsError(try image.makeLoadPlan(base: 0x10_0800)) {
            XCTAssertEqual($0 as? ELFError, .badBase(0x10_0800))
        }
        XCTAssertThrowsError(try image.makeLoadPlan(base: 0x7fff_ffff_e000)) {
            XCTAssertEqual($0 as? ELFError, .badBase(0x7fff_ffff_e000))
        }
        XCTAssertThrowsError(try image.makeLoadPlan(base: 0xffff_ffff_ffff_f000)) {
            XCTAssertEqual($0 as? ELFError, .badBase(0xffff_ffff_ffff_f000))
        }
        XCTAssertNoThrow(try image.makeLoadPlan(base: 0x7f7f_ffff_a000)) // ends at the limit
    }

    func testDefaultPIEBaseHonoursLargeSegmentAlignment() throws {
        var b = TestELFBuilder.staticPIE()
        b.headers[2].alignment = 0x20_0000
        let plan = try ELFImage(b.bytes()).makeLoadPlan()
        XCTAssertEqual(plan.base, 0x5555_5540_0000)
        XCTAssertEqual(plan.base % 0x20_0000, 0)
    }

    func testTLSIsRelocated() throws {
        var b = TestELFBuilder.staticPIE()
        b.headers.append(ProgramHeader(type: ProgramHeaderType.threadLocalStorage, flags: 4,
                                       offset: 0x1800, virtualAddress: 0x2800, fileSize: 0x20,
                                       memorySize: 0x68, alignment: 16))
        b.headers[0].fileSize = 5 * 56
        b.headers[0].memorySize = 5 * 56
        let plan = try ELFImage(b.bytes()).makeLoadPlan(base: 0x40_0000)
        XCTAssertEqual(plan.tls, TLSTemplate(address: 0x40_2800, fileOffset: 0x1800,
                                             fileSize: 0x20, memorySize: 0x68, alignment: 16))
        let noTLS = try ELFImage(TestELFBuilder.staticPIE().bytes()).makeLoadPlan()
        XCTAssertNil(noTLS.tls)
    }

    func testExecutableStackFromGNUStack() throws {
        var b = TestELFBuilder.staticExecutable()
        b.headers[4].flags = ProgramHeaderFlags.readable | ProgramHeaderFlags.writable
            | ProgramHeaderFlags.executable
        XCTAssertTrue(try ELFImage(b.bytes()).makeLoadPlan().executableStack)
        b.headers.removeLast() // no PT_GNU_STACK: non-executable on x86-64
        let image = try ELFImage(b.bytes())
        XCTAssertNil(image.gnuStackFlags)
        XCTAssertFalse(try image.makeLoadPlan().executableStack)
    }

    func testSegmentsSharingAPageGetOneMappingWithBothPermissions() throws {
        let b = TestELFBuilder(headers: [
            ProgramHeader(type: ProgramHeaderType.load, flags: 4 | 1, offset: 0,
                          virtualAddress: 0x400000, fileSize: 0x1f00, memorySize: 0x1f00,
                          alignment: 0x1000),
            ProgramHeader(type: ProgramHeaderType.load, flags: 4 | 2, offset: 0x1f00,
                          virtualAddress: 0x401f00, fileSize: 0x100, memorySize: 0x1100,
                          alignment: 0x1000),
        ])
        let plan = try ELFImage(b.bytes()).makeLoadPlan()
        XCTAssertEqual(plan.mappings, [
            LoadMapping(start: 0x400000, end: 0x401000, readable: true, writable: false, executable: true),
            LoadMapping(start: 0x401000, end: 0x402000, readable: true, writable: true, executable: true),
            LoadMapping(start: 0x402000, end: 0x403000, readable: true, writable: true, executable: false),
        ])
        XCTAssertEqual(plan.programBreakStart, 0x403000)
    }

    func testMappingsAreSortedEvenWhenSegmentsAreNot() throws {
        var b = TestELFBuilder.staticExecutable()
        b.headers.swapAt(0, 2)
        let plan = try ELFImage(b.bytes()).makeLoadPlan()
        XCTAssertEqual(plan.mappings.map(\.start), [0x400000, 0x401000, 0x402000])
        XCTAssertEqual(plan.segments.map(\.virtualAddress), [0x402f80, 0x401000, 0x400000])
    }

    func testStandardAuxiliaryVector() throws {
        let plan = try ELFImage(TestELFBuilder.staticPIE().bytes()).makeLoadPlan()
        let auxv = plan.standardAuxiliaryVector(
            credentials: ProcessCredentials(uid: 1000, euid: 1001, gid: 100, egid: 101),
            hardwareCapabilities: 0x178b_fbff)
        func value(_ type: AuxvType) -> UInt64? {
            auxv.first { $0.type == type.rawValue }?.value
        }
        XCTAssertEqual(value(.programHeaders), 0x5555_5555_4040)
        XCTAssertEqual(value(.programHeaderEntrySize), 56)
        XCTAssertEqual(value(.programHeaderCount), 4)
        XCTAssertEqual(value(.pageSize), 4096)
        XCTAssertEqual(value(.interpreterBase), 0)
        XCTAssertEqual(value(.entry), 0x5555_5555_5020)
        XCTAssertEqual(value(.uid), 1000)
        XCTAssertEqual(value(.euid), 1001)
        XCTAssertEqual(value(.gid), 100)
        XCTAssertEqual(value(.egid), 101)
        XCTAssertEqual(value(.secure), 0)
        XCTAssertEqual(value(.hardwareCapabilities), 0x178b_fbff)
        XCTAssertEqual(value(.clockTicks), 100)
        XCTAssertNil(value(.random), "added by buildInitialStack")
        XCTAssertNil(value(.null))
        XCTAssertNil(value(.systemInfoEHDR), "egg has no vDSO")
    }
}
