// Host tests for VirtualMemoryMap (Sources/KernelCore/Memory/VirtualMemoryMap.swift): one test
// per mmap/munmap/mprotect/brk/mremap rule. The randomized comparison with a per-page model is
// in MemoryModelTests.swift; the frame allocator is in MemoryFrameAllocatorTests.swift.

import XCTest
import LinuxABI
@testable import KernelCore

final class MemoryTests: XCTestCase {
    private let page: UInt64 = 4096
    private let base: UInt64 = 0x7fff_f000_0000   // default mmapBase

    private func range(_ start: UInt64, _ end: UInt64) -> AddressRange { AddressRange(start: start, end: end) }

    private func mapped(_ map: inout VirtualMemoryMap, _ address: UInt64, _ length: UInt64,
                        _ protection: MemoryProtection = .readWrite,
                        _ placement: MappingPlacement = .fixed,
                        backing: MappingBacking = .anonymous, name: String = "",
                        file: StaticString = #filePath, line: UInt = #line) -> MapResult? {
        switch map.map(at: address, length: length, protection: protection, placement: placement,
                       backing: backing, name: name) {
        case .success(let result): return result
        case .failure(let errno):
            XCTFail("map failed with \(errno.rawValue)", file: file, line: line)
            return nil
        }
    }

    private func error<T>(_ result: Result<T, Errno>) -> Errno? {
        if case .failure(let e) = result { return e }
        return nil
    }

    // MARK: mmap

    func testMapRejectsZeroLengthUnalignedFixedLowAndHugeRequests() {
        var map = VirtualMemoryMap()
        XCTAssertEqual(error(map.map(at: 0, length: 0, protection: .readWrite, placement: .hint)), .EINVAL)
        XCTAssertEqual(error(map.map(at: 0x40_0010, length: page, protection: .readWrite, placement: .fixed)), .EINVAL)
        XCTAssertEqual(error(map.map(at: 0x40_0010, length: page, protection: .readWrite, placement: .fixedNoReplace)), .EINVAL)
        XCTAssertEqual(error(map.map(at: 0x1000, length: page, protection: .readWrite, placement: .fixed)), .EPERM)
        XCTAssertEqual(error(map.map(at: 0x7fff_ffff_e000, length: 2 * page, protection: .readWrite, placement: .fixed)), .ENOMEM)
        XCTAssertEqual(error(map.map(at: 0, length: UInt64.max, protection: .readWrite, placement: .hint)), .ENOMEM)
        XCTAssertEqual(error(map.map(at: 0, length: 1 << 47, protection: .readWrite, placement: .hint)), .ENOMEM)
        XCTAssertTrue(map.areas.isEmpty, "failed calls must not change the map")
    }

    func testNonFixedMappingsGrowDownFromMmapBaseAndMerge() {
        var map = VirtualMemoryMap()
        let a = mapped(&map, 0, 100, .readWrite, .hint)!
        XCTAssertEqual(a.range, range(base - page, base), "length rounds up to a page, placed just below mmapBase")
        let b = mapped(&map, 0, 3 * page, .readWrite, .hint)!
        XCTAssertEqual(b.range, range(base - 4 * page, base - page))
        XCTAssertEqual(map.areas.count, 1, "adjacent anonymous rw areas merge")
        XCTAssertEqual(map.areas[0].range, range(base - 4 * page, base))
        let c = mapped(&map, 0, page, .read, .hint)!
        XCTAssertEqual(c.range, range(base - 5 * page, base - 4 * page))
        XCTAssertEqual(map.areas.count, 2, "different rights do not merge")
    }

    func testHintIsUsedWhenFreeAndIgnoredWhenTaken() {
        var map = VirtualMemoryMap()
        XCTAssertEqual(mapped(&map, 0x1000_0000, page, .readWrite, .hint)?.address, 0x1000_0000)
        XCTAssertEqual(mapped(&map, 0x2000_0123, page, .readWrite, .hint)?.address, 0x2000_1000, "hint rounds up")
        XCTAssertEqual(mapped(&map, 0x1000_0000, page, .readWrite, .hint)?.address, base - page, "taken hint")
        XCTAssertEqual(mapped(&map, 0x100, page, .readWrite, .hint)?.address, 0x1_0000, "hint raised to mmapMin")
    }

