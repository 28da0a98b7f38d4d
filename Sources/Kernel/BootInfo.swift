// BootInfo — what the boot loader told us: RAM ranges, the boot module, the command line
// (Kernel layer). Two protocols: multiboot 1 (QEMU -kernel on pc/q35, GRUB) and PVH
// (microvm). References: Multiboot 0.6.96 §3.3; Xen public/arch-x86/hvm/start_info.h.
import KernelArch
import KernelCore

let multibootMagic: UInt64 = 0x2BAD_B002
let pvhMagic: UInt64 = 0x336E_C578

struct BootModule {
    var start: UInt64
    var end: UInt64
}

struct BootInfo {
    var usableMemory: [AddressRange] = []
    var modules: [BootModule] = []
    var commandLine: [UInt8] = []
    var protocolName = "unknown"

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
