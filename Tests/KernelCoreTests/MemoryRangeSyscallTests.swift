// MemoryRangeSyscallTests — munmap, mprotect, madvise and mremap over large and sparse
// ranges (issue 12 item 4, issue 14 item 5): their cost follows the page-table entries that
// exist (counted through PageTable.entriesVisited), not the length of the range; madvise's
// per-advice semantics and mremap's grow, shrink, move, fixed and dont-unmap cases follow
// madvise(2), mremap(2) and mm/madvise.c, mm/mremap.c. Driven through TestKernel (Fakes.swift).
@testable import KernelCore
import LinuxABI
import XCTest

final class MemoryRangeSyscallTests: XCTestCase {
    var k: TestKernel!
    override func setUp() { k = TestKernel() }

    static let tib: UInt64 = 1 << 40
    let protNone: UInt64 = 0, protRW: UInt64 = 3
    let privateAnonymous: UInt64 = 0x22, sharedAnonymous: UInt64 = 0x21
    let noReserve: UInt64 = 0x4000, fixed: UInt64 = 0x10

    func mmap(_ length: UInt64, prot: UInt64 = 3, flags: UInt64 = 0x22, at address: UInt64 = 0) -> UInt64? {
        successValue(k.call(.mmap, address, length, prot, flags, UInt64.max, 0)).map { UInt64($0) }
    }

    var table: PageTable { k.space.pageTable }

    // MARK: cost of range operations

    func testUnmappingA32TiBReservationVisitsOnlyTopLevelEntries() {
        guard let a = mmap(32 * Self.tib, prot: protNone, flags: privateAnonymous | noReserve) else { return }
        let before = table.entriesVisited
        assertSuccess(k.call(.munmap, a, 32 * Self.tib), 0)
        // 32 TiB spans 64 or 65 PML4 slots; none of the reservation has tables below them.
        // (The rest of the process's tables lie outside the range.)
        XCTAssertLessThanOrEqual(table.entriesVisited - before, 65 + 3 * 512)
        XCTAssertNil(k.space.map.area(containing: a))
    }

    func testMprotectAndMadviseOfA32TiBReservationAreCheap() {
        guard let a = mmap(32 * Self.tib, prot: protNone, flags: privateAnonymous | noReserve) else { return }
        let before = table.entriesVisited
        assertSuccess(k.call(.mprotect, a, 32 * Self.tib, 3), 0)
        assertSuccess(k.call(.madvise, a, 32 * Self.tib, 4), 0)  // MADV_DONTNEED
        assertSuccess(k.call(.madvise, a, 32 * Self.tib, 8), 0)  // MADV_FREE
        assertSuccess(k.call(.mprotect, a, 32 * Self.tib, 0), 0)
        XCTAssertLessThanOrEqual(table.entriesVisited - before, 4 * (65 + 3 * 512))
    }

    func testSparsePagesCostTheirOwnTablesAndTheTablesAreFreed() {
        let freeAtStart = k.machine.freeFrames
        guard let a = mmap(4 * Self.tib, flags: privateAnonymous | noReserve | fixed, at: 4 * Self.tib) else { return }
        // Touch one page in each of four 1 TiB pieces: each needs a PDPT/PD/PT path of its own.
        for i in UInt64(0)..<4 {
            XCTAssertNil(k.space.copyOut(UserAddress(a + i * Self.tib + 12345), from: [UInt8(i + 1)]))
        }
        let used = freeAtStart - k.machine.freeFrames
        XCTAssertGreaterThanOrEqual(used, 4 + 4 * 2, "four pages plus their PD and PT at least")
        let before = table.entriesVisited
        assertSuccess(k.call(.munmap, a, 4 * Self.tib), 0)
        // Each touched page costs at most a PDPT, a PD and a PT read in full (3 × 512).
        XCTAssertLessThanOrEqual(table.entriesVisited - before, 10 + 4 * 3 * 512)
        XCTAssertEqual(k.machine.freeFrames, freeAtStart, "frames and the tables that served them freed")
    }

