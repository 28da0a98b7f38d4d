// VirtioPCI — the virtio 1.x "modern" PCI transport and split virtqueues (Drivers layer;
// virtio 1.2 §4.1 PCI transport, §2.7 split virtqueues, §3.1 device initialization).
//
// Generic over three small access protocols so a fake device can drive host tests
// (Tests/NetTests/FakeVirtioNetDevice.swift): PCI config space (PCIBus.swift), MMIO for the
// BAR registers, and DMA memory that hands out physically contiguous buffers. The kernel
// implements them with port I/O, its direct map and its frame allocator.
// VirtioNet.swift is the network device built on this; VirtioMMIO.swift is the other
// transport (VirtioTransport below).

/// Register access to device memory (BARs), by physical address.
public protocol MMIOAccess {
    func read8(_ physical: UInt64) -> UInt8
    func read16(_ physical: UInt64) -> UInt16
    func read32(_ physical: UInt64) -> UInt32
    func write8(_ physical: UInt64, _ value: UInt8)
    func write16(_ physical: UInt64, _ value: UInt16)
    func write32(_ physical: UInt64, _ value: UInt32)
}

/// Memory shared with the device: zeroed, physically contiguous allocations that stay put,
/// and little-endian access to them by physical address.
public protocol DMAMemory {
    func allocate(bytes: Int, alignment: Int) -> UInt64?
    func read(_ physical: UInt64, count: Int) -> [UInt8]
    func write(_ physical: UInt64, _ bytes: [UInt8])
    func read16(_ physical: UInt64) -> UInt16
    func read32(_ physical: UInt64) -> UInt32
    func write16(_ physical: UInt64, _ value: UInt16)
    func write32(_ physical: UInt64, _ value: UInt32)
    func write64(_ physical: UInt64, _ value: UInt64)
    /// Orders this CPU's earlier memory accesses before later ones as the device sees them
    /// (a compiler barrier is enough on x86 for ordinary write-back memory).
    func barrier()
}

public enum VirtioError: Error, Equatable, Sendable {
    case notVirtio
    case missingCapability(UInt8)
    case missingBAR
    case featuresRejected
    case versionOneNotOffered
    case queueUnavailable(UInt16)
    case outOfMemory
    case resetTimedOut
    /// virtio-mmio: a register window without the magic value, or the legacy (version 1)
    /// layout, which this driver does not speak.
    case unsupportedVersion(UInt32)
}

/// What VirtioNet needs from a transport (virtio 1.2 §4): the PCI one below and the MMIO one
/// in VirtioMMIO.swift conform.
public protocol VirtioTransport {
    var status: UInt8 { get }
    func setStatus(_ value: UInt8)
    func deviceFeatures() -> UInt64
    func setDriverFeatures(_ features: UInt64)
    /// Sets up queue `index` with at most `maximumSize` entries (a power of two).
    func setUpQueue<Memory: DMAMemory>(_ index: UInt16, maximumSize: UInt16,
                                       memory: Memory) throws(VirtioError) -> SplitVirtqueue
    func notify(_ queue: SplitVirtqueue)
    /// Reads and acknowledges the interrupt status: bit 0 = queue work, bit 1 = configuration
    /// change; 0 when the interrupt was not this device's.
    func acknowledgeInterrupt() -> UInt8
    /// One byte of the device-specific configuration space.
    func readDeviceConfig8(_ offset: UInt64) -> UInt8
}

extension VirtioTransport {
    public func addStatus(_ bits: UInt8) { setStatus(status | bits) }

    /// Writes 0 to the status and waits until the device reads back 0 (§2.1: reset).
    public func reset() throws(VirtioError) {
        setStatus(0)
        var spins = 0
        while status != 0 {
            spins += 1
            if spins > 1_000_000 { throw .resetTimedOut }
        }
    }

    /// §3.1.1 steps 1-6: reset, acknowledge, negotiate `wanted` ∩ offered (VERSION_1 is
    /// required), FEATURES_OK. Returns the accepted features.
    public func negotiate(wanted: UInt64) throws(VirtioError) -> UInt64 {
        try reset()
        addStatus(VirtioStatus.acknowledge)
        addStatus(VirtioStatus.driver)
        let offered = deviceFeatures()
        guard offered & VirtioFeature.version1 != 0 else {
            addStatus(VirtioStatus.failed)
            throw .versionOneNotOffered
        }
        let accepted = offered & (wanted | VirtioFeature.version1)
        setDriverFeatures(accepted)
        addStatus(VirtioStatus.featuresOK)
        guard status & VirtioStatus.featuresOK != 0 else {
            addStatus(VirtioStatus.failed)
            throw .featuresRejected
        }
        return accepted
    }

