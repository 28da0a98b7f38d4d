// PortIO — the access protocol x86 port-mapped devices are generic over (Drivers layer).
//
// KernelArch provides the real one (`X86PortIO`, in and out instructions); host tests in
// Tests/KernelCoreTests drive the same drivers with a fake device that records accesses.

public protocol PortIO {
    func read8(_ port: UInt16) -> UInt8
    func write8(_ port: UInt16, _ value: UInt8)
}
