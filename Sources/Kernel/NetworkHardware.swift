// NetworkHardware — the machine side of the virtio-net driver's three access protocols
// (Kernel layer). Sources/Drivers/PCIBus.swift and VirtioPCI.swift define them and hold the
// logic; this file only reaches the hardware:
//   - PCIConfigPorts: configuration mechanism #1 through ports 0xCF8/0xCFC (PCI Local Bus
//     3.0 §3.2.2.3.2),
//   - KernelMMIO: device registers by physical address, through the kernel's page tables
//     (BARs below the end of the direct map are already mapped; others get uncached pages),
//   - FrameDMAMemory: one physically contiguous, zeroed block of frames from the kernel's
//     frame allocator, carved into aligned pieces that never move (virtqueues, buffers).
// NetworkSetup.swift uses them to start the card and wire it to the TCP/IP stack.
import HW
import Drivers
import KernelArch
import KernelCore

/// PCI configuration space through the 0xCF8 address / 0xCFC data ports.
struct PCIConfigPorts: PCIConfigAccess {
    func read32(_ address: PCIAddress, offset: UInt8) -> UInt32 {
        hw_outl(0xCF8, address.configAddress | UInt32(offset & 0xFC))
        return hw_inl(0xCFC)
    }

    func write32(_ address: PCIAddress, offset: UInt8, _ value: UInt32) {
        hw_outl(0xCF8, address.configAddress | UInt32(offset & 0xFC))
        hw_outl(0xCFC, value)
    }
}

/// Device memory by physical address. `mapUncached` must have covered every register range
/// before the first access (NetworkSetup maps the virtio capabilities' windows).
struct KernelMMIO: MMIOAccess {
    @inline(__always) func read8(_ physical: UInt64) -> UInt8 { hw_load8(physicalToVirtual(physical)) }
    @inline(__always) func read16(_ physical: UInt64) -> UInt16 { hw_load16(physicalToVirtual(physical)) }
    @inline(__always) func read32(_ physical: UInt64) -> UInt32 { hw_load32(physicalToVirtual(physical)) }
    @inline(__always) func write8(_ physical: UInt64, _ value: UInt8) { hw_store8(physicalToVirtual(physical), value) }
    @inline(__always) func write16(_ physical: UInt64, _ value: UInt16) { hw_store16(physicalToVirtual(physical), value) }
    @inline(__always) func write32(_ physical: UInt64, _ value: UInt32) { hw_store32(physicalToVirtual(physical), value) }

    /// Makes [physical, physical+length) reachable at physicalToVirtual(physical). Pages the
    /// direct map already covers (RAM and the 32-bit hole, where the firmware's MTRRs make
    /// the PCI window uncached) stay as they are; the rest (64-bit BARs above 4 GiB) get
    /// 4 KiB kernel pages with PCD|PWT, i.e. uncached under the default PAT (Intel SDM vol. 3
    /// §11.12.3). The kernel half of every address space shares these tables.
    static func mapUncached(_ physical: UInt64, length: UInt64, in table: PageTable) -> Bool {
        guard length > 0 else { return true }
        var page = physical & ~0xFFF
        let end = (physical + length + 0xFFF) & ~0xFFF
        // The window is PML4 slot 255 only (512 GiB of physical addresses).
        guard end <= (1 << 39) else { return false }
        while page < end {
            let va = physicalToVirtual(page)
            if table.translate(va) == nil {
                guard table.map(va, to: page, flags: [.writable, .noExecute, .global, .cacheDisable, .writeThrough]) else {
                    return false
                }
            }
            page += 4096
        }
        return true
    }
}

/// DMA memory: a bump allocator over one contiguous run of frames, reached through the
/// direct map (RAM is write-back cacheable and x86 DMA is cache-coherent, so no flushing).
final class FrameDMAMemory: DMAMemory {
    let base: UInt64
    let size: UInt64
    var used: UInt64 = 0
    let ram = DirectMapMemory()

