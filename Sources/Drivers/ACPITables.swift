// ACPITables — finding the processors of a PC in the firmware's ACPI tables (Drivers layer).
//
// Pure byte parsing, host-tested (Tests/KernelCoreTests/ACPITablesTests.swift); the kernel
// (Sources/Kernel/SMP.swift) hands in a reader of physical memory. Followed: ACPI 6.5
// §5.2.5 (RSDP: "RSD PTR ", checksum over the first 20 bytes, extended checksum over
// `length` bytes for revision ≥ 2, found on a 16-byte boundary in the first KiB of the EBDA
// or in 0xE0000–0xFFFFF), §5.2.6 (the common table header, 36 bytes, all bytes summing to
// zero), §5.2.7/§5.2.8 (RSDT of 32-bit, XSDT of 64-bit table addresses) and §5.2.12 (MADT
// "APIC": local APIC address, flags, then interrupt controller structures: type 0 processor
// local APIC, type 1 I/O APIC, type 2 interrupt source override, type 9 processor local
// x2APIC). Multiboot 2 hands the kernel a copy of the RSDP (tags 14 and 15) instead.
// Power-off (`ACPITables.softOff`): §5.2.9 (FADT "FACP": SMI_CMD, ACPI_ENABLE, PM1a/PM1b
// control blocks, DSDT and their 64-bit X_ forms as Generic Address Structures, §5.2.3.2),
// §7.4.2 (\_S5 package: SLP_TYPa, SLP_TYPb) and §4.8.3.2.1 (PM1 control: SLP_TYP in bits
// 10-12, SLP_EN bit 13, SCI_EN bit 0); AML encoding from §20.2 (NameOp 0x08, PackageOp
// 0x12, PkgLength, BytePrefix 0x0A, ZeroOp, OneOp).

/// One processor the firmware lists.
public struct ACPIProcessor: Equatable, Sendable {
    public var apicID: UInt32
    /// Enabled now (flags bit 0); the others are "online capable" hot-plug slots or absent.
    public var enabled: Bool
}

public struct ACPIIOAPIC: Equatable, Sendable {
    public var id: UInt8
    public var address: UInt32
    public var globalInterruptBase: UInt32
}

/// An ISA interrupt routed somewhere other than the identity GSI (e.g. IRQ 0 → GSI 2).
public struct ACPIInterruptOverride: Equatable, Sendable {
    public var source: UInt8
    public var globalInterrupt: UInt32
    public var flags: UInt16
}

/// What the MADT says about the machine's interrupt controllers.
public struct ACPIMachine: Equatable, Sendable {
    public var localAPICAddress: UInt64 = 0xFEE0_0000
    /// Whether legacy 8259 PICs are present too (MADT flags bit 0, PCAT_COMPAT).
    public var hasLegacyPICs = false
    public var processors: [ACPIProcessor] = []
    public var ioAPICs: [ACPIIOAPIC] = []
    public var overrides: [ACPIInterruptOverride] = []

    /// APIC ids of the processors that are enabled, in table order (the boot CPU is
    /// normally first, but callers should not rely on that).
    public var enabledAPICIDs: [UInt32] { processors.filter { $0.enabled }.map { $0.apicID } }
}

public enum ACPITables {
    /// Where the root system description tables are, from an RSDP image.
    public struct Root: Equatable, Sendable {
        public var rsdt: UInt64
        public var xsdt: UInt64?
    }

    static func sum(_ bytes: [UInt8], _ range: Range<Int>) -> UInt8 {
        var s: UInt8 = 0
        for i in range { s = s &+ bytes[i] }
        return s
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }

    static let rsdpSignature: [UInt8] = Array("RSD PTR ".utf8)

    /// Parses an RSDP image (20 bytes for ACPI 1.0, 36 for 2.0+); nil when the signature or
    /// a checksum is wrong.
    public static func parseRSDP(_ b: [UInt8]) -> Root? {
        guard b.count >= 20, Array(b[0..<8]) == rsdpSignature, sum(b, 0..<20) == 0 else { return nil }
        var root = Root(rsdt: UInt64(u32(b, 16)), xsdt: nil)
        if b[15] >= 2, b.count >= 36 {
            let length = Int(u32(b, 20))
            if length >= 36, length <= b.count, sum(b, 0..<length) == 0 {
                let x = u64(b, 24)
                if x != 0 { root.xsdt = x }
            }
        }
        return root
    }

