// HeapGrowth — more frames for the kernel heap when it runs dry (Kernel layer).
//
// The heap (Sources/KernelRuntime/runtime.c) starts with an eighth of RAM; when a request
// finds no free run it calls egg_heap_grow, which takes a contiguous run from the physical
// frame allocator (at least 1 MiB) and hands it over. Only when RAM itself is exhausted does
// the allocation fail, and the kernel panic with "kernel heap exhausted".
import HW
import KernelArch
import KernelCore

/// Set by kmain once the frame allocator exists.
nonisolated(unsafe) var heapFramePool: FramePool? = nil
nonisolated(unsafe) var heapGrowing = false

@_cdecl("egg_heap_grow")
public func heapGrow(_ pages: UInt64) -> Bool {
    // Re-entry (the frame allocator itself allocating) must fail rather than recurse.
    guard !heapGrowing, let frames = heapFramePool else { return false }
    heapGrowing = true
    defer { heapGrowing = false }
    let count = Int(max(pages + 1, 256))
    guard let start = frames.allocator.allocateContiguous(frameCount: count) else { return false }
    egg_heap_add_region(physicalToVirtual(start), UInt64(count) * 4096)
    return true
}
