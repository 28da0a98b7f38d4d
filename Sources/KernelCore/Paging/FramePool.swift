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

    public func allocateFrame() -> UInt64? {
        guard allocator.freeFrames > reservedFrames else { return nil }
        return allocator.allocateFrame()
    }
    public func freeFrame(_ physical: UInt64) { _ = allocator.free(frameAt: physical) }
    public var totalBytes: UInt64 { allocator.totalBytes }
    public var freeBytes: UInt64 { allocator.freeBytes }
}
