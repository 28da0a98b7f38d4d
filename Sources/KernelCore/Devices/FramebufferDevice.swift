// FramebufferDevice — /dev/fb0, the Linux fbdev interface to the boot framebuffer
// (KernelCore layer, pure logic).
//
// The framebuffer itself is found by the Kernel layer (multiboot 2 tag in
// Sources/Kernel/BootInfo.swift, or the Bochs/QEMU VGA PCI device through
// Sources/Drivers/BochsDisplay.swift) and described here by FramebufferDescription; the
// kernel's own text console on it is Sources/Drivers/FramebufferConsole.swift. This file
// holds what a guest sees: the FBIOGET_VSCREENINFO / FBIOGET_FSCREENINFO / FBIOPAN_DISPLAY
// ioctls and mmap of the device, which maps the framebuffer's physical pages straight into
// the guest (MAP_SHARED), so a Linux fbdev program draws unmodified. The file-descriptor
// side belongs to the VFS: /dev/fb0 is a character-device inode (FramebufferNode.swift)
// whose driver is this object (Sources/KernelCore/VFS/CharacterDevice.swift), so
// FileSyscalls.swift calls the handlers below for its descriptors.
// References: include/uapi/linux/fb.h; Documentation/fb/api.rst; mmap(2).
import LinuxABI

/// One colour channel inside a pixel: `offset` bits from the least significant bit,
/// `length` bits wide (struct fb_bitfield without msb_right).
public struct ColorField: Equatable, Sendable {
    public var offset: Int
    public var length: Int
    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

/// A linear, direct-colour framebuffer in physical memory.
public struct FramebufferDescription: Equatable, Sendable {
    public var physicalAddress: UInt64
    public var width: Int
    public var height: Int
    /// Bytes from one line to the next (may exceed width × bytes per pixel).
    public var pitch: Int
    public var bitsPerPixel: Int
    public var red: ColorField
    public var green: ColorField
    public var blue: ColorField

    public init(physicalAddress: UInt64, width: Int, height: Int, pitch: Int, bitsPerPixel: Int,
                red: ColorField = ColorField(offset: 16, length: 8),
                green: ColorField = ColorField(offset: 8, length: 8),
                blue: ColorField = ColorField(offset: 0, length: 8)) {
        self.physicalAddress = physicalAddress
        self.width = width
        self.height = height
        self.pitch = pitch
        self.bitsPerPixel = bitsPerPixel
        self.red = red
        self.green = green
        self.blue = blue
    }

    public var bytesPerPixel: Int { (bitsPerPixel + 7) / 8 }
    /// The visible bytes (smem_len is this rounded up to whole pages).
    public var byteCount: Int { pitch * height }
    public var mappableBytes: UInt64 { (UInt64(byteCount) + 0xFFF) & ~0xFFF }

    /// Something the kernel can draw on: 15/16/24/32 bits, non-empty, the pitch holding a line.
    public var isUsable: Bool {
        width > 0 && height > 0 && (bitsPerPixel == 15 || bitsPerPixel == 16 || bitsPerPixel == 24 || bitsPerPixel == 32)
            && pitch >= width * bytesPerPixel && physicalAddress != 0
    }

    /// The pixel value for an 8-bit-per-channel colour.
    public func pixel(red r: UInt8, green g: UInt8, blue b: UInt8) -> UInt32 {
        func place(_ v: UInt8, _ f: ColorField) -> UInt32 {
            guard f.length > 0 && f.length <= 8 && f.offset < 32 else { return 0 }
            return (UInt32(v) >> UInt32(8 - f.length)) << UInt32(f.offset)
        }
        return place(r, red) | place(g, green) | place(b, blue)
    }
}

/// fbdev ioctl numbers (include/uapi/linux/fb.h): type 'F' (0x46), no size encoded.
public enum FramebufferIoctl {
    public static let getVariableScreenInfo: UInt64 = 0x4600   // FBIOGET_VSCREENINFO
    public static let putVariableScreenInfo: UInt64 = 0x4601   // FBIOPUT_VSCREENINFO
    public static let getFixedScreenInfo: UInt64 = 0x4602      // FBIOGET_FSCREENINFO
    public static let panDisplay: UInt64 = 0x4606              // FBIOPAN_DISPLAY
    public static let blank: UInt64 = 0x4611                   // FBIOBLANK
    public static let waitForVSync: UInt64 = 0x4004_4620       // FBIO_WAITFORVSYNC (_IOW('F', 0x20, u32))

