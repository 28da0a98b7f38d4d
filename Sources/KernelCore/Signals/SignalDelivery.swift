// SignalDelivery — posting signals and delivering them on the way back to user mode
// (KernelCore layer).
//
// Dispositions are per process (Process.signalHandlers..., KernelState forwards to the
// current one), masks and pending sets are per thread, plus a process-wide pending set for
// kill(2). Delivery happens in
// `returnToUser`, which the arch layer calls after every syscall and every interrupt or
// exception from ring 3: the default action is applied, or an rt_sigframe is written on the
// user (or alternate) stack and the thread resumes in its handler. Frame layout and order
// follow arch/x86/kernel/signal.c (get_sigframe, setup_rt_frame): FPU state (fxsave image)
// at the top, 64-byte aligned, then the rt_sigframe below the 128-byte red zone.
import LinuxABI

/// A synchronous fault to report as a signal (SIGSEGV at an address, SIGILL, SIGFPE...).
public struct FaultSignal {
    public let signal: Int
    public let code: Int32
    public let address: UInt64
    public init(signal: Int, code: Int32, address: UInt64) {
        self.signal = signal
        self.code = code
        self.address = address
    }
}

let saOnStack: UInt64 = 0x0800_0000, saRestorer: UInt64 = 0x0400_0000, saRestart: UInt64 = 0x1000_0000
let saNoDefer: UInt64 = 0x4000_0000, saResetHand: UInt64 = 0x8000_0000, saSigInfo: UInt64 = 4

@inline(__always) func signalBit(_ s: Int) -> UInt64 { 1 << UInt64(s - 1) }

extension KernelState {
    /// Signals whose default action is to be ignored (signal(7)): SIGCHLD, SIGCONT, SIGURG,
    /// SIGWINCH. The stop signals' default action is JobControl.swift's.
    static func ignoredByDefault(_ s: Int) -> Bool {
        s == 17 || s == 18 || s == 23 || s == 28
    }

    /// Whether `t` has a signal to take, or must leave because its process is ending (so
    /// that every interruptible wait ends and the thread reaches returnToUser).
    public func hasDeliverableSignal(_ t: Thread) -> Bool {
        if let p = t.process, p.exiting { return true }
        let processPending = t.process?.processPendingSignals ?? processPendingSignals
        let unblocked = (t.pendingSignals | processPending) & ~t.signalMask
        guard unblocked != 0 else { return false }
        // One that delivery would drop (ignored, now unblocked) wakes no one: Linux's
        // get_signal discards it and restarts the call (Signals/QueuedSignals.swift).
        let ignored = unblocked & ignoredSignalBits(t.process)
        if ignored != 0 { discardIgnoredSignals(ignored, thread: t) }
        return unblocked & ~ignored != 0
    }

    /// kill(2): to the process — any thread that does not block it takes it.
    public func postProcessSignal(_ s: Int) { postSignal(s, to: process) }

    /// tgkill(2)/tkill(2): to one thread.
    public func postThreadSignal(_ s: Int, to t: Thread) {
        if let p = t.process { prepareSignal(s, for: p) }
        let handlers = t.process?.signalHandlers ?? signalHandlers
        // A blocked signal is never ignored: its disposition may change before it is unblocked,
        // and sigwait/signalfd take it (kernel/signal.c sig_ignored; Signals/QueuedSignals.swift).
        if signalDiscarded(s, handler: handlers[s], for: t.process, blocked: (t.signalMask | t.realBlockedSignals) & signalBit(s) != 0) { return }
        t.pendingSignals |= signalBit(s)
        signalGenerated()   // signalfd readers and pollers (Signals/QueuedSignals.swift)
        if t.signalMask & signalBit(s) == 0 { scheduler.interrupt(t) }
    }

    /// The current process dies of signal `s`. PID 1's death ends egg with status 128+s and
    /// a Linux-like message; another process's is reported to its parent by wait (a shell
    /// prints it), as on Linux.
    public func killedBySignal(_ s: Int) -> Never {
        if process === initProcess {
            let name = String(decoding: process.executablePath, as: UTF8.self)
            platform.diagnostic("\negg: \(name): killed by \(CrashReport.signalName(s)) (\(CrashReport.signalDescription(s)))\n")
        }
        terminate(signal: s)
    }

