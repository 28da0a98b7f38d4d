// FramebufferTests — the screen without a screen: font, canvas and text console over an
// array (Sources/Drivers/Framebuffer*.swift), the Bochs display driver over fake PCI and
// dispi registers (Sources/Drivers/BochsDisplay.swift), and /dev/fb0's ioctls and mmap on a
// KernelState (Sources/KernelCore/Devices/).
import XCTest
import LinuxABI
@testable import KernelCore
@testable import Drivers

/// Framebuffer memory as a byte array.
final class ArrayFramebufferMemory: FramebufferMemory {
    var bytes: [UInt8]
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }
    func store8(_ offset: Int, _ value: UInt8) { bytes[offset] = value }
    func store16(_ offset: Int, _ value: UInt16) {
        for i in 0..<2 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt16(i))) }
    }
    func store32(_ offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }
    func move(from source: Int, to destination: Int, count: Int) {
        let copy = Array(bytes[source..<source + count])
        bytes.replaceSubrange(destination..<destination + count, with: copy)
    }
    func load32(_ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }
}

/// 64×48 at 32 bpp with a padded pitch (300 bytes > 64 × 4), so row arithmetic must use it.
func smallScreen(bitsPerPixel: Int = 32, pitch: Int = 300) -> (FramebufferCanvas<ArrayFramebufferMemory>, ArrayFramebufferMemory) {
    let d = FramebufferDescription(physicalAddress: 0x1000_0000, width: 64, height: 48, pitch: pitch, bitsPerPixel: bitsPerPixel)
    let m = ArrayFramebufferMemory(size: pitch * 48)
    return (FramebufferCanvas(description: d, memory: m), m)
}

final class FramebufferFontTests: XCTestCase {
    func testEveryPrintableGlyphIsDistinctAndFitsFiveColumns() {
        var seen: [[UInt8]] = []
        for c in FramebufferFont.firstCharacter...FramebufferFont.lastCharacter {
            let rows = (0..<8).map { FramebufferFont.glyphRow(c, $0) }
            XCTAssertTrue(rows.allSatisfy { $0 < 32 }, "glyph \(c) is wider than 5 dots")
            if c != 0x20 { XCTAssertTrue(rows.contains { $0 != 0 }, "glyph \(c) is empty") }
            XCTAssertFalse(seen.contains(rows), "glyph \(UnicodeScalar(c)) duplicates another (table misaligned?)")
            seen.append(rows)
        }
        XCTAssertEqual(seen.count, 95)
    }

    func testShapesOfAFewLetters() {
        // "I": a centred vertical bar; "g" and "y" reach into the descender row; "A" does not.
        XCTAssertEqual(FramebufferFont.glyphRow(0x49, 3), 0b00100)
        XCTAssertNotEqual(FramebufferFont.glyphRow(0x67, 7), 0)
        XCTAssertNotEqual(FramebufferFont.glyphRow(0x79, 7), 0)
        XCTAssertEqual(FramebufferFont.glyphRow(0x41, 7), 0)
        // Outside ASCII draws as "?".
        XCTAssertEqual(FramebufferFont.glyphRow(0x07, 0), FramebufferFont.glyphRow(0x3F, 0))
        XCTAssertTrue(FramebufferFont.isSet(0x49, x: 3, y: 6))
        XCTAssertFalse(FramebufferFont.isSet(0x49, x: 0, y: 6))
    }
}

final class FramebufferCanvasTests: XCTestCase {
    func testPixelsUseThePitchAndTheColourFields() {
        let (canvas, memory) = smallScreen()
        let red = canvas.color(0xFF, 0, 0)
        XCTAssertEqual(red, 0x00FF_0000)
        canvas.setPixel(x: 3, y: 2, red)
        XCTAssertEqual(memory.load32(2 * 300 + 3 * 4), 0x00FF_0000)
        canvas.setPixel(x: 64, y: 0, red)   // off screen: ignored
        canvas.setPixel(x: -1, y: 0, red)
        XCTAssertEqual(memory.bytes.filter { $0 != 0 }.count, 1)
    }

