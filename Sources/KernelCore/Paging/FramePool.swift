// FramePool — the physical frame allocator shared by the kernel as a FrameSource (KernelCore).
//
// Wraps PhysicalFrameAllocator (Sources/KernelCore/Memory/) in a class so page tables,
// address spaces and the heap-growth path all draw from one pool.
//
// Single frames (guest pages, page tables, the loader) stop short of a reserve kept for the
// kernel heap, which grows through `allocator.allocateContiguous` directly
// (Sources/Kernel/HeapGrowth.swift). Without it a guest that touches all of RAM leaves the
// heap nothing to grow into, and the next kernel allocation panics ("kernel heap
// exhausted") instead of the guest being killed for running out of memory. Linux keeps a
// similar reserve below its allocation watermarks (vm.min_free_kbytes).
//
// Frames may have several owners after fork (copy-on-write, Process/CopyOnWrite.swift):
// `extraReferences` counts the owners beyond the first, per frame, like Linux's page
// _refcount / _mapcount (include/linux/mm.h). freeFrame drops one owner and frees the frame
// with the last, so munmap, exit and the copy-on-write fault all go through one rule.

public final class FramePool: FrameSource {
    public var allocator: PhysicalFrameAllocator
    /// Frames that allocateFrame leaves free for the kernel heap.
    public var reservedFrames: Int

    public init(_ allocator: PhysicalFrameAllocator) {
        self.allocator = allocator
        reservedFrames = FramePool.defaultReserve(totalFrames: allocator.totalFrames)
    }

    /// 1/32 of RAM, at least 1 MiB and at most 32 MiB (never more than half of RAM).
    public static func defaultReserve(totalFrames: Int) -> Int {
        min(max(totalFrames / 32, 256), 8192, totalFrames / 2)
    }

    /// Owners beyond the first, indexed by frame number from the allocator's base; empty
    /// until the first fork (one entry per frame of the allocator's span after it).
    var extraReferences: [UInt16] = []
    /// Frames that currently have more than one owner (for tests and statistics).
    public private(set) var sharedFrames = 0

    public func allocateFrame() -> UInt64? {
        guard allocator.freeFrames > reservedFrames else { return nil }
        return allocator.allocateFrame()
    }

    /// The index into extraReferences, or nil for a frame outside the pool (device memory
    /// such as a mapped framebuffer: never counted, never freed).
    func referenceIndex(_ physical: UInt64) -> Int? {
        guard physical >= allocator.baseAddress else { return nil }
        let index = Int((physical - allocator.baseAddress) >> 12)
        return index < allocator.spanFrames ? index : nil
    }

    public func freeFrame(_ physical: UInt64) {
        if let i = referenceIndex(physical), i < extraReferences.count, extraReferences[i] > 0 {
            extraReferences[i] -= 1
            if extraReferences[i] == 0 { sharedFrames -= 1 }
            return
        }
        _ = allocator.free(frameAt: physical)
    }

    public func addReference(_ physical: UInt64) {
        guard let i = referenceIndex(physical) else { return }
        if extraReferences.isEmpty { extraReferences = [UInt16](repeating: 0, count: allocator.spanFrames) }
        if extraReferences[i] == 0 { sharedFrames += 1 }
        // The process cap (KernelState.processLimit) keeps owners far below UInt16's range.
        extraReferences[i] &+= 1
    }

    public func references(_ physical: UInt64) -> Int {
        guard let i = referenceIndex(physical), i < extraReferences.count else { return 1 }
        return Int(extraReferences[i]) + 1
    }
    public var totalBytes: UInt64 { allocator.totalBytes }
    public var freeBytes: UInt64 { allocator.freeBytes }
}