    /// Offset of a valid RSDP in `region` (searched on 16-byte boundaries), or nil.
    public static func findRSDP(in region: [UInt8]) -> Int? {
        var offset = 0
        while offset + 20 <= region.count {
            if region[offset] == 0x52, Array(region[offset..<offset + 8]) == rsdpSignature,
               parseRSDP(Array(region[offset..<min(offset + 36, region.count)])) != nil {
                return offset
            }
            offset += 16
        }
        return nil
    }

    /// A whole table at `address` (header checked: length sane, checksum zero), or nil.
    public static func readTable(at address: UInt64, read: (UInt64, Int) -> [UInt8]) -> [UInt8]? {
        let header = read(address, 36)
        guard header.count == 36 else { return nil }
        let length = Int(u32(header, 4))
        guard length >= 36, length <= 1 << 20 else { return nil }
        let table = read(address, length)
        guard table.count == length, sum(table, 0..<length) == 0 else { return nil }
        return table
    }

    /// The first table with `signature` listed by the RSDT/XSDT (XSDT preferred).
    public static func findTable(_ signature: String, root: Root, read: (UInt64, Int) -> [UInt8]) -> [UInt8]? {
        let wanted = Array(signature.utf8)
        let entrySize = root.xsdt != nil ? 8 : 4
        guard let directory = readTable(at: root.xsdt ?? root.rsdt, read: read) else { return nil }
        var at = 36
        while at + entrySize <= directory.count {
            let address = entrySize == 8 ? u64(directory, at) : UInt64(u32(directory, at))
            at += entrySize
            let header = read(address, 4)
            if header == wanted, let table = readTable(at: address, read: read) { return table }
        }
        return nil
    }

    /// Parses a MADT ("APIC" table) image; nil when it is not one.
    public static func parseMADT(_ t: [UInt8]) -> ACPIMachine? {
        guard t.count >= 44, Array(t[0..<4]) == Array("APIC".utf8) else { return nil }
        var machine = ACPIMachine()
        machine.localAPICAddress = UInt64(u32(t, 36))
        machine.hasLegacyPICs = u32(t, 40) & 1 != 0
        var at = 44
        while at + 2 <= t.count {
            let type = t[at], length = Int(t[at + 1])
            guard length >= 2, at + length <= t.count else { break }  // malformed: stop, keep what we have
            switch (type, length) {
            case (0, 8...):   // processor local APIC: uid u8, apic id u8, flags u32
                let flags = u32(t, at + 4)
                machine.processors.append(ACPIProcessor(apicID: UInt32(t[at + 3]), enabled: flags & 1 != 0))
            case (1, 12...):  // I/O APIC: id u8, reserved, address u32, GSI base u32
                machine.ioAPICs.append(ACPIIOAPIC(id: t[at + 2], address: u32(t, at + 4),
                                                  globalInterruptBase: u32(t, at + 8)))
            case (2, 10...):  // interrupt source override: bus u8, source u8, GSI u32, flags u16
                machine.overrides.append(ACPIInterruptOverride(source: t[at + 3], globalInterrupt: u32(t, at + 4),
                                                               flags: u16(t, at + 8)))
            case (5, 12...):  // local APIC address override: reserved u16, address u64
                machine.localAPICAddress = u64(t, at + 4)
            case (9, 16...):  // processor local x2APIC: reserved u16, x2apic id u32, flags u32, uid u32
                let flags = u32(t, at + 8)
                machine.processors.append(ACPIProcessor(apicID: u32(t, at + 4), enabled: flags & 1 != 0))
            default:
                break
            }
            at += length
        }
        return machine
    }

    /// Everything in one step: RSDP image → MADT → machine. nil when any step fails.
    public static func machine(rsdp: [UInt8], read: (UInt64, Int) -> [UInt8]) -> ACPIMachine? {
        guard let root = parseRSDP(rsdp), let madt = findTable("APIC", root: root, read: read) else { return nil }
        return parseMADT(madt)
    }
}

/// How to enter S5 (soft off) on this machine: write `(slpTyp << 10) | SLP_EN` to each PM1
/// control port. QEMU's DSDT (hw/i386/acpi-build.c) declares \_S5 as {0, 0} on both pc
/// (PIIX4 PM) and q35 (ICH9 LPC), and QEMU powers off on SLP_TYP 0 (hw/acpi/core.c,
/// acpi_pm1_cnt_write); real chipsets differ (ICH's S5 is 7), hence the DSDT lookup.
public struct ACPISoftOff: Equatable, Sendable {
    public var pm1aControlPort: UInt16
    /// 0 when the machine has no second PM1 block.
    public var pm1bControlPort: UInt16
    public var sleepTypeA: UInt16
    public var sleepTypeB: UInt16
    /// Port and value that switch the chipset from legacy (SMM) mode to ACPI mode; 0: none.
    public var smiCommandPort: UInt16
    public var acpiEnableValue: UInt8

