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
    table.register(eggHelloSyscall) { k, a in
        let greeting = Array("hello from a Swift syscall".utf8)
        guard a.size(1) >= greeting.count + 1 else { return .failure(.EINVAL) }
        if let error = k.memory.copyOut(a.address(0), from: greeting + [0]) { return .failure(error) }
        return .success(greeting.count + a.int(2) * 1000)
    }

    // uname: call the built-in, then change the version field the program sees. `wrap` hands
    // over the handler it replaces (table.register also returns it).
    table.wrap(SyscallNumber.uname.rawValue) { k, a, original in
        let result = original(k, a)
        guard case .success = result else { return result }
        // struct utsname: six fields of 65 bytes; version is the fourth (sys/utsname.h).
        let version = Array("#1 egg with custom syscalls".utf8) + [0]
        if let error = k.memory.copyOut(a.address(0).advanced(by: 3 * 65), from: version) {
            return .failure(error)
        }
        return result
    }
}
