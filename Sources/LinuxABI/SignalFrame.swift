// SignalFrame — x86-64 layouts of the signal delivery frame (LinuxABI layer): siginfo_t,
// stack_t, struct sigcontext, the kernel struct ucontext and struct rt_sigframe.
// Layouts from include/uapi/asm-generic/siginfo.h (128-byte siginfo, union at offset 16),
// arch/x86/include/uapi/asm/sigcontext.h (struct sigcontext, 64-bit: 256 bytes),
// include/uapi/asm-generic/ucontext.h and arch/x86/include/asm/sigframe.h (rt_sigframe:
// pretcode, uc, info; the FPU state follows separately, 64-byte aligned).
// KernelCore builds the frame on the user stack when delivering a signal and reads the
// ucontext back in rt_sigreturn; signal numbers and flags are in Signals.swift.

/// The union part of siginfo_t that a given signal uses.
public enum SiginfoDetail: Equatable, Sendable {
    case none
    /// kill(2), tgkill(2), SI_USER / SI_TKILL: _kill { pid, uid }.
    case sender(pid: Int32, uid: UInt32)
    /// SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP: _sigfault { addr }.
    case fault(address: UInt64)
    /// SIGCHLD: _sigchld { pid, uid, status, utime, stime }.
    case child(pid: Int32, uid: UInt32, status: Int32, userTime: Int64, systemTime: Int64)
    /// rt_sigqueueinfo / timers with a value: _rt { pid, uid, sigval }.
    case queued(pid: Int32, uid: UInt32, value: UInt64)
    /// SIGSYS from seccomp: _sigsys { call_addr, syscall, arch }.
    case syscall(callAddress: UInt64, number: Int32, arch: UInt32)
    /// POSIX timers, SI_TIMER: _timer { tid (the timer id), overrun, sigval }.
    case timer(id: Int32, overrun: Int32, value: UInt64)
}

/// siginfo_t: 128 bytes.
public struct Siginfo: KernelStructEncodable, Equatable, Sendable {
    public var signal: Int32
    public var errno: Int32
    public var code: Int32
    public var detail: SiginfoDetail

    public init(signal: Int32, code: Int32, errno: Int32 = 0, detail: SiginfoDetail = .none) {
        self.signal = signal
        self.errno = errno
        self.code = code
        self.detail = detail
    }

    /// AUDIT_ARCH_X86_64 (include/uapi/linux/audit.h), the arch of SIGSYS.
    public static let AUDIT_ARCH_X86_64: UInt32 = 0xc000_003e

    public static let byteSize = 128
    public func encode(into writer: inout ByteWriter) {
        let start = writer.count
        writer.i32(signal)  // 0  si_signo
        writer.i32(errno)   // 4  si_errno
        writer.i32(code)    // 8  si_code
        writer.zeros(4)     // 12 padding before the 8-aligned union
        switch detail {     // 16 _sifields
        case .none:
            break
        case let .sender(pid, uid):
            writer.i32(pid)
            writer.u32(uid)
        case let .fault(address):
            writer.u64(address)
        case let .child(pid, uid, status, userTime, systemTime):
            writer.i32(pid)
            writer.u32(uid)
            writer.i32(status)
            writer.zeros(4)
            writer.i64(userTime)
            writer.i64(systemTime)
        case let .queued(pid, uid, value):
            writer.i32(pid)
            writer.u32(uid)
            writer.u64(value)
        case let .syscall(callAddress, number, arch):
            writer.u64(callAddress)
            writer.i32(number)
            writer.u32(arch)
        case let .timer(id, overrun, value):
            writer.i32(id)
            writer.i32(overrun)
            writer.u64(value)
        }
        writer.zeros(Siginfo.byteSize - (writer.count - start))
    }
}

/// stack_t (sigaltstack(2), uc_stack): 24 bytes.
public struct SignalStack: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var base: UInt64
    public var flags: Int32
    public var size: UInt64

    public init(base: UInt64 = 0, flags: Int32 = SignalStackFlags.SS_DISABLE, size: UInt64 = 0) {
        self.base = base
        self.flags = flags
        self.size = size
    }

    public static let byteSize = 24
    public func encode(into writer: inout ByteWriter) {
        writer.u64(base)
        writer.i32(flags)
        writer.zeros(4)
        writer.u64(size)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> SignalStack {
        let base = try reader.u64()
        let flags = try reader.i32()
        try reader.skip(4)
        return SignalStack(base: base, flags: flags, size: try reader.u64())
    }
}

