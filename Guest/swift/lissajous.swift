// lissajous.swift — the Swift twin of Guest/c/lissajous.c: the same animated 3:2 Lissajous
// curve drawn on /dev/fb0 through the Linux fbdev interface (FBIOGET_VSCREENINFO,
// FBIOGET_FSCREENINFO, mmap, FBIOPAN_DISPLAY), as a static Swift program (swiftc
// -static-executable, glibc) that would run unmodified on a Linux console.
//
// Layer: guest programs (Guest/). Under egg the framebuffer is the kernel's /dev/fb0 node
// (Sources/KernelCore/Devices/FramebufferNode.swift); Tests/integration/iso.sh boots it from
// an `egg pack` image, takes a QEMU screendump while it runs and looks for the curve's
// colour inside the box this program prints, exactly as for the C program. Natively, with no
// framebuffer it may open, it prints "PASS lissajous-swift: no framebuffer, skipped (...)"
// and exits 0, the C program's convention; any other failure is "FAIL ..." and exit 1.
//
// Usage: lissajous-swift [SECONDS [FRAMES]]   (default: 4 seconds, at most 100000 frames)
// Output: "lissajous-swift: drawing ... curve #ffc000 in box X0,Y0-X1,Y1" when drawing starts,
// then "PASS lissajous-swift: N frames on WxH" after the last frame.
// The fb structures are read from raw bytes at the offsets of include/uapi/linux/fb.h
// (struct fb_var_screeninfo is 160 bytes, struct fb_fix_screeninfo 80 on x86-64).
import Glibc

let testName = "lissajous-swift"

func verdict(_ line: String) -> Never {
    let text = line + "\n"
    _ = text.withCString { write(1, $0, strlen($0)) }
    exit(line.hasPrefix("PASS") ? 0 : 1)
}

func fail(_ why: String) -> Never { verdict("FAIL \(testName): \(why)") }

func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

// ioctl(2) is variadic, which Swift does not import; with a pointer as the third argument
// the x86-64 calling convention of the variadic function is the same as this declaration's.
@_silgen_name("ioctl")
func ioctlPointer(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer) -> Int32

let FBIOGET_VSCREENINFO: UInt = 0x4600
let FBIOGET_FSCREENINFO: UInt = 0x4602
let FBIOPAN_DISPLAY: UInt = 0x4606

/// Little-endian fields of a kernel structure held as bytes.
struct KernelStruct {
    var bytes: [UInt8]
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    func u32(_ offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return v
    }
    mutating func setU32(_ offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
}

/// struct fb_bitfield { offset, length, msb_right }.
struct ColorField {
    var offset: UInt32
    var length: UInt32
    func place(_ value8: UInt32) -> UInt32 {
        guard length > 0 && length <= 8 else { return 0 }
        return (value8 >> (8 - length)) << offset
    }
}

// The curve's colour, which iso.sh looks for in the screendump (the C program's too).
let curveRGB: (UInt32, UInt32, UInt32) = (0xFF, 0xC0, 0x00)
let points = 2400
let dot = 3  // each point is a dot × dot square

final class Screen {
    let base: UnsafeMutableRawPointer
    let width: Int, height: Int, lineLength: Int, bytesPerPixel: Int
    let red: ColorField, green: ColorField, blue: ColorField

    init(base: UnsafeMutableRawPointer, width: Int, height: Int, lineLength: Int, bytesPerPixel: Int,
         red: ColorField, green: ColorField, blue: ColorField) {
        self.base = base
        self.width = width
        self.height = height
        self.lineLength = lineLength
        self.bytesPerPixel = bytesPerPixel
        self.red = red
        self.green = green
        self.blue = blue
    }

    func rgb(_ r: UInt32, _ g: UInt32, _ b: UInt32) -> UInt32 { red.place(r) | green.place(g) | blue.place(b) }

    func putPixel(_ x: Int, _ y: Int, _ value: UInt32) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let p = base + (y * lineLength + x * bytesPerPixel)
        switch bytesPerPixel {
        case 4: p.storeBytes(of: value, as: UInt32.self)
        case 3:
            p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            (p + 1).storeBytes(of: UInt8(truncatingIfNeeded: value >> 8), as: UInt8.self)
            (p + 2).storeBytes(of: UInt8(truncatingIfNeeded: value >> 16), as: UInt8.self)
        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        default: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        }
    }

    func fillRect(_ x0: Int, _ y0: Int, _ w: Int, _ h: Int, _ value: UInt32) {
        for y in y0..<(y0 + h) {
            for x in x0..<(x0 + w) { putPixel(x, y, value) }
        }
    }

    /// x = cx + ax·sin(3t + phase), y = cy + ay·sin(2t): the 3:2 figure, drifting in phase.
    func drawCurve(cx: Int, cy: Int, ax: Int, ay: Int, phase: Double, _ value: UInt32) {
        for i in 0..<points {
            let t = 2 * Double.pi * Double(i) / Double(points)
            let x = cx + Int(Double(ax) * sin(3 * t + phase))
            let y = cy + Int(Double(ay) * sin(2 * t))
            fillRect(x - dot / 2, y - dot / 2, dot, dot, value)
        }
    }
}

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func hex2(_ v: UInt32) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(v >> 4) & 15], digits[Int(v) & 15]])
}