    public static let variableScreenInfoSize = 160
    public static let fixedScreenInfoSize = 80
}

public final class FramebufferDevice {
    public let description: FramebufferDescription
    /// The identification string in fb_fix_screeninfo.id (at most 15 bytes).
    public let name: [UInt8]
    /// Called when a guest maps the framebuffer: the kernel's text console stops drawing,
    /// as Linux's fbcon does when a program switches the VT to graphics mode.
    public var onMap: (() -> Void)? = nil

    public init(description: FramebufferDescription, name: [UInt8] = Array("egg-fb".utf8)) {
        self.description = description
        self.name = name
    }

    // MARK: struct images

    /// struct fb_var_screeninfo (160 bytes): the visible and the virtual resolution are the
    /// same (no double buffering by panning), offsets 0, timings left 0 as for a simple
    /// framebuffer (drivers/video/fbdev/simplefb.c does the same).
    public func variableScreenInfo() -> [UInt8] {
        let d = description
        var w = ByteWriter()
        w.u32(UInt32(d.width)); w.u32(UInt32(d.height))          // xres, yres
        w.u32(UInt32(d.width)); w.u32(UInt32(d.height))          // xres_virtual, yres_virtual
        w.u32(0); w.u32(0)                                       // xoffset, yoffset
        w.u32(UInt32(d.bitsPerPixel)); w.u32(0)                  // bits_per_pixel, grayscale
        for f in [d.red, d.green, d.blue] {                      // struct fb_bitfield × 3
            w.u32(UInt32(f.offset)); w.u32(UInt32(f.length)); w.u32(0)
        }
        w.zeros(12)                                              // transp
        w.u32(0)                                                 // nonstd
        w.u32(0)                                                 // activate (FB_ACTIVATE_NOW)
        w.u32(0xFFFF_FFFF); w.u32(0xFFFF_FFFF)                   // height, width in mm: unknown (-1)
        w.u32(0)                                                 // accel_flags
        w.zeros(11 * 4)                                          // pixclock ... colorspace
        w.zeros(16)                                              // reserved[4]
        return w.bytes
    }

    /// struct fb_fix_screeninfo (80 bytes on x86-64; smem_start and mmio_start are
    /// unsigned long).
    public func fixedScreenInfo() -> [UInt8] {
        let d = description
        var w = ByteWriter()
        w.field(name, size: 16)                                  // id[16]
        w.u64(d.physicalAddress)                                 // smem_start
        w.u32(UInt32(truncatingIfNeeded: d.mappableBytes))       // smem_len
        w.u32(0)                                                 // type: FB_TYPE_PACKED_PIXELS
        w.u32(0)                                                 // type_aux
        w.u32(2)                                                 // visual: FB_VISUAL_TRUECOLOR
        w.u16(0); w.u16(0); w.u16(0)                             // xpanstep, ypanstep, ywrapstep
        w.zeros(2)
        w.u32(UInt32(d.pitch))                                   // line_length
        w.zeros(4)
        w.u64(0)                                                 // mmio_start
        w.u32(0)                                                 // mmio_len
        w.u32(0)                                                 // accel: FB_ACCEL_NONE
        w.u16(0)                                                 // capabilities
        w.zeros(4)                                               // reserved[2]
        w.zeros(2)                                               // tail padding to 8-byte alignment
        return w.bytes
    }

    // MARK: system-call handlers (called by the VFS for an open /dev/fb0)

