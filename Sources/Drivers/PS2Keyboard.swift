// PS2Keyboard — the PC keyboard behind the i8042 controller, and the scancode decoder that
// turns its key presses into the bytes a Linux console sends (Drivers layer, generic over
// PortIO; the decoder is pure and host-tested in Tests/KernelCoreTests/PS2KeyboardTests).
//
// Sources/Kernel/MachinePlatform.swift reads one scancode per IRQ 1 (vector 33, unmasked in
// Main.swift) and queues the decoded bytes as console input; the kernel's line discipline
// (Sources/KernelCore/Devices/Terminal.swift) echoes and edits them like serial input.
// Scancode set 1 — what the i8042 hands over with translation on (bit 6 of its
// configuration byte; the firmware normally sets it, `initialize` makes sure): a make code
// per key press, the same code | 0x80 at release, 0xE0 before the extended keys, 0xE1
// before Pause. References: the IBM PC AT technical reference's scancode tables (as
// collected in the OSDev wiki "PS/2 Keyboard" and "8042 PS/2 Controller" pages) and
// Linux's default keymap (drivers/tty/vt/defkeymap.map): Enter sends CR, Backspace DEL
// (0x7F), Ctrl+letter 0x01-0x1A, Alt+key ESC then the key, arrows ESC [ A..D, Home/Insert/
// Delete/End/PageUp/PageDown ESC [ 1~..6~, F1-F5 ESC [ [ A..E, F6-F12 ESC [ 17~..24~.

/// Scancode set 1 to console bytes, keeping the modifier state between calls.
public struct PS2KeyboardDecoder {
    public private(set) var leftShift = false, rightShift = false
    public private(set) var leftControl = false, rightControl = false
    public private(set) var leftAlt = false, rightAlt = false
    public private(set) var capsLock = false
    private var extended = false
    /// Bytes of the Pause sequence (E1 1D 45 E1 9D C5) still to swallow.
    private var pauseRemaining = 0

    public init() {}

    public var shift: Bool { leftShift || rightShift }
    public var control: Bool { leftControl || rightControl }
    public var alt: Bool { leftAlt || rightAlt }

    /// The bytes the key event `code` produces (often none: releases, modifiers).
    public mutating func decode(_ code: UInt8) -> [UInt8] {
        if pauseRemaining > 0 { pauseRemaining -= 1; return [] }
        if code == 0xE1 { pauseRemaining = 5; return [] }
        if code == 0xE0 { extended = true; return [] }
        let wasExtended = extended
        extended = false
        let released = code & 0x80 != 0
        let key = code & 0x7F
        switch (key, wasExtended) {
        case (0x2A, false): leftShift = !released; return []
        case (0x36, false): rightShift = !released; return []
        case (0x2A, true), (0x36, true): return []  // fake shifts around Print Screen
        case (0x1D, false): leftControl = !released; return []
        case (0x1D, true): rightControl = !released; return []
        case (0x38, false): leftAlt = !released; return []
        case (0x38, true): rightAlt = !released; return []
        case (0x3A, false):
            if !released { capsLock.toggle() }
            return []
        default: break
        }
        if released { return [] }
        if wasExtended { return extendedKey(key) }
        if let sequence = PS2KeyboardDecoder.functionKey(key) { return sequence }
        guard let byte = character(key) else { return [] }
        return alt ? [0x1B, byte] : [byte]
    }

    /// The byte of an ordinary key under the current modifiers, nil for unmapped keys.
    func character(_ key: UInt8) -> UInt8? {
        let index = Int(key)
        guard index < PS2KeyboardDecoder.plain.count else { return nil }
        let base = PS2KeyboardDecoder.plain[index]
        if base == 0 { return nil }
        let isLetter = base >= 0x61 && base <= 0x7A
        let shifted = isLetter ? (shift != capsLock) : shift
        var c = shifted ? PS2KeyboardDecoder.shifted[index] : base
        if control {
            if isLetter { return base & 0x1F }
            switch base {
            case 0x5B: c = 0x1B              // Ctrl+[ : ESC
            case 0x5C: c = 0x1C              // Ctrl+\ : FS (VQUIT)
            case 0x5D: c = 0x1D              // Ctrl+]
            case 0x20, 0x32: c = 0x00        // Ctrl+Space, Ctrl+2 : NUL
            case 0x36: c = 0x1E              // Ctrl+6 : RS
            case 0x2D: c = 0x1F              // Ctrl+- : US
            case 0x2F: c = 0x1F              // Ctrl+/ : US
            case 0x7F: c = 0x08              // Ctrl+Backspace : BS
            default: break
            }
        }
        return c
    }

    func extendedKey(_ key: UInt8) -> [UInt8] {
        switch key {
        case 0x1C: return [0x0D]                         // keypad Enter
        case 0x35: return alt ? [0x1B, 0x2F] : [0x2F]    // keypad /
        case 0x48: return [0x1B, 0x5B, 0x41]             // Up    ESC [ A
        case 0x50: return [0x1B, 0x5B, 0x42]             // Down  ESC [ B
        case 0x4D: return [0x1B, 0x5B, 0x43]             // Right ESC [ C
        case 0x4B: return [0x1B, 0x5B, 0x44]             // Left  ESC [ D
        case 0x47: return PS2KeyboardDecoder.tilde(1)    // Home
        case 0x52: return PS2KeyboardDecoder.tilde(2)    // Insert
        case 0x53: return PS2KeyboardDecoder.tilde(3)    // Delete
        case 0x4F: return PS2KeyboardDecoder.tilde(4)    // End
        case 0x49: return PS2KeyboardDecoder.tilde(5)    // Page Up
        case 0x51: return PS2KeyboardDecoder.tilde(6)    // Page Down
        default: return []
        }
    }

