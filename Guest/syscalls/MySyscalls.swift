// MySyscalls — the custom syscall example (README, "Custom system calls"): a new system call
// and a wrapped built-in, in Swift, linked into the kernel by
//   egg run --syscalls Guest/syscalls/MySyscalls.swift ./program
// Layer: user extension of the kernel (compiled in Embedded Swift against KernelCore by
// Sources/EggHost/CustomSyscallKernel.swift). Guests that use it: Guest/c/custom_syscall.c,
// Guest/swift/custom_syscall.swift; on stock Linux or a stock egg kernel call 500 is ENOSYS.
import KernelCore
import LinuxABI

/// The number of the new call: unused by Linux on x86-64 (its table ends at 462).
let eggHelloSyscall = 500

func registerSyscalls(_ table: inout SyscallTable) {
    // egg_hello(buffer, size, n): writes a greeting into the caller's buffer through the
    // checked user-memory path and returns its length plus n * 1000, so the caller can check
    // that its arguments arrived.
    table.register(eggHelloSyscall) { k, a throws(Errno) -> Int in
        let greeting = Array("hello from a Swift syscall".utf8)
        guard a.size(1) >= greeting.count + 1 else { throw .EINVAL }
        if let error = k.memory.copyOut(a.address(0), from: greeting + [0]) { throw error }
        return greeting.count + a.int(2) * 1000
    }

    // uname: call the built-in, then change the version field the program sees. `wrap` hands
    // over the handler it replaces (table.register also returns it); an error from the
    // original propagates through `try` to the program.
    table.wrap(SyscallNumber.uname.rawValue) { k, a, original throws(Errno) -> Int in
        let result = try original(k, a)
        // struct utsname: six fields of 65 bytes; version is the fourth (sys/utsname.h).
        let version = Array("#1 egg with custom syscalls".utf8) + [0]
        if let error = k.memory.copyOut(a.address(0).advanced(by: 3 * 65), from: version) { throw error }
        return result
    }
}