    /// ioctl(fd, request, argument) on /dev/fb0. Unknown requests are ENOTTY, as Linux's
    /// fb_ioctl returns for them.
    public func ioctl(_ k: KernelState, request: UInt64, argument: UInt64) throws(Errno) -> Int {
        let address = UserAddress(argument)
        switch request & 0xFFFF_FFFF {
        case FramebufferIoctl.getVariableScreenInfo:
            if let e = k.memory.copyOut(address, from: variableScreenInfo()) { throw e }
            return 0
        case FramebufferIoctl.getFixedScreenInfo:
            if let e = k.memory.copyOut(address, from: fixedScreenInfo()) { throw e }
            return 0
        case FramebufferIoctl.putVariableScreenInfo, FramebufferIoctl.panDisplay:
            // The mode is fixed: accept a request that asks for what we have (programs often
            // write back the structure they read), refuse anything else. Pan: only (0, 0).
            let info: [UInt8]
            info = try k.memory.copyIn(address, count: FramebufferIoctl.variableScreenInfoSize).get()
            let r = ByteReader(info)
            let xoffset = r.u32(16), yoffset = r.u32(20)
            guard xoffset == 0 && yoffset == 0 else { throw .EINVAL }
            if request & 0xFFFF_FFFF == FramebufferIoctl.putVariableScreenInfo {
                let d = description
                let xres = Int(r.u32(0)), yres = Int(r.u32(4)), bpp = Int(r.u32(24))
                guard (xres == 0 || xres == d.width) && (yres == 0 || yres == d.height)
                        && (bpp == 0 || bpp == d.bitsPerPixel) else { throw .EINVAL }
                if let e = k.memory.copyOut(address, from: variableScreenInfo()) { throw e }
            }
            return 0
        case FramebufferIoctl.blank:
            return 0
        case FramebufferIoctl.waitForVSync:
            return 0
        default:
            throw .ENOTTY
        }
    }

    /// mmap(address, length, protection, flags, fd, offset) of /dev/fb0: the pages of the
    /// framebuffer from `offset`, installed at once (device memory is never demand-paged
    /// and never freed into the frame pool: it lies outside usable RAM, where
    /// FramePool.freeFrame ignores it). MAP_PRIVATE is accepted too and behaves like
    /// MAP_SHARED, as for Linux's fb_mmap (the pages are the device's).
    public func mmap(_ k: KernelState, address: UInt64, length: UInt64, protection: MemoryProtection,
                     placement: MappingPlacement, offset: UInt64, handle: UInt64) throws(Errno) -> Int {
        guard length > 0, offset & 0xFFF == 0 else { throw .EINVAL }
        let size = description.mappableBytes
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, offset < size, end <= size + 0xFFF else { throw .EINVAL }
        let pages = (length + 0xFFF) / 0x1000
        let result: MapResult
        switch k.memory.map.map(at: address, length: length, protection: protection, placement: placement,
                                backing: .file(handle: handle, offset: offset), shared: true, name: "/dev/fb0") {
        case .failure(let e): throw e
        case .success(let r): result = r
        }
        for range in result.replaced { k.memory.release(range) }
        onMap?()
        guard !protection.isEmpty else { return Int(result.address) }
        for i in 0..<pages {
            let frame = description.physicalAddress + offset + i * 0x1000
            guard k.memory.install(frame: frame, at: result.address + i * 0x1000, protection: protection) else {
                _ = k.memory.map.unmap(start: result.address, length: length)
                k.memory.release(AddressRange(start: result.address, end: result.address + pages * 0x1000))
                throw .ENOMEM
            }
        }
        return Int(result.address)
    }

    /// read(2)/pread(2) of /dev/fb0: bytes of the framebuffer from `offset`; 0 at its end.
    public func read(_ k: KernelState, into address: UserAddress, count: Int, offset: Int) throws(Errno) -> Int {
        guard count >= 0, offset >= 0 else { throw .EINVAL }
        let n = max(0, min(count, Int(description.mappableBytes) - offset))
        if n == 0 { return 0 }
        var buffer = [UInt8](repeating: 0, count: n)
        k.memory.memory.read(description.physicalAddress + UInt64(offset), into: &buffer, offset: 0, count: n)
        if let e = k.memory.copyOut(address, from: buffer) { throw e }
        return n
    }

    /// write(2)/pwrite(2) of /dev/fb0: ENOSPC at its end, like Linux's fb_write.
    public func write(_ k: KernelState, from address: UserAddress, count: Int, offset: Int) throws(Errno) -> Int {
        guard count >= 0, offset >= 0 else { throw .EINVAL }
        let size = Int(description.mappableBytes)
        if count == 0 { return 0 }
        guard offset < size else { throw .ENOSPC }
        let n = min(count, size - offset)
        let bytes = try k.memory.copyIn(address, count: n).get()
        k.memory.memory.write(description.physicalAddress + UInt64(offset), from: bytes, offset: 0, count: n)
        return n
    }
}
