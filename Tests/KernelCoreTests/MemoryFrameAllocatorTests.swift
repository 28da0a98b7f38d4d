// Host tests for PhysicalFrameAllocator (Sources/KernelCore/Memory/PhysicalFrameAllocator.swift).
// The VMA tests are in MemoryTests.swift and MemoryModelTests.swift.

import XCTest
@testable import KernelCore

final class MemoryFrameAllocatorTests: XCTestCase {
    private let page: UInt64 = 4096

    /// A PC-like map: low RAM below the EBDA, a hole, RAM from 1 MiB, a hole, more RAM; the
    /// kernel image at 1 MiB with an unaligned end.
    private func pcAllocator() -> PhysicalFrameAllocator {
        PhysicalFrameAllocator(
            usable: [AddressRange(start: 0, end: 0x9_f000),
                     AddressRange(start: 0x10_0000, end: 0x80_0000),
                     AddressRange(start: 0x100_0000, end: 0x110_0000)],
            reserved: [AddressRange(start: 0x10_0000, end: 0x18_0800)])
    }

    func testCountsExcludeLowMemoryReservedRangesAndHoles() {
        let allocator = pcAllocator()
        let expected = Int((0x80_0000 - 0x18_1000) / page) + Int(0x10_0000 / page)
        XCTAssertEqual(allocator.totalFrames, expected)
        XCTAssertEqual(allocator.freeFrames, expected)
        XCTAssertEqual(allocator.totalBytes, UInt64(expected) * page)
        XCTAssertEqual(allocator.managedRanges, [AddressRange(start: 0x18_1000, end: 0x80_0000),
                                                 AddressRange(start: 0x100_0000, end: 0x110_0000)])
    }

    func testAllocatesEveryUsableFrameOnceThenRunsOut() {
        var allocator = pcAllocator()
        var seen: [UInt64] = []
        while let frame = allocator.allocateFrame() {
            XCTAssertEqual(frame % page, 0)
            XCTAssertTrue(allocator.isManaged(frame), "frame \(frame) outside usable memory")
            XCTAssertFalse(frame < 0x18_1000, "frame \(frame) in low memory or kernel image")
            XCTAssertFalse(frame >= 0x80_0000 && frame < 0x100_0000, "frame \(frame) in a hole")
            seen.append(frame)
        }
        XCTAssertEqual(seen.count, allocator.totalFrames)
        XCTAssertEqual(Set(seen).count, seen.count, "a frame was handed out twice")
        XCTAssertEqual(seen, seen.sorted(), "single frames come lowest first")
        XCTAssertEqual(allocator.freeFrames, 0)
        XCTAssertNil(allocator.allocateFrame())
        XCTAssertTrue(allocator.free(frameAt: seen[100]))
        XCTAssertEqual(allocator.allocateFrame(), seen[100])
    }

    func testFreedFrameIsReusedBeforeHigherOnes() {
        var allocator = pcAllocator()
        let a = allocator.allocateFrame()!
        let b = allocator.allocateFrame()!
        XCTAssertEqual(b, a + page)
        XCTAssertTrue(allocator.free(frameAt: a))
        XCTAssertEqual(allocator.allocateFrame(), a)
        XCTAssertEqual(allocator.allocateFrame(), b + page)
    }

    func testDoubleFreeReservedFrameHoleAndUnalignedAreRejected() {
        var allocator = pcAllocator()
        let frame = allocator.allocateFrame()!
        let free = allocator.freeFrames
        XCTAssertTrue(allocator.free(frameAt: frame))
        XCTAssertFalse(allocator.free(frameAt: frame), "double free")
        XCTAssertFalse(allocator.free(frameAt: 0x10_0000), "kernel image frame")
        XCTAssertFalse(allocator.free(frameAt: 0x1000), "low-memory frame")
        XCTAssertFalse(allocator.free(frameAt: 0x90_0000), "hole between ranges")
        XCTAssertFalse(allocator.free(frameAt: 0x200_0000), "above all memory")
        XCTAssertFalse(allocator.free(frameAt: frame + 8), "unaligned")
        XCTAssertEqual(allocator.freeFrames, free + 1)
        XCTAssertNil(allocator.isAllocated(0x10_0000))
        XCTAssertEqual(allocator.isAllocated(frame), false)
    }

