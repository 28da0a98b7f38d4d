// SignalSyscalls — rt_sigaction, rt_sigprocmask, rt_sigreturn, rt_sigpending,
// rt_sigsuspend, sigaltstack, kill, tkill, tgkill (KernelCore layer).
// Delivery itself is in SignalDelivery.swift. signal(7), rt_sigreturn(2), sigaltstack(2).
import LinuxABI

enum SignalSyscalls {
    static let unblockable = signalBit(9) | signalBit(19)

    static func validSignal(_ s: Int) -> Bool { s >= 1 && s <= 64 }

    static func rtSigaction(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let signal = a.int(0)
        guard validSignal(signal), a[3] == 8 else { throw .EINVAL }
        var newAction: [UInt8]? = nil
        if !a.address(1).isNull {
            guard signal != 9 && signal != 19 else { throw .EINVAL }  // SIGKILL, SIGSTOP
            newAction = try k.memory.copyIn(a.address(1), count: 32).get()
        }
        if !a.address(2).isNull {
            var w = ByteWriter()
            w.u64(k.signalHandlers[signal]); w.u64(k.signalFlags[signal])
            w.u64(k.signalRestorers[signal]); w.u64(k.signalMasks[signal])
            if let e = k.memory.copyOut(a.address(2), from: w.bytes) { throw e }
        }
        if let b = newAction {
            let r = ByteReader(b)
            k.signalHandlers[signal] = r.u64(0)
            k.signalFlags[signal] = r.u64(8)
            k.signalRestorers[signal] = r.u64(16)
            k.signalMasks[signal] = r.u64(24) & ~unblockable
            // Setting SIG_IGN discards what is pending (signal(7)).
            if r.u64(0) == 1 {
                k.processPendingSignals &= ~signalBit(signal)
                for t in k.process.threads { t.pendingSignals &= ~signalBit(signal) }
            }
        }
        return 0
    }

    /// SIG_BLOCK 0, SIG_UNBLOCK 1, SIG_SETMASK 2; SIGKILL and SIGSTOP are never blocked.
    static func rtSigprocmask(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[3] == 8 else { throw .EINVAL }
        let t = k.currentThread
        let old = t.signalMask
        if !a.address(1).isNull {
            guard case .success(let set) = k.memory.readUInt64(a.address(1)) else { throw .EFAULT }
            switch a.int(0) {
            case 0: t.signalMask |= set
            case 1: t.signalMask &= ~set
            case 2: t.signalMask = set
            default: throw .EINVAL
            }
            t.signalMask &= ~unblockable
        }
        if !a.address(2).isNull, let e = k.memory.writeUInt64(a.address(2), old) { throw e }
        return 0
    }

    static func rtSigpending(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[1] <= 8 else { throw .EINVAL }
        let t = k.currentThread
        if let e = k.memory.writeUInt64(a.address(0), (t.pendingSignals | k.processPendingSignals) & t.signalMask) {
            throw e
        }
        return 0
    }

    /// rt_sigsuspend(2): wait with a temporary mask until a handler runs; always EINTR. The
    /// old mask comes back when the handler returns: the frame records it.
    static func rtSigsuspend(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[1] == 8 else { throw .EINVAL }
        guard case .success(let mask) = k.memory.readUInt64(a.address(0)) else { throw .EFAULT }
        let t = k.currentThread
        let saved = t.signalMask
        t.signalMask = mask & ~unblockable
        let queue = WaitQueue()
        while !k.hasDeliverableSignal(t) { _ = k.wait(on: queue) }
        // Delivery (on the way out) runs with the temporary mask; the frame records the
        // caller's mask, which rt_sigreturn puts back (Linux's saved_sigmask).
        t.savedSignalMask = saved
        throw .EINTR
    }

    /// pause(2): sleep until a signal is delivered (a handler runs, or the process ends);
    /// the call always fails with EINTR. glibc's pause() calls it directly, so without it a
    /// program waiting for SIGALRM spun on ENOSYS.
    static func pause(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = k.currentThread
        let queue = WaitQueue()
        while !k.hasDeliverableSignal(t) && !(t.process?.exiting ?? false) { _ = k.wait(on: queue) }
        throw .EINTR
    }

