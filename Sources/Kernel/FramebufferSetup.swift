// FramebufferSetup — finding the screen, the kernel's text console on it, and the /dev/fb0
// device object (Kernel layer).
//
// The framebuffer comes from GRUB's multiboot 2 tag (BootInfo.swift) or, under QEMU -kernel
// boots with `-vga std` / `-device bochs-display`, from the Bochs dispi device, which this
// file programs to 1024×768×32 (Sources/Drivers/BochsDisplay.swift has the logic). Video
// memory is below 4 GiB, inside the direct map Main.swift builds, so drawing is plain
// stores through physicalToVirtual. The console (Sources/Drivers/FramebufferConsole.swift)
// mirrors guest console output and kernel diagnostics (MachinePlatform.swift) until a guest
// maps /dev/fb0 (Sources/KernelCore/Devices/FramebufferDevice.swift).
import HW
import Drivers
import KernelArch
import KernelCore

/// Video memory through the direct map.
struct DirectMapFramebufferMemory: FramebufferMemory {
    let base: UInt64   // virtual address of the first byte
    let size: Int

    @inline(__always) func store8(_ offset: Int, _ value: UInt8) { hw_store8(base + UInt64(offset), value) }
    @inline(__always) func store16(_ offset: Int, _ value: UInt16) { hw_store16(base + UInt64(offset), value) }
    @inline(__always) func store32(_ offset: Int, _ value: UInt32) { hw_store32(base + UInt64(offset), value) }

    func move(from source: Int, to destination: Int, count: Int) {
        precondition(source >= 0 && destination >= 0 && count >= 0 && source + count <= size && destination + count <= size)
        // SAFETY: both ranges lie inside the framebuffer (checked above), which the direct map covers.
        let to = UnsafeMutableRawPointer(bitPattern: UInt(base + UInt64(destination)))!
        let from = UnsafeRawPointer(bitPattern: UInt(base + UInt64(source)))!
        to.copyMemory(from: from, byteCount: count)   // memmove: the ranges overlap when scrolling
    }
}

/// PCI configuration mechanism #1: address to 0xCF8, data at 0xCFC.
struct PortPCIConfiguration: PCIConfigurationAccess {
    func read32(bus: Int, device: Int, function: Int, offset: Int) -> UInt32 {
        let address = UInt32(0x8000_0000) | UInt32(bus & 0xFF) << 16 | UInt32(device & 0x1F) << 11
            | UInt32(function & 7) << 8 | UInt32(offset & 0xFC)
        hw_outl(0xCF8, address)
        return hw_inl(0xCFC)
    }
}

/// stdvga's dispi registers at I/O ports 0x1CE/0x1CF.
struct PortDispiRegisters: BochsDisplayRegisters {
    func read(_ index: UInt16) -> UInt16 { hw_outw(0x1CE, index); return hw_inw(0x1CF) }
    func write(_ index: UInt16, _ value: UInt16) { hw_outw(0x1CE, index); hw_outw(0x1CF, value) }
}

/// The dispi registers memory-mapped at BAR2 + 0x500.
struct MMIODispiRegisters: BochsDisplayRegisters {
    let base: UInt64   // virtual address of BAR2 + 0x500
    func read(_ index: UInt16) -> UInt16 { hw_load16(base + UInt64(index) * 2) }
    func write(_ index: UInt16, _ value: UInt16) { hw_store16(base + UInt64(index) * 2, value) }
}

enum Screen {
    nonisolated(unsafe) static var console: FramebufferConsole<DirectMapFramebufferMemory>? = nil
    nonisolated(unsafe) static var device: FramebufferDevice? = nil
    static let preferredWidth = 1024, preferredHeight = 768

    /// Call once the kernel's direct map covers the 32-bit MMIO hole.
    static func setUp(bootFramebuffer: FramebufferDescription?) {
        var found = bootFramebuffer
        if found == nil, let display = BochsDisplay.find(PortPCIConfiguration()) {
            if let mmio = display.registersAddress, mmio < 0x1_0000_0000 {
                found = BochsDisplay.setMode(MMIODispiRegisters(base: physicalToVirtual(mmio + 0x500)),
                                             framebufferAddress: display.framebufferAddress,
                                             width: preferredWidth, height: preferredHeight)
            }
            if found == nil && display.isVGACompatible {
                found = BochsDisplay.setMode(PortDispiRegisters(), framebufferAddress: display.framebufferAddress,
                                             width: preferredWidth, height: preferredHeight)
            }
            if found != nil && display.isVGACompatible {
                // Attribute controller: palette address source on, or stdvga shows a blank screen.
                _ = hw_inb(0x3DA)
                hw_outb(0x3C0, 0x20)
            }
        }
        guard let description = found, description.isUsable,
              description.physicalAddress + UInt64(description.byteCount) <= 0x1_0000_0000 else { return }
        let memory = DirectMapFramebufferMemory(base: physicalToVirtual(description.physicalAddress),
                                                size: description.byteCount)
        let text = FramebufferConsole(canvas: FramebufferCanvas(description: description, memory: memory))
        text.reset()
        console = text
        HostChannel.write("info screen \(description.width)x\(description.height)x\(description.bitsPerPixel) at \(hex(description.physicalAddress))\n")
        let fb = FramebufferDevice(description: description)
        fb.onMap = { Screen.console?.suspended = true }
        device = fb
    }
}