    /// A synchronous fault in user mode. Returns true when a handler will run (the arch
    /// layer then returns to user mode through returnToUser); false means the caller prints
    /// the crash report and the guest dies.
    public func deliverFault(_ fault: FaultSignal) -> Bool {
        let t = currentThread
        let handler = signalHandlers[fault.signal]
        // A blocked or ignored fault signal cannot be survived: Linux forces the default.
        guard handler > 1, t.signalMask & signalBit(fault.signal) == 0 else { return false }
        let info = Siginfo(signal: Int32(fault.signal), code: fault.code, detail: .fault(address: fault.address))
        return setUpHandlerFrame(signal: fault.signal, info: info)
    }

    /// signal(7), "Interruption of system calls and library functions by signal handlers":
    /// the calls restarted after a handler with SA_RESTART — reads and writes of slow
    /// devices (console, pipes, FIFOs, sockets), ioctl, open of a FIFO, wait4, accept and
    /// the socket send/receive calls. The ones with timeouts (poll, select, epoll_wait,
    /// nanosleep, futex waits) and connect (Linux answers a restarted connect with EALREADY)
    /// give EINTR.
    static func isRestartable(_ number: Int) -> Bool {
        switch SyscallNumber(number) {
        case .read, .readv, .write, .writev, .pread64, .pwrite64, .ioctl, .open, .openat,
             .wait4, .accept, .accept4, .recvfrom, .recvmsg, .sendto, .sendmsg,
             .mq_timedsend, .mq_timedreceive:   // signal(7) lists the POSIX message queue calls
            return true
        default:
            return false
        }
    }

    /// Makes the interrupted syscall `number` run again: back over the 2-byte `syscall`
    /// instruction with its number in rax (the other argument registers are unchanged).
    func rewindSyscall(_ number: Int) {
        var regs = platform.currentUserRegisters()
        regs.rax = UInt64(number)
        regs.rip &-= 2
        platform.setCurrentUserRegisters(regs)
    }

    /// Called by the arch layer before every return to ring 3.
    public func returnToUser() {
        let t = currentThread
        // exit_group or a fatal signal in another thread ended the process: this thread
        // goes too (Linux's zap_other_threads).
        if let p = t.process, p.exiting { scheduler.exitCurrent(self) }
        let interrupted = t.restartableSyscall
        t.restartableSyscall = nil
        let restartAlways = t.restartAfterAnySignal  // ERESTARTNOINTR (FUTEX_LOCK_PI)
        t.restartAfterAnySignal = false
        defer {
            if let saved = t.savedSignalMask { t.signalMask = saved; t.savedSignalMask = nil }
        }
        while true {
            // A stopped process's threads park here (SIGCONT or SIGKILL ends it).
            if let p = t.process, p.stopped {
                waitWhileStopped(t, p)
                if p.exiting { scheduler.exitCurrent(self) }
                if p.stopped { killedBySignal(sigkill) }   // only SIGKILL ends a stop otherwise
            }
            let deliverable = (t.pendingSignals | processPendingSignals) & ~t.signalMask
            if deliverable == 0 {
                // No handler ran (the signal was ignored): Linux restarts the call silently.
                if let n = interrupted { rewindSyscall(n) }
                return
            }
            let s = deliverable.trailingZeroBitCount + 1
            let fromThread = t.pendingSignals & signalBit(s) != 0
            if fromThread { t.pendingSignals &= ~signalBit(s) } else { processPendingSignals &= ~signalBit(s) }
            let handler = signalHandlers[s]
            if handler == 1 { continue }                                         // SIG_IGN
            if handler == 0 {                                                    // SIG_DFL
                if KernelState.ignoredByDefault(s) { continue }
                if KernelState.isStopSignal(s) { stopCurrentProcess(signal: s); continue }
                killedBySignal(s)
            }
            var info = Siginfo(signal: Int32(s), code: fromThread ? -6 : 0,      // SI_TKILL / SI_USER
                               detail: .sender(pid: Int32(process.pid), uid: 0))
            if s == sigchld && !fromThread, let child = process.childSignalInfo {   // CLD_EXITED...
                info = child
                process.childSignalInfo = nil
            }
            // A POSIX timer's signal carries SI_TIMER (Threads/PosixTimers.swift).
            if let timerInfo = takeTimerSignalInfo(s, thread: t, fromThread: fromThread) { info = timerInfo }
            // A sigqueue'd instance carries its own siginfo (Signals/QueuedSignals.swift).
            if let queued = takeQueuedSignalInfo(s, thread: t, fromThread: fromThread) { info = queued }
            if let n = interrupted, signalFlags[s] & saRestart != 0 || restartAlways { rewindSyscall(n) }  // the frame saves the rewound state
            if !setUpHandlerFrame(signal: s, info: info) { killedBySignal(11) }
            return  // one frame at a time; the rest are seen on the next return
        }
    }