    /// Split queue sizes are powers of two: `min(offered, maximum)` rounded down.
    static func queueSize(offered: UInt16, maximum: UInt16) -> UInt16 {
        let size = min(offered, maximum)
        var p: UInt16 = 1
        while p <= size / 2 { p <<= 1 }
        return p
    }
}

/// Device status bits (virtio 1.2 §2.1).
public enum VirtioStatus {
    public static let acknowledge: UInt8 = 1
    public static let driver: UInt8 = 2
    public static let driverOK: UInt8 = 4
    public static let featuresOK: UInt8 = 8
    public static let failed: UInt8 = 128
}

public enum VirtioFeature {
    public static let version1: UInt64 = 1 << 32
}

/// Where the four configuration structures live (virtio 1.2 §4.1.4).
public struct VirtioPCILayout: Equatable, Sendable {
    public var common: UInt64
    public var notify: UInt64
    public var notifyOffsetMultiplier: UInt32
    public var isr: UInt64
    public var device: UInt64
}

/// Offsets in struct virtio_pci_common_cfg (virtio 1.2 §4.1.4.3).
enum CommonConfig {
    static let deviceFeatureSelect: UInt64 = 0x00
    static let deviceFeature: UInt64 = 0x04
    static let driverFeatureSelect: UInt64 = 0x08
    static let driverFeature: UInt64 = 0x0C
    static let msixConfig: UInt64 = 0x10
    static let numQueues: UInt64 = 0x12
    static let deviceStatus: UInt64 = 0x14
    static let configGeneration: UInt64 = 0x15
    static let queueSelect: UInt64 = 0x16
    static let queueSize: UInt64 = 0x18
    static let queueMSIXVector: UInt64 = 0x1A
    static let queueEnable: UInt64 = 0x1C
    static let queueNotifyOff: UInt64 = 0x1E
    static let queueDesc: UInt64 = 0x20
    static let queueDriver: UInt64 = 0x28
    static let queueDevice: UInt64 = 0x30
}

/// The modern PCI transport of one virtio device.
public struct VirtioPCITransport<Config: PCIConfigAccess, Bus: MMIOAccess>: VirtioTransport {
    public let pci: PCIBus<Config>
    public let bus: Bus
    public let address: PCIAddress
    public let layout: VirtioPCILayout

    public static var vendorID: UInt16 { 0x1AF4 }

    /// Finds the capabilities (vendor-specific, id 9) and maps their BAR offsets.
    public init(pci: PCIBus<Config>, bus: Bus, address: PCIAddress) throws(VirtioError) {
        self.pci = pci
        self.bus = bus
        self.address = address
        guard pci.access.read16(address, offset: 0) == 0x1AF4 else { throw .notVirtio }
        var common: UInt64? = nil, notify: UInt64? = nil, isr: UInt64? = nil, device: UInt64? = nil
        var multiplier: UInt32 = 0
        for cap in pci.capabilities(of: address) where cap.id == 0x09 {
            let type = pci.access.read8(address, offset: cap.offset + 3)
            let barIndex = Int(pci.access.read8(address, offset: cap.offset + 4))
            let offset = UInt64(pci.access.read32(address, offset: cap.offset + 8))
            guard let base = pci.memoryBAR(of: address, index: barIndex) else { continue }
            let where_ = base + offset
            // The first capability of each type is the preferred one (§4.1.4).
            switch type {
            case 1 where common == nil: common = where_
            case 2 where notify == nil:
                notify = where_
                multiplier = pci.access.read32(address, offset: cap.offset + 16)
            case 3 where isr == nil: isr = where_
            case 4 where device == nil: device = where_
            default: break
            }
        }
        guard let common else { throw .missingCapability(1) }
        guard let notify else { throw .missingCapability(2) }
        guard let isr else { throw .missingCapability(3) }
        guard let device else { throw .missingCapability(4) }
        layout = VirtioPCILayout(common: common, notify: notify, notifyOffsetMultiplier: multiplier,
                                 isr: isr, device: device)
    }