@main
struct Lissajous {
    static func main() {
        let args = CommandLine.arguments
        let seconds = args.count > 1 ? Double(Int(args[1]) ?? 4) : 4
        let maxFrames = args.count > 2 ? Int(args[2]) ?? 100_000 : 100_000

        let fd = open("/dev/fb0", O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if [ENOENT, EACCES, ENXIO, ENODEV, EPERM].contains(e) {
                verdict("PASS \(testName): no framebuffer, skipped (open /dev/fb0: \(errorText(e)))")
            }
            fail("open /dev/fb0: \(errorText(e))")
        }
        var variable = KernelStruct(size: 160)
        var fixed = KernelStruct(size: 80)
        var r = variable.bytes.withUnsafeMutableBytes { ioctlPointer(fd, FBIOGET_VSCREENINFO, $0.baseAddress!) }
        guard r == 0 else { fail("FBIOGET_VSCREENINFO: \(errorText(errno))") }
        r = fixed.bytes.withUnsafeMutableBytes { ioctlPointer(fd, FBIOGET_FSCREENINFO, $0.baseAddress!) }
        guard r == 0 else { fail("FBIOGET_FSCREENINFO: \(errorText(errno))") }
        // fb_var_screeninfo: xres 0, yres 4, bits_per_pixel 24, red 32, green 44, blue 56.
        let xres = Int(variable.u32(0)), yres = Int(variable.u32(4)), bpp = Int(variable.u32(24))
        // fb_fix_screeninfo: smem_len 24, line_length 48.
        let smemLength = Int(fixed.u32(24)), lineLength = Int(fixed.u32(48))
        guard xres >= 64 && yres >= 64 else { fail("screen too small: \(xres)x\(yres)") }
        guard bpp == 16 || bpp == 24 || bpp == 32 else { fail("unsupported depth \(bpp) bpp") }
        let bytesPerPixel = (bpp + 7) / 8
        guard lineLength >= xres * bytesPerPixel else { fail("line_length \(lineLength) < \(xres)x\(bytesPerPixel)") }
        guard smemLength >= lineLength * yres else { fail("smem_len \(smemLength) too small") }

        guard let mapped = mmap(nil, smemLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            fail("mmap /dev/fb0: \(errorText(errno))")
        }
        // The visible area at the start of the framebuffer (what we draw into).
        variable.setU32(16, 0)  // xoffset
        variable.setU32(20, 0)  // yoffset
        r = variable.bytes.withUnsafeMutableBytes { ioctlPointer(fd, FBIOPAN_DISPLAY, $0.baseAddress!) }
        guard r == 0 else { fail("FBIOPAN_DISPLAY: \(errorText(errno))") }

        let screen = Screen(base: mapped, width: xres, height: yres, lineLength: lineLength, bytesPerPixel: bytesPerPixel,
                            red: ColorField(offset: variable.u32(32), length: variable.u32(36)),
                            green: ColorField(offset: variable.u32(44), length: variable.u32(48)),
                            blue: ColorField(offset: variable.u32(56), length: variable.u32(60)))
        let cx = xres / 2, cy = yres / 2, ax = xres * 3 / 8, ay = yres * 3 / 8
        let background = screen.rgb(0x10, 0x10, 0x30)
        let curve = screen.rgb(curveRGB.0, curveRGB.1, curveRGB.2)
        screen.fillRect(0, 0, xres, yres, background)

        // The box every curve point lies in (with the dot size), for the screenshot check.
        let colour = hex2(curveRGB.0) + hex2(curveRGB.1) + hex2(curveRGB.2)
        let line = "\(testName): drawing on \(xres)x\(yres), \(bpp) bpp, line \(lineLength) bytes; curve #\(colour) in box "
            + "\(cx - ax - dot),\(cy - ay - dot)-\(cx + ax + dot),\(cy + ay + dot)\n"
        _ = line.withCString { write(1, $0, strlen($0)) }

        let start = nowSeconds()
        var phase = 0.0
        var frames = 0
        screen.drawCurve(cx: cx, cy: cy, ax: ax, ay: ay, phase: phase, curve)
        frames += 1
        while frames < maxFrames && nowSeconds() - start < seconds {
            var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            nanosleep(&pause, nil)
            screen.drawCurve(cx: cx, cy: cy, ax: ax, ay: ay, phase: phase, background)
            phase += 0.05
            screen.drawCurve(cx: cx, cy: cy, ax: ax, ay: ay, phase: phase, curve)
            frames += 1
        }
        // The last frame stays on the screen.
        guard munmap(mapped, smemLength) == 0 else { fail("munmap: \(errorText(errno))") }
        close(fd)
        verdict("PASS \(testName): \(frames) frames on \(xres)x\(yres)")
    }
}