    func testSixteenAndTwentyFourBitPixels() {
        let d565 = FramebufferDescription(physicalAddress: 1, width: 4, height: 1, pitch: 8, bitsPerPixel: 16,
                                          red: ColorField(offset: 11, length: 5), green: ColorField(offset: 5, length: 6),
                                          blue: ColorField(offset: 0, length: 5))
        XCTAssertEqual(d565.pixel(red: 0xFF, green: 0xFF, blue: 0xFF), 0xFFFF)
        XCTAssertEqual(d565.pixel(red: 0, green: 0xFF, blue: 0), 0x07E0)
        let m16 = ArrayFramebufferMemory(size: 8)
        FramebufferCanvas(description: d565, memory: m16).setPixel(x: 1, y: 0, 0xF800)
        XCTAssertEqual(m16.bytes, [0, 0, 0x00, 0xF8, 0, 0, 0, 0])
        let d24 = FramebufferDescription(physicalAddress: 1, width: 2, height: 1, pitch: 6, bitsPerPixel: 24)
        let m24 = ArrayFramebufferMemory(size: 6)
        FramebufferCanvas(description: d24, memory: m24).setPixel(x: 1, y: 0, 0x00AB_CDEF)
        XCTAssertEqual(m24.bytes, [0, 0, 0, 0xEF, 0xCD, 0xAB])
    }

    func testFillIsClippedToTheScreen() {
        let (canvas, memory) = smallScreen()
        canvas.fill(x: 60, y: 46, width: 10, height: 10, 0xFFFF_FFFF)
        var set = 0
        for y in 0..<48 { for x in 0..<64 where memory.load32(y * 300 + x * 4) != 0 { set += 1 } }
        XCTAssertEqual(set, 4 * 2)
    }

    func testCharacterCellMatchesTheFontAtDoubleHeight() {
        let (canvas, memory) = smallScreen()
        canvas.drawCharacter(0x41, x: 8, y: 16, foreground: 0xFFFFFF, background: 0x000010)
        for y in 0..<16 {
            for x in 0..<8 {
                let expected: UInt32 = FramebufferFont.isSet(0x41, x: x, y: y) ? 0xFFFFFF : 0x000010
                XCTAssertEqual(memory.load32((16 + y) * 300 + (8 + x) * 4), expected, "pixel \(x),\(y) of A")
            }
        }
        XCTAssertEqual(memory.load32(15 * 300 + 8 * 4), 0, "the row above the cell is untouched")
    }

    func testScrollMovesRowsUpAndClearsTheBottom() {
        let (canvas, memory) = smallScreen()
        canvas.setPixel(x: 5, y: 20, 0x123456)
        canvas.setPixel(x: 5, y: 2, 0x654321)
        canvas.scrollUp(lines: 16, background: 0x000001)
        XCTAssertEqual(memory.load32(4 * 300 + 5 * 4), 0x123456)
        XCTAssertNotEqual(memory.load32(2 * 300 + 5 * 4), 0x654321)
        XCTAssertEqual(memory.load32(47 * 300 + 0), 0x000001)
        XCTAssertEqual(memory.load32(32 * 300 + 63 * 4), 0x000001)
    }
}

final class FramebufferConsoleTests: XCTestCase {
    /// The character drawn at text cell (column, row), or nil if it matches no glyph.
    func character(_ memory: ArrayFramebufferMemory, _ console: FramebufferConsole<ArrayFramebufferMemory>,
                   column: Int, row: Int) -> UInt8? {
        for c in UInt8(0x20)...UInt8(0x7E) {
            var same = true
            for y in 0..<16 where same {
                for x in 0..<8 where same {
                    let on = memory.load32((row * 16 + y) * 300 + (column * 8 + x) * 4) != console.background
                    if on != FramebufferFont.isSet(c, x: x, y: y) { same = false }
                }
            }
            if same { return c }
        }
        return nil
    }