    /// ESC [ n ~
    static func tilde(_ n: Int) -> [UInt8] {
        var out: [UInt8] = [0x1B, 0x5B]
        if n >= 10 { out.append(UInt8(0x30 + n / 10)) }
        out.append(UInt8(0x30 + n % 10))
        out.append(0x7E)
        return out
    }

    static func functionKey(_ key: UInt8) -> [UInt8]? {
        switch key {
        case 0x3B...0x3F: return [0x1B, 0x5B, 0x5B, 0x41 + (key - 0x3B)]   // F1-F5: ESC [ [ A..E
        case 0x40...0x42: return tilde(17 + Int(key - 0x40))                // F6-F8: 17~ 18~ 19~
        case 0x43, 0x44: return tilde(20 + Int(key - 0x43))                 // F9, F10: 20~ 21~
        case 0x57: return tilde(23)                                         // F11
        case 0x58: return tilde(24)                                         // F12
        default: return nil
        }
    }

    // Set 1 make codes 0x00-0x58 → byte without and with Shift (0: no character). The keypad
    // (0x47-0x53) gives its digits and signs, as with Num Lock on.
    static let plain: [UInt8] = [
        0, 0x1B, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x30, 0x2D, 0x3D, 0x7F, 0x09,  // 00-0F
        0x71, 0x77, 0x65, 0x72, 0x74, 0x79, 0x75, 0x69, 0x6F, 0x70, 0x5B, 0x5D, 0x0D, 0, 0x61, 0x73,  // 10-1F
        0x64, 0x66, 0x67, 0x68, 0x6A, 0x6B, 0x6C, 0x3B, 0x27, 0x60, 0, 0x5C, 0x7A, 0x78, 0x63, 0x76,  // 20-2F
        0x62, 0x6E, 0x6D, 0x2C, 0x2E, 0x2F, 0, 0x2A, 0, 0x20, 0, 0, 0, 0, 0, 0,                        // 30-3F
        0, 0, 0, 0, 0, 0, 0, 0x37, 0x38, 0x39, 0x2D, 0x34, 0x35, 0x36, 0x2B, 0x31,                     // 40-4F
        0x32, 0x33, 0x30, 0x2E, 0, 0, 0, 0, 0,                                                         // 50-58
    ]
    static let shifted: [UInt8] = [
        0, 0x1B, 0x21, 0x40, 0x23, 0x24, 0x25, 0x5E, 0x26, 0x2A, 0x28, 0x29, 0x5F, 0x2B, 0x7F, 0x09,  // 00-0F
        0x51, 0x57, 0x45, 0x52, 0x54, 0x59, 0x55, 0x49, 0x4F, 0x50, 0x7B, 0x7D, 0x0D, 0, 0x41, 0x53,  // 10-1F
        0x44, 0x46, 0x47, 0x48, 0x4A, 0x4B, 0x4C, 0x3A, 0x22, 0x7E, 0, 0x7C, 0x5A, 0x58, 0x43, 0x56,  // 20-2F
        0x42, 0x4E, 0x4D, 0x3C, 0x3E, 0x3F, 0, 0x2A, 0, 0x20, 0, 0, 0, 0, 0, 0,                        // 30-3F
        0, 0, 0, 0, 0, 0, 0, 0x37, 0x38, 0x39, 0x2D, 0x34, 0x35, 0x36, 0x2B, 0x31,                     // 40-4F
        0x32, 0x33, 0x30, 0x2E, 0, 0, 0, 0, 0,                                                         // 50-58
    ]
}

/// The i8042 controller's keyboard port: data at 0x60, status/command at 0x64.
public struct PS2Keyboard<IO: PortIO> {
    public let io: IO
    public static var dataPort: UInt16 { 0x60 }
    public static var statusPort: UInt16 { 0x64 }

    public init(io: IO) { self.io = io }

    /// Status bit 0: a byte waits in the output buffer; bit 5: it came from the mouse port.
    public func readScancode() -> UInt8? {
        let status = io.read8(PS2Keyboard.statusPort)
        guard status & 0x01 != 0 else { return nil }
        let byte = io.read8(PS2Keyboard.dataPort)
        return status & 0x20 != 0 ? nil : byte
    }

    /// Drain stale bytes, then set the configuration byte's IRQ 1 enable (bit 0) and set 1
    /// translation (bit 6): command 0x20 reads it, 0x60 writes it. Bounded waits, so a
    /// machine without a controller (status reads 0xFF) cannot hang the boot.
    public func initialize() {
        var drained = 0
        while io.read8(PS2Keyboard.statusPort) & 0x01 != 0 && drained < 64 {
            _ = io.read8(PS2Keyboard.dataPort)
            drained += 1
        }
        if io.read8(PS2Keyboard.statusPort) == 0xFF { return }  // no i8042
        guard waitInputEmpty() else { return }
        io.write8(PS2Keyboard.statusPort, 0x20)
        guard waitOutputFull() else { return }
        let configuration = io.read8(PS2Keyboard.dataPort)
        guard waitInputEmpty() else { return }
        io.write8(PS2Keyboard.statusPort, 0x60)
        guard waitInputEmpty() else { return }
        io.write8(PS2Keyboard.dataPort, configuration | 0x41)
    }

    private func waitInputEmpty() -> Bool {
        for _ in 0..<100_000 where io.read8(PS2Keyboard.statusPort) & 0x02 == 0 { return true }
        return false
    }

    private func waitOutputFull() -> Bool {
        for _ in 0..<100_000 where io.read8(PS2Keyboard.statusPort) & 0x01 != 0 { return true }
        return false
    }
}
