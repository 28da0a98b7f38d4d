// VirtioMMIO — the virtio-mmio transport, version 2 ("modern") register layout (Drivers layer;
// virtio 1.2 §4.2.2 register table, §4.2.3 device initialization). Used on machines without
// PCI, such as QEMU's `microvm`, whose transports sit in a row of 0x200-byte windows.
//
// Conforms to VirtioTransport (VirtioPCI.swift, which also holds SplitVirtqueue, MMIOAccess
// and DMAMemory), so VirtioNet.swift drives either transport. The legacy version 1 layout
// (guest page size and queue PFN registers) is refused: `init` throws unsupportedVersion(1).
// Every register is 32 bits wide and accessed with 32-bit loads and stores (§4.2.2.2); the
// device-specific configuration at 0x100 may be read a byte at a time.
// Host tests: Tests/NetTests/VirtioMMIOTests.swift with a fake register window.

/// Register offsets (virtio 1.2 §4.2.2, table "MMIO Device Register Layout").
public enum VirtioMMIORegister {
    public static let magicValue: UInt64 = 0x000
    public static let version: UInt64 = 0x004
    public static let deviceID: UInt64 = 0x008
    public static let vendorID: UInt64 = 0x00C
    public static let deviceFeatures: UInt64 = 0x010
    public static let deviceFeaturesSelect: UInt64 = 0x014
    public static let driverFeatures: UInt64 = 0x020
    public static let driverFeaturesSelect: UInt64 = 0x024
    public static let queueSelect: UInt64 = 0x030
    public static let queueSizeMaximum: UInt64 = 0x034
    public static let queueSize: UInt64 = 0x038
    public static let queueReady: UInt64 = 0x044
    public static let queueNotify: UInt64 = 0x050
    public static let interruptStatus: UInt64 = 0x060
    public static let interruptAcknowledge: UInt64 = 0x064
    public static let status: UInt64 = 0x070
    public static let queueDescriptorLow: UInt64 = 0x080
    public static let queueDescriptorHigh: UInt64 = 0x084
    public static let queueDriverLow: UInt64 = 0x090
    public static let queueDriverHigh: UInt64 = 0x094
    public static let queueDeviceLow: UInt64 = 0x0A0
    public static let queueDeviceHigh: UInt64 = 0x0A4
    public static let configGeneration: UInt64 = 0x0FC
    public static let config: UInt64 = 0x100
}

/// One virtio-mmio register window at `base`.
public struct VirtioMMIOTransport<Bus: MMIOAccess>: VirtioTransport {
    public let bus: Bus
    public let base: UInt64
    /// The virtio device type (1 = network, §5); 0 means an empty slot.
    public let deviceID: UInt32

    /// "virt" in little-endian ASCII.
    public static var magic: UInt32 { 0x7472_6976 }

    /// Checks the magic value and the version (2 only).
    public init(bus: Bus, base: UInt64) throws(VirtioError) {
        self.bus = bus
        self.base = base
        guard bus.read32(base + VirtioMMIORegister.magicValue) == VirtioMMIOTransport.magic else { throw .notVirtio }
        let version = bus.read32(base + VirtioMMIORegister.version)
        guard version == 2 else { throw .unsupportedVersion(version) }
        deviceID = bus.read32(base + VirtioMMIORegister.deviceID)
    }

    /// Whether a window holds a modern virtio device of type `deviceID`, without touching
    /// anything but the three identification registers.
    public static func probe(bus: Bus, base: UInt64, deviceID: UInt32) -> Bool {
        guard let t = try? VirtioMMIOTransport(bus: bus, base: base) else { return false }
        return t.deviceID == deviceID
    }

    func read(_ register: UInt64) -> UInt32 { bus.read32(base + register) }
    func write(_ register: UInt64, _ value: UInt32) { bus.write32(base + register, value) }

    public var status: UInt8 { UInt8(truncatingIfNeeded: read(VirtioMMIORegister.status)) }
    public func setStatus(_ value: UInt8) { write(VirtioMMIORegister.status, UInt32(value)) }

    public func deviceFeatures() -> UInt64 {
        write(VirtioMMIORegister.deviceFeaturesSelect, 0)
        let low = read(VirtioMMIORegister.deviceFeatures)
        write(VirtioMMIORegister.deviceFeaturesSelect, 1)
        let high = read(VirtioMMIORegister.deviceFeatures)
        return UInt64(high) << 32 | UInt64(low)
    }

    public func setDriverFeatures(_ features: UInt64) {
        write(VirtioMMIORegister.driverFeaturesSelect, 0)
        write(VirtioMMIORegister.driverFeatures, UInt32(truncatingIfNeeded: features))
        write(VirtioMMIORegister.driverFeaturesSelect, 1)
        write(VirtioMMIORegister.driverFeatures, UInt32(truncatingIfNeeded: features >> 32))
    }

    /// §4.2.3.2: select, check not ready, read QueueNumMax, set QueueNum, the three ring
    /// addresses, then QueueReady = 1.
    public func setUpQueue<Memory: DMAMemory>(_ index: UInt16, maximumSize: UInt16,
                                              memory: Memory) throws(VirtioError) -> SplitVirtqueue {
        write(VirtioMMIORegister.queueSelect, UInt32(index))
        guard read(VirtioMMIORegister.queueReady) == 0 else { throw .queueUnavailable(index) }
        let offered = UInt16(truncatingIfNeeded: min(read(VirtioMMIORegister.queueSizeMaximum), 0x8000))
        guard offered != 0 else { throw .queueUnavailable(index) }
        let size = Self.queueSize(offered: offered, maximum: maximumSize)
        guard var queue = SplitVirtqueue(index: index, size: size, memory: memory) else { throw .outOfMemory }
        write(VirtioMMIORegister.queueSize, UInt32(size))
        write64(VirtioMMIORegister.queueDescriptorLow, queue.descriptorTable)
        write64(VirtioMMIORegister.queueDriverLow, queue.availableRing)
        write64(VirtioMMIORegister.queueDeviceLow, queue.usedRing)
        queue.notifyAddress = base + VirtioMMIORegister.queueNotify
        write(VirtioMMIORegister.queueReady, 1)
        return queue
    }

    func write64(_ lowRegister: UInt64, _ value: UInt64) {
        write(lowRegister, UInt32(truncatingIfNeeded: value))
        write(lowRegister + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    public func notify(_ queue: SplitVirtqueue) { write(VirtioMMIORegister.queueNotify, UInt32(queue.index)) }

    /// Unlike PCI's ISR, reading InterruptStatus does not clear it: write the bits back to
    /// InterruptACK (§4.2.2).
    public func acknowledgeInterrupt() -> UInt8 {
        let pending = read(VirtioMMIORegister.interruptStatus) & 3
        if pending != 0 { write(VirtioMMIORegister.interruptAcknowledge, pending) }
        return UInt8(pending)
    }

    public func readDeviceConfig8(_ offset: UInt64) -> UInt8 { bus.read8(base + VirtioMMIORegister.config + offset) }
}
