// FramebufferConsole — a text terminal on the framebuffer (Drivers layer, pure logic
// generic over FramebufferMemory).
//
// The kernel mirrors the guest's console output here when a framebuffer exists
// (Sources/Kernel/FramebufferSetup.swift), so a machine with a screen and no serial cable
// still shows what the program prints. It understands what line-oriented programs and
// simple prompts send: printable ASCII, \n (as \r\n, like a tty with ONLCR), \r, \b, \t,
// and the common ECMA-48 sequences — CSI m (SGR colours 30-37/90-97/39, bold, reset),
// CSI J (erase display), CSI K (erase line), CSI H / f (cursor position). Other escape
// sequences are consumed and ignored; a UTF-8 character shows as one "?".
// Drawing is FramebufferCanvas.swift; the glyphs FramebufferFont.swift.

public final class FramebufferConsole<Memory: FramebufferMemory> {
    public let canvas: FramebufferCanvas<Memory>
    public let columns: Int
    public let rows: Int
    public private(set) var column = 0
    public private(set) var row = 0
    /// While true, writes are dropped (a guest program owns the screen, e.g. it mapped /dev/fb0).
    public var suspended = false

    let palette: [UInt32]
    public private(set) var foreground: UInt32
    public let background: UInt32
    var bold = false
    var foregroundIndex = 7

    enum EscapeState { case none, escape, csi }
    var escape: EscapeState = .none
    var parameters: [Int] = []
    var currentParameter: Int? = nil

    public init(canvas: FramebufferCanvas<Memory>) {
        self.canvas = canvas
        columns = max(1, canvas.width / FramebufferFont.cellWidth)
        rows = max(1, canvas.height / FramebufferFont.cellHeight)
        // The 16 colours of the Linux console (drivers/tty/vt/vt.c default palette values).
        var p: [UInt32] = []
        let levels: [(UInt8, UInt8, UInt8)] = [
            (0, 0, 0), (0xAA, 0, 0), (0, 0xAA, 0), (0xAA, 0x55, 0), (0, 0, 0xAA), (0xAA, 0, 0xAA), (0, 0xAA, 0xAA), (0xAA, 0xAA, 0xAA),
            (0x55, 0x55, 0x55), (0xFF, 0x55, 0x55), (0x55, 0xFF, 0x55), (0xFF, 0xFF, 0x55), (0x55, 0x55, 0xFF), (0xFF, 0x55, 0xFF), (0x55, 0xFF, 0xFF), (0xFF, 0xFF, 0xFF),
        ]
        for (r, g, b) in levels { p.append(canvas.color(r, g, b)) }
        palette = p
        foreground = p[7]
        background = p[0]
    }

    /// Clears the screen and homes the cursor.
    public func reset() {
        canvas.clear(background)
        column = 0
        row = 0
        escape = .none
    }

    public func write(_ bytes: [UInt8], count: Int) {
        if suspended { return }
        for i in 0..<min(count, bytes.count) { write(bytes[i]) }
    }

    public func write(_ text: String) {
        if suspended { return }
        for b in text.utf8 { write(b) }
    }

    public func write(_ byte: UInt8) {
        switch escape {
        case .escape:
            escape = byte == 0x5B ? .csi : .none   // "[" starts CSI; other ESC x pairs are ignored
            parameters = []
            currentParameter = nil
            return
        case .csi:
            csi(byte)
            return
        case .none:
            break
        }
        switch byte {
        case 0x1B: escape = .escape
        case 0x0A: newline()
        case 0x0D: column = 0
        case 0x08: if column > 0 { column -= 1 }
        case 0x09:
            let next = min(columns - 1, (column / 8 + 1) * 8)
            while column < next { put(0x20) }
        case 0x20...0x7E: put(byte)
        case 0x80...0xBF: break                 // UTF-8 continuation bytes
        case 0xC0...0xFF: put(0x3F)             // a UTF-8 lead byte: one "?" per character
        default: break                          // other control characters
        }
    }

    func put(_ character: UInt8) {
        if column >= columns { newline() }
        canvas.drawCharacter(character, x: column * FramebufferFont.cellWidth, y: row * FramebufferFont.cellHeight,
                             foreground: foreground, background: background)
        column += 1
    }

    func newline() {
        column = 0
        if row + 1 < rows {
            row += 1
        } else {
            canvas.scrollUp(lines: FramebufferFont.cellHeight, background: background)
            // A partial cell row below the last text row stays clear.
        }
    }

    func csi(_ byte: UInt8) {
        switch byte {
        case 0x30...0x39:
            currentParameter = min((currentParameter ?? 0) * 10 + Int(byte - 0x30), 9999)
            return
        case 0x3B:
            parameters.append(currentParameter ?? 0)
            currentParameter = nil
            return
        case 0x20...0x3F:
            return                               // "?" and other private/intermediate bytes
        default:
            break
        }
        if let p = currentParameter { parameters.append(p) }
        escape = .none
        guard byte >= 0x40 && byte <= 0x7E else { return }
        let first = parameters.first ?? 0
        switch byte {
        case 0x6D: selectGraphicRendition()                             // m
        case 0x48, 0x66:                                                // H, f
            row = min(rows - 1, max(1, first) - 1)
            column = min(columns - 1, max(1, parameters.count > 1 ? parameters[1] : 1) - 1)
        case 0x4A:                                                      // J
            if first == 2 || first == 3 {
                canvas.clear(background)
            } else if first == 0 {
                eraseLine(from: column, to: columns)
                let top = (row + 1) * FramebufferFont.cellHeight
                canvas.fill(x: 0, y: top, width: canvas.width, height: canvas.height - top, background)
            }
        case 0x4B:                                                      // K
            switch first {
            case 1: eraseLine(from: 0, to: column + 1)
            case 2: eraseLine(from: 0, to: columns)
            default: eraseLine(from: column, to: columns)
            }
        default:
            break
        }
    }

    func eraseLine(from start: Int, to end: Int) {
        let cw = FramebufferFont.cellWidth
        canvas.fill(x: start * cw, y: row * FramebufferFont.cellHeight, width: (end - start) * cw,
                    height: FramebufferFont.cellHeight, background)
    }

    func selectGraphicRendition() {
        if parameters.isEmpty { parameters = [0] }
        for p in parameters {
            switch p {
            case 0: bold = false; foregroundIndex = 7
            case 1: bold = true
            case 22: bold = false
            case 30...37: foregroundIndex = p - 30
            case 39: foregroundIndex = 7
            case 90...97: foregroundIndex = p - 90 + 8
            default: break
            }
        }
        var index = foregroundIndex
        if bold && index < 8 { index += 8 }
        foreground = palette[index]
    }
}