    func testUnmapKeepsTablesSharedWithNeighbours() {
        guard let a = mmap(4 * 4096, flags: privateAnonymous | fixed, at: 0x4000_0000) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 7, count: 4 * 4096)))
        assertSuccess(k.call(.munmap, a + 4096, 2 * 4096), 0)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [7])
        assertSuccess(k.space.copyIn(UserAddress(a + 3 * 4096), count: 1), [7])
        XCTAssertNil(table.translate(a + 4096))
        XCTAssertEqual(k.space.residentPages >= 2, true)
    }

    func testProtectRangeRewritesOnlyPresentLeaves() {
        guard let a = mmap(8 * 4096, flags: privateAnonymous | fixed, at: 0x4000_0000) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a + 2 * 4096), from: [1]))
        XCTAssertNil(k.space.copyOut(UserAddress(a + 5 * 4096), from: [2]))
        var seen: [UInt64] = []
        table.forEachPresentLeaf(in: AddressRange(start: a, end: a + 8 * 4096)) { va, _, _ in seen.append(va) }
        XCTAssertEqual(seen, [a + 2 * 4096, a + 5 * 4096])
        assertSuccess(k.call(.mprotect, a, 8 * 4096, 1), 0)
        XCTAssertEqual(table.translate(a + 2 * 4096)?.flags.contains(.writable), false)
        XCTAssertNil(table.translate(a), "absent pages stay absent")
        assertSuccess(k.call(.mprotect, a, 8 * 4096, 0), 0)  // PROT_NONE keeps the frames
        XCTAssertEqual(table.translate(a + 5 * 4096)?.flags.contains(.user), false)
        assertSuccess(k.call(.mprotect, a, 8 * 4096, 3), 0)
        assertSuccess(k.space.copyIn(UserAddress(a + 5 * 4096), count: 1), [2])
    }

    // MARK: vm.max_map_count

    func testAreaLimitGivesENOMEMForNewAreasAndSplitsButNotForWholeUnmaps() {
        var map = VirtualMemoryMap(layout: ProgramLoader.layout)
        map.maxAreaCount = 4
        let big: UInt64 = 0x4000_0000
        XCTAssertNotNil(try? map.map(at: big, length: 3 * 4096, protection: .readWrite, placement: .fixed).get())
        // Non-adjacent one-page areas (a gap each) so that none merge.
        for i in UInt64(1)...3 {
            XCTAssertNotNil(try? map.map(at: big + i * 0x10000, length: 4096, protection: .readWrite,
                                         placement: .fixed).get())
        }
        XCTAssertEqual(map.areas.count, 4)
        assertFailure(map.map(at: big + 0x80000, length: 4096, protection: .readWrite, placement: .fixed), .ENOMEM)
        // Splitting needs room: mprotect of the middle would make three areas of one.
        assertFailure(map.protect(start: big + 4096, length: 4096, protection: .read), .ENOMEM)
        assertFailure(map.unmap(start: big + 4096, length: 4096), .ENOMEM)
        // Trimming an end or removing whole areas adds none.
        assertSuccess(map.protect(start: big, length: 4096, protection: .readWrite).map { $0.count }, 0)
        assertSuccess(map.unmap(start: big + 2 * 4096, length: 4096).map { $0.count }, 1)
        assertSuccess(map.unmap(start: big, length: 2 * 4096).map { $0.count }, 1)
        XCTAssertEqual(map.areas.count, 3)
    }

    // MARK: madvise(2)

    func testMadviseDontNeedAndFreeZeroPrivateAnonymousPagesAndFreeFrames() {
        for advice: UInt64 in [4, 8] {
            guard let a = mmap(3 * 4096) else { return }
            XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 5, count: 3 * 4096)))
            let before = k.machine.freeFrames
            assertSuccess(k.call(.madvise, a + 4096, 2 * 4096, advice), 0)
            XCTAssertEqual(k.machine.freeFrames - before, 2, "advice \(advice) frees the two frames")
            assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [5])
            assertSuccess(k.space.copyIn(UserAddress(a + 4096), count: 4096), [UInt8](repeating: 0, count: 4096))
            assertSuccess(k.call(.munmap, a, 3 * 4096), 0)
        }
    }

    func testMadviseHintsSucceedWithoutEffect() {
        guard let a = mmap(2 * 4096) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [9, 9]))
        // NORMAL RANDOM SEQUENTIAL WILLNEED DONTFORK DOFORK MERGEABLE UNMERGEABLE HUGEPAGE
        // NOHUGEPAGE DONTDUMP DODUMP WIPEONFORK KEEPONFORK COLD PAGEOUT COLLAPSE
        for advice: UInt64 in [0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 25] {
            assertSuccess(k.call(.madvise, a, 2 * 4096, advice), 0)
            assertSuccess(k.space.copyIn(UserAddress(a), count: 2), [9, 9])
        }
    }

    func testMadviseErrorsFollowLinux() {
        guard let a = mmap(2 * 4096, flags: privateAnonymous | fixed, at: 0x4000_0000) else { return }
        for advice: UInt64 in [5, 6, 7, 26, 99, 100, 101, 102, 103, 1000, UInt64.max] {
            assertFailure(k.call(.madvise, a, 4096, advice), .EINVAL)  // unknown or configured out
        }
        assertFailure(k.call(.madvise, a + 1, 4096, 4), .EINVAL)       // unaligned start
        assertFailure(k.call(.madvise, a, UInt64.max, 4), .EINVAL)      // length wraps
        assertSuccess(k.call(.madvise, a, 0, 4), 0)                     // empty range
        assertFailure(k.call(.madvise, a, 0, 999), .EINVAL)          // advice is checked first
        assertFailure(k.call(.madvise, a, 3 * 4096, 0), .ENOMEM)        // runs past the mapping
        assertFailure(k.call(.madvise, 0x7000_0000, 4096, 4), .ENOMEM)  // nothing mapped
        assertFailure(k.call(.madvise, a, 4096, 9), .EINVAL)            // MADV_REMOVE: private
    }

    func testMadviseAppliesToTheMappedPartsBeforeReportingAHole() {
        guard let a = mmap(4096, flags: privateAnonymous | fixed, at: 0x4000_0000),
              mmap(4096, flags: privateAnonymous | fixed, at: 0x4000_2000) != nil else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [1]))
        XCTAssertNil(k.space.copyOut(UserAddress(a + 0x2000), from: [2]))
        assertFailure(k.call(.madvise, a, 3 * 4096, 4), .ENOMEM)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [0])
        assertSuccess(k.space.copyIn(UserAddress(a + 0x2000), count: 1), [0])
    }

    func testMadviseSharedAnonymousKeepsDataOnDontNeedAndRefusesFree() {
        guard let a = mmap(4096, flags: sharedAnonymous) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [42]))
        assertSuccess(k.call(.madvise, a, 4096, 4), 0)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [42])
        assertFailure(k.call(.madvise, a, 4096, 8), .EINVAL)   // MADV_FREE needs private anonymous
        assertFailure(k.call(.madvise, a, 4096, 18), .EINVAL)  // MADV_WIPEONFORK too
        assertSuccess(k.call(.madvise, a, 4096, 9), 0)         // MADV_REMOVE punches a hole
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [0])
    }

    func testMadvisePopulateFaultsPagesInOrFails() {
        guard let a = mmap(4 * 4096) else { return }
        let before = k.space.residentPages
        assertSuccess(k.call(.madvise, a, 4 * 4096, 23), 0)  // MADV_POPULATE_WRITE
        XCTAssertEqual(k.space.residentPages - before, 4)
        XCTAssertEqual(table.translate(a + 3 * 4096)?.flags.contains(.writable), true)
        guard let r = mmap(4096, prot: 1) else { return }
        assertSuccess(k.call(.madvise, r, 4096, 22), 0)       // MADV_POPULATE_READ
        assertFailure(k.call(.madvise, r, 4096, 23), .EFAULT) // write to read-only
        guard let n = mmap(4096, prot: protNone) else { return }
        assertFailure(k.call(.madvise, n, 4096, 22), .EFAULT)
    }

    // MARK: mremap(2)

    func testMremapShrinkFreesTheTail() {
        guard let a = mmap(4 * 4096) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 1, count: 4 * 4096)))
        let before = k.machine.freeFrames
        assertSuccess(k.call(.mremap, a, 4 * 4096, 4096, 0), Int(a))
        XCTAssertEqual(k.machine.freeFrames - before, 3)
        assertFailure(k.space.copyIn(UserAddress(a + 4096), count: 1), .EFAULT)
        assertSuccess(k.space.copyIn(UserAddress(a), count: 1), [1])
    }

    func testMremapGrowsInPlaceOrMovesWithMayMove() {
        guard let a = mmap(4096, flags: privateAnonymous | fixed, at: 0x4000_0000),
              mmap(4096, prot: 1, flags: privateAnonymous | fixed, at: 0x4000_1000) != nil else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 6, count: 4096)))
        assertFailure(k.call(.mremap, a, 4096, 2 * 4096, 0), .ENOMEM)  // blocked, may not move
        guard let moved = successValue(k.call(.mremap, a, 4096, 2 * 4096, 1)).map({ UInt64($0) }) else { return }
        XCTAssertNotEqual(moved, a)
        assertSuccess(k.space.copyIn(UserAddress(moved), count: 4096), [UInt8](repeating: 6, count: 4096))
        assertSuccess(k.space.copyIn(UserAddress(moved + 4096), count: 1), [0])
        assertFailure(k.space.copyIn(UserAddress(a), count: 1), .EFAULT)
        // Free above: grows in place.
        guard let g = mmap(4096, flags: privateAnonymous | fixed, at: 0x6000_0000) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(g), from: [4]))
        assertSuccess(k.call(.mremap, g, 4096, 3 * 4096, 0), Int(g))
        XCTAssertNil(k.space.copyOut(UserAddress(g + 2 * 4096), from: [1]))
        assertSuccess(k.space.copyIn(UserAddress(g), count: 1), [4])
    }

    func testMremapFixedReplacesTheTarget() {
        guard let a = mmap(2 * 4096, flags: privateAnonymous | fixed, at: 0x4000_0000),
              let t = mmap(4096, flags: privateAnonymous | fixed, at: 0x5000_0000) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [UInt8](repeating: 3, count: 2 * 4096)))
        XCTAssertNil(k.space.copyOut(UserAddress(t), from: [9]))
        assertSuccess(k.call(.mremap, a, 2 * 4096, 2 * 4096, 3, t), Int(t))
        assertSuccess(k.space.copyIn(UserAddress(t), count: 2), [3, 3])
        assertSuccess(k.space.copyIn(UserAddress(t + 4096), count: 1), [3])
        assertFailure(k.space.copyIn(UserAddress(a), count: 1), .EFAULT)
        assertFailure(k.call(.mremap, t, 4096, 4096, 2, a), .EINVAL)          // FIXED without MAYMOVE
        assertFailure(k.call(.mremap, t, 4096, 4096, 3, t), .EINVAL)  // target overlaps the source
    }

    func testMremapDontUnmapLeavesAnEmptyOldMapping() {
        guard let a = mmap(2 * 4096) else { return }
        XCTAssertNil(k.space.copyOut(UserAddress(a), from: [8, 8]))
        assertFailure(k.call(.mremap, a, 2 * 4096, 4 * 4096, 5), .EINVAL)  // lengths differ
        assertFailure(k.call(.mremap, a, 2 * 4096, 2 * 4096, 4), .EINVAL)  // without MAYMOVE
        guard let moved = successValue(k.call(.mremap, a, 2 * 4096, 2 * 4096, 5)).map({ UInt64($0) }) else { return }
        XCTAssertNotEqual(moved, a)
        assertSuccess(k.space.copyIn(UserAddress(moved), count: 2), [8, 8])
        assertSuccess(k.space.copyIn(UserAddress(a), count: 2), [0, 0])
        XCTAssertNotNil(k.space.map.area(containing: a), "the old range stays mapped")
    }

    func testMremapArgumentErrors() {
        guard let a = mmap(2 * 4096, flags: privateAnonymous | fixed, at: 0x4000_0000) else { return }
        assertFailure(k.call(.mremap, a, 4096, 4096, 8), .EINVAL)            // unknown flag
        assertFailure(k.call(.mremap, a + 1, 4096, 4096, 0), .EINVAL)        // unaligned
        assertFailure(k.call(.mremap, a, 4096, 0, 0), .EINVAL)               // new length 0
        assertFailure(k.call(.mremap, 0x7000_0000, 4096, 8192, 1), .EFAULT)  // nothing there
        assertFailure(k.call(.mremap, a, 4 * 4096, 8 * 4096, 1), .EFAULT)    // past the area
        assertFailure(k.call(.mremap, a, 4096, 1 << 46, 1), .ENOMEM)         // more than RAM
    }

    // MARK: mlock(2)

    func testMlockPopulatesAndChecksTheRange() {
        guard let a = mmap(4 * 4096, flags: privateAnonymous | fixed, at: 0x4000_0000) else { return }
        let before = k.space.residentPages
        assertSuccess(k.call(.mlock, a + 100, 2 * 4096), 0)  // rounds out to three pages
        XCTAssertEqual(k.space.residentPages - before, 3)
        assertSuccess(k.call(.mlock2, a, 4 * 4096, 1), 0)   // MLOCK_ONFAULT: nothing now
        XCTAssertEqual(k.space.residentPages - before, 3)
        assertFailure(k.call(.mlock2, a, 4096, 2), .EINVAL)
        assertFailure(k.call(.mlock, a, 5 * 4096), .ENOMEM)  // runs past the mapping
        assertFailure(k.call(.munlock, a, 5 * 4096), .ENOMEM)
        assertSuccess(k.call(.munlock, a, 4 * 4096), 0)
        assertSuccess(k.call(.mlock, a, 0), 0)
        assertFailure(k.call(.mlock, a, UInt64.max), .EINVAL)
        guard let n = mmap(4096, prot: protNone) else { return }
        assertSuccess(k.call(.mlock, n, 4096), 0)  // PROT_NONE pages are skipped, as Linux does
    }

    func testMlockallFlags() {
        for bad: UInt64 in [0, 4, 8, 0x10] { assertFailure(k.call(.mlockall, bad), .EINVAL) }
        guard let a = mmap(2 * 4096) else { return }
        assertSuccess(k.call(.mlockall, 2), 0)  // MCL_FUTURE
        XCTAssertNil(table.translate(a))
        assertSuccess(k.call(.mlockall, 1), 0)  // MCL_CURRENT populates
        XCTAssertNotNil(table.translate(a + 4096))
        assertSuccess(k.call(.munlockall), 0)
    }
}
