// SyscallTableWrapping — the convenience API for custom syscall handlers (KernelCore layer).
//
// A user's Swift file (`egg run --syscalls MySyscalls.swift`, README "Custom system calls")
// receives the same SyscallTable the built-ins are registered in (SyscallTable.swift) and may
// register a new number or wrap a built-in: `wrap` hands the wrapper the handler it replaces,
// as eggos's syscall example does with uname.
import LinuxABI

extension SyscallTable {
    /// Replaces the handler for `number` with `wrapper`, which gets the previous handler (or,
    /// for a number nobody handled, one answering ENOSYS) as its third argument. Returns false
    /// for a number outside the table.
    @discardableResult
    public mutating func wrap(_ number: Int,
                              _ wrapper: @escaping (KernelState, SyscallArguments, @escaping SyscallHandler) -> SyscallResult) -> Bool {
        guard number >= 0 && number < SyscallTable.capacity else { return false }
        let original: SyscallHandler = handler(for: number) ?? { _, _ in .failure(.ENOSYS) }
        register(number) { k, a in wrapper(k, a, original) }
        return true
    }
}
