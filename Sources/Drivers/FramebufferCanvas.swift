// FramebufferCanvas — pixels, rectangles, character cells and scrolling on a linear
// framebuffer (Drivers layer), generic over FramebufferMemory so host tests draw into an
// array (Tests/KernelCoreTests/FramebufferTests.swift) and the kernel into video memory
// (Sources/Kernel/FramebufferSetup.swift). The framebuffer's geometry is
// KernelCore's FramebufferDescription (Sources/KernelCore/Devices/FramebufferDevice.swift);
// the text console on top of this is FramebufferConsole.swift.
import KernelCore

/// Byte-addressed access to the framebuffer's memory; offsets are from its first byte.
public protocol FramebufferMemory {
    func store8(_ offset: Int, _ value: UInt8)
    func store16(_ offset: Int, _ value: UInt16)
    func store32(_ offset: Int, _ value: UInt32)
    /// Overlapping-safe copy of `count` bytes (memmove), used to scroll.
    func move(from source: Int, to destination: Int, count: Int)
}

public struct FramebufferCanvas<Memory: FramebufferMemory> {
    public let description: FramebufferDescription
    public let memory: Memory

    public init(description: FramebufferDescription, memory: Memory) {
        self.description = description
        self.memory = memory
    }

    public var width: Int { description.width }
    public var height: Int { description.height }

    /// An 8-bit-per-channel colour as this framebuffer's pixel value.
    public func color(_ red: UInt8, _ green: UInt8, _ blue: UInt8) -> UInt32 {
        description.pixel(red: red, green: green, blue: blue)
    }

    @inline(__always)
    func storePixel(at offset: Int, _ value: UInt32) {
        switch description.bytesPerPixel {
        case 4: memory.store32(offset, value)
        case 3:
            memory.store16(offset, UInt16(truncatingIfNeeded: value))
            memory.store8(offset + 2, UInt8(truncatingIfNeeded: value >> 16))
        case 2: memory.store16(offset, UInt16(truncatingIfNeeded: value))
        default: memory.store8(offset, UInt8(truncatingIfNeeded: value))
        }
    }

    /// One pixel; points outside the screen are ignored.
    public func setPixel(x: Int, y: Int, _ value: UInt32) {
        guard x >= 0 && y >= 0 && x < width && y < height else { return }
        storePixel(at: y * description.pitch + x * description.bytesPerPixel, value)
    }

    /// A rectangle clipped to the screen.
    public func fill(x: Int, y: Int, width w: Int, height h: Int, _ value: UInt32) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1 && y0 < y1 else { return }
        let bpp = description.bytesPerPixel
        for row in y0..<y1 {
            var offset = row * description.pitch + x0 * bpp
            for _ in x0..<x1 {
                storePixel(at: offset, value)
                offset += bpp
            }
        }
    }

    public func clear(_ value: UInt32) { fill(x: 0, y: 0, width: width, height: height, value) }

    /// The 8×16 cell of `character` with its top-left corner at pixel (x, y).
    public func drawCharacter(_ character: UInt8, x: Int, y: Int, foreground: UInt32, background: UInt32) {
        let cw = FramebufferFont.cellWidth, ch = FramebufferFont.cellHeight
        guard x >= 0 && y >= 0 && x + cw <= width && y + ch <= height else { return }
        let bpp = description.bytesPerPixel
        for row in 0..<ch {
            let bits = FramebufferFont.glyphRow(character, row / 2)
            var offset = (y + row) * description.pitch + x * bpp
            for column in 0..<cw {
                let on = column >= 1 && column <= 5 && bits & (1 << UInt8(5 - column)) != 0
                storePixel(at: offset, on ? foreground : background)
                offset += bpp
            }
        }
    }

    /// Moves everything from pixel row `lines` up to the top, then fills the freed rows at
    /// the bottom with `background`.
    public func scrollUp(lines: Int, background: UInt32) {
        guard lines > 0 else { return }
        guard lines < height else { clear(background); return }
        let pitch = description.pitch
        memory.move(from: lines * pitch, to: 0, count: (height - lines) * pitch)
        fill(x: 0, y: height - lines, width: width, height: lines, background)
    }
}
