// NotifyTraceText — strace's decoding of the signalfd, queued-signal and POSIX message queue
// calls (KernelCore/Trace), an extension of SyscallTraceFormatter (SyscallTraceFormatter.swift
// dispatches here). The forms follow strace 6.1 (src/signalfd.c, src/mq.c, src/signal.c):
//   signalfd4(-1, [USR1 RTMIN], 8, SFD_NONBLOCK|SFD_CLOEXEC) = 3
//   rt_sigtimedwait([USR1], 0x7ffd..., {tv_sec=5, tv_nsec=0}, 8) = 10 (SIGUSR1)
//   mq_open("q", O_RDWR|O_CREAT|O_EXCL, 0600, {mq_flags=0, mq_maxmsg=4, mq_msgsize=64, mq_curmsgs=0}) = 3
//   mq_timedsend(3, "low1", 4, 1, NULL) = 0
//   mq_notify(3, {sigev_value={sival_int=1234, sival_ptr=0x4d2}, sigev_signo=SIGUSR1, sigev_notify=SIGEV_SIGNAL}) = 0
// The siginfo arguments print as their address (strace decodes them field by field).
import LinuxABI

extension SyscallTraceFormatter {
    static let signalfdFlags: [NamedValue] = [NamedValue(0o2000000, "SFD_CLOEXEC"), NamedValue(0o4000, "SFD_NONBLOCK")]

    /// struct mq_attr as strace prints it; mq_flags shows O_NONBLOCK by name.
    static func messageQueueAttributes(_ b: [UInt8]) -> String {
        let a = MessageQueueAttributes(b)
        let flags = a.flags == 0 ? "0" : (a.flags == 0o4000 ? "O_NONBLOCK" : hexString(UInt64(bitPattern: a.flags)))
        return "{mq_flags=" + flags + ", mq_maxmsg=" + decimalString(a.maxMessages) + ", mq_msgsize="
            + decimalString(a.messageSize) + ", mq_curmsgs=" + decimalString(a.currentMessages) + "}"
    }

    /// struct sigevent (the fields mq_notify reads).
    static func sigevent(_ b: [UInt8]) -> String {
        let r = ByteReader(b)
        let value = r.u64(0), signo = Int32(bitPattern: r.u32(8)), how = Int32(bitPattern: r.u32(12))
        let names: [Int32: String] = [0: "SIGEV_SIGNAL", 1: "SIGEV_NONE", 2: "SIGEV_THREAD", 4: "SIGEV_THREAD_ID"]
        var text = "{sigev_value={sival_int=" + decimalString(Int64(Int32(truncatingIfNeeded: value)))
            + ", sival_ptr=" + hexString(value) + "}, sigev_signo="
        text += how == 0 ? Signal(signo).straceName : decimalString(Int64(signo))
        return text + ", sigev_notify=" + (names[how] ?? decimalString(Int64(how))) + "}"
    }

    /// The arguments of the calls this file decodes, or nil for the others.
    func notifyArguments(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String? {
        let fd = decimalString(Int64(a.int32(0)))
        switch SyscallNumber(a.number) {
        case .signalfd, .signalfd4:
            var text = fd + ", " + argument(.sigsetIn, a, index: 1, result: result, memory: memory)
                + ", " + unsignedDecimalString(a[2])
            if a.number == SyscallNumber.signalfd4.rawValue {
                text += ", " + renderFlags(a[3], table: SyscallTraceFormatter.signalfdFlags, unknownComment: "SFD_???")
            }
            return text
        case .rt_sigtimedwait:
            return argument(.sigsetIn, a, index: 0, result: result, memory: memory) + ", " + TraceText.pointer(a[1])
                + ", " + argument(.timespecIn, a, index: 2, result: result, memory: memory) + ", " + unsignedDecimalString(a[3])
        case .rt_sigqueueinfo:
            return fd + ", " + Signal(a.int32(1)).straceName + ", " + TraceText.pointer(a[2])
        case .rt_tgsigqueueinfo:
            return fd + ", " + decimalString(Int64(a.int32(1))) + ", " + Signal(a.int32(2)).straceName + ", " + TraceText.pointer(a[3])
        case .mq_open:
            var text = path(a[0], memory: memory) + ", " + OpenFlags(rawValue: a.uint32(1)).straceDescription
            if a[1] & 0o100 != 0 {
                text += ", " + argument(.mode, a, index: 2, result: result, memory: memory) + ", "
                    + inputValue(a[3], count: 64, memory: memory) { SyscallTraceFormatter.messageQueueAttributes($0) }
            }
            return text
        case .mq_unlink:
            return path(a[0], memory: memory)
        case .mq_timedsend:
            return fd + ", " + argument(.inBuffer(2), a, index: 1, result: result, memory: memory) + ", "
                + unsignedDecimalString(a[2]) + ", " + unsignedDecimalString(a[3]) + ", "
                + argument(.timespecIn, a, index: 4, result: result, memory: memory)
        case .mq_timedreceive:
            let priority = outputValue(a[3], count: 4, result: result, memory: memory) {
                "[" + unsignedDecimalString(TraceText.littleEndian($0, at: 0, count: 4)) + "]"
            }
            return fd + ", " + argument(.outBuffer, a, index: 1, result: result, memory: memory) + ", "
                + unsignedDecimalString(a[2]) + ", " + priority + ", "
                + argument(.timespecIn, a, index: 4, result: result, memory: memory)
        case .mq_notify:
            return fd + ", " + inputValue(a[1], count: 64, memory: memory) { SyscallTraceFormatter.sigevent($0) }
        case .mq_getsetattr:
            return fd + ", " + inputValue(a[1], count: 64, memory: memory) { SyscallTraceFormatter.messageQueueAttributes($0) }
                + ", " + outputValue(a[2], count: 64, result: result, memory: memory) { SyscallTraceFormatter.messageQueueAttributes($0) }
        default:
            return nil
        }
    }
}