    func testTextNewlinesAndWrapping() {
        let (canvas, memory) = smallScreen()   // 8 columns × 3 rows
        let console = FramebufferConsole(canvas: canvas)
        XCTAssertEqual(console.columns, 8)
        XCTAssertEqual(console.rows, 3)
        console.reset()
        console.write(Array("hi\nabcdefghij".utf8), count: 13)
        XCTAssertEqual(character(memory, console, column: 0, row: 0), 0x68)
        XCTAssertEqual(character(memory, console, column: 1, row: 0), 0x69)
        XCTAssertEqual(character(memory, console, column: 7, row: 1), 0x68)   // "h", last column
        XCTAssertEqual(character(memory, console, column: 0, row: 2), 0x69)   // wrapped "i"
        XCTAssertEqual(console.row, 2)
        XCTAssertEqual(console.column, 2)
    }

    func testScrollingKeepsTheLastLines() {
        let (canvas, memory) = smallScreen()
        let console = FramebufferConsole(canvas: canvas)
        console.reset()
        console.write("1\n2\n3\n4")
        XCTAssertEqual(character(memory, console, column: 0, row: 0), 0x32)
        XCTAssertEqual(character(memory, console, column: 0, row: 1), 0x33)
        XCTAssertEqual(character(memory, console, column: 0, row: 2), 0x34)
    }

    func testEscapeSequencesAreInterpretedNotPrinted() {
        let (canvas, memory) = smallScreen()
        let console = FramebufferConsole(canvas: canvas)
        console.reset()
        console.write("\u{1B}[1;31mX\u{1B}[0m\u{1B}[?25lY")
        XCTAssertEqual(console.column, 2, "only X and Y take cells")
        // X in bright red (palette 9: 0xFF5555), Y back in light grey.
        var colours: Set<UInt32> = []
        for y in 0..<16 { for x in 0..<8 { colours.insert(memory.load32(y * 300 + x * 4)) } }
        XCTAssertTrue(colours.contains(0xFF5555))
        XCTAssertEqual(character(memory, console, column: 1, row: 0), 0x59)
        console.write("\u{1B}[2J\u{1B}[2;3HZ")
        XCTAssertNil(character(memory, console, column: 0, row: 0).flatMap { $0 == 0x20 ? nil : $0 })
        XCTAssertEqual(character(memory, console, column: 2, row: 1), 0x5A)
    }

    func testUTF8CharacterShowsAsOneQuestionMarkAndSuspendDropsOutput() {
        let (canvas, memory) = smallScreen()
        let console = FramebufferConsole(canvas: canvas)
        console.reset()
        console.write("é!")    // two UTF-8 bytes, then "!"
        XCTAssertEqual(character(memory, console, column: 0, row: 0), 0x3F)
        XCTAssertEqual(character(memory, console, column: 1, row: 0), 0x21)
        console.suspended = true
        console.write("zzz")
        XCTAssertEqual(console.column, 2)
        XCTAssertEqual(character(memory, console, column: 2, row: 0), 0x20)
    }
}

/// PCI configuration space of a few devices, by (bus, device) → 64 dwords.
final class FakePCI: PCIConfigurationAccess {
    var spaces: [Int: [UInt32]] = [:]
    func add(bus: Int = 0, device: Int, vendor: UInt32, deviceID: UInt32, classCode: UInt32, bars: [UInt32]) {
        var s = [UInt32](repeating: 0, count: 64)
        s[0] = deviceID << 16 | vendor
        s[2] = classCode << 16
        for (i, b) in bars.enumerated() { s[4 + i] = b }
        spaces[bus * 32 + device] = s
    }
    func read32(bus: Int, device: Int, function: Int, offset: Int) -> UInt32 {
        guard function == 0, let s = spaces[bus * 32 + device] else { return 0xFFFF_FFFF }
        return s[offset / 4]
    }
}

final class FakeDispi: BochsDisplayRegisters {
    var registers = [UInt16](repeating: 0, count: 16)
    var writes: [(UInt16, UInt16)] = []
    var maximumWidth: UInt16 = 2560
    init(id: UInt16) { registers[0] = id }
    func read(_ index: UInt16) -> UInt16 { registers[Int(index)] }
    func write(_ index: UInt16, _ value: UInt16) {
        writes.append((index, value))
        // Like QEMU: a resolution beyond the maximum is not taken.
        if index == BochsDisplay.Register.xResolution && value > maximumWidth { return }
        registers[Int(index)] = value
    }
}

