// ELFImageTests — header and program header validation of ELFImage (Sources/ELF/ELFImage.swift),
// one test per ELFError case, plus truncation and corruption loops that must never crash.

import XCTest
import ELF

final class ELFImageTests: XCTestCase {
    func testValidStaticExecutableParses() throws {
        let image = try ELFImage(TestELFBuilder.staticExecutable().bytes())
        XCTAssertEqual(image.type, .executable)
        XCTAssertEqual(image.entry, 0x401010)
        XCTAssertEqual(image.programHeaderOffset, 64)
        XCTAssertEqual(image.programHeaderEntrySize, 56)
        XCTAssertEqual(image.programHeaderCount, 5)
        XCTAssertEqual(image.programHeaders.count, 5)
        XCTAssertEqual(image.loadSegments.map(\.virtualAddress), [0x400000, 0x401000, 0x402f80])
        XCTAssertEqual(image.programHeaders[2].memorySize, 0x1100)
        XCTAssertTrue(image.programHeaders[1].isExecutable)
        XCTAssertFalse(image.programHeaders[1].isWritable)
        XCTAssertEqual(image.tls, TLSTemplate(address: 0x402f80, fileOffset: 0x1f80, fileSize: 0x10,
                                              memorySize: 0x28, alignment: 8))
        XCTAssertEqual(image.gnuStackFlags, ProgramHeaderFlags.readable | ProgramHeaderFlags.writable)
        XCTAssertFalse(image.executableStack)
        XCTAssertNil(image.programHeaderTableAddress)
    }

    func testBadMagicIsNotELF() {
        var b = TestELFBuilder.staticExecutable()
        b.magic = [0x7f, 0x45, 0x4c, 0x47]
        XCTAssertEqual(parseError(b.bytes()), .notELF)
        XCTAssertEqual(parseError(Array("#!/bin/sh\necho hi\n".utf8)), .notELF)
        XCTAssertEqual(parseError([]), .notELF)
        XCTAssertEqual(parseError([0x7f, 0x45, 0x00]), .notELF)
    }

    func testShortPrefixOfMagicIsTruncated() {
        XCTAssertEqual(parseError([0x7f, 0x45, 0x4c]), .truncated(.header))
        XCTAssertEqual(parseError([0x7f, 0x45, 0x4c, 0x46, 2, 1]), .truncated(.header))
    }

    func testClassAndByteOrder() {
        var b = TestELFBuilder.staticExecutable()
        b.elfClass = 1
        XCTAssertEqual(parseError(b.bytes()), .not64Bit)
        b = TestELFBuilder.staticExecutable()
        b.data = 2
        XCTAssertEqual(parseError(b.bytes()), .notLittleEndian)
    }

    func testWrongMachine() {
        var b = TestELFBuilder.staticExecutable()
        b.machine = 183
        XCTAssertEqual(parseError(b.bytes()), .wrongMachine(183))
        XCTAssertTrue(ELFError.wrongMachine(183).message.contains("AArch64"))
    }

    func testRelocatableObjectAndCoreAreNotExecutable() {
        for type: UInt16 in [0, 1, 4, 0xfe00] {
            var b = TestELFBuilder.staticExecutable()
            b.type = type
            XCTAssertEqual(parseError(b.bytes()), .notExecutable(type))
        }
    }

    func testInterpreterMeansDynamicallyLinked() {
        var b = TestELFBuilder.staticExecutable()
        b.headers.insert(ProgramHeader(type: ProgramHeaderType.interpreter,
                                       flags: ProgramHeaderFlags.readable, offset: 0x180,
                                       virtualAddress: 0x400180, fileSize: 0x1c,
                                       memorySize: 0x1c, alignment: 1), at: 0)
        XCTAssertEqual(parseError(b.bytes()), .dynamicallyLinked)
        XCTAssertEqual(ELFError.dynamicallyLinked.message,
                       "is dynamically linked (it has an interpreter); link it with -static")
    }

    func testDynamicallyLinkedIsReportedBeforeSegmentProblems() {
        var b = TestELFBuilder.staticExecutable()
        b.headers[1].fileSize = 0x1000_0000 // would be .truncated(.segment(1))
        b.headers.append(ProgramHeader(type: ProgramHeaderType.interpreter, flags: 4, offset: 0,
                                       virtualAddress: 0, fileSize: 1, memorySize: 1,
                                       alignment: 1))
        XCTAssertEqual(parseError(b.bytes()), .dynamicallyLinked)
    }

    func testProgramHeaderTableShapeErrors() {
        var b = TestELFBuilder.staticExecutable()
        b.programHeaderEntrySize = 64
        XCTAssertEqual(parseError(b.bytes()), .badProgramHeaderTable)
        b = TestELFBuilder.staticExecutable()
        b.programHeaderCount = 0xffff // PN_XNUM-sized table: 3.6 MB, more than Linux reads
        XCTAssertEqual(parseError(b.bytes()), .badProgramHeaderTable)
    }

