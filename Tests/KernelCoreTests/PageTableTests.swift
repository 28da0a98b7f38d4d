// PageTableTests — the 4-level page-table logic (Sources/KernelCore/Paging/PageTable.swift)
// run against FakePhysicalMemory (Fakes.swift): map, translate, unmap, protect, huge pages,
// the shared kernel window and releasing a user half.
@testable import KernelCore
import XCTest

final class PageTableTests: XCTestCase {
    var memory: FakePhysicalMemory!
    var pool: FramePool!

    override func setUp() {
        memory = FakePhysicalMemory(bytes: 8 << 20)
        pool = FramePool(PhysicalFrameAllocator(usable: [AddressRange(start: 0, end: 8 << 20)], reserved: []))
    }

    func makeTable(noExecute: Bool = true) -> PageTable {
        let root = pool.allocateFrame()!
        memory.fill(root, count: 4096, value: 0)
        return PageTable(root: root, memory: memory, frames: pool, noExecuteSupported: noExecute)
    }

    /// The raw entry at `level` (3 = PML4 ... 0 = PT) on the walk to `va`.
    func rawEntry(_ table: PageTable, _ va: UInt64, level: Int) -> UInt64 {
        var t = table.root
        var l = 3
        while true {
            let e = memory.load64(t + ((va >> (12 + 9 * UInt64(l))) & 0x1FF) * 8)
            if l == level { return e }
            t = e & 0x000F_FFFF_FFFF_F000
            l -= 1
        }
    }

    func testMapTranslateKeepsOffsetAndFlags() {
        let t = makeTable()
        let va: UInt64 = 0x40_1000
        XCTAssertTrue(t.map(va, to: 0x30_0000, flags: [.user, .writable]))
        let tr = t.translate(va + 0x123)
        XCTAssertEqual(tr?.physical, 0x30_0123)
        XCTAssertTrue(tr?.flags.contains([.present, .user, .writable]) ?? false)
        XCTAssertFalse(tr?.flags.contains(.noExecute) ?? true)
        XCTAssertNil(t.translate(va + 4096), "the next page is not mapped")
        XCTAssertNil(t.translate(va - 4096))
        XCTAssertTrue(memory.invalidations.contains(va), "map must invalidate the TLB entry")
    }

    func testMapCreatesThreeIntermediateTablesOnceThenReusesThem() {
        let t = makeTable()
        let before = pool.allocator.freeFrames
        XCTAssertTrue(t.map(0x40_0000, to: 0x20_0000, flags: [.user]))
        XCTAssertEqual(before - pool.allocator.freeFrames, 3, "PDPT, PD and PT")
        XCTAssertTrue(t.map(0x40_1000, to: 0x20_1000, flags: [.user]))
        XCTAssertEqual(before - pool.allocator.freeFrames, 3, "same PT: no new tables")
        XCTAssertTrue(t.map(0x60_0000, to: 0x20_2000, flags: [.user]))
        XCTAssertEqual(before - pool.allocator.freeFrames, 4, "another 2 MiB region: one new PT")
        XCTAssertEqual(t.translate(0x60_0008)?.physical, 0x20_2008)
    }

    func testUnmapReturnsFrameAndClearsTranslation() {
        let t = makeTable()
        t.map(0x1234_5000, to: 0x10_7000, flags: [.user, .writable])
        XCTAssertEqual(t.unmap(0x1234_5000), 0x10_7000)
        XCTAssertNil(t.translate(0x1234_5000))
        XCTAssertNil(t.unmap(0x1234_5000), "second unmap finds nothing")
        XCTAssertNil(t.unmap(0x7000_0000_0000), "no tables on the way")
        XCTAssertEqual(memory.invalidations.filter { $0 == 0x1234_5000 }.count, 2, "map + unmap")
    }

    func testProtectChangesFlagsButKeepsFrame() {
        let t = makeTable()
        t.map(0x50_0000, to: 0x11_0000, flags: [.user, .writable])
        XCTAssertTrue(t.protect(0x50_0000, flags: [.user, .noExecute]))
        let tr = t.translate(0x50_0000)
        XCTAssertEqual(tr?.physical, 0x11_0000)
        XCTAssertFalse(tr?.flags.contains(.writable) ?? true)
        XCTAssertTrue(tr?.flags.contains(.noExecute) ?? false)
        XCTAssertTrue(tr?.flags.contains(.present) ?? false, "protect keeps the page present")
        XCTAssertFalse(t.protect(0x50_1000, flags: [.user]), "nothing mapped there")
    }

    func testNoExecuteDroppedWhenCPUDoesNotSupportIt() {
        let t = makeTable(noExecute: false)
        t.map(0x50_0000, to: 0x11_0000, flags: [.user, .noExecute])
        XCTAssertEqual(rawEntry(t, 0x50_0000, level: 0) & PageFlags.noExecute.rawValue, 0,
                       "bit 63 is reserved without EFER.NXE: setting it would fault")
    }

    func testIntermediateEntriesAreUserOutsideTheKernelWindow() {
        let t = makeTable()
        t.map(0x40_0000, to: 0x20_0000, flags: [.user])
        for level in 1...3 {
            XCTAssertNotEqual(rawEntry(t, 0x40_0000, level: level) & PageFlags.user.rawValue, 0, "level \(level)")
        }
    }