    func testContiguousAllocationIsAlignedFirstFitAndRespectsLimit() {
        var allocator = pcAllocator()
        // Fragment the start: allocate 20 frames, free every other one.
        var singles: [UInt64] = []
        for _ in 0..<20 { singles.append(allocator.allocateFrame()!) }
        for (i, frame) in singles.enumerated() where i % 2 == 0 { XCTAssertTrue(allocator.free(frameAt: frame)) }
        let before = allocator.freeFrames
        let block = allocator.allocateContiguous(frameCount: 8, alignment: 0x8000)!
        XCTAssertEqual(block % 0x8000, 0)
        XCTAssertGreaterThanOrEqual(block, singles.last! + page, "must skip the fragmented frames")
        XCTAssertLessThan(block, singles.last! + 0x9000, "first fit takes the first aligned run")
        for i in 0..<8 { XCTAssertEqual(allocator.isAllocated(block + UInt64(i) * page), true) }
        XCTAssertEqual(allocator.freeFrames, before - 8)
        // A run that only fits in the upper range, with a limit below it, fails.
        XCTAssertNil(allocator.allocateContiguous(frameCount: 256, alignment: 0x100_0000, below: 0x80_0000))
        let high = allocator.allocateContiguous(frameCount: 256, alignment: 0x100_0000)
        XCTAssertEqual(high, 0x100_0000)
        XCTAssertNil(allocator.allocateContiguous(frameCount: 2, alignment: 3 * page), "bad alignment")
        XCTAssertNil(allocator.allocateContiguous(frameCount: allocator.freeFrames + 1))
    }

    func testContiguousFreeIsAllOrNothing() {
        var allocator = pcAllocator()
        let block = allocator.allocateContiguous(frameCount: 4)!
        XCTAssertTrue(allocator.free(frameAt: block + 2 * page))
        let free = allocator.freeFrames
        XCTAssertFalse(allocator.free(contiguousAt: block, frameCount: 4), "third frame already free")
        XCTAssertEqual(allocator.freeFrames, free)
        XCTAssertEqual(allocator.isAllocated(block), true)
        XCTAssertTrue(allocator.free(contiguousAt: block, frameCount: 2))
        XCTAssertTrue(allocator.free(frameAt: block + 3 * page))
        XCTAssertEqual(allocator.freeFrames, allocator.totalFrames)
    }

    func testSixtyFourGiBMachine() {
        let top: UInt64 = 64 << 30
        var allocator = PhysicalFrameAllocator(usable: [AddressRange(start: 0, end: top)],
                                               reserved: [AddressRange(start: 0x10_0000, end: 0x40_0000)])
        XCTAssertEqual(allocator.totalFrames, Int(top / page) - 0x400)
        let first = allocator.allocateFrame()
        XCTAssertEqual(first, 0x40_0000)
        let huge = allocator.allocateContiguous(frameCount: 512, alignment: 2 << 20)!
        XCTAssertEqual(huge, 0x60_0000)
        let last = allocator.allocateContiguous(frameCount: 1, alignment: 32 << 30, below: top)
        XCTAssertEqual(last, 32 << 30)
        XCTAssertEqual(allocator.freeFrames, allocator.totalFrames - 514)
        XCTAssertTrue(allocator.free(contiguousAt: huge, frameCount: 512))
    }

    func testEmptyMemoryMap() {
        var allocator = PhysicalFrameAllocator(usable: [AddressRange(start: 0, end: 0x8_0000)], reserved: [])
        XCTAssertEqual(allocator.totalFrames, 0)
        XCTAssertNil(allocator.allocateFrame())
        XCTAssertNil(allocator.allocateContiguous(frameCount: 1))
        XCTAssertFalse(allocator.free(frameAt: 0x1000))
    }