    func testProgramHeaderTableBeyondFileIsTruncated() {
        var b = TestELFBuilder.staticExecutable()
        b.programHeaderOffset = 0x1_0000_0000
        XCTAssertEqual(parseError(b.bytes()), .truncated(.programHeaders))
        b = TestELFBuilder.staticExecutable()
        b.programHeaderOffset = UInt64.max - 10 // offset + size overflows
        XCTAssertEqual(parseError(b.bytes()), .truncated(.programHeaders))
        b = TestELFBuilder.staticExecutable()
        b.programHeaderCount = 40 // table runs past the end of the 0x2080-byte file
        b.fileLength = 64 + 30 * 56
        XCTAssertEqual(parseError(b.bytes()), .truncated(.programHeaders))
    }

    func testSegmentFileRangeBeyondFileIsTruncated() {
        var b = TestELFBuilder.staticExecutable()
        b.fileLength = 0x2000 // cuts the data segment (0x1f80 + 0x100)
        XCTAssertEqual(parseError(b.bytes()), .truncated(.segment(2)))
        b = TestELFBuilder.staticExecutable()
        b.headers[1].offset = UInt64.max - 0x20 + 1 // offset + filesz overflows; vaddr congruent below
        b.headers[1].virtualAddress = 0x401000 | ((UInt64.max - 0x20 + 1) & 0xfff)
        XCTAssertEqual(parseError(b.bytes()), .truncated(.segment(1)))
        b = TestELFBuilder.staticExecutable()
        b.headers[3].offset = 0x9000 // PT_TLS image outside the file
        b.fileLength = 0x2080
        XCTAssertEqual(parseError(b.bytes()), .truncated(.segment(3)))
    }