    public var status: UInt8 { bus.read8(layout.common + CommonConfig.deviceStatus) }
    public func setStatus(_ value: UInt8) { bus.write8(layout.common + CommonConfig.deviceStatus, value) }

    public func deviceFeatures() -> UInt64 {
        bus.write32(layout.common + CommonConfig.deviceFeatureSelect, 0)
        let low = bus.read32(layout.common + CommonConfig.deviceFeature)
        bus.write32(layout.common + CommonConfig.deviceFeatureSelect, 1)
        let high = bus.read32(layout.common + CommonConfig.deviceFeature)
        return UInt64(high) << 32 | UInt64(low)
    }

    public func setDriverFeatures(_ features: UInt64) {
        bus.write32(layout.common + CommonConfig.driverFeatureSelect, 0)
        bus.write32(layout.common + CommonConfig.driverFeature, UInt32(truncatingIfNeeded: features))
        bus.write32(layout.common + CommonConfig.driverFeatureSelect, 1)
        bus.write32(layout.common + CommonConfig.driverFeature, UInt32(truncatingIfNeeded: features >> 32))
    }

    /// Sets up queue `index` with at most `maximumSize` entries (§4.1.5.1.3).
    public func setUpQueue<Memory: DMAMemory>(_ index: UInt16, maximumSize: UInt16,
                                              memory: Memory) throws(VirtioError) -> SplitVirtqueue {
        bus.write16(layout.common + CommonConfig.queueSelect, index)
        let offered = bus.read16(layout.common + CommonConfig.queueSize)
        guard offered != 0 else { throw .queueUnavailable(index) }
        let size = Self.queueSize(offered: offered, maximum: maximumSize)
        bus.write16(layout.common + CommonConfig.queueSize, size)
        guard let queue = SplitVirtqueue(index: index, size: size, memory: memory) else { throw .outOfMemory }
        bus.write16(layout.common + CommonConfig.queueMSIXVector, 0xFFFF)   // VIRTIO_MSI_NO_VECTOR
        write64(layout.common + CommonConfig.queueDesc, queue.descriptorTable)
        write64(layout.common + CommonConfig.queueDriver, queue.availableRing)
        write64(layout.common + CommonConfig.queueDevice, queue.usedRing)
        let notifyOffset = bus.read16(layout.common + CommonConfig.queueNotifyOff)
        var q = queue
        q.notifyAddress = layout.notify + UInt64(notifyOffset) * UInt64(layout.notifyOffsetMultiplier)
        bus.write16(layout.common + CommonConfig.queueEnable, 1)
        return q
    }

