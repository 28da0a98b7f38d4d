// BootInfo — what the boot loader told us: RAM ranges, the boot module, the command line
// and, from multiboot 2, the framebuffer (Kernel layer). Three protocols: multiboot 1 (QEMU
// -kernel on pc/q35), multiboot 2 (GRUB, from `egg pack` ISOs, BIOS or UEFI) and PVH
// (microvm). References: Multiboot 0.6.96 §3.3; Multiboot2 specification 2.0 §3.6;
// Xen public/arch-x86/hvm/start_info.h.
import KernelArch
import KernelCore

let multibootMagic: UInt64 = 0x2BAD_B002
let pvhMagic: UInt64 = 0x336E_C578
let multiboot2Magic: UInt64 = 0x36D7_6289

struct BootModule {
    var start: UInt64
    var end: UInt64
    /// The module's own command line (multiboot 1 and 2), empty when there is none.
    var commandLine: [UInt8] = []
}

struct BootInfo {
    var usableMemory: [AddressRange] = []
    var modules: [BootModule] = []
    var commandLine: [UInt8] = []
    var protocolName = "unknown"
    /// The linear framebuffer the boot loader set up (multiboot 2 tag 8, RGB type only).
    var framebuffer: FramebufferDescription? = nil
    /// A copy of the ACPI RSDP (multiboot 2 tags 14 and 15); nil: SMP.swift scans the BIOS area.
    var acpiRSDP: [UInt8]? = nil

    static func parse(magic: UInt64, info: UInt64, memory: DirectMapMemory) -> BootInfo? {
        var boot = BootInfo()
        func u32(_ pa: UInt64) -> UInt64 { memory.load64(pa) & 0xFFFF_FFFF }
        func cString(_ pa: UInt64) -> [UInt8] {
            var out = [UInt8]()
            var p = pa
            while out.count < 4096 {
                let b = memory.load8(p)
                if b == 0 { break }
                out.append(b)
                p += 1
            }
            return out
        }
        if magic == multibootMagic {
            boot.protocolName = "multiboot"
            let flags = u32(info)
            if flags & (1 << 2) != 0 { boot.commandLine = cString(u32(info + 16)) }
            if flags & (1 << 3) != 0 {
                let count = u32(info + 20), base = u32(info + 24)
                for i in 0..<count {
                    let m = base + i * 16
                    boot.modules.append(BootModule(start: u32(m), end: u32(m + 4)))
                }
            }
            if flags & (1 << 6) != 0 {
                let length = u32(info + 44), base = u32(info + 48)
                var p = base
                while p < base + length {
                    let size = u32(p)
                    let addr = memory.load64(p + 4), len = memory.load64(p + 12), type = u32(p + 20)
                    if type == 1 { boot.usableMemory.append(AddressRange(start: addr, end: addr + len)) }
                    p += size + 4
                }
            } else if flags & 1 != 0 {
                boot.usableMemory.append(AddressRange(start: 0x10_0000, end: 0x10_0000 + u32(info + 8) * 1024))
            }
        } else if magic == multiboot2Magic {
            boot.protocolName = "multiboot2"
            parseMultiboot2(info: info, memory: memory, into: &boot)
        } else if magic == pvhMagic {
            boot.protocolName = "pvh"
            guard u32(info) == pvhMagic else { return nil }
            let version = u32(info + 4)
            let count = u32(info + 12), list = memory.load64(info + 16)
            for i in 0..<count {
                let m = list + i * 32
                let start = memory.load64(m), size = memory.load64(m + 8)
                boot.modules.append(BootModule(start: start, end: start + size))
            }
            let cmdline = memory.load64(info + 24)
            if cmdline != 0 { boot.commandLine = cString(cmdline) }
            if version >= 1 {
                let map = memory.load64(info + 40), entries = u32(info + 48)
                for i in 0..<entries {
                    let e = map + i * 24
                    if u32(e + 16) == 1 {
                        let addr = memory.load64(e), len = memory.load64(e + 8)
                        boot.usableMemory.append(AddressRange(start: addr, end: addr + len))
                    }
                }
            }
        } else {
            return nil
        }
        return boot
    }
}

extension BootInfo {
    /// Multiboot 2: a u32 total size, a reserved u32, then tags (u32 type, u32 size, payload)
    /// each starting 8-byte aligned, up to the end tag (type 0).
    static func parseMultiboot2(info: UInt64, memory: DirectMapMemory, into boot: inout BootInfo) {
        func u32(_ pa: UInt64) -> UInt64 { memory.load64(pa) & 0xFFFF_FFFF }
        func u8(_ pa: UInt64) -> UInt8 { memory.load8(pa) }
        func string(_ pa: UInt64, _ end: UInt64) -> [UInt8] {
            var out = [UInt8]()
            var p = pa
            while p < end, out.count < 4096 {
                let b = memory.load8(p)
                if b == 0 { break }
                out.append(b)
                p += 1
            }
            return out
        }
        let total = u32(info)
        guard total >= 16 else { return }
        var tag = info + 8
        while tag + 8 <= info + total {
            let type = u32(tag), size = u32(tag + 4)
            if type == 0 || size < 8 { break }
            let end = tag + size
            switch type {
            case 1:  // boot command line
                boot.commandLine = string(tag + 8, end)
            case 3:  // module: mod_start, mod_end, string
                boot.modules.append(BootModule(start: u32(tag + 8), end: u32(tag + 12),
                                               commandLine: string(tag + 16, end)))
            case 6:  // memory map: entry_size, entry_version, entries of (base, length, type, reserved)
                let entrySize = u32(tag + 8)
                if entrySize >= 24 {
                    var e = tag + 16
                    while e + entrySize <= end {
                        if u32(e + 16) == 1 {
                            let addr = memory.load64(e), len = memory.load64(e + 8)
                            boot.usableMemory.append(AddressRange(start: addr, end: addr + len))
                        }
                        e += entrySize
                    }
                }
            case 14, 15:  // ACPI old / new RSDP, copied in the tag after its 8-byte header
                if boot.acpiRSDP == nil || type == 15 {
                    boot.acpiRSDP = (tag + 8 < end) ? (tag + 8 ..< end).map { u8($0) } : nil
                }
            case 8:  // framebuffer: addr u64, pitch, width, height u32, bpp u8, type u8, reserved u16, colour info
                if u8(tag + 29) == 1 {  // direct RGB (0 = indexed, 2 = EGA text)
                    boot.framebuffer = FramebufferDescription(
                        physicalAddress: memory.load64(tag + 8), width: Int(u32(tag + 20)), height: Int(u32(tag + 24)),
                        pitch: Int(u32(tag + 16)), bitsPerPixel: Int(u8(tag + 28)),
                        red: ColorField(offset: Int(u8(tag + 32)), length: Int(u8(tag + 33))),
                        green: ColorField(offset: Int(u8(tag + 34)), length: Int(u8(tag + 35))),
                        blue: ColorField(offset: Int(u8(tag + 36)), length: Int(u8(tag + 37))))
                }
            default:
                break
            }
            tag = (end + 7) & ~7
        }
    }
}