    /// Takes `bytes` (rounded up to pages) from the frame allocator; nil when RAM is short.
    init?(frames: FramePool, bytes: Int) {
        let count = (bytes + 4095) / 4096
        guard let start = frames.allocator.allocateContiguous(frameCount: count) else { return nil }
        base = start
        size = UInt64(count) * 4096
        // 8-byte stores: under TCG a byte-wise `rep stosb` over a megabyte costs milliseconds.
        var offset: UInt64 = 0
        while offset < size {
            hw_store64(physicalToVirtual(start + offset), 0)
            offset += 8
        }
    }

    func allocate(bytes: Int, alignment: Int) -> UInt64? {
        let align = UInt64(max(alignment, 1))
        let start = (base + used + align - 1) / align * align
        guard bytes >= 0, start + UInt64(bytes) <= base + size else { return nil }
        used = start + UInt64(bytes) - base
        return start
    }

    func read(_ physical: UInt64, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        ram.read(physical, into: &out, offset: 0, count: count)
        return out
    }

    func write(_ physical: UInt64, _ bytes: [UInt8]) { ram.write(physical, from: bytes, offset: 0, count: bytes.count) }
    func read16(_ physical: UInt64) -> UInt16 { hw_load16(physicalToVirtual(physical)) }
    func read32(_ physical: UInt64) -> UInt32 { hw_load32(physicalToVirtual(physical)) }
    func write16(_ physical: UInt64, _ value: UInt16) { hw_store16(physicalToVirtual(physical), value) }
    func write32(_ physical: UInt64, _ value: UInt32) { hw_store32(physicalToVirtual(physical), value) }
    func write64(_ physical: UInt64, _ value: UInt64) { hw_store64(physicalToVirtual(physical), value) }
    /// x86 keeps stores in order and loads in order (TSO), so the CPU needs no fence. The
    /// compiler keeps volatile accesses (every ring access above is one) in program order and
    /// does not move them across the buffer copies, which are calls into KernelArch it cannot
    /// see through; so there is nothing left to order here.
    func barrier() {}
}

/// The card's transport, whichever the machine has: a PCI function (pc, q35) or a virtio-mmio
/// window (microvm). One concrete type, so the driver and the kernel's interface need no
/// existential; each call is a switch.
enum KernelVirtioTransport: VirtioTransport {
    case pci(VirtioPCITransport<PCIConfigPorts, KernelMMIO>)
    case mmio(VirtioMMIOTransport<KernelMMIO>)

    var status: UInt8 {
        switch self { case .pci(let t): return t.status; case .mmio(let t): return t.status }
    }
    func setStatus(_ value: UInt8) {
        switch self { case .pci(let t): t.setStatus(value); case .mmio(let t): t.setStatus(value) }
    }
    func deviceFeatures() -> UInt64 {
        switch self { case .pci(let t): return t.deviceFeatures(); case .mmio(let t): return t.deviceFeatures() }
    }
    func setDriverFeatures(_ features: UInt64) {
        switch self { case .pci(let t): t.setDriverFeatures(features); case .mmio(let t): t.setDriverFeatures(features) }
    }
    func setUpQueue<Memory: DMAMemory>(_ index: UInt16, maximumSize: UInt16,
                                       memory: Memory) throws(VirtioError) -> SplitVirtqueue {
        switch self {
        case .pci(let t): return try t.setUpQueue(index, maximumSize: maximumSize, memory: memory)
        case .mmio(let t): return try t.setUpQueue(index, maximumSize: maximumSize, memory: memory)
        }
    }
    func notify(_ queue: SplitVirtqueue) {
        switch self { case .pci(let t): t.notify(queue); case .mmio(let t): t.notify(queue) }
    }
    func acknowledgeInterrupt() -> UInt8 {
        switch self { case .pci(let t): return t.acknowledgeInterrupt(); case .mmio(let t): return t.acknowledgeInterrupt() }
    }
    func readDeviceConfig8(_ offset: UInt64) -> UInt8 {
        switch self { case .pci(let t): return t.readDeviceConfig8(offset); case .mmio(let t): return t.readDeviceConfig8(offset) }
    }
}