    func testFileSizeLargerThanMemorySize() {
        var b = TestELFBuilder.staticExecutable()
        b.headers[2].memorySize = 0x80
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .fileSizeExceedsMemorySize))
        b = TestELFBuilder.staticExecutable()
        b.headers[3].memorySize = 8
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 3, .fileSizeExceedsMemorySize))
    }

    func testOffsetAndAddressMustBeCongruentModuloPage() {
        var b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0x403000
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .offsetNotCongruentWithAddress))
    }

    func testAlignmentMustBePowerOfTwo() {
        var b = TestELFBuilder.staticExecutable()
        b.headers[1].alignment = 0x1800
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 1, .badAlignment))
        b = TestELFBuilder.staticExecutable()
        b.headers[3].alignment = 12
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 3, .badAlignment))
        b = TestELFBuilder.staticExecutable()
        b.headers[1].alignment = 0 // 0 and 1 mean "no constraint"
        b.headers[2].alignment = 1
        XCTAssertNil(parseError(b.bytes()))
    }

    func testAddressOverflowAndKernelHalf() {
        var b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0xffff_ffff_ffff_ff80
        b.headers[2].memorySize = 0x1000
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .addressOverflow))
        b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0xffff_8000_0000_0f80
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .outsideUserAddressSpace))
        b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0x7fff_ffff_ff80 // ends at 0x8000_0000_1080
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .outsideUserAddressSpace))
        b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0x7f7f_ffff_ff80 // into the guard page below egg's kernel window
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .outsideUserAddressSpace))
        b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0x7f7f_ffff_df80 // ends exactly at the limit: fine
        b.headers[2].memorySize = 0x1080
        XCTAssertNil(parseError(b.bytes()))
    }

    func testOverlappingLoadSegments() {
        var b = TestELFBuilder.staticExecutable()
        b.headers[2].virtualAddress = 0x400f80 // inside the first segment's page, past its bytes
        b.headers[2].fileSize = 0x80
        b.headers[2].memorySize = 0x80
        b.headers[3].fileSize = 0x10 // keep PT_TLS consistent
        XCTAssertNil(parseError(b.bytes()), "sharing a page without sharing bytes is allowed")
        b.headers[2].memorySize = 0x1000 // now covers 0x400f80..0x401f80, hitting the code
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 2, .overlaps(1)))
        b = TestELFBuilder.staticExecutable()
        b.headers[0].virtualAddress = 0x401000 // same address as segment 1
        b.entry = 0x401010
        XCTAssertEqual(parseError(b.bytes()), .badSegment(index: 1, .overlaps(0)))
    }

    func testNoLoadableSegments() {
        var b = TestELFBuilder.staticExecutable()
        b.headers = [b.headers[4]]
        XCTAssertEqual(parseError(b.bytes()), .noLoadableSegments)
        b = TestELFBuilder.staticExecutable()
        b.headers = []
        XCTAssertEqual(parseError(b.bytes()), .noLoadableSegments)
        b = TestELFBuilder.staticExecutable()
        for i in 0..<3 { b.headers[i].memorySize = 0; b.headers[i].fileSize = 0 }
        XCTAssertEqual(parseError(b.bytes()), .noLoadableSegments)
    }

    func testEntryMustBeInsideAnExecutableSegment() {
        var b = TestELFBuilder.staticExecutable()
        b.entry = 0x500000
        XCTAssertEqual(parseError(b.bytes()), .entryOutsideSegments(0x500000))
        b.entry = 0x400010 // inside the read-only header segment
        XCTAssertEqual(parseError(b.bytes()), .entryOutsideSegments(0x400010))
        b.entry = 0x401040 // one past the end of the code segment
        XCTAssertEqual(parseError(b.bytes()), .entryOutsideSegments(0x401040))
        b.entry = 0x40103f
        XCTAssertNil(parseError(b.bytes()))
    }

    func testEveryErrorHasADistinctNonEmptyMessage() {
        let errors: [ELFError] = [
            .notELF, .not64Bit, .notLittleEndian, .wrongMachine(3), .notExecutable(1),
            .dynamicallyLinked, .truncated(.header), .truncated(.programHeaders),
            .truncated(.segment(2)), .badProgramHeaderTable,
            .badSegment(index: 1, .fileSizeExceedsMemorySize),
            .badSegment(index: 1, .offsetNotCongruentWithAddress),
            .badSegment(index: 1, .badAlignment), .badSegment(index: 1, .addressOverflow),
            .badSegment(index: 1, .outsideUserAddressSpace), .badSegment(index: 1, .overlaps(0)),
            .noLoadableSegments, .entryOutsideSegments(0x1234), .badBase(0x1001),
        ]
        let messages = errors.map(\.message)
        XCTAssertEqual(Set(messages).count, messages.count)
        XCTAssertTrue(messages.allSatisfy { !$0.isEmpty })
        XCTAssertTrue(ELFError.entryOutsideSegments(0x1234).message.contains("0x1234"))
        XCTAssertTrue(ELFError.truncated(.segment(2)).message.contains("segment 2"))
    }

    /// Every prefix of a valid image either parses or throws; none may trap. Prefixes that
    /// cut into the header or tables must be rejected.
    func testEveryPrefixParsesOrThrows() {
        for builder in [TestELFBuilder.staticExecutable(), TestELFBuilder.staticPIE()] {
            let full = builder.bytes()
            XCTAssertNil(parseError(full))
            var accepted = 0
            for length in 0..<full.count {
                let error = parseError(Array(full.prefix(length)))
                if error == nil { accepted += 1 }
                if length < 64 {
                    XCTAssertTrue(error == .notELF || error == .truncated(.header),
                                  "prefix \(length): \(String(describing: error))")
                }
            }
            // The builders end the file exactly at the last segment's bytes, so no strict
            // prefix is a valid image.
            XCTAssertEqual(accepted, 0)
        }
    }

    /// Corrupting any single byte of the header and tables must not trap (a cheap fuzz).
    func testSingleByteCorruptionsNeverCrash() {
        let full = TestELFBuilder.staticExecutable().bytes()
        var rejected = 0
        for offset in 0..<(64 + 5 * 56) {
            for value: UInt8 in [0x00, 0x01, 0x7f, 0x80, 0xff] where full[offset] != value {
                var copy = full
                copy[offset] = value
                if parseError(copy) != nil {
                    rejected += 1
                } else {
                    // An accepted image must also yield a plan without trapping.
                    XCTAssertNoThrow(try ELFImage(copy).makeLoadPlan())
                }
            }
        }
        XCTAssertGreaterThan(rejected, 100)
    }

    func testDeterministicRandomHeaderFuzzNeverCrashes() {
        var state: UInt64 = 0x9e37_79b9_7f4a_7c15
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
        let base = TestELFBuilder.staticPIE().bytes()
        for _ in 0..<5000 {
            var copy = base
            for _ in 0..<(1 + Int(next() % 4)) {
                let offset = Int(next() % UInt64(64 + 4 * 56))
                copy[offset] = UInt8(truncatingIfNeeded: next())
            }
            if let image = try? ELFImage(copy) {
                // Whatever was accepted must still satisfy the invariants the loader needs.
                guard let plan = try? image.makeLoadPlan() else { continue }
                for segment in plan.segments {
                    XCTAssertLessThanOrEqual(segment.fileSize, segment.memorySize)
                    XCTAssertLessThanOrEqual(segment.fileOffset + segment.fileSize,
                                             UInt64(copy.count))
                    XCTAssertLessThanOrEqual(segment.pageEnd, ELFConstants.userAddressLimit)
                }
            }
        }
    }
}