    /// Thousands of random allocations and frees against a per-frame model.
    func testRandomOperationsAgreeWithModel() {
        let usable = [AddressRange(start: 0x10_0000, end: 0x14_0000),     // 64 frames
                      AddressRange(start: 0x14_0000, end: 0x15_3000),     // touching: joins
                      AddressRange(start: 0x20_0000, end: 0x22_1000)]
        let reserved = [AddressRange(start: 0x12_0000, end: 0x12_5000)]
        var allocator = PhysicalFrameAllocator(usable: usable, reserved: reserved)
        let base: UInt64 = 0x10_0000
        let count = Int((0x22_1000 - base) / page)
        // model: nil = not managed, false = free, true = allocated
        var model = [Bool?](repeating: nil, count: count)
        for i in 0..<count {
            let address = base + UInt64(i) * page
            let usableHere = usable.contains { $0.contains(address) }
            let reservedHere = reserved.contains { $0.contains(address) }
            if usableHere && !reservedHere { model[i] = false }
        }
        var rng = MemoryTestRandom(seed: 0x5eed_f4a3e)
        for step in 0..<20_000 {
            switch rng.next() % 4 {
            case 0, 1:
                let got = allocator.allocateFrame()
                if let lowest = model.firstIndex(where: { $0 == false }) {
                    XCTAssertEqual(got, base + UInt64(lowest) * page, "step \(step)")
                    model[lowest] = true
                } else {
                    XCTAssertNil(got, "step \(step)")
                }
            case 2:
                let i = Int(rng.next() % UInt64(count))
                let ok = allocator.free(frameAt: base + UInt64(i) * page)
                XCTAssertEqual(ok, model[i] == true, "step \(step)")
                if ok { model[i] = false }
            default:
                let n = Int(rng.next() % 6) + 1
                let alignmentPages = UInt64(1) << (rng.next() % 3)
                let got = allocator.allocateContiguous(frameCount: n, alignment: alignmentPages * page)
                var expected: Int? = nil
                var i = 0
                while i + n <= count {
                    if (base / page + UInt64(i)) % alignmentPages == 0
                        && (i..<(i + n)).allSatisfy({ model[$0] == false }) { expected = i; break }
                    i += 1
                }
                XCTAssertEqual(got, expected.map { base + UInt64($0) * page }, "step \(step)")
                if let e = expected { for j in e..<(e + n) { model[j] = true } }
            }
            XCTAssertEqual(allocator.freeFrames, model.filter { $0 == false }.count, "step \(step)")
        }
    }
}

/// Deterministic generator for the randomized tests (SplitMix64, Steele et al. 2014).
struct MemoryTestRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    // MARK: FramePool's reserve for the kernel heap

    func testSingleFramesStopAtTheHeapReserveWhichContiguousGrowthCanStillUse() {
        let pool = FramePool(PhysicalFrameAllocator(usable: [AddressRange(start: 0x10_0000, end: 0x10_0000 + 8 << 20)],
                                                    reserved: []))
        XCTAssertEqual(pool.reservedFrames, 256, "8 MiB: the 1 MiB minimum")
        var taken = 0
        while pool.allocateFrame() != nil { taken += 1 }
        XCTAssertEqual(taken, 2048 - 256, "guest pages and page tables leave the reserve alone")
        XCTAssertNotNil(pool.allocator.allocateContiguous(frameCount: 256), "the heap grows into it")
        XCTAssertEqual(FramePool.defaultReserve(totalFrames: 65536), 2048, "256 MiB: 1/32")
        XCTAssertEqual(FramePool.defaultReserve(totalFrames: 1 << 24), 8192, "64 GiB: capped at 32 MiB")
        XCTAssertEqual(FramePool.defaultReserve(totalFrames: 100), 50, "tiny RAM: at most half")
    }
}
