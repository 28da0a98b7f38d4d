// UserSyscalls — the hook through which a user's Swift file adds or wraps system calls
// (Kernel layer).
//
// `egg run --syscalls MySyscalls.swift` (Sources/EggHost/CustomSyscallKernel.swift) compiles
// the user's `registerSyscalls(_ table: inout SyscallTable)` as one more Embedded Swift
// module against the kernel's own, with a generated @_cdecl("egg_register_user_syscalls")
// entry that calls it, and relinks the kernel. In the stock kernel that symbol is the weak
// no-op in Sources/KernelRuntime/runtime.c. Main.swift calls the hook once, right after the
// built-in handlers are registered, so user handlers see (and may wrap) every built-in.
import KernelCore

/// Declared here, defined by the user's module or by runtime.c's weak default. A single raw
/// pointer argument is passed the same way by the Swift and C calling conventions.
@_silgen_name("egg_register_user_syscalls")
func eggRegisterUserSyscalls(_ table: UnsafeMutableRawPointer)

func registerUserSyscalls(_ table: inout SyscallTable) {
    // SAFETY: the pointer is only used during this call, while `table` is exclusively ours;
    // the user's module binds it to the same SyscallTable type it was compiled against.
    withUnsafeMutablePointer(to: &table) { eggRegisterUserSyscalls(UnsafeMutableRawPointer($0)) }
}
