// BootFrameSource — where the kernel's own page tables get frames while they are being
// built (Kernel layer).
//
// Until kmain (Main.swift) activates its page tables, only boot.S's throw-away map is in
// force, and it covers the first 1 GiB of RAM: a frame above that cannot be zeroed or
// written. The boot module (egg's bundle, with a --files archive it may be 1 GiB or more)
// sits low, right after the kernel, so the lowest free frame can lie past the boot map. This
// source takes frames below 1 GiB until `bootMapOnly` is cleared, then behaves like the pool.
// When the bundle leaves no free frame below 1 GiB it takes page-aligned pages from the
// kernel heap's early arena instead (bss inside the kernel image, so inside the boot map);
// the direct map of a few GiB needs only a handful (one page directory per GiB).
import KernelArch
import KernelCore

final class BootFrameSource: FrameSource {
    /// boot.S maps 512 × 2 MiB pages.
    static let bootMapEnd: UInt64 = 1 << 30
    let pool: FramePool
    var bootMapOnly = true

    init(pool: FramePool) { self.pool = pool }

    func allocateFrame() -> UInt64? {
        guard bootMapOnly else { return pool.allocateFrame() }
        if let frame = pool.allocator.allocateContiguous(frameCount: 1, below: BootFrameSource.bootMapEnd) { return frame }
        // SAFETY: the heap hands out a fresh 4096-byte, 4096-aligned block that nothing else
        // references; it lies in the kernel image, which the direct map places at
        // directMapBase + its physical address, so the subtraction gives its frame. The page
        // becomes a page table for good (the kernel's tables are never freed).
        let page = UnsafeMutableRawPointer.allocate(byteCount: 4096, alignment: 4096)
        let virtual = UInt64(UInt(bitPattern: page))
        guard virtual >= directMapBase, virtual - directMapBase < BootFrameSource.bootMapEnd else { return nil }
        return virtual - directMapBase
    }

    func freeFrame(_ physical: UInt64) { pool.freeFrame(physical) }
}
