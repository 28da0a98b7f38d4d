// ACPIPowerOff — switching the machine off when the program has exited and no egg is there
// to end QEMU (Kernel layer).
//
// Under `egg run` the kernel ends QEMU through isa-debug-exit (MachinePlatform.swift,
// HostChannel.exit). An image made by `egg pack` and booted on a PC, or in a QEMU started
// by hand, has no such device: there the kernel prints the exit status on the console and
// enters ACPI S5 (soft off) through the PM1 control ports that the FADT names, with the
// sleep type from the DSDT's \_S5 package (parsing: Sources/Drivers/ACPITables.swift,
// ACPITables.softOff). Without ACPI, or if the machine stays on, it halts.
// The RSDP is remembered at boot (Main.swift) and the tables are read only at power-off,
// so a normal boot pays nothing.
import HW
import Drivers
import KernelArch

enum ACPIPowerOff {
    nonisolated(unsafe) static var rsdp: [UInt8]? = nil
    nonisolated(unsafe) static var memory: DirectMapMemory? = nil

    static func remember(rsdp bootRSDP: [UInt8]?, memory directMap: DirectMapMemory) {
        rsdp = bootRSDP
        memory = directMap
    }

    /// Enters S5 if the firmware describes how; returns if it could not (the caller halts).
    static func attempt() {
        guard let memory else { return }
        func read(_ physical: UInt64, _ count: Int) -> [UInt8] {
            guard physical < 0x1_0000_0000, count > 0, count <= 1 << 20 else { return [] }  // the direct map's 4 GiB
            var out = [UInt8](repeating: 0, count: count)
            memory.read(physical, into: &out, offset: 0, count: count)
            return out
        }
        var image = rsdp
        if image == nil {
            // BIOS machines: the RSDP is in the first KiB of the EBDA or in 0xE0000-0xFFFFF
            // (ACPI 6.5 §5.2.5.1), as SMP.swift searches it too.
            let ebda = UInt64(read(0x40E, 2).reduce(0) { $0 >> 8 | UInt32($1) << 8 }) << 4
            for (base, size) in [(ebda, 1024), (UInt64(0xE0000), 0x20000)] where base >= 0x400 {
                let region = read(base, size)
                if let at = ACPITables.findRSDP(in: region) {
                    image = Array(region[at..<min(at + 36, region.count)])
                    break
                }
            }
        }
        guard let image, let plan = ACPITables.softOff(rsdp: image, read: read) else { return }
        // Legacy mode (SCI_EN clear): ask the firmware to hand over to ACPI first (§4.8.2.1).
        if hw_inw(plan.pm1aControlPort) & ACPISoftOff.sciEnable == 0, plan.smiCommandPort != 0, plan.acpiEnableValue != 0 {
            hw_outb(plan.smiCommandPort, plan.acpiEnableValue)
            var spins = 0
            while hw_inw(plan.pm1aControlPort) & ACPISoftOff.sciEnable == 0 && spins < 3_000_000 {
                hw_pause()
                spins += 1
            }
        }
        hw_outw(plan.pm1aControlPort, plan.pm1aValue)
        if plan.pm1bControlPort != 0 { hw_outw(plan.pm1bControlPort, plan.pm1bValue) }
        // The write takes effect at once on QEMU; real chipsets may take a moment.
        for _ in 0..<10_000_000 { hw_pause() }
    }
}
