// BootFrameSource — where the kernel's own page tables get frames while they are being
// built (Kernel layer).
//
// Until kmain (Main.swift) activates its page tables, only boot.S's throw-away map is in
// force, and it covers the first 1 GiB of RAM: a frame above that cannot be zeroed or
// written. The boot module (egg's bundle, with a --files archive it may be 1 GiB or more)
// sits low, right after the kernel, so the lowest free frame can lie past the boot map. This
// source takes frames below 1 GiB until `bootMapOnly` is cleared, then behaves like the pool.
import KernelCore

final class BootFrameSource: FrameSource {
    /// boot.S maps 512 × 2 MiB pages.
    static let bootMapEnd: UInt64 = 1 << 30
    let pool: FramePool
    var bootMapOnly = true

    init(pool: FramePool) { self.pool = pool }

    func allocateFrame() -> UInt64? {
        guard bootMapOnly else { return pool.allocateFrame() }
        return pool.allocator.allocateContiguous(frameCount: 1, below: BootFrameSource.bootMapEnd)
    }

    func freeFrame(_ physical: UInt64) { pool.freeFrame(physical) }
}
