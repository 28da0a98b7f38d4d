// BochsDisplay — a framebuffer for -kernel boots from QEMU's standard VGA (`-vga std`) or
// `-device bochs-display` (Drivers layer, generic over two small access protocols).
//
// Both are PCI device 1234:1111 with the linear framebuffer in BAR0 and the Bochs VBE
// "dispi" registers: stdvga has them at I/O ports 0x1CE (index) / 0x1CF (data), and both
// have them memory-mapped at BAR2 + 0x500 (16-bit registers at index × 2). The kernel side
// (port and MMIO access, PCI configuration mechanism #1) is Sources/Kernel/FramebufferSetup.swift;
// under GRUB the framebuffer comes from the multiboot 2 tag instead (Sources/Kernel/BootInfo.swift).
// References: QEMU docs/specs/standard-vga.rst; Bochs vbe.h (VBE_DISPI_*); PCI Local Bus
// Specification 3.0 §6.1 (configuration header), §6.2.5 (base address registers).
import KernelCore

/// Reads of PCI configuration space (32-bit, dword-aligned offsets).
public protocol PCIConfigurationAccess {
    func read32(bus: Int, device: Int, function: Int, offset: Int) -> UInt32
}

/// The dispi registers, however they are reached.
public protocol BochsDisplayRegisters {
    func read(_ index: UInt16) -> UInt16
    func write(_ index: UInt16, _ value: UInt16)
}

public struct BochsDisplayDevice: Equatable {
    public var bus: Int
    public var device: Int
    public var function: Int
    /// BAR0: the framebuffer's physical address.
    public var framebufferAddress: UInt64
    /// BAR2 when it is a memory BAR (the MMIO registers), else nil.
    public var registersAddress: UInt64?
    /// PCI class 03:00 (VGA compatible, stdvga: has the legacy ports) or 03:80 (bochs-display).
    public var isVGACompatible: Bool
}

public enum BochsDisplay {
    public static let vendorID: UInt32 = 0x1234
    public static let deviceID: UInt32 = 0x1111
    /// dispi register indices (Bochs vbe.h).
    public enum Register {
        public static let id: UInt16 = 0
        public static let xResolution: UInt16 = 1
        public static let yResolution: UInt16 = 2
        public static let bitsPerPixel: UInt16 = 3
        public static let enable: UInt16 = 4
        public static let bank: UInt16 = 5
        public static let virtualWidth: UInt16 = 6
        public static let virtualHeight: UInt16 = 7
        public static let xOffset: UInt16 = 8
        public static let yOffset: UInt16 = 9
    }
    /// VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED.
    public static let enableLinearFramebuffer: UInt16 = 0x41
    /// VBE_DISPI_ID0 ... VBE_DISPI_ID5.
    public static let minimumID: UInt16 = 0xB0C0, maximumID: UInt16 = 0xB0C5

    /// The first 1234:1111 on the first `buses` buses (QEMU puts it on bus 0; each probe is
    /// a VM exit under KVM, so the kernel looks at bus 0 only), with its BARs decoded.
    public static func find<P: PCIConfigurationAccess>(_ pci: P, buses: Int = 1) -> BochsDisplayDevice? {
        for bus in 0..<buses {
            for device in 0..<32 {
                let ids = pci.read32(bus: bus, device: device, function: 0, offset: 0)
                if ids & 0xFFFF == 0xFFFF { continue }
                guard ids & 0xFFFF == vendorID && ids >> 16 == deviceID else { continue }
                let classCode = pci.read32(bus: bus, device: device, function: 0, offset: 8) >> 16
                guard classCode >> 8 == 0x03 else { continue }
                guard let framebuffer = memoryBAR(pci, bus, device, 0) else { continue }
                return BochsDisplayDevice(bus: bus, device: device, function: 0, framebufferAddress: framebuffer,
                                          registersAddress: memoryBAR(pci, bus, device, 2),
                                          isVGACompatible: classCode == 0x0300)
            }
        }
        return nil
    }

    /// A memory BAR's base (32- or 64-bit), nil for an I/O BAR or an unassigned one.
    static func memoryBAR<P: PCIConfigurationAccess>(_ pci: P, _ bus: Int, _ device: Int, _ index: Int) -> UInt64? {
        let low = pci.read32(bus: bus, device: device, function: 0, offset: 0x10 + 4 * index)
        guard low & 1 == 0 else { return nil }
        var base = UInt64(low & ~0xF)
        if (low >> 1) & 3 == 2 && index < 5 {
            base |= UInt64(pci.read32(bus: bus, device: device, function: 0, offset: 0x14 + 4 * index)) << 32
        }
        return base == 0 ? nil : base
    }

    /// Sets width × height at 32 bits per pixel with the linear framebuffer on and returns
    /// its description; nil when the registers do not answer with a dispi ID or refuse the mode.
    public static func setMode<R: BochsDisplayRegisters>(_ registers: R, framebufferAddress: UInt64,
                                                         width: Int, height: Int) -> FramebufferDescription? {
        let id = registers.read(Register.id)
        guard id >= minimumID && id <= maximumID else { return nil }
        registers.write(Register.enable, 0)
        registers.write(Register.xResolution, UInt16(width))
        registers.write(Register.yResolution, UInt16(height))
        registers.write(Register.bitsPerPixel, 32)
        registers.write(Register.virtualWidth, UInt16(width))
        registers.write(Register.virtualHeight, UInt16(height))
        registers.write(Register.xOffset, 0)
        registers.write(Register.yOffset, 0)
        registers.write(Register.bank, 0)
        registers.write(Register.enable, enableLinearFramebuffer)
        let actualWidth = Int(registers.read(Register.xResolution))
        let actualHeight = Int(registers.read(Register.yResolution))
        guard actualWidth == width && actualHeight == height && registers.read(Register.bitsPerPixel) == 32 else { return nil }
        let virtualWidth = max(Int(registers.read(Register.virtualWidth)), width)
        return FramebufferDescription(physicalAddress: framebufferAddress, width: width, height: height,
                                      pitch: virtualWidth * 4, bitsPerPixel: 32)
    }
}