    func write64(_ address: UInt64, _ value: UInt64) {
        bus.write32(address, UInt32(truncatingIfNeeded: value))
        bus.write32(address + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    public func notify(_ queue: SplitVirtqueue) { bus.write16(queue.notifyAddress, queue.index) }

    /// Reading the ISR status acknowledges an INTx interrupt (§4.1.4.5); bit 0 = queue
    /// work, bit 1 = configuration change.
    public func readInterruptStatus() -> UInt8 { bus.read8(layout.isr) }
    public func acknowledgeInterrupt() -> UInt8 { readInterruptStatus() }
    public func readDeviceConfig8(_ offset: UInt64) -> UInt8 { bus.read8(layout.device + offset) }
}

/// A split virtqueue (§2.7): descriptor table, available ring (driver → device), used ring
/// (device → driver). Each buffer here is one descriptor.
public struct SplitVirtqueue {
    public let index: UInt16
    public let size: UInt16
    public let descriptorTable: UInt64
    public let availableRing: UInt64
    public let usedRing: UInt64
    public internal(set) var notifyAddress: UInt64 = 0
    var freeDescriptors: [UInt16]
    /// For a chain's head: the descriptor chained after it (0xFFFF: none), freed with it.
    var chainedAfter: [UInt16]
    var nextAvailable: UInt16 = 0
    var lastUsed: UInt16 = 0

    static let descriptorNext: UInt16 = 1
    static let descriptorWrite: UInt16 = 2

    init?<Memory: DMAMemory>(index: UInt16, size: UInt16, memory: Memory) {
        let n = Int(size)
        guard let table = memory.allocate(bytes: 16 * n, alignment: 16),
              let avail = memory.allocate(bytes: 6 + 2 * n, alignment: 2),
              let used = memory.allocate(bytes: 6 + 8 * n, alignment: 4) else { return nil }
        self.index = index
        self.size = size
        descriptorTable = table
        availableRing = avail
        usedRing = used
        freeDescriptors = (0..<size).reversed().map { $0 }
        chainedAfter = [UInt16](repeating: 0xFFFF, count: n)
    }

    public var freeCount: Int { freeDescriptors.count }

    /// Asks the device not to interrupt when it uses buffers of this queue
    /// (VIRTQ_AVAIL_F_NO_INTERRUPT, virtio 1.2 §2.7.7; a hint the device may ignore). For a
    /// transmit queue whose used buffers are reclaimed on the next send or receive poll.
    public func suppressInterrupts<Memory: DMAMemory>(memory: Memory) {
        memory.write16(availableRing, 1)
        memory.barrier()
    }

    /// Makes one buffer available to the device; returns its descriptor id, or nil if full.
    public mutating func add<Memory: DMAMemory>(buffer: UInt64, length: Int, deviceWrites: Bool,
                                                memory: Memory) -> UInt16? {
        guard let id = freeDescriptors.popLast() else { return nil }
        let d = descriptorTable + UInt64(id) * 16
        memory.write64(d, buffer)
        memory.write32(d + 8, UInt32(length))
        memory.write16(d + 12, deviceWrites ? SplitVirtqueue.descriptorWrite : 0)
        memory.write16(d + 14, 0)
        memory.write16(availableRing + 4 + UInt64(nextAvailable % size) * 2, id)
        memory.barrier()        // the ring entry before the index that publishes it (§2.7.13)
        nextAvailable &+= 1
        memory.write16(availableRing + 2, nextAvailable)
        memory.barrier()
        return id
    }

    /// Makes a request/reply pair available as one two-descriptor chain (§2.7.5): the
    /// device reads `request` and writes its answer into `reply` (virtio-9p needs both in
    /// one chain). Returns the head's id, or nil when fewer than two descriptors are free.
    public mutating func addPair<Memory: DMAMemory>(request: UInt64, requestLength: Int, reply: UInt64,
                                                    replyLength: Int, memory: Memory) -> UInt16? {
        guard freeDescriptors.count >= 2, let head = freeDescriptors.popLast(),
              let tail = freeDescriptors.popLast() else { return nil }
        let d = descriptorTable + UInt64(head) * 16
        memory.write64(d, request)
        memory.write32(d + 8, UInt32(requestLength))
        memory.write16(d + 12, SplitVirtqueue.descriptorNext)
        memory.write16(d + 14, tail)
        let t = descriptorTable + UInt64(tail) * 16
        memory.write64(t, reply)
        memory.write32(t + 8, UInt32(replyLength))
        memory.write16(t + 12, SplitVirtqueue.descriptorWrite)
        memory.write16(t + 14, 0)
        chainedAfter[Int(head)] = tail
        memory.write16(availableRing + 4 + UInt64(nextAvailable % size) * 2, head)
        memory.barrier()
        nextAvailable &+= 1
        memory.write16(availableRing + 2, nextAvailable)
        memory.barrier()
        return head
    }

    /// The next buffer the device has finished with: (descriptor id, bytes written).
    public mutating func takeUsed<Memory: DMAMemory>(memory: Memory) -> (id: UInt16, length: Int)? {
        let deviceIndex = memory.read16(usedRing + 2)
        guard deviceIndex != lastUsed else { return nil }
        memory.barrier()        // read the entry only after seeing the index (§2.7.14)
        let entry = usedRing + 4 + UInt64(lastUsed % size) * 8
        let id = UInt16(truncatingIfNeeded: memory.read32(entry))
        let length = Int(memory.read32(entry + 4))
        lastUsed &+= 1
        guard id < size else { return nil }
        freeDescriptors.append(id)
        if chainedAfter[Int(id)] != 0xFFFF {
            freeDescriptors.append(chainedAfter[Int(id)])
            chainedAfter[Int(id)] = 0xFFFF
        }
        return (id, length)
    }
}