    public static let sleepEnable: UInt16 = 1 << 13
    public static let sciEnable: UInt16 = 1

    /// The PM1 control values for S5.
    public var pm1aValue: UInt16 { (sleepTypeA & 7) << 10 | ACPISoftOff.sleepEnable }
    public var pm1bValue: UInt16 { (sleepTypeB & 7) << 10 | ACPISoftOff.sleepEnable }
}

extension ACPITables {
    /// The FADT's power-management ports and the DSDT's address; nil when `t` is not a FADT.
    public static func parseFADT(_ t: [UInt8]) -> (pm1a: UInt16, pm1b: UInt16, smiCommand: UInt16, acpiEnable: UInt8, dsdt: UInt64)? {
        guard t.count >= 76, Array(t[0..<4]) == Array("FACP".utf8) else { return nil }
        // A port above 0xFFFF (or a GAS not in system I/O space) cannot be reached with out.
        func port(_ value: UInt64) -> UInt16 { value <= 0xFFFF ? UInt16(value) : 0 }
        func gasPort(_ at: Int) -> UInt16 {
            guard t.count >= at + 12, t[at] == 1 else { return 0 }  // address space 1: system I/O
            return port(u64(t, at + 4))
        }
        var pm1a = port(UInt64(u32(t, 64))), pm1b = port(UInt64(u32(t, 68)))
        if pm1a == 0 { pm1a = gasPort(172) }
        if pm1b == 0 { pm1b = gasPort(184) }
        var dsdt = UInt64(u32(t, 40))
        if t.count >= 148, u64(t, 140) != 0 { dsdt = u64(t, 140) }
        return (pm1a, pm1b, port(UInt64(u32(t, 48))), t[52], dsdt)
    }

    /// SLP_TYPa and SLP_TYPb from the DSDT's `Name(\_S5, Package(){a, b, ...})`; nil when
    /// there is none (the machine declares no S5) or it is not in a form read here.
    public static func sleepTypeS5(dsdt: [UInt8]) -> (UInt16, UInt16)? {
        let name = Array("_S5_".utf8)
        var at = 36
        while at + 4 <= dsdt.count {
            defer { at += 1 }
            guard dsdt[at] == name[0], Array(dsdt[at..<at + 4]) == name else { continue }
            // NameOp directly before the name, or before a root prefix '\'.
            let named = (at >= 1 && dsdt[at - 1] == 0x08) || (at >= 2 && dsdt[at - 1] == 0x5C && dsdt[at - 2] == 0x08)
            var p = at + 4
            guard named, p < dsdt.count, dsdt[p] == 0x12 else { continue }  // PackageOp
            p += 1
            guard p < dsdt.count else { return nil }
            p += 1 + Int(dsdt[p] >> 6)  // PkgLength: bits 7-6 count the bytes that follow
            p += 1                       // NumElements
            var values: [UInt16] = []
            while values.count < 2 && p < dsdt.count {
                switch dsdt[p] {
                case 0x0A:  // BytePrefix
                    guard p + 1 < dsdt.count else { return nil }
                    values.append(UInt16(dsdt[p + 1]))
                    p += 2
                case 0x00: values.append(0); p += 1   // ZeroOp
                case 0x01: values.append(1); p += 1   // OneOp
                default: return values.isEmpty ? nil : (values[0], values[0])
                }
            }
            guard let first = values.first else { return nil }
            return (first, values.count > 1 ? values[1] : first)
        }
        return nil
    }

    /// Everything in one step: RSDP image → FADT → DSDT → how to power off. nil when a
    /// table is missing or there is no PM1a control port.
    public static func softOff(rsdp: [UInt8], read: (UInt64, Int) -> [UInt8]) -> ACPISoftOff? {
        guard let root = parseRSDP(rsdp), let fadtTable = findTable("FACP", root: root, read: read),
              let fadt = parseFADT(fadtTable), fadt.pm1a != 0,
              let dsdt = readTable(at: fadt.dsdt, read: read), let (a, b) = sleepTypeS5(dsdt: dsdt) else { return nil }
        return ACPISoftOff(pm1aControlPort: fadt.pm1a, pm1bControlPort: fadt.pm1b, sleepTypeA: a, sleepTypeB: b,
                           smiCommandPort: fadt.smiCommand, acpiEnableValue: fadt.acpiEnable)
    }
}