/// struct sigcontext (64-bit): the interrupted user registers, 256 bytes.
public struct SignalContext: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    /// r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags:
    /// the order of the structure (and of glibc's REG_R8... gregs indices).
    public var registers: [UInt64]
    public var cs: UInt16
    public var gs: UInt16
    public var fs: UInt16
    public var ss: UInt16
    public var err: UInt64
    public var trapno: UInt64
    public var oldmask: UInt64
    public var cr2: UInt64
    /// User address of the saved FPU state, 0 if none.
    public var fpstate: UInt64

    public static let registerCount = 18
    public static let R8 = 0, R9 = 1, R10 = 2, R11 = 3, R12 = 4, R13 = 5, R14 = 6, R15 = 7
    public static let RDI = 8, RSI = 9, RBP = 10, RBX = 11, RDX = 12, RAX = 13, RCX = 14
    public static let RSP = 15, RIP = 16, EFLAGS = 17

    public init(registers: [UInt64] = Array(repeating: 0, count: 18), cs: UInt16 = 0x33, gs: UInt16 = 0,
                fs: UInt16 = 0, ss: UInt16 = 0x2b, err: UInt64 = 0, trapno: UInt64 = 0, oldmask: UInt64 = 0,
                cr2: UInt64 = 0, fpstate: UInt64 = 0) {
        var regs = registers
        while regs.count < SignalContext.registerCount { regs.append(0) }
        self.registers = Array(regs[0..<SignalContext.registerCount])
        self.cs = cs
        self.gs = gs
        self.fs = fs
        self.ss = ss
        self.err = err
        self.trapno = trapno
        self.oldmask = oldmask
        self.cr2 = cr2
        self.fpstate = fpstate
    }

    public static let byteSize = 256
    public func encode(into writer: inout ByteWriter) {
        for index in 0..<SignalContext.registerCount { writer.u64(registers[index]) }  // 0...136
        writer.u16(cs)       // 144
        writer.u16(gs)
        writer.u16(fs)
        writer.u16(ss)
        writer.u64(err)      // 152
        writer.u64(trapno)   // 160
        writer.u64(oldmask)  // 168
        writer.u64(cr2)      // 176
        writer.u64(fpstate)  // 184
        writer.zeros(64)     // 192 reserved1[8]
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> SignalContext {
        var registers: [UInt64] = []
        for _ in 0..<registerCount { registers.append(try reader.u64()) }
        let cs = try reader.u16()
        let gs = try reader.u16()
        let fs = try reader.u16()
        let ss = try reader.u16()
        let context = SignalContext(registers: registers, cs: cs, gs: gs, fs: fs, ss: ss,
                                    err: try reader.u64(), trapno: try reader.u64(),
                                    oldmask: try reader.u64(), cr2: try reader.u64(),
                                    fpstate: try reader.u64())
        try reader.skip(64)
        return context
    }
}

/// The kernel struct ucontext: uc_flags, uc_link, uc_stack, uc_mcontext, uc_sigmask —
/// 304 bytes (glibc's ucontext_t is larger; the kernel frame uses this one).
public struct UserContext: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var flags: UInt64
    public var link: UInt64
    public var stack: SignalStack
    public var machineContext: SignalContext
    /// The signal mask to restore on rt_sigreturn.
    public var signalMask: SignalSet

    /// uc_flags bits (arch/x86/include/uapi/asm/ucontext.h).
    public static let UC_FP_XSTATE: UInt64 = 0x1
    public static let UC_SIGCONTEXT_SS: UInt64 = 0x2
    public static let UC_STRICT_RESTORE_SS: UInt64 = 0x4

    public init(flags: UInt64 = UserContext.UC_SIGCONTEXT_SS | UserContext.UC_STRICT_RESTORE_SS,
                link: UInt64 = 0, stack: SignalStack = SignalStack(),
                machineContext: SignalContext, signalMask: SignalSet) {
        self.flags = flags
        self.link = link
        self.stack = stack
        self.machineContext = machineContext
        self.signalMask = signalMask
    }

    public static let byteSize = 304
    /// offsetof(struct ucontext, uc_mcontext).
    public static let machineContextOffset = 40
    public func encode(into writer: inout ByteWriter) {
        writer.u64(flags)
        writer.u64(link)
        stack.encode(into: &writer)
        machineContext.encode(into: &writer)
        writer.u64(signalMask.rawValue)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> UserContext {
        UserContext(flags: try reader.u64(), link: try reader.u64(),
                    stack: try SignalStack.decode(from: &reader),
                    machineContext: try SignalContext.decode(from: &reader),
                    signalMask: SignalSet(rawValue: try reader.u64()))
    }
}

/// struct rt_sigframe (64-bit): pretcode (the sa_restorer the handler returns to), the
/// ucontext, the siginfo — 440 bytes. On entry to the handler rsp points at pretcode, and
/// rsp+8 must be 16-byte aligned minus 8 like after a call (x86-64 psABI), so
/// (frame address + 8) % 16 == 0.
public struct RtSigframe: KernelStructEncodable, Equatable, Sendable {
    public var returnAddress: UInt64
    public var context: UserContext
    public var info: Siginfo

    public init(returnAddress: UInt64, context: UserContext, info: Siginfo) {
        self.returnAddress = returnAddress
        self.context = context
        self.info = info
    }

    public static let byteSize = 440
    /// Where rt_sigreturn finds the ucontext: frame + 8 (rsp after the handler's ret).
    public static let contextOffset = 8
    /// What the handler's second and third arguments point at (rsi = &info, rdx = &uc).
    public static let infoOffset = 312

    public func encode(into writer: inout ByteWriter) {
        writer.u64(returnAddress)
        context.encode(into: &writer)
        info.encode(into: &writer)
    }

    /// The frame address for a handler whose stack top is `stackTop`: below the red zone
    /// (128 bytes) and any room already taken, aligned as the psABI wants at function entry.
    public static func frameAddress(stackTop: UInt64, reserved: UInt64 = 0) -> UInt64 {
        let below = stackTop - 128 - reserved - UInt64(byteSize)
        return (below & ~15) - 8
    }
}
