// PhysicalMemory — how pure kernel logic touches physical RAM (KernelCore layer).
//
// The kernel's conformance (Sources/KernelArch/DirectMap.swift) goes through the direct map
// of all RAM at 0xffff_8000_0000_0000; host tests use an array-backed fake
// (Tests/KernelCoreTests/FakePhysicalMemory.swift). Page tables, user-memory copies and the
// ELF loader are written against this protocol only.

import ELF

public protocol PhysicalMemory: AnyObject {
    func load64(_ physical: UInt64) -> UInt64
    func store64(_ physical: UInt64, _ value: UInt64)
    func load8(_ physical: UInt64) -> UInt8
    /// physical → buffer[offset..<offset+count]
    func read(_ physical: UInt64, into buffer: inout [UInt8], offset: Int, count: Int)
    /// buffer[offset..<offset+count] → physical
    func write(_ physical: UInt64, from buffer: [UInt8], offset: Int, count: Int)
    func copy(from source: UInt64, to destination: UInt64, count: Int)
    func fill(_ physical: UInt64, count: Int, value: UInt8)
    /// Drop any cached translation of a virtual address (invlpg on x86).
    func invalidateTranslation(_ virtualAddress: UInt64)
    /// Make the invalidations so far take effect on every CPU (TLB shootdown) before the
    /// caller reuses the frames it unmapped.
    func synchronizeTranslations()
    /// Make `root` the active address space (CR3).
    func activate(root: UInt64)
    /// Atomically replace the aligned u32 at `physical` with `desired` if it holds
    /// `expected`; returns the value found (futex words, Process/AddressSpace.swift).
    func compareExchange32(_ physical: UInt64, expected: UInt32, desired: UInt32) -> UInt32
}

extension PhysicalMemory {
    /// Load, compare, store: atomic only where nothing else runs at the same time (the
    /// host tests' fake RAM). The kernel's DirectMapMemory implements it with `lock cmpxchg`.
    public func compareExchange32(_ physical: UInt64, expected: UInt32, desired: UInt32) -> UInt32 {
        var b = [UInt8](repeating: 0, count: 4)
        read(physical, into: &b, offset: 0, count: 4)
        let found = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        if found == expected {
            let d = [UInt8(truncatingIfNeeded: desired), UInt8(truncatingIfNeeded: desired >> 8),
                     UInt8(truncatingIfNeeded: desired >> 16), UInt8(truncatingIfNeeded: desired >> 24)]
            write(physical, from: d, offset: 0, count: 4)
        }
        return found
    }
}

/// Where page frames come from (the physical frame allocator, wrapped by the kernel).
public protocol FrameSource: AnyObject {
    func allocateFrame() -> UInt64?
    /// Drops one reference to the frame; the frame is free once none is left.
    func freeFrame(_ physical: UInt64)
    /// One more address space maps the frame (fork's copy-on-write, shared mappings).
    func addReference(_ physical: UInt64)
    /// How many address spaces map the frame (1 for a frame with one owner).
    func references(_ physical: UInt64) -> Int
}

extension FrameSource {
    /// Sources that never share frames (the boot-time page-table source).
    public func addReference(_ physical: UInt64) {}
    public func references(_ physical: UInt64) -> Int { 1 }
}

/// A ByteSource over a physical range (the boot module holding the bundle and the ELF).
public struct PhysicalBytes<Memory: PhysicalMemory>: ByteSource {
    public let memory: Memory
    public let base: UInt64
    public let byteCount: Int
    public init(memory: Memory, base: UInt64, count: Int) {
        self.memory = memory
        self.base = base
        self.byteCount = count
    }
    public func byte(at offset: Int) -> UInt8 { memory.load8(base + UInt64(offset)) }
}
