// TraceSerial — the syscall trace's own wire: COM2 (Kernel layer). egg reads it from a
// second QEMU serial port so the guest's console output stays clean.
import Drivers
import KernelArch

enum TraceSerial {
    nonisolated(unsafe) static var configured = false
    static let port = UART16550(io: X86PortIO(), base: 0x2F8)

    static func write(_ text: String) {
        if !configured {
            port.configure()
            configured = true
        }
        port.write(text)
    }
}
