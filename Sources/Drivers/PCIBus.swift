// PCIBus — PCI configuration space access, device enumeration, BARs and capability lists
// (Drivers layer; PCI Local Bus 3.0 §6.1-6.7).
//
// Generic over `PCIConfigAccess` so host tests (Tests/NetTests/VirtioNetTests.swift) can
// present a fake device; the kernel implements it with the 0xCF8/0xCFC mechanism (or ECAM).
// VirtioPCI.swift reads virtio's vendor capabilities through this.

/// Bus/device/function of one PCI function.
public struct PCIAddress: Equatable, Sendable {
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8
    public init(bus: UInt8, device: UInt8, function: UInt8) {
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// The CONFIG_ADDRESS value for mechanism #1 (port 0xCF8), without the register bits.
    public var configAddress: UInt32 {
        0x8000_0000 | UInt32(bus) << 16 | UInt32(device & 0x1F) << 11 | UInt32(function & 7) << 8
    }
}

/// Dword access to configuration space; `offset` is 4-byte aligned.
public protocol PCIConfigAccess {
    func read32(_ address: PCIAddress, offset: UInt8) -> UInt32
    func write32(_ address: PCIAddress, offset: UInt8, _ value: UInt32)
}

extension PCIConfigAccess {
    public func read8(_ address: PCIAddress, offset: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: read32(address, offset: offset & 0xFC) >> (UInt32(offset & 3) * 8))
    }
    public func read16(_ address: PCIAddress, offset: UInt8) -> UInt16 {
        UInt16(truncatingIfNeeded: read32(address, offset: offset & 0xFC) >> (UInt32(offset & 2) * 8))
    }
    public func write16(_ address: PCIAddress, offset: UInt8, _ value: UInt16) {
        let shift = UInt32(offset & 2) * 8
        var dword = read32(address, offset: offset & 0xFC)
        dword &= ~(0xFFFF << shift)
        dword |= UInt32(value) << shift
        write32(address, offset: offset & 0xFC, dword)
    }
}

/// One function found by enumeration.
public struct PCIFunction: Equatable, Sendable {
    public var address: PCIAddress
    public var vendorID: UInt16
    public var deviceID: UInt16
    public var classCode: UInt8
    public var subclass: UInt8
    public var interruptLine: UInt8
    public var interruptPin: UInt8
}

/// A vendor-neutral view of a capability: its id and where it sits in config space.
public struct PCICapability: Equatable, Sendable {
    public var id: UInt8
    public var offset: UInt8
}

public enum PCIRegister {
    public static let command: UInt8 = 0x04
    public static let status: UInt8 = 0x06
    public static let capabilitiesPointer: UInt8 = 0x34
    public static let interruptLine: UInt8 = 0x3C
    public static let commandMemorySpace: UInt16 = 1 << 1
    public static let commandBusMaster: UInt16 = 1 << 2
    public static let commandInterruptDisable: UInt16 = 1 << 10
    public static let statusCapabilities: UInt16 = 1 << 4
}

public struct PCIBus<Access: PCIConfigAccess> {
    public let access: Access

    public init(access: Access) { self.access = access }

    /// Every present function on buses 0...`lastBus` (brute force; QEMU's machines keep
    /// their devices on bus 0).
    public func enumerate(lastBus: UInt8 = 0) -> [PCIFunction] {
        var found: [PCIFunction] = []
        var bus: UInt8 = 0
        while true {
            for device: UInt8 in 0..<32 {
                let first = PCIAddress(bus: bus, device: device, function: 0)
                guard access.read16(first, offset: 0) != 0xFFFF else { continue }
                let multifunction = access.read8(first, offset: 0x0E) & 0x80 != 0
                for function: UInt8 in 0..<(multifunction ? 8 : 1) {
                    let address = PCIAddress(bus: bus, device: device, function: function)
                    let ids = access.read32(address, offset: 0)
                    guard ids & 0xFFFF != 0xFFFF else { continue }
                    let classWord = access.read32(address, offset: 0x08)
                    let interrupt = access.read32(address, offset: 0x3C)
                    found.append(PCIFunction(
                        address: address, vendorID: UInt16(truncatingIfNeeded: ids),
                        deviceID: UInt16(truncatingIfNeeded: ids >> 16),
                        classCode: UInt8(truncatingIfNeeded: classWord >> 24),
                        subclass: UInt8(truncatingIfNeeded: classWord >> 16),
                        interruptLine: UInt8(truncatingIfNeeded: interrupt),
                        interruptPin: UInt8(truncatingIfNeeded: interrupt >> 8)))
                }
            }
            if bus == lastBus { break }
            bus += 1
        }
        return found
    }

    /// The capability list (PCI 3.0 §6.7), guarded against loops.
    public func capabilities(of address: PCIAddress) -> [PCICapability] {
        guard access.read16(address, offset: PCIRegister.status) & PCIRegister.statusCapabilities != 0 else {
            return []
        }
        var out: [PCICapability] = []
        var pointer = access.read8(address, offset: PCIRegister.capabilitiesPointer) & 0xFC
        while pointer >= 0x40 && out.count < 48 {
            out.append(PCICapability(id: access.read8(address, offset: pointer), offset: pointer))
            pointer = access.read8(address, offset: pointer + 1) & 0xFC
        }
        return out
    }

    /// The physical base of memory BAR `index` (64-bit BARs span two slots); nil for an I/O
    /// or unassigned BAR.
    public func memoryBAR(of address: PCIAddress, index: Int) -> UInt64? {
        guard index >= 0 && index < 6 else { return nil }
        let offset = UInt8(0x10 + 4 * index)
        let low = access.read32(address, offset: offset)
        guard low & 1 == 0 else { return nil }
        var base = UInt64(low & 0xFFFF_FFF0)
        if (low >> 1) & 3 == 2 && index < 5 {
            base |= UInt64(access.read32(address, offset: offset + 4)) << 32
        }
        return base == 0 ? nil : base
    }

    /// Turns on memory decoding and bus mastering (DMA), and leaves INTx enabled.
    public func enableMemoryAndBusMaster(_ address: PCIAddress) {
        var command = access.read16(address, offset: PCIRegister.command)
        command |= PCIRegister.commandMemorySpace | PCIRegister.commandBusMaster
        command &= ~PCIRegister.commandInterruptDisable
        access.write16(address, offset: PCIRegister.command, command)
    }
}
