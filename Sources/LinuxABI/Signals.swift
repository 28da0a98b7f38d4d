// Signals — x86-64 Linux signal numbers, names, default actions, signal sets and the
// rt_sigaction/rt_sigprocmask constants (LinuxABI layer).
// Numbers from arch/x86/include/uapi/asm/signal.h; default actions from signal(7);
// SA_* from the same header and include/uapi/asm-generic/signal-defs.h; si_code values from
// include/uapi/asm-generic/siginfo.h. The names of real-time signals follow strace
// ("SIGRTMIN" for 32, "SIGRT_1" for 33...), since the kernel has no names for them.
// Signal delivery itself (queues, frames) lives in KernelCore; the kernel sigaction layout is
// in SignalStructs.swift.

/// What happens when a signal arrives and its disposition is SIG_DFL (signal(7)).
public enum SignalDefaultAction: Equatable, Sendable {
    case terminate
    case coreDump
    case ignore
    case stop
    case `continue`
}

public struct Signal: Equatable, Hashable, Sendable {
    public let rawValue: Int32
    @inline(__always) public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let SIGHUP = Signal(1)
    public static let SIGINT = Signal(2)
    public static let SIGQUIT = Signal(3)
    public static let SIGILL = Signal(4)
    public static let SIGTRAP = Signal(5)
    public static let SIGABRT = Signal(6)
    public static let SIGIOT = SIGABRT
    public static let SIGBUS = Signal(7)
    public static let SIGFPE = Signal(8)
    public static let SIGKILL = Signal(9)
    public static let SIGUSR1 = Signal(10)
    public static let SIGSEGV = Signal(11)
    public static let SIGUSR2 = Signal(12)
    public static let SIGPIPE = Signal(13)
    public static let SIGALRM = Signal(14)
    public static let SIGTERM = Signal(15)
    public static let SIGSTKFLT = Signal(16)
    public static let SIGCHLD = Signal(17)
    public static let SIGCONT = Signal(18)
    public static let SIGSTOP = Signal(19)
    public static let SIGTSTP = Signal(20)
    public static let SIGTTIN = Signal(21)
    public static let SIGTTOU = Signal(22)
    public static let SIGURG = Signal(23)
    public static let SIGXCPU = Signal(24)
    public static let SIGXFSZ = Signal(25)
    public static let SIGVTALRM = Signal(26)
    public static let SIGPROF = Signal(27)
    public static let SIGWINCH = Signal(28)
    public static let SIGIO = Signal(29)
    public static let SIGPOLL = SIGIO
    public static let SIGPWR = Signal(30)
    public static let SIGSYS = Signal(31)
    /// The kernel's first real-time signal (glibc reserves 32 and 33 for itself and reports
    /// SIGRTMIN as 34; the kernel does not care).
    public static let SIGRTMIN = Signal(32)
    public static let SIGRTMAX = Signal(64)
    /// _NSIG: signals are 1...64.
    public static let count: Int32 = 64

    public var isValid: Bool { rawValue >= 1 && rawValue <= Signal.count }
    public var isRealTime: Bool { rawValue >= 32 && rawValue <= Signal.count }
    /// SIGKILL and SIGSTOP cannot be caught, blocked or ignored.
    public var isUncatchable: Bool { self == .SIGKILL || self == .SIGSTOP }

    /// The bit of this signal in a sigset_t word (bit n-1 for signal n).
    public var maskBit: UInt64 { isValid ? UInt64(1) << UInt64(rawValue - 1) : 0 }

    /// "SIGSEGV" for 1...31 and "SIGRTMIN" for 32; nil otherwise (see `straceName`).
    public var name: StaticString? {
        switch rawValue {
        case 1: return "SIGHUP"
        case 2: return "SIGINT"
        case 3: return "SIGQUIT"
        case 4: return "SIGILL"
        case 5: return "SIGTRAP"
        case 6: return "SIGABRT"
        case 7: return "SIGBUS"
        case 8: return "SIGFPE"
        case 9: return "SIGKILL"
        case 10: return "SIGUSR1"
        case 11: return "SIGSEGV"
        case 12: return "SIGUSR2"
        case 13: return "SIGPIPE"
        case 14: return "SIGALRM"
        case 15: return "SIGTERM"
        case 16: return "SIGSTKFLT"
        case 17: return "SIGCHLD"
        case 18: return "SIGCONT"
        case 19: return "SIGSTOP"
        case 20: return "SIGTSTP"
        case 21: return "SIGTTIN"
        case 22: return "SIGTTOU"
        case 23: return "SIGURG"
        case 24: return "SIGXCPU"
        case 25: return "SIGXFSZ"
        case 26: return "SIGVTALRM"
        case 27: return "SIGPROF"
        case 28: return "SIGWINCH"
        case 29: return "SIGIO"
        case 30: return "SIGPWR"
        case 31: return "SIGSYS"
        case 32: return "SIGRTMIN"
        default: return nil
        }
    }

