// ExceptionSignal — which signal a CPU exception in guest code becomes, with its si_code and
// the name the crash report prints (KernelCore layer, pure logic).
//
// Sources/Kernel/Traps.swift (the unsafe entry side) reads the vector and error code from
// the trap frame and asks here; SignalDelivery.swift delivers the FaultSignal or the trap
// path prints a CrashReport. Host tests: Tests/KernelCoreTests/ExceptionSignalTests.swift.
// References: Intel SDM vol. 3 §6.15 (exceptions, page-fault error code bits), Linux
// arch/x86/kernel/traps.c (signal per trap) and include/uapi/asm-generic/siginfo.h (codes).

/// What a page fault's error code says about the access (SDM vol. 3 §4.7).
public struct PageFaultAccess: Equatable, Sendable {
    /// P (bit 0): the page was present, so the rights refused the access.
    public let protectionViolation: Bool
    /// W/R (bit 1): a write.
    public let write: Bool
    /// I/D (bit 4): an instruction fetch.
    public let execute: Bool

    public init(errorCode: UInt64) {
        protectionViolation = errorCode & 1 != 0
        write = errorCode & 2 != 0
        execute = errorCode & 16 != 0
    }
}

public struct ExceptionSignal: Equatable, Sendable {
    /// The exception's name in reports ("page fault", "divide error", ...).
    public let name: String
    public let signal: Int
    /// si_code for the siginfo: SEGV_MAPERR 1 / SEGV_ACCERR 2 for page faults, FPE_INTDIV 1,
    /// ILL_ILLOPN 2, TRAP_BRKPT 1, SI_KERNEL 0x80 otherwise (as Linux for #GP).
    public let code: Int32

    static let sigtrap = 5, sigill = 4, sigbus = 7, sigfpe = 8, sigsegv = 11
    static let siKernel: Int32 = 0x80

    /// The signal for exception `vector` raised by guest code, with the CPU's error code.
    public init(vector: UInt64, errorCode: UInt64) {
        var code = ExceptionSignal.siKernel
        let s = ExceptionSignal.self
        switch vector {
        case 0: name = "divide error"; signal = s.sigfpe; code = 1              // FPE_INTDIV
        case 1: name = "debug"; signal = s.sigtrap
        case 3: name = "breakpoint"; signal = s.sigtrap; code = 1               // TRAP_BRKPT
        case 4: name = "overflow"; signal = s.sigsegv
        case 5: name = "bound range"; signal = s.sigsegv
        case 6: name = "invalid opcode"; signal = s.sigill; code = 2            // ILL_ILLOPN
        case 7: name = "device not available"; signal = s.sigsegv
        case 8: name = "double fault"; signal = s.sigsegv
        case 10: name = "invalid TSS"; signal = s.sigsegv
        case 11: name = "segment not present"; signal = s.sigbus
        case 12: name = "stack segment"; signal = s.sigbus
        case 13: name = "general protection"; signal = s.sigsegv
        case 14:
            name = "page fault"; signal = s.sigsegv
            code = PageFaultAccess(errorCode: errorCode).protectionViolation ? 2 : 1  // ACCERR : MAPERR
        case 16: name = "x87 floating point"; signal = s.sigfpe
        case 17: name = "alignment check"; signal = s.sigbus
        case 18: name = "machine check"; signal = s.sigbus
        case 19: name = "SIMD floating point"; signal = s.sigfpe
        default: name = "exception"; signal = s.sigsegv
        }
        self.code = code
    }
}
