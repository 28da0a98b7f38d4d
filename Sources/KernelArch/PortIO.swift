// X86PortIO — in/out instructions behind the Drivers' PortIO protocol (KernelArch layer).
import Drivers
import HW

public struct X86PortIO: PortIO {
    public init() {}
    @inline(__always) public func read8(_ port: UInt16) -> UInt8 { hw_inb(port) }
    @inline(__always) public func write8(_ port: UInt16, _ value: UInt8) { hw_outb(port, value) }
}