    /// strace's signame: "SIGSEGV", "SIGRTMIN", "SIGRT_2" for 34, the number otherwise.
    public var straceName: String {
        if let fixed = name { return stringFromStatic(fixed) }
        if isRealTime { return "SIGRT_" + decimalString(Int64(rawValue - 32)) }
        return decimalString(Int64(rawValue))
    }

    /// Looks a signal up by name: "SIGSEGV" or "SEGV", "SIGRTMIN", "SIGRT_3" / "RT_3",
    /// and the aliases SIGIOT, SIGPOLL.
    public init?(name: String) {
        var wanted = Array(name.utf8)
        let prefix = Array("SIG".utf8)
        if !wanted.starts(with: prefix) { wanted = prefix + wanted }
        if wanted.elementsEqual("SIGIOT".utf8) { self = .SIGABRT; return }
        if wanted.elementsEqual("SIGPOLL".utf8) { self = .SIGIO; return }
        for number in Int32(1)...Signal.count where Signal(number).straceName.utf8.elementsEqual(wanted) {
            self.init(number)
            return
        }
        return nil
    }

    /// The default action (signal(7)); real-time signals terminate.
    public var defaultAction: SignalDefaultAction {
        switch rawValue {
        case 3, 4, 5, 6, 7, 8, 11, 24, 25, 31: return .coreDump
        case 17, 23, 28: return .ignore
        case 18: return .continue
        case 19, 20, 21, 22: return .stop
        default: return .terminate
        }
    }
}

/// A 64-bit kernel sigset_t (x86-64 _NSIG_WORDS = 1): bit n-1 is signal n.
public struct SignalSet: Equatable, Hashable, Sendable {
    public var rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let empty = SignalSet(rawValue: 0)
    public static let full = SignalSet(rawValue: ~0)
    /// The signals a mask can never block (rt_sigprocmask silently drops them).
    public static let unblockable = SignalSet(rawValue: Signal.SIGKILL.maskBit | Signal.SIGSTOP.maskBit)

    public init(_ signals: [Signal]) {
        rawValue = 0
        for signal in signals { insert(signal) }
    }

    public func contains(_ signal: Signal) -> Bool { rawValue & signal.maskBit != 0 }
    public mutating func insert(_ signal: Signal) { rawValue |= signal.maskBit }
    public mutating func remove(_ signal: Signal) { rawValue &= ~signal.maskBit }
    public var isEmpty: Bool { rawValue == 0 }

    /// The lowest-numbered signal in the set (the kernel delivers synchronous signals first,
    /// then lowest number first: kernel/signal.c next_signal).
    public var lowest: Signal? {
        rawValue == 0 ? nil : Signal(Int32(rawValue.trailingZeroBitCount) + 1)
    }

    /// strace's sprintsigmask_n: "[INT TERM RTMIN RT_1]", and when two thirds or more of the
    /// 64 bits are set, the complement: "~[KILL STOP]", "~[]".
    public var straceDescription: String {
        var bits = rawValue
        var text = ""
        if bits.nonzeroBitCount >= 64 * 2 / 3 {
            text = "~"
            bits = ~bits
        }
        text += "["
        var first = true
        for number in Int32(1)...64 where bits & (UInt64(1) << UInt64(number - 1)) != 0 {
            if !first { text += " " }
            first = false
            let full = Array(Signal(number).straceName.utf8)
            let short = full.starts(with: "SIG".utf8) ? Array(full.dropFirst(3)) : full
            text += String(decoding: short, as: UTF8.self)
        }
        return text + "]"
    }
}