    /// Write an rt_sigframe for signal `s` and point the thread at its handler.
    func setUpHandlerFrame(signal s: Int, info: Siginfo) -> Bool {
        let t = currentThread
        let flags = signalFlags[s]
        guard flags & saRestorer != 0 else { return false }  // x86-64 requires SA_RESTORER
        var regs = platform.currentUserRegisters()
        var top = regs.rsp
        let alt = t.alternateStack
        // The alternate stack is the guest's word (sigaltstack accepts any base and size), so
        // the sums wrap as in Linux's on_sig_stack() (include/linux/sched/signal.h), never trap.
        let onAltStack = alt.flags & 2 == 0 && regs.rsp > alt.base && regs.rsp &- alt.base <= alt.size
        if flags & saOnStack != 0 && alt.flags & 2 == 0 && !onAltStack { top = alt.base &+ alt.size }
        // A top in the first pages (or wrapped to one) cannot hold the frame: the copy would
        // fail anyway, which is Linux's force_sigsegv() when get_sigframe() gives a bad pointer.
        guard top >= 0x1_0000 else { return false }
        // FPU state first (fxsave image, 512 bytes, 64-byte aligned), then the frame.
        let fpu = platform.captureFPUState()
        let fpuAddress = (top - 128 - UInt64(fpu.count)) & ~63
        let frame = RtSigframe.frameAddress(stackTop: fpuAddress + 128)
        var registers = [UInt64](repeating: 0, count: SignalContext.registerCount)
        registers[SignalContext.R8] = regs.r8; registers[SignalContext.R9] = regs.r9
        registers[SignalContext.R10] = regs.r10; registers[SignalContext.R11] = regs.r11
        registers[SignalContext.R12] = regs.r12; registers[SignalContext.R13] = regs.r13
        registers[SignalContext.R14] = regs.r14; registers[SignalContext.R15] = regs.r15
        registers[SignalContext.RDI] = regs.rdi; registers[SignalContext.RSI] = regs.rsi
        registers[SignalContext.RBP] = regs.rbp; registers[SignalContext.RBX] = regs.rbx
        registers[SignalContext.RDX] = regs.rdx; registers[SignalContext.RAX] = regs.rax
        registers[SignalContext.RCX] = regs.rcx; registers[SignalContext.RSP] = regs.rsp
        registers[SignalContext.RIP] = regs.rip; registers[SignalContext.EFLAGS] = regs.rflags
        var faultAddress: UInt64 = 0
        if case .fault(let address) = info.detail { faultAddress = address }
        let callerMask = t.savedSignalMask ?? t.signalMask
        let context = SignalContext(registers: registers, oldmask: callerMask, cr2: faultAddress, fpstate: fpuAddress)
        let stack = SignalStack(base: alt.base, flags: Int32(alt.flags) | (onAltStack ? 1 : 0), size: alt.size)
        let uc = UserContext(stack: stack, machineContext: context, signalMask: SignalSet(rawValue: callerMask))
        let bytes = RtSigframe(returnAddress: signalRestorers[s], context: uc, info: info).encode()
        if memory.copyOut(UserAddress(fpuAddress), from: fpu) != nil { return false }
        if memory.copyOut(UserAddress(frame), from: bytes) != nil { return false }
        regs.rsp = frame
        regs.rip = signalHandlers[s]
        regs.rdi = UInt64(s)
        regs.rsi = frame + UInt64(RtSigframe.infoOffset)
        regs.rdx = frame + UInt64(RtSigframe.contextOffset)
        regs.rax = 0
        regs.rflags &= ~UInt64(0x400 | 0x100)  // DF, TF
        platform.setCurrentUserRegisters(regs)
        var mask = t.signalMask | signalMasks[s]
        if flags & saNoDefer == 0 { mask |= signalBit(s) }
        t.signalMask = mask & ~(signalBit(9) | signalBit(19))
        if flags & saResetHand != 0 { signalHandlers[s] = 0 }
        t.savedSignalMask = nil
        return true
    }
}