    func testTopDownSearchFindsHighestGapThatFitsAndFallsBackAboveBase() {
        let layout = AddressSpaceLayout(mmapMin: 0x10000, mmapBase: 0x20000, userTop: 0x30000)
        var map = VirtualMemoryMap(layout: layout)
        _ = mapped(&map, 0x1f000, page)            // top page below base
        _ = mapped(&map, 0x1c000, page)            // leaves a 2-page gap at 0x1d000
        XCTAssertEqual(mapped(&map, 0, 3 * page, .read, .hint)?.address, 0x19000, "2-page gap is too small")
        XCTAssertEqual(mapped(&map, 0, 2 * page, .read, .hint)?.address, 0x1d000)
        XCTAssertEqual(mapped(&map, 0, 0x9000, .execute, .hint)?.address, 0x10000, "exactly fills the bottom gap")
        XCTAssertEqual(mapped(&map, 0, page, .execute, .hint)?.address, 0x2f000, "nothing below base: above it")
        XCTAssertEqual(error(map.map(at: 0, length: 0x10000, protection: .read, placement: .hint)), .ENOMEM)
    }

    func testFixedMappingReplacesAndReportsReplacedRanges() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, 4 * page, .readExecute, backing: .image(offset: 0), name: "/bin/a")
        _ = mapped(&map, 0x40_6000, 2 * page, .readWrite)
        let result = mapped(&map, 0x40_2000, 6 * page, .read)!
        XCTAssertEqual(result.range, range(0x40_2000, 0x40_8000))
        XCTAssertEqual(result.replaced, [range(0x40_2000, 0x40_4000), range(0x40_6000, 0x40_8000)])
        XCTAssertEqual(map.areas.map(\.range), [range(0x40_0000, 0x40_2000), range(0x40_2000, 0x40_8000)])
        XCTAssertEqual(map.areas[0].name, "/bin/a")
    }

    func testFixedNoReplaceFailsWithEEXISTAndChangesNothing() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x50_0000, 2 * page)
        let before = map.areas
        XCTAssertEqual(error(map.map(at: 0x50_1000, length: 4 * page, protection: .read, placement: .fixedNoReplace)), .EEXIST)
        XCTAssertEqual(map.areas, before)
        XCTAssertEqual(mapped(&map, 0x50_2000, page, .read, .fixedNoReplace)?.replaced, [])
    }

    // MARK: munmap

    func testUnmapSplitsAreasAndReturnsOnlyMappedParts() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x60_0000, 8 * page, backing: .image(offset: 0x1000), name: "/bin/b")
        _ = mapped(&map, 0x60_a000, 2 * page, .read)
        let removed = try? map.unmap(start: 0x60_2000, length: 0x9000).get()
        XCTAssertEqual(removed, [range(0x60_2000, 0x60_8000), range(0x60_a000, 0x60_b000)])
        XCTAssertEqual(map.areas.map(\.range), [range(0x60_0000, 0x60_2000), range(0x60_b000, 0x60_c000)])
        XCTAssertEqual(map.areas[0].backing, .image(offset: 0x1000))
        XCTAssertEqual(map.areas[1].protection, .read)
        XCTAssertEqual(try? map.unmap(start: 0x100_0000, length: page).get(), [], "holes are fine")
    }

    func testUnmapKeepsFileOffsetOfTheRightPiece() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, 8 * page, .readExecute, backing: .image(offset: 0x2000), name: "/x")
        _ = try? map.unmap(start: 0x40_3000, length: 1).get()   // length rounds up to one page
        XCTAssertEqual(map.areas.count, 2)
        XCTAssertEqual(map.areas[1].range, range(0x40_4000, 0x40_8000))
        XCTAssertEqual(map.areas[1].backing, .image(offset: 0x6000))
    }

    func testUnmapRejectsUnalignedZeroAndOutOfRange() {
        var map = VirtualMemoryMap()
        XCTAssertEqual(error(map.unmap(start: 0x40_0001, length: page)), .EINVAL)
        XCTAssertEqual(error(map.unmap(start: 0x40_0000, length: 0)), .EINVAL)
        XCTAssertEqual(error(map.unmap(start: 0x7fff_ffff_f000, length: page)), .EINVAL)
        XCTAssertEqual(error(map.unmap(start: 0x40_0000, length: UInt64.max)), .EINVAL)
    }

    // MARK: mprotect

    func testProtectSplitsAndMergesBack() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x70_0000, 4 * page)
        let changes = try? map.protect(start: 0x70_1000, length: 2 * page, protection: .read).get()
        XCTAssertEqual(changes, [ProtectionChange(range: range(0x70_1000, 0x70_3000),
                                                  oldProtection: .readWrite, newProtection: .read)])
        XCTAssertEqual(map.areas.map(\.protection), [.readWrite, .read, .readWrite])
        let back = try? map.protect(start: 0x70_1000, length: 2 * page, protection: .readWrite).get()
        XCTAssertEqual(back?.count, 1)
        XCTAssertEqual(map.areas.count, 1, "restoring the rights merges the pieces again")
        XCTAssertEqual(try? map.protect(start: 0x70_0000, length: page, protection: .readWrite).get(), [],
                       "no change, nothing to apply")
    }

    func testProtectOverHoleFailsWithENOMEMAndChangesNothing() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x70_0000, page)
        _ = mapped(&map, 0x70_2000, page)
        let before = map.areas
        XCTAssertEqual(error(map.protect(start: 0x70_0000, length: 3 * page, protection: .read)), .ENOMEM)
        XCTAssertEqual(error(map.protect(start: 0x6f_f000, length: 2 * page, protection: .read)), .ENOMEM)
        XCTAssertEqual(map.areas, before)
        XCTAssertEqual(error(map.protect(start: 0x70_0800, length: page, protection: .read)), .EINVAL)
        XCTAssertEqual(try? map.protect(start: 0x70_0000, length: 0, protection: .read).get(), [])
    }

    // MARK: queries

    func testAreaLookupAndAccessChecks() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, 2 * page, .readExecute, backing: .image(offset: 0), name: "/p")
        _ = mapped(&map, 0x40_2000, 2 * page, .readWrite, backing: .image(offset: 0x2000), name: "/p")
        _ = mapped(&map, 0x40_4000, page, .none)
        XCTAssertEqual(map.area(containing: 0x40_1fff)?.protection, .readExecute)
        XCTAssertEqual(map.area(containing: 0x40_2000)?.protection, .readWrite)
        XCTAssertNil(map.area(containing: 0x40_5000))
        XCTAssertNil(map.area(containing: 0x3f_ffff))
        XCTAssertTrue(map.isRangeAccessible(start: 0x40_1ff0, length: 0x20, write: false))
        XCTAssertFalse(map.isRangeAccessible(start: 0x40_1ff0, length: 0x20, write: true))
        XCTAssertTrue(map.isRangeAccessible(start: 0x40_2000, length: 2 * page, write: true))
        XCTAssertFalse(map.isRangeAccessible(start: 0x40_3000, length: page + 1, write: false), "PROT_NONE page")
        XCTAssertFalse(map.isRangeAccessible(start: 0x40_5000, length: 1, write: false))
        XCTAssertFalse(map.isRangeAccessible(start: UInt64.max - 4, length: 8, write: false))
        XCTAssertTrue(map.isRangeAccessible(start: 0, length: 0, write: true))
    }

    // MARK: brk

    func testBreakGrowsShrinksAndReportsRanges() {
        var map = VirtualMemoryMap()
        map.initializeBreak(imageEnd: 0x40_1234)
        let start: UInt64 = 0x40_2000
        XCTAssertEqual(map.setBreak(0).breakAddress, start, "brk(0) reports the current break")
        let grown = map.setBreak(start + 0x1800)
        XCTAssertEqual(grown, BreakResult(breakAddress: start + 0x1800, mapped: range(start, start + 0x2000), unmapped: []))
        XCTAssertEqual(map.area(containing: start)?.name, "[heap]")
        XCTAssertEqual(map.area(containing: start)?.protection, .readWrite)
        XCTAssertEqual(map.setBreak(start + 0x2000), BreakResult(breakAddress: start + 0x2000, mapped: nil, unmapped: []),
                       "same page: nothing to map")
        XCTAssertEqual(map.setBreak(start + 0x5000).mapped, range(start + 0x2000, start + 0x5000))
        XCTAssertEqual(map.areas.count, 1, "heap growth merges")
        XCTAssertEqual(map.setBreak(start + 0x0800), BreakResult(breakAddress: start + 0x800, mapped: nil,
                                                                 unmapped: [range(start + 0x1000, start + 0x5000)]))
        XCTAssertEqual(map.setBreak(start - 1).breakAddress, start + 0x800, "below the heap start fails")
        XCTAssertEqual(map.setBreak(start).unmapped, [range(start, start + 0x1000)])
        XCTAssertTrue(map.areas.isEmpty)
        XCTAssertEqual(map.renderMaps(), "")
    }

    func testBreakStopsOnePageBeforeAnotherMappingAndAtTheLimit() {
        var map = VirtualMemoryMap()
        map.initializeBreak(imageEnd: 0x40_0000)
        _ = mapped(&map, 0x41_0000, page)
        XCTAssertEqual(map.setBreak(0x40_f001).breakAddress, 0x40_0000, "would leave no gap page")
        XCTAssertEqual(map.areas.count, 1)
        XCTAssertEqual(map.setBreak(0x40_f000).breakAddress, 0x40_f000)
        var other = VirtualMemoryMap()
        other.initializeBreak(imageEnd: 0x40_0000)
        other.breakLimit = 0x2_0000
        XCTAssertEqual(other.setBreak(0x42_0001).breakAddress, 0x40_0000)
        XCTAssertEqual(other.setBreak(0x42_0000).breakAddress, 0x42_0000)
    }

    // MARK: mremap

    func testRemapShrinksGrowsInPlaceAndMoves() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x1000_0000, 4 * page)
        let shrunk = try? map.remap(oldAddress: 0x1000_0000, oldLength: 4 * page, newLength: 2 * page, mayMove: false).get()
        XCTAssertEqual(shrunk, RemapResult(address: 0x1000_0000, freed: [range(0x1000_2000, 0x1000_4000)], move: nil))
        let grown = try? map.remap(oldAddress: 0x1000_0000, oldLength: 2 * page, newLength: 6 * page, mayMove: false).get()
        XCTAssertEqual(grown, RemapResult(address: 0x1000_0000, freed: [], move: nil))
        XCTAssertEqual(map.areas.map(\.range), [range(0x1000_0000, 0x1000_6000)])
        _ = mapped(&map, 0x1000_6000, page, .read)
        XCTAssertEqual(error(map.remap(oldAddress: 0x1000_0000, oldLength: 6 * page, newLength: 8 * page, mayMove: false)), .ENOMEM)
        let moved = try? map.remap(oldAddress: 0x1000_0000, oldLength: 6 * page, newLength: 8 * page, mayMove: true).get()
        XCTAssertEqual(moved, RemapResult(address: base - 8 * page, freed: [],
                                          move: PageMove(from: range(0x1000_0000, 0x1000_6000), to: base - 8 * page)))
        XCTAssertNil(map.area(containing: 0x1000_0000))
        XCTAssertEqual(map.area(containing: base - page)?.range, range(base - 8 * page, base))
    }

    func testRemapFixedReplacesTargetAndKeepsAttributes() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, 4 * page, .readExecute, backing: .image(offset: 0x3000), name: "/bin/c")
        _ = mapped(&map, 0x80_0000, page, .read)
        let result = try? map.remap(oldAddress: 0x40_1000, oldLength: 2 * page, newLength: page,
                                    mayMove: true, fixedAddress: 0x80_0000).get()
        XCTAssertEqual(result, RemapResult(address: 0x80_0000,
                                           freed: [range(0x80_0000, 0x80_1000), range(0x40_2000, 0x40_3000)],
                                           move: PageMove(from: range(0x40_1000, 0x40_2000), to: 0x80_0000)))
        XCTAssertEqual(map.area(containing: 0x80_0000),
                       VirtualMemoryArea(range: range(0x80_0000, 0x80_1000), protection: .readExecute,
                                         backing: .image(offset: 0x4000), name: "/bin/c"))
        XCTAssertEqual(map.areas.map(\.range), [range(0x40_0000, 0x40_1000), range(0x40_3000, 0x40_4000),
                                                range(0x80_0000, 0x80_1000)])
    }

    func testRemapErrors() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, 2 * page)
        _ = mapped(&map, 0x40_2000, 2 * page, .read)
        XCTAssertEqual(error(map.remap(oldAddress: 0x40_0001, oldLength: page, newLength: page, mayMove: true)), .EINVAL)
        XCTAssertEqual(error(map.remap(oldAddress: 0x40_0000, oldLength: page, newLength: 0, mayMove: true)), .EINVAL)
        XCTAssertEqual(error(map.remap(oldAddress: 0x40_0000, oldLength: page, newLength: page, mayMove: false,
                                       fixedAddress: 0x90_0000)), .EINVAL)
        XCTAssertEqual(error(map.remap(oldAddress: 0x40_0000, oldLength: 3 * page, newLength: page, mayMove: true)), .EFAULT,
                       "old range spans two areas")
        XCTAssertEqual(error(map.remap(oldAddress: 0x50_0000, oldLength: page, newLength: page, mayMove: true)), .EFAULT)
        XCTAssertEqual(error(map.remap(oldAddress: 0x40_0000, oldLength: 2 * page, newLength: 2 * page, mayMove: true,
                                       fixedAddress: 0x40_1000)), .EINVAL, "overlapping target")
    }

    func testRemoveAllReturnsEveryMappedRangeAndResetsBreak() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, 2 * page, .readExecute)
        map.initializeBreak(imageEnd: 0x40_2000)
        _ = map.setBreak(0x40_4000)
        _ = mapped(&map, 0x50_0000, page)
        XCTAssertEqual(map.removeAll(), [range(0x40_0000, 0x40_4000), range(0x50_0000, 0x50_1000)])
        XCTAssertTrue(map.areas.isEmpty)
        XCTAssertEqual(map.setBreak(0).breakAddress, 0)
    }

    // MARK: /proc/self/maps

    func testMapsLinesMatchLinuxLayout() {
        var map = VirtualMemoryMap()
        _ = mapped(&map, 0x40_0000, page, .readExecute, backing: .image(offset: 0), name: "/bin/hello")
        _ = mapped(&map, 0x40_1000, page, .readWrite, backing: .image(offset: 0x1000), name: "/bin/hello")
        map.initializeBreak(imageEnd: 0x40_2000)
        _ = map.setBreak(0x40_3000)
        _ = mapped(&map, 0x7fff_fffd_e000, 0x21000, .readWrite, backing: .stack, name: "[stack]")
        _ = mapped(&map, 0x7fff_f7ff_0000, page, .none)
        _ = mapped(&map, 0x7fff_f7ff_1000, page, .readWrite)
        let pad = { (prefix: String) in prefix + String(repeating: " ", count: 73 - prefix.utf8.count) }
        let expected = [
            pad("00400000-00401000 r-xp 00000000 00:00 0") + "/bin/hello",
            pad("00401000-00402000 rw-p 00001000 00:00 0") + "/bin/hello",
            pad("00402000-00403000 rw-p 00000000 00:00 0") + "[heap]",
            "7ffff7ff0000-7ffff7ff1000 ---p 00000000 00:00 0 ",
            "7ffff7ff1000-7ffff7ff2000 rw-p 00000000 00:00 0 ",
            pad("7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0") + "[stack]",
        ]
        XCTAssertEqual(map.renderMaps(), expected.joined(separator: "\n") + "\n")
        var shared = map.areas[3]
        shared.shared = true
        XCTAssertTrue(shared.mapsLine.hasPrefix("7ffff7ff0000-7ffff7ff1000 ---s "))
        XCTAssertEqual(mapped(&map, 0x7fff_f000_0000, page, backing: .stack)?.address, 0x7fff_f000_0000)
        XCTAssertEqual(map.area(containing: 0x7fff_f000_0000)?.name, "[stack]", "stack areas are named by default")
    }
}