    /// rt_sigreturn(2): restore the registers, mask and FPU state saved in the ucontext at
    /// the stack pointer (the handler's `ret` popped pretcode).
    static func rtSigreturn(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        var regs = k.platform.currentUserRegisters()
        let ucAddress = UserAddress(regs.rsp)
        let uc: UserContext
        switch k.memory.copyIn(ucAddress, count: UserContext.byteSize) {
        case .failure: k.killedBySignal(11)
        case .success(let b):
            var reader = ByteReader(b)
            do { uc = try UserContext.decode(from: &reader) } catch { k.killedBySignal(11) }
        }
        let r = uc.machineContext.registers
        regs.r8 = r[SignalContext.R8]; regs.r9 = r[SignalContext.R9]
        regs.r10 = r[SignalContext.R10]; regs.r11 = r[SignalContext.R11]
        regs.r12 = r[SignalContext.R12]; regs.r13 = r[SignalContext.R13]
        regs.r14 = r[SignalContext.R14]; regs.r15 = r[SignalContext.R15]
        regs.rdi = r[SignalContext.RDI]; regs.rsi = r[SignalContext.RSI]
        regs.rbp = r[SignalContext.RBP]; regs.rbx = r[SignalContext.RBX]
        regs.rdx = r[SignalContext.RDX]; regs.rax = r[SignalContext.RAX]
        regs.rcx = r[SignalContext.RCX]; regs.rsp = r[SignalContext.RSP]
        regs.rip = r[SignalContext.RIP]
        // Only the flags user code may change (arch/x86 FIX_EFLAGS); IF stays on.
        let userFlags: UInt64 = 0x0004_0DD5
        regs.rflags = (regs.rflags & ~userFlags) | (r[SignalContext.EFLAGS] & userFlags) | 0x202
        guard regs.rip < k.memory.map.layout.userTop, regs.rsp < k.memory.map.layout.userTop else { k.killedBySignal(11) }
        if uc.machineContext.fpstate != 0 {
            switch k.memory.copyIn(UserAddress(uc.machineContext.fpstate), count: 512) {
            case .failure: k.killedBySignal(11)
            case .success(let fpu): k.platform.restoreFPUState(fpu)
            }
        }
        k.currentThread.signalMask = uc.signalMask.rawValue & ~unblockable
        k.platform.setCurrentUserRegisters(regs)
        return Int(Int64(bitPattern: regs.rax))
    }

    /// sigaltstack(2): stack_t { void *ss_sp; int ss_flags; size_t ss_size; } (24 bytes).
    static func sigaltstack(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let t = k.currentThread
        let rsp = k.platform.currentUserRegisters().rsp
        let alt = t.alternateStack
        // As Linux's on_sig_stack(): a difference, since base + size may wrap (any values are set).
        let onStack = alt.flags & 2 == 0 && rsp > alt.base && rsp &- alt.base <= alt.size
        if !a.address(1).isNull {
            var w = ByteWriter()
            w.u64(alt.base); w.u32(onStack ? 1 : alt.flags); w.u32(0); w.u64(alt.size)
            if let e = k.memory.copyOut(a.address(1), from: w.bytes) { throw e }
        }
        if !a.address(0).isNull {
            let b = try k.memory.copyIn(a.address(0), count: 24).get()
            let r = ByteReader(b)
            let flags = r.u32(8)
            guard !onStack else { throw .EPERM }
            let mode = flags & ~UInt32(0x8000_0000)  // SS_AUTODISARM is accepted
            guard mode == 0 || mode == 2 else { throw .EINVAL }
            if mode == 2 {
                t.alternateStack = (0, 0, 2)
            } else {
                guard r.u64(16) >= 2048 else { throw .ENOMEM }  // MINSIGSTKSZ
                t.alternateStack = (r.u64(0), r.u64(16), 0)
            }
        }
        return 0
    }

    /// kill(2): pid > 0 one process, 0 the caller's group, -1 all but PID 1 and the caller,
    /// < -1 the group -pid (ProcessLifecycle.processes(selectedBy:)); ESRCH when none.
    static func kill(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0), s = a.int(1)
        guard s >= 0 && s <= 64 else { throw .EINVAL }
        guard pid != Int32.min else { throw .ESRCH }
        let targets = k.processes(selectedBy: pid)
        guard !targets.isEmpty else { throw .ESRCH }
        if s != 0 { for p in targets { k.postSignalFromSender(s, to: p, thread: nil) } }  // QueuedSignals.swift
        return 0
    }

    static func threadKill(_ k: KernelState, tid: Int32, signal s: Int) throws(Errno) -> Int {
        guard s >= 0 && s <= 64, tid > 0 else { throw .EINVAL }
        guard let t = k.scheduler.thread(withID: Int(tid)), let p = t.process, !p.exiting else { throw .ESRCH }
        if s != 0 { k.postSignalFromSender(s, to: p, thread: t) }  // QueuedSignals.swift
        return 0
    }

    static func tkill(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try threadKill(k, tid: a.int32(0), signal: a.int(1))
    }

    static func tgkill(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a.int32(0) > 0 else { throw .EINVAL }
        guard let t = k.scheduler.thread(withID: Int(a.int32(1))), t.process?.pid == Int(a.int32(0)) else { throw .ESRCH }
        return try threadKill(k, tid: a.int32(1), signal: a.int(2))
    }
}