final class BochsDisplayTests: XCTestCase {
    func testFindsTheStandardVGAAndDecodesItsBARs() {
        let pci = FakePCI()
        pci.add(device: 0, vendor: 0x8086, deviceID: 0x1237, classCode: 0x0600, bars: [])
        pci.add(device: 1, vendor: 0x1234, deviceID: 0x1111, classCode: 0x0300, bars: [0xFD00_0008, 0, 0xFEBF_0000])
        let found = BochsDisplay.find(pci)
        XCTAssertEqual(found, BochsDisplayDevice(bus: 0, device: 1, function: 0, framebufferAddress: 0xFD00_0000,
                                                 registersAddress: 0xFEBF_0000, isVGACompatible: true))
    }

    func testBochsDisplayWithA64BitBARAndNoDevice() {
        let pci = FakePCI()
        pci.add(device: 3, vendor: 0x1234, deviceID: 0x1111, classCode: 0x0380,
                bars: [0x0000_000C, 0x0000_0001, 0xFEBF_1000])   // 64-bit prefetchable at 0x1_0000_0000
        let found = BochsDisplay.find(pci)
        XCTAssertEqual(found?.framebufferAddress, 0x1_0000_0000)
        XCTAssertEqual(found?.isVGACompatible, false)
        XCTAssertNil(BochsDisplay.find(FakePCI()))
        let other = FakePCI()
        other.add(device: 2, vendor: 0x1AF4, deviceID: 0x1050, classCode: 0x0300, bars: [0xFD00_0000])
        XCTAssertNil(BochsDisplay.find(other), "virtio-gpu is not a Bochs display")
    }

    func testSetModeProgramsTheDispiRegistersInOrder() {
        let dispi = FakeDispi(id: 0xB0C5)
        let d = BochsDisplay.setMode(dispi, framebufferAddress: 0xFD00_0000, width: 1024, height: 768)
        XCTAssertEqual(d, FramebufferDescription(physicalAddress: 0xFD00_0000, width: 1024, height: 768, pitch: 4096, bitsPerPixel: 32))
        XCTAssertEqual(dispi.writes.first?.0, BochsDisplay.Register.enable)
        XCTAssertEqual(dispi.writes.first?.1, 0, "disabled while the mode changes")
        XCTAssertEqual(dispi.writes.last?.0, BochsDisplay.Register.enable)
        XCTAssertEqual(dispi.writes.last?.1, 0x41, "enabled with the linear framebuffer")
    }

    func testSetModeRefusesWithoutDispiOrWhenTheModeIsNotTaken() {
        XCTAssertNil(BochsDisplay.setMode(FakeDispi(id: 0xFFFF), framebufferAddress: 1, width: 1024, height: 768))
        XCTAssertTrue(FakeDispi(id: 0).writes.isEmpty)
        let small = FakeDispi(id: 0xB0C0)
        small.maximumWidth = 800
        XCTAssertNil(BochsDisplay.setMode(small, framebufferAddress: 1, width: 1024, height: 768))
    }
}

final class FramebufferDeviceTests: XCTestCase {
    /// 20 MiB of fake RAM of which the frame pool manages the first 16 MiB; the
    /// "framebuffer" (64×48×32, 12 KiB) sits above, like video memory outside usable RAM.
    static let framebufferBase: UInt64 = 17 << 20

    final class Setup {
        let memory = FakePhysicalMemory(bytes: 20 << 20)
        let pool = FramePool(PhysicalFrameAllocator(usable: [AddressRange(start: 0, end: 16 << 20)], reserved: []))
        let platform = FakePlatform()
        let state: KernelState
        let space: AddressSpace
        let scratch: UInt64
        let device = FramebufferDevice(description: FramebufferDescription(
            physicalAddress: FramebufferDeviceTests.framebufferBase, width: 64, height: 48, pitch: 256, bitsPerPixel: 32))

