// IOAPIC — routing one device interrupt through an I/O APIC (Kernel layer).
//
// Devices on pc/q35 reach the kernel through the legacy 8259 PIC (LegacyPIC in Main.swift);
// QEMU's microvm wires its virtio-mmio transports to I/O APIC pins instead, so
// NetworkSetup.swift routes the card's GSI here. The I/O APICs come from the ACPI MADT that
// SMP.swift parses (SMP.acpiMachine, Sources/Drivers/ACPITables.swift); the interrupt ends
// at the local APIC (LocalAPIC.endOfInterrupt in SMP.swift, called from Traps.swift).
// Followed: Intel 82093AA I/O APIC datasheet §3 (IOREGSEL at +0x00, IOWIN at +0x10;
// register 0x01 IOAPICVER bits 16-23 = highest redirection entry; redirection entry n at
// registers 0x10+2n (low) / 0x11+2n (high): vector 0-7, delivery mode 8-10 (000 fixed),
// destination mode 11 (0 physical), polarity 13 (1 active low), trigger mode 15 (1 level),
// mask 16, destination APIC id in bits 56-63).
import HW
import Drivers
import KernelArch
import KernelCore

enum IOAPIC {
    /// The vector the network card's interrupt arrives on (above the PIC's 32-47, below the
    /// local APIC timer's 0x40).
    static let networkVector: UInt8 = 0x30

    static let defaultAddress: UInt64 = 0xFEC0_0000

    /// One I/O APIC: its register window and the first GSI its pin 0 serves.
    struct Controller {
        var address: UInt64
        var globalInterruptBase: UInt32
    }

    static func read(_ base: UInt64, _ register: UInt32) -> UInt32 {
        hw_store32(physicalToVirtual(base), register)
        return hw_load32(physicalToVirtual(base + 0x10))
    }

    static func write(_ base: UInt64, _ register: UInt32, _ value: UInt32) {
        hw_store32(physicalToVirtual(base), register)
        hw_store32(physicalToVirtual(base + 0x10), value)
    }

    /// Number of redirection entries (pins) of the I/O APIC at `base`.
    static func pinCount(_ base: UInt64) -> UInt32 { (read(base, 0x01) >> 16 & 0xFF) + 1 }

    /// The low half of a redirection entry: fixed delivery, physical destination.
    static func entryLow(vector: UInt8, levelTriggered: Bool, activeLow: Bool, masked: Bool) -> UInt32 {
        var low = UInt32(vector)
        if activeLow { low |= 1 << 13 }
        if levelTriggered { low |= 1 << 15 }
        if masked { low |= 1 << 16 }
        return low
    }

    /// Routes global system interrupt `gsi` to `vector` on the CPU with APIC id `destination`,
    /// masked; nil when no I/O APIC serves it or its registers cannot be mapped. Otherwise
    /// returns the I/O APIC base and pin for `unmask` once the vector's handler is ready.
    static func route(gsi: UInt32, vector: UInt8, levelTriggered: Bool, activeLow: Bool, destination: UInt32,
                      controllers: [Controller], kernelTable: PageTable) -> (base: UInt64, pin: UInt32)? {
        guard destination < 255 else { return nil }
        for controller in controllers where gsi >= controller.globalInterruptBase {
            let base = controller.address
            guard KernelMMIO.mapUncached(base, length: 0x20, in: kernelTable) else { return nil }
            let pin = gsi - controller.globalInterruptBase
            guard pin < pinCount(base) else { continue }
            let low = entryLow(vector: vector, levelTriggered: levelTriggered, activeLow: activeLow, masked: true)
            write(base, 0x10 + 2 * pin, low)              // masked first, then the destination
            write(base, 0x11 + 2 * pin, destination << 24)
            write(base, 0x10 + 2 * pin, low)
            return (base, pin)
        }
        return nil
    }

    static func unmask(base: UInt64, pin: UInt32) {
        write(base, 0x10 + 2 * pin, read(base, 0x10 + 2 * pin) & ~UInt32(1 << 16))
    }

    /// QEMU microvm's GSI for virtio-mmio transport `slot` (QEMU 7.2 hw/i386/microvm.c,
    /// microvm_devices_init): with the second I/O APIC (ACPI on, ioapic2 not off; GSI base 24)
    /// 24 + slot; with ACPI but one I/O APIC 16 + slot; without ACPI 5 + slot (8 transports).
    /// The lines are level-triggered, active high (hw/i386/acpi-microvm.c's DSDT: AML_LEVEL,
    /// AML_ACTIVE_HIGH). Also returns the I/O APICs to route through.
    static func microvmVirtioGSI(slot: UInt32) -> (gsi: UInt32, controllers: [Controller])? {
        guard let machine = SMP.acpiMachine, !machine.ioAPICs.isEmpty else {
            guard slot < 8 else { return nil }
            return (5 + slot, [Controller(address: defaultAddress, globalInterruptBase: 0)])
        }
        let controllers = machine.ioAPICs.map {
            Controller(address: UInt64($0.address), globalInterruptBase: $0.globalInterruptBase)
        }
        if controllers.contains(where: { $0.globalInterruptBase == 24 }) { return (24 + slot, controllers) }
        guard slot < 8 else { return nil }
        return (16 + slot, controllers)
    }
}