    func testKernelWindowIntermediateEntriesHaveNoUserBit() {
        let t = makeTable()
        let va = kernelWindowBase + 0x20_3000
        t.map(va, to: 0x20_3000, flags: [.writable])
        for level in 1...3 {
            let e = rawEntry(t, va, level: level)
            XCTAssertNotEqual(e & PageFlags.present.rawValue, 0)
            XCTAssertEqual(e & PageFlags.user.rawValue, 0, "kernel window level \(level) must not be user")
        }
        XCTAssertFalse(t.translate(va)?.flags.contains(.user) ?? true)
    }

    func testEffectiveUserBitIsTheAndOfAllLevels() {
        let t = makeTable()
        // A leaf with .user below kernel-window tables is still not user-accessible.
        let va = kernelWindowBase + 0x5000
        t.map(va, to: 0x5000, flags: [.user, .writable])
        XCTAssertFalse(t.translate(va)?.flags.contains(.user) ?? true)
        XCTAssertTrue(t.translate(va)?.flags.contains(.writable) ?? false)
    }

    func testMapLargeTranslatesWithin2MiB() {
        let t = makeTable()
        let va = kernelWindowBase + 0x40_0000
        XCTAssertTrue(t.mapLarge(va, to: 0x60_0000, flags: [.writable, .global]))
        XCTAssertEqual(t.translate(va)?.physical, 0x60_0000)
        XCTAssertEqual(t.translate(va + 0x1F_FFFF)?.physical, 0x7F_FFFF)
        XCTAssertTrue(t.translate(va + 0x1000)?.flags.contains(.huge) ?? false)
        XCTAssertNil(t.translate(va + 0x20_0000), "the next 2 MiB is not mapped")
        XCTAssertNil(t.unmap(va), "a 4 KiB unmap cannot walk through a huge page")
    }

    func testTranslateRejectsNonCanonical() {
        let t = makeTable()
        XCTAssertFalse(PageTable.isCanonical(0x0000_8000_0000_0000))
        XCTAssertTrue(PageTable.isCanonical(0xFFFF_8000_0000_0000))
        XCTAssertTrue(PageTable.isCanonical(0x0000_7FFF_FFFF_FFFF))
        XCTAssertNil(t.translate(0x0000_8000_0000_0000))
    }

    func testMapFailsCleanlyWhenNoFrameForTables() {
        let t = makeTable()
        while pool.allocateFrame() != nil {}
        XCTAssertFalse(t.map(0x40_0000, to: 0x20_0000, flags: [.user]))
        XCTAssertNil(t.translate(0x40_0000))
    }

    func testMakeUserSpaceSharesOnlyTheKernelWindowSlot() {
        let kernel = makeTable()
        kernel.mapLarge(kernelWindowBase, to: 0, flags: [.writable])
        kernel.map(0x40_0000, to: 0x20_0000, flags: [.user])           // slot 0
        kernel.map(0xFFFF_8000_0000_0000, to: 0x30_0000, flags: [.writable]) // slot 256
        let user = PageTable.makeUserSpace(sharingKernelHalfOf: kernel)!
        XCTAssertNotEqual(user.root, kernel.root)
        for slot in UInt64(0)..<512 {
            let value = memory.load64(user.root + slot * 8)
            if slot == kernelWindowSlot {
                XCTAssertEqual(value, memory.load64(kernel.root + slot * 8))
                XCTAssertNotEqual(value, 0)
            } else {
                XCTAssertEqual(value, 0, "slot \(slot) must start empty")
            }
        }
        XCTAssertEqual(user.translate(kernelWindowBase + 0x1234)?.physical, 0x1234)
        XCTAssertNil(user.translate(0x40_0000))
        // A user mapping in the new space is invisible to the kernel table.
        user.map(0x40_0000, to: 0x22_0000, flags: [.user])
        XCTAssertEqual(kernel.translate(0x40_0000)?.physical, 0x20_0000)
    }

    func testReleaseUserHalfFreesEveryFrameAndKeepsKernelWindow() {
        let kernel = makeTable()
        kernel.mapLarge(kernelWindowBase, to: 0, flags: [.writable])
        let user = PageTable.makeUserSpace(sharingKernelHalfOf: kernel)!
        let before = pool.allocator.freeFrames
        let addresses: [UInt64] = [0x40_0000, 0x40_1000, 0x7F_0000, 0x1_0000_0000, ProgramLoader.stackTop - 0x1000,
                                   0x20_0000_0000]
        for va in addresses {
            let frame = pool.allocateFrame()!
            XCTAssertTrue(user.map(va, to: frame, flags: [.user, .writable]))
        }
        XCTAssertLessThan(pool.allocator.freeFrames, before - addresses.count)
        user.releaseUserHalf(freeLeafFrames: true)
        XCTAssertEqual(pool.allocator.freeFrames, before, "leaf frames and all user tables come back")
        for va in addresses { XCTAssertNil(user.translate(va)) }
        XCTAssertEqual(user.translate(kernelWindowBase + 8)?.physical, 8, "kernel window untouched")
        XCTAssertEqual(kernel.translate(kernelWindowBase + 8)?.physical, 8)
    }

    func testReleaseUserHalfWithoutLeafFramesFreesOnlyTables() {
        let kernel = makeTable()
        let user = PageTable.makeUserSpace(sharingKernelHalfOf: kernel)!
        let leaf = pool.allocateFrame()!  // e.g. a frame the caller still owns
        let before = pool.allocator.freeFrames
        user.map(0x40_0000, to: leaf, flags: [.user])
        XCTAssertEqual(before - pool.allocator.freeFrames, 3)
        user.releaseUserHalf(freeLeafFrames: false)
        XCTAssertEqual(pool.allocator.freeFrames, before)
        XCTAssertEqual(pool.allocator.isAllocated(leaf), true, "the leaf frame stays with its owner")
    }
}
