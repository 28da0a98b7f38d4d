// DirectMap — PhysicalMemory through the direct map of RAM (KernelArch layer).
//
// All physical memory is mapped, supervisor-only and non-executable, at directMapBase
// (the kernel window, PML4 slot 255; the kernel image is part of it). boot.S maps the first 1 GiB there before Swift runs, and
// Sources/Kernel/Boot.swift extends it to all RAM. Every raw access to RAM that the logic
// modules make goes through this class.
import HW
import KernelCore

public let directMapBase: UInt64 = kernelWindowBase

@inline(__always) public func physicalToVirtual(_ physical: UInt64) -> UInt64 { physical &+ directMapBase }

public final class DirectMapMemory: PhysicalMemory {
    public init() {}

    @inline(__always) func pointer(_ physical: UInt64) -> UnsafeMutableRawPointer {
        // SAFETY: callers pass physical addresses of RAM, which the direct map covers.
        UnsafeMutableRawPointer(bitPattern: UInt(physicalToVirtual(physical)))!
    }

    public func load64(_ physical: UInt64) -> UInt64 { hw_load64(physicalToVirtual(physical)) }
    public func store64(_ physical: UInt64, _ value: UInt64) { hw_store64(physicalToVirtual(physical), value) }
    public func load8(_ physical: UInt64) -> UInt8 { hw_load8(physicalToVirtual(physical)) }

    public func read(_ physical: UInt64, into buffer: inout [UInt8], offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= buffer.count)
        buffer.withUnsafeMutableBytes { raw in
            // SAFETY: bounds checked above; the source is direct-mapped RAM.
            _ = memcpy(raw.baseAddress! + offset, pointer(physical), count)
        }
    }

    public func write(_ physical: UInt64, from buffer: [UInt8], offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && offset + count <= buffer.count)
        buffer.withUnsafeBytes { raw in
            // SAFETY: bounds checked above; the destination is direct-mapped RAM.
            _ = memcpy(pointer(physical), raw.baseAddress! + offset, count)
        }
    }

    public func copy(from source: UInt64, to destination: UInt64, count: Int) {
        _ = memcpy(pointer(destination), pointer(source), count)
    }

    public func fill(_ physical: UInt64, count: Int, value: UInt8) {
        _ = memset(pointer(physical), Int32(value), count)
    }

    /// Set when a mapping changed while other CPUs run: they may cache it in their TLBs.
    nonisolated(unsafe) public static var remoteFlushNeeded = false
    /// Sends the shootdown IPI and waits for every other CPU (Sources/Kernel/SMP.swift).
    nonisolated(unsafe) public static var shootdown: () -> Void = {}

    public func invalidateTranslation(_ virtualAddress: UInt64) {
        hw_invlpg(virtualAddress)
        if hw_atomic_load32(&egg_cpus_online) > 1 { DirectMapMemory.remoteFlushNeeded = true }
    }

    public func synchronizeTranslations() {
        guard DirectMapMemory.remoteFlushNeeded else { return }
        DirectMapMemory.remoteFlushNeeded = false
        DirectMapMemory.shootdown()
    }
    public func activate(root: UInt64) { hw_write_cr3(root) }

    /// The futex words' atomic update (KernelCore/Process/AddressSpace.swift
    /// compareExchangeUInt32): one `lock cmpxchg` through the direct map, so a guest's own
    /// atomic instruction on another CPU can never slip between the read and the write.
    public func compareExchange32(_ physical: UInt64, expected: UInt32, desired: UInt32) -> UInt32 {
        precondition(physical & 3 == 0)
        return hw_cmpxchg32(physicalToVirtual(physical), expected, desired)
    }
}