/// rt_sigprocmask(2) `how`.
public struct SigprocmaskHow: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static let SIG_BLOCK = SigprocmaskHow(0)
    public static let SIG_UNBLOCK = SigprocmaskHow(1)
    public static let SIG_SETMASK = SigprocmaskHow(2)
    public static let names: [NamedValue] = [
        NamedValue(0, "SIG_BLOCK"), NamedValue(1, "SIG_UNBLOCK"), NamedValue(2, "SIG_SETMASK"),
    ]
    public static let unknownComment: StaticString = "SIG_???"
}

/// sa_flags of the kernel sigaction.
public struct SigactionFlags: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt64
    @inline(__always) public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let SA_NOCLDSTOP = SigactionFlags(rawValue: 0x0000_0001)
    public static let SA_NOCLDWAIT = SigactionFlags(rawValue: 0x0000_0002)
    public static let SA_SIGINFO = SigactionFlags(rawValue: 0x0000_0004)
    public static let SA_UNSUPPORTED = SigactionFlags(rawValue: 0x0000_0400)
    public static let SA_EXPOSE_TAGBITS = SigactionFlags(rawValue: 0x0000_0800)
    /// x86-64 requires it: the handler returns through sa_restorer (rt_sigreturn).
    public static let SA_RESTORER = SigactionFlags(rawValue: 0x0400_0000)
    public static let SA_ONSTACK = SigactionFlags(rawValue: 0x0800_0000)
    public static let SA_RESTART = SigactionFlags(rawValue: 0x1000_0000)
    public static let SA_NODEFER = SigactionFlags(rawValue: 0x4000_0000)
    public static let SA_RESETHAND = SigactionFlags(rawValue: 0x8000_0000)
    /// strace's xlat/sigact_flags.in order; SA_UNSUPPORTED and SA_EXPOSE_TAGBITS are not in
    /// strace 6.1's table and print as hex, as here.
    public static let names: [NamedValue] = [
        NamedValue(0x0400_0000, "SA_RESTORER"), NamedValue(0x0800_0000, "SA_ONSTACK"),
        NamedValue(0x1000_0000, "SA_RESTART"), NamedValue(0x4000_0000, "SA_NODEFER"),
        NamedValue(0x8000_0000, "SA_RESETHAND"), NamedValue(0x4, "SA_SIGINFO"),
        NamedValue(0x1, "SA_NOCLDSTOP"), NamedValue(0x2, "SA_NOCLDWAIT"),
    ]
    public static let unknownComment: StaticString = "SA_???"
}

/// Special handler values of sa_handler.
public enum SignalHandler: Sendable {
    public static let SIG_DFL: UInt64 = 0
    public static let SIG_IGN: UInt64 = 1
    public static let SIG_ERR: UInt64 = ~0
}

/// sigaltstack(2) ss_flags and sizes.
public enum SignalStackFlags: Sendable {
    public static let SS_ONSTACK: Int32 = 1
    public static let SS_DISABLE: Int32 = 2
    public static let SS_AUTODISARM: UInt32 = 0x8000_0000
    public static let MINSIGSTKSZ: UInt64 = 2048
    public static let SIGSTKSZ: UInt64 = 8192
}

/// si_code values (include/uapi/asm-generic/siginfo.h).
public enum SignalCode: Sendable {
    public static let SI_USER: Int32 = 0
    public static let SI_KERNEL: Int32 = 0x80
    public static let SI_QUEUE: Int32 = -1
    public static let SI_TIMER: Int32 = -2
    public static let SI_TKILL: Int32 = -6
    public static let ILL_ILLOPC: Int32 = 1
    public static let ILL_ILLOPN: Int32 = 2
    public static let FPE_INTDIV: Int32 = 1
    public static let SEGV_MAPERR: Int32 = 1
    public static let SEGV_ACCERR: Int32 = 2
    public static let BUS_ADRALN: Int32 = 1
    public static let BUS_ADRERR: Int32 = 2
    public static let TRAP_BRKPT: Int32 = 1
    public static let TRAP_TRACE: Int32 = 2
    public static let CLD_EXITED: Int32 = 1
    public static let CLD_KILLED: Int32 = 2
    public static let CLD_DUMPED: Int32 = 3
    public static let CLD_TRAPPED: Int32 = 4
    public static let CLD_STOPPED: Int32 = 5
    public static let CLD_CONTINUED: Int32 = 6
}
