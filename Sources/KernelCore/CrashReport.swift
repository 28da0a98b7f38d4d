// CrashReport — the message a guest's fatal signal prints (KernelCore layer).
//
// Modelled on what Linux prints for an unhandled SIGSEGV (arch/x86/mm/fault.c,
// show_signal_msg: "segfault at ADDR ip IP sp SP error CODE") plus the register dump of
// __show_regs, and the shell's "Segmentation fault" wording from strsignal(3).

public struct CrashRegisters {
    public var rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp: UInt64
    public var r8, r9, r10, r11, r12, r13, r14, r15: UInt64
    public var rip, rflags, cs, ss: UInt64
    public init(rax: UInt64, rbx: UInt64, rcx: UInt64, rdx: UInt64, rsi: UInt64, rdi: UInt64, rbp: UInt64,
                rsp: UInt64, r8: UInt64, r9: UInt64, r10: UInt64, r11: UInt64, r12: UInt64, r13: UInt64,
                r14: UInt64, r15: UInt64, rip: UInt64, rflags: UInt64, cs: UInt64, ss: UInt64) {
        self.rax = rax; self.rbx = rbx; self.rcx = rcx; self.rdx = rdx; self.rsi = rsi; self.rdi = rdi
        self.rbp = rbp; self.rsp = rsp; self.r8 = r8; self.r9 = r9; self.r10 = r10; self.r11 = r11
        self.r12 = r12; self.r13 = r13; self.r14 = r14; self.r15 = r15; self.rip = rip
        self.rflags = rflags; self.cs = cs; self.ss = ss
    }
}

