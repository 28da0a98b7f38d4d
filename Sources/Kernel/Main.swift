// Main — kmain, the first Swift code after boot.S (Kernel layer).
import HW
import Drivers
import KernelArch

let console = UART16550(io: X86PortIO(), base: 0x3F8)

@_cdecl("kmain")
public func kmain(_ magic: UInt64, _ info: UInt64) {
    console.configure()
    console.write("egg: booting\n")
    CPU.setUp()
    console.write("egg: cpu ok\n")
    hw_outb(0xf4, 0)
    CPU.halt()
}

@_cdecl("egg_syscall_entry")
public func syscallEntry(_ frame: UnsafeMutablePointer<trap_frame>) {
}

@_cdecl("egg_trap_entry")
public func trapEntry(_ frame: UnsafeMutablePointer<trap_frame>) {
    console.write("trap\n")
    CPU.halt()
}

@_cdecl("egg_panic_out_of_memory")
public func panicOutOfMemory(_ size: UInt64) -> Never {
    console.write("egg: kernel heap exhausted\n")
    CPU.halt()
}
