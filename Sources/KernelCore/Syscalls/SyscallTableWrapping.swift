// SyscallTableWrapping — the convenience API for custom syscall handlers (KernelCore layer).
//
// A user's Swift file (`egg run --syscalls MySyscalls.swift`, README "Custom system calls")
// receives the same SyscallTable the built-ins are registered in (SyscallTable.swift) and may
// register a new number or wrap a built-in: `wrap` hands the wrapper the handler it replaces,
// as eggos's syscall example does with uname.
import LinuxABI

/// A handler that decorates another: it gets the handler it replaces as its third argument
/// and decides whether, when and how to call it.
public typealias SyscallWrapper = (KernelState, SyscallArguments, SyscallHandler) throws(Errno) -> Int

extension SyscallTable {
    /// The handler of every number nobody registered: ENOSYS, as Linux's sys_ni_syscall.
    public static func unimplemented(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        throw .ENOSYS
    }

    /// Replaces the handler for `number` with `wrapper`, which receives the previous handler
    /// (or, for a number nobody handled, ``unimplemented(_:_:)``) as its third argument.
    ///
    /// - Parameters:
    ///   - number: the system call number, 0 ..< ``capacity``.
    ///   - wrapper: runs in place of the old handler, on the calling thread with the kernel
    ///     lock held; it may call the old handler any number of times.
    /// - Returns: false for a number outside the table (nothing is installed).
    @discardableResult
    public mutating func wrap(_ number: Int, _ wrapper: @escaping SyscallWrapper) -> Bool {
        guard number >= 0 && number < SyscallTable.capacity else { return false }
        // (An `if` rather than `??`: swiftc 6.3 crashes lowering a typed-throws function
        // value inside `??`'s autoclosure.)
        let original: SyscallHandler
        if let existing = handler(for: number) { original = existing } else { original = SyscallTable.unimplemented }
        register(number) { k, a throws(Errno) -> Int in try wrapper(k, a, original) }
        return true
    }
}