public func hex16(_ v: UInt64) -> String {
    let digits = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

public struct CrashReport {
    public var signal: Int
    public var exceptionName: String
    public var vector: UInt64
    public var errorCode: UInt64
    public var faultAddress: UInt64?
    public var registers: CrashRegisters
    public var executable: [UInt8]
    /// Return addresses walked from rbp (walkFramePointers), innermost first; egg symbolizes
    /// them with ip from the guest's symbol table (Sources/EggHost/CrashSymbolizer.swift).
    public var backtrace: [UInt64] = []
    /// The word at rsp: the return address when the crash happened in a function that keeps
    /// no frame (a leaf built without frame pointers); egg checks that it follows a call.
    public var stackTop: UInt64? = nil

    public init(signal: Int, exceptionName: String, vector: UInt64, errorCode: UInt64, faultAddress: UInt64?,
                registers: CrashRegisters, executable: [UInt8]) {
        self.signal = signal
        self.exceptionName = exceptionName
        self.vector = vector
        self.errorCode = errorCode
        self.faultAddress = faultAddress
        self.registers = registers
        self.executable = executable
    }

    public static func signalName(_ s: Int) -> String {
        switch s {
        case 1: return "SIGHUP"
        case 2: return "SIGINT"
        case 3: return "SIGQUIT"
        case 4: return "SIGILL"
        case 5: return "SIGTRAP"
        case 6: return "SIGABRT"
        case 7: return "SIGBUS"
        case 8: return "SIGFPE"
        case 9: return "SIGKILL"
        case 11: return "SIGSEGV"
        case 13: return "SIGPIPE"
        case 14: return "SIGALRM"
        case 15: return "SIGTERM"
        default: return "signal \(s)"
        }
    }

    public static func signalDescription(_ s: Int) -> String {
        switch s {
        case 1: return "Hangup"
        case 2: return "Interrupt"
        case 3: return "Quit"
        case 4: return "Illegal instruction"
        case 5: return "Trace/breakpoint trap"
        case 6: return "Aborted"
        case 7: return "Bus error"
        case 8: return "Floating point exception"
        case 9: return "Killed"
        case 11: return "Segmentation fault"
        case 13: return "Broken pipe"
        case 14: return "Alarm clock"
        case 15: return "Terminated"
        default: return "Killed by signal \(s)"
        }
    }

    /// Decodes the x86 page-fault error code the way a reader needs it.
    public static func describePageFault(_ code: UInt64) -> String {
        let access = code & 16 != 0 ? "instruction fetch" : (code & 2 != 0 ? "write" : "read")
        let cause = code & 1 != 0 ? "protection violation" : "page not present"
        return "\(access), \(cause)"
    }

    public func render() -> String {
        let name = String(decoding: executable, as: UTF8.self)
        var s = "\negg: \(name): killed by \(CrashReport.signalName(signal)) (\(CrashReport.signalDescription(signal)))\n"
        if vector == 14, let address = faultAddress {
            s += "  segfault at \(String(address, radix: 16)) ip \(hex16(registers.rip)) sp \(hex16(registers.rsp)) error \(errorCode) (\(CrashReport.describePageFault(errorCode)))\n"
        } else {
            s += "  \(exceptionName) (trap \(vector)) ip \(hex16(registers.rip)) sp \(hex16(registers.rsp)) error \(errorCode)\n"
        }
        s += renderRegisters()
        if !backtrace.isEmpty {
            s += "  Call trace (frame pointers):"
            for address in backtrace { s += " " + hex16(address) }
            s += "\n"
        }
        return s
    }

    /// The control-channel line egg turns into "ip is in function+0xoff" and a symbolized
    /// backtrace: "crash ip 0x401136 bt 0x401160 0x401020".
    public func hostChannelLine() -> String {
        var s = "crash ip 0x" + String(registers.rip, radix: 16)
        if let stackTop { s += " top 0x" + String(stackTop, radix: 16) }
        if !backtrace.isEmpty {
            s += " bt"
            for address in backtrace { s += " 0x" + String(address, radix: 16) }
        }
        return s + "\n"
    }

    /// Fills `backtrace` and `stackTop` from the guest's stack (never faults: unreadable
    /// memory just ends the walk).
    public mutating func captureStack(_ memory: AddressSpace) {
        backtrace = CrashReport.walkFramePointers(rbp: registers.rbp, memory: memory)
        if case .success(let word) = memory.readUInt64(UserAddress(registers.rsp)) { stackTop = word }
    }

    /// Up to `limit` return addresses from the frame-pointer chain starting at `rbp`: each
    /// frame holds the caller's rbp at [rbp] and the return address at [rbp+8] (System V
    /// x86-64 psABI §3.4.1, when compiled with frame pointers). Stops at a null, unreadable,
    /// misaligned or non-increasing frame, so code built without frame pointers just gives
    /// a short (or empty) list, never a fault.
    public static func walkFramePointers(rbp: UInt64, memory: AddressSpace, limit: Int = 16) -> [UInt64] {
        var addresses: [UInt64] = []
        var frame = rbp
        while addresses.count < limit && frame != 0 && frame & 7 == 0 {
            guard case .success(let next) = memory.readUInt64(UserAddress(frame)),
                  case .success(let returnAddress) = memory.readUInt64(UserAddress(frame &+ 8)) else { break }
            if returnAddress == 0 { break }
            addresses.append(returnAddress)
            if next <= frame { break }
            frame = next
        }
        return addresses
    }

    public func renderRegisters() -> String {
        let r = registers
        var s = "  RIP: \(hex16(r.rip)) RSP: \(hex16(r.rsp)) EFLAGS: \(hex16(r.rflags))\n"
        s += "  RAX: \(hex16(r.rax)) RBX: \(hex16(r.rbx)) RCX: \(hex16(r.rcx))\n"
        s += "  RDX: \(hex16(r.rdx)) RSI: \(hex16(r.rsi)) RDI: \(hex16(r.rdi))\n"
        s += "  RBP: \(hex16(r.rbp)) R08: \(hex16(r.r8)) R09: \(hex16(r.r9))\n"
        s += "  R10: \(hex16(r.r10)) R11: \(hex16(r.r11)) R12: \(hex16(r.r12))\n"
        s += "  R13: \(hex16(r.r13)) R14: \(hex16(r.r14)) R15: \(hex16(r.r15))\n"
        return s
    }
}
