// UART16550 — the PC serial port (Drivers layer), generic over PortIO.
//
// COM1 (0x3F8) carries the guest's console, COM2 (0x2F8) the syscall trace. Polled
// transmit; receive is polled or interrupt-driven (IER bit 0), see Sources/Kernel/Console.swift.
// Register map: National Semiconductor PC16550D data sheet, table II.

public struct UART16550<IO: PortIO> {
    public let io: IO
    public let base: UInt16

    public init(io: IO, base: UInt16) {
        self.io = io
        self.base = base
    }

    /// 115200 baud, 8N1, FIFOs on, receive interrupt as requested.
    public func configure(receiveInterrupt: Bool = false) {
        io.write8(base + 1, 0x00)        // IER: all off while configuring
        io.write8(base + 3, 0x80)        // LCR: DLAB on
        io.write8(base + 0, 0x01)        // divisor low: 115200 / 1
        io.write8(base + 1, 0x00)        // divisor high
        io.write8(base + 3, 0x03)        // LCR: 8 bits, no parity, 1 stop, DLAB off
        // FCR stays 0 (no FIFO): toggling the FIFO on clears it, which would drop input
        // that arrived during boot, and the receive interrupt drains every byte anyway.
        io.write8(base + 2, 0x00)
        io.write8(base + 4, 0x0B)        // MCR: DTR, RTS, OUT2 (gates the IRQ line)
        io.write8(base + 1, receiveInterrupt ? 0x01 : 0x00)
    }

    /// Turn the receive interrupt on without touching the FIFOs (configure() clears them,
    /// which would drop input that arrived during boot).
    public func enableReceiveInterrupt() {
        io.write8(base + 1, 0x01)
    }

    public var transmitReady: Bool { io.read8(base + 5) & 0x20 != 0 }
    public var hasInput: Bool { io.read8(base + 5) & 0x01 != 0 }

    public func write(_ byte: UInt8) {
        while !transmitReady {}
        io.write8(base, byte)
    }

    public func write<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        for b in bytes { write(b) }
    }

    public func write(_ text: StaticString) {
        text.withUTF8Buffer { buffer in
            for b in buffer { write(b) }
        }
    }

    public func write(_ text: String) {
        for b in text.utf8 { write(b) }
    }

    public func readByte() -> UInt8? {
        hasInput ? io.read8(base) : nil
    }
}