        init() {
            let root = pool.allocateFrame()!
            memory.fill(root, count: 4096, value: 0)
            let kernelTable = PageTable(root: root, memory: memory, frames: pool, noExecuteSupported: true)
            let table = PageTable.makeUserSpace(sharingKernelHalfOf: kernelTable)!
            space = AddressSpace(map: VirtualMemoryMap(layout: ProgramLoader.layout), pageTable: table, memory: memory, frames: pool)
            state = KernelState(platform: platform, process: Process(pid: 1, addressSpace: space, executablePath: []), frames: pool)
            scratch = try! space.map.map(at: 0, length: 0x4000, protection: .readWrite, placement: .hint).get().address
            device.install(in: state)
        }

        func call(_ n: SyscallNumber, _ a: UInt64...) -> SyscallResult {
            var r = a
            while r.count < 6 { r.append(0) }
            return state.dispatch(SyscallArguments(number: n.rawValue, r[0], r[1], r[2], r[3], r[4], r[5]))
        }

        func string(_ s: String) -> UInt64 {
            XCTAssertNil(space.copyOut(UserAddress(scratch + 0x3000), from: Array(s.utf8) + [0]))
            return scratch + 0x3000
        }

        func openFramebuffer() -> Int? { successValue(call(.openat, UInt64(bitPattern: -100), string("/dev/fb0"), 2)) }
    }

    func testScreenInfoStructures() {
        let d = FramebufferDevice(description: FramebufferDescription(physicalAddress: 0xFD00_0000, width: 1024, height: 768,
                                                                      pitch: 4096, bitsPerPixel: 32))
        let v = ByteReader(d.variableScreenInfo())
        XCTAssertEqual(v.bytes.count, 160)
        XCTAssertEqual([v.u32(0), v.u32(4), v.u32(8), v.u32(12), v.u32(24)], [1024, 768, 1024, 768, 32])
        XCTAssertEqual([v.u32(32), v.u32(36), v.u32(44), v.u32(48), v.u32(56), v.u32(60)], [16, 8, 8, 8, 0, 8], "red, green, blue fields")
        let f = ByteReader(d.fixedScreenInfo())
        XCTAssertEqual(f.bytes.count, 80)
        XCTAssertEqual(Array(f.bytes[0..<6]), Array("egg-fb".utf8))
        XCTAssertEqual(f.u64(16), 0xFD00_0000, "smem_start")
        XCTAssertEqual(f.u32(24), 3 << 20, "smem_len")
        XCTAssertEqual(f.u32(36), 2, "FB_VISUAL_TRUECOLOR")
        XCTAssertEqual(f.u32(48), 4096, "line_length")
    }

    func testOpenIoctlAndPassThroughForOtherDescriptors() {
        let s = Setup()
        guard let fd = s.openFramebuffer() else { return }
        XCTAssertEqual(fd, 3)
        assertSuccess(s.call(.ioctl, UInt64(fd), 0x4600, s.scratch), 0)
        let v = ByteReader(try! s.space.copyIn(UserAddress(s.scratch), count: 160).get())
        XCTAssertEqual([v.u32(0), v.u32(4), v.u32(24)], [64, 48, 32])
        assertSuccess(s.call(.ioctl, UInt64(fd), 0x4602, s.scratch + 0x1000), 0)
        XCTAssertEqual(ByteReader(try! s.space.copyIn(UserAddress(s.scratch + 0x1000), count: 80).get()).u32(48), 256)
        // Pan to the origin is fine; anywhere else is EINVAL (no virtual screen beyond the visible one).
        assertSuccess(s.call(.ioctl, UInt64(fd), 0x4606, s.scratch), 0)
        XCTAssertNil(s.space.writeUInt32(UserAddress(s.scratch + 20), 16))
        assertFailure(s.call(.ioctl, UInt64(fd), 0x4606, s.scratch), .EINVAL)
        assertFailure(s.call(.ioctl, UInt64(fd), 0x5401, s.scratch), .ENOTTY)   // TCGETS on a framebuffer
        assertFailure(s.call(.ioctl, UInt64(fd), 0x4600, 0x10), .EFAULT)
        // The console still answers its own ioctls; other paths still go to the old open.
        assertSuccess(s.call(.ioctl, 1, 0x5401, s.scratch), 0)
        assertFailure(s.call(.openat, UInt64(bitPattern: -100), s.string("/dev/fb1"), 2), .ENOENT)
        assertFailure(s.call(.openat, UInt64(bitPattern: -100), s.string("/dev/fb0"), 0o200000), .ENOTDIR)
    }

