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
