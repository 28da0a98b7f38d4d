// FramePool — the physical frame allocator shared by the kernel as a FrameSource (KernelCore).
//
// Wraps PhysicalFrameAllocator (Sources/KernelCore/Memory/) in a class so page tables,
// address spaces and the heap-growth path all draw from one pool.

public final class FramePool: FrameSource {
    public var allocator: PhysicalFrameAllocator

    public init(_ allocator: PhysicalFrameAllocator) { self.allocator = allocator }

    public func allocateFrame() -> UInt64? { allocator.allocateFrame() }
    public func freeFrame(_ physical: UInt64) { _ = allocator.free(frameAt: physical) }
    public var totalBytes: UInt64 { allocator.totalBytes }
    public var freeBytes: UInt64 { allocator.freeBytes }
}