    func testMmapMapsTheFramebufferPagesAndMunmapFreesNoFrames() {
        let s = Setup()
        guard let fd = s.openFramebuffer() else { return }
        var mapped = false
        s.device.onMap = { mapped = true }
        let freeBefore = s.pool.freeBytes, totalBefore = s.pool.totalBytes
        guard let address = successValue(s.call(.mmap, 0, 12288, 3, 1, UInt64(fd), 0)).map(UInt64.init) else { return }
        XCTAssertTrue(mapped, "the kernel console is told to step aside")
        for page in 0..<3 {
            let t = s.space.pageTable.translate(address + UInt64(page) * 4096)
            XCTAssertEqual(t?.physical, FramebufferDeviceTests.framebufferBase + UInt64(page) * 4096)
            XCTAssertEqual(t?.flags.contains(.writable), true)
        }
        // A store through the mapping lands in the framebuffer.
        XCTAssertNil(s.space.writeUInt32(UserAddress(address + 256 * 2 + 4 * 5), 0x00FF_C000))
        XCTAssertEqual(s.memory.bytes(at: FramebufferDeviceTests.framebufferBase + 256 * 2 + 20, count: 4), [0x00, 0xC0, 0xFF, 0x00])
        assertSuccess(s.call(.munmap, address, 12288), 0)
        XCTAssertNil(s.space.pageTable.translate(address))
        XCTAssertGreaterThanOrEqual(s.pool.freeBytes, freeBefore - 3 * 4096, "page-table frames only")
        XCTAssertEqual(s.pool.totalBytes, totalBefore, "device pages never join the pool")
        // Offsets past the end, unaligned offsets, and a second mapping at an offset.
        assertFailure(s.call(.mmap, 0, 4096, 3, 1, UInt64(fd), 16384), .EINVAL)
        assertFailure(s.call(.mmap, 0, 4096, 3, 1, UInt64(fd), 100), .EINVAL)
        guard let second = successValue(s.call(.mmap, 0, 4096, 1, 1, UInt64(fd), 8192)).map(UInt64.init) else { return }
        XCTAssertEqual(s.space.pageTable.translate(second)?.physical, FramebufferDeviceTests.framebufferBase + 8192)
        XCTAssertEqual(s.space.pageTable.translate(second)?.flags.contains(.writable), false)
        // Anonymous mappings still work through the wrapped mmap.
        XCTAssertNotNil(successValue(s.call(.mmap, 0, 4096, 3, 0x22, UInt64(bitPattern: -1), 0)))
    }

    func testReadAndWriteFollowTheFilePosition() {
        let s = Setup()
        guard let fd = s.openFramebuffer() else { return }
        XCTAssertNil(s.space.copyOut(UserAddress(s.scratch), from: [1, 2, 3, 4, 5, 6]))
        assertSuccess(s.call(.write, UInt64(fd), s.scratch, 6), 6)
        XCTAssertEqual(s.memory.bytes(at: FramebufferDeviceTests.framebufferBase, count: 6), [1, 2, 3, 4, 5, 6])
        assertSuccess(s.call(.read, UInt64(fd), s.scratch + 0x100, 4), 4)
        XCTAssertEqual(s.memory.bytes(at: FramebufferDeviceTests.framebufferBase + 6, count: 4),
                       try! s.space.copyIn(UserAddress(s.scratch + 0x100), count: 4).get())
        assertSuccess(s.call(.lseek, UInt64(fd), 0, 0), 0)
        assertSuccess(s.call(.read, UInt64(fd), s.scratch + 0x200, 3), 3)
        XCTAssertEqual(try! s.space.copyIn(UserAddress(s.scratch + 0x200), count: 3).get(), [1, 2, 3], "lseek moves the device position")
        assertSuccess(s.call(.close, UInt64(fd)), 0)
        assertFailure(s.call(.read, UInt64(fd), s.scratch, 1), .EBADF)
    }
}
