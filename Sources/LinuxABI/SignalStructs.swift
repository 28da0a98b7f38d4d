// SignalStructs — the x86-64 kernel struct sigaction as rt_sigaction(2) reads and writes it
// (LinuxABI layer). Layout from arch/x86/include/uapi/asm/signal.h (struct sigaction with
// sa_handler, sa_flags, sa_restorer, sa_mask — in that order, unlike glibc's user struct):
// 32 bytes with the 8-byte sigset_t rt_sigaction requires (sigsetsize must be 8).
// Signal numbers, sets and SA_* flags are in Signals.swift.

public struct SigactionKernel: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    /// SIG_DFL (0), SIG_IGN (1) or the handler's address.
    public var handler: UInt64
    public var flags: SigactionFlags
    /// Where the handler returns to (glibc's __restore_rt calling rt_sigreturn).
    public var restorer: UInt64
    public var mask: SignalSet

    public init(handler: UInt64 = SignalHandler.SIG_DFL, flags: SigactionFlags = [],
                restorer: UInt64 = 0, mask: SignalSet = .empty) {
        self.handler = handler
        self.flags = flags
        self.restorer = restorer
        self.mask = mask
    }

    /// The sigsetsize argument rt_sigaction and rt_sigprocmask insist on (else EINVAL).
    public static let sigsetSize = 8

    public static let byteSize = 32
    public func encode(into writer: inout ByteWriter) {
        writer.u64(handler)
        writer.u64(flags.rawValue)
        writer.u64(restorer)
        writer.u64(mask.rawValue)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> SigactionKernel {
        SigactionKernel(handler: try reader.u64(), flags: SigactionFlags(rawValue: try reader.u64()),
                        restorer: try reader.u64(), mask: SignalSet(rawValue: try reader.u64()))
    }
}
