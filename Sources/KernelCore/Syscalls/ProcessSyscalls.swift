// ProcessSyscalls — exit, ids, TLS, limits and the signal calls a single-threaded
// program makes at start-up (KernelCore layer). One process (pid 1) with one thread
// (tid 1) for now; threads come with clone (issue 3).
import LinuxABI

enum ProcessSyscalls {
    static func exit(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        // Last (only) thread: the process ends with the status, as exit_group would.
        k.terminate(status: Int(a.int32(0) & 0xFF))
    }

    static func exitGroup(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        k.terminate(status: Int(a.int32(0) & 0xFF))
    }

    static func getpid(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult { .success(k.process.pid) }
    static func gettid(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult { .success(k.process.pid) }
    /// The guest is the first program; its parent is the kernel, as for Linux's init.
    static func getppid(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult { .success(0) }
    static func getuid(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult { .success(0) }

    /// getresuid(2)/getresgid(2): real, effective and saved ids, all root.
    static func getresuid(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        for i in 0..<3 {
            if let e = k.memory.writeUInt32(a.address(i), 0) { return .failure(e) }
        }
        return .success(0)
    }

    static func getpgid(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let pid = a.int32(0)
        return pid == 0 || Int(pid) == k.process.pid ? .success(k.process.pid) : .failure(.ESRCH)
    }

    /// set_tid_address(2): remember where to clear and wake at thread exit; returns the tid.
    static func setTIDAddress(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        k.process.clearChildTID = a[0]
        return .success(k.process.pid)
    }

    /// set_robust_list(2): the head is recorded (walked at thread exit once threads exist);
    /// a wrong length is EINVAL as on Linux (sizeof(struct robust_list_head) == 24).
    static func setRobustList(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard a[1] == 24 else { return .failure(.EINVAL) }
        k.process.robustList = a[0]
        k.process.robustListLength = a[1]
        return .success(0)
    }

    /// arch_prctl(2): ARCH_SET_FS 0x1002, ARCH_GET_FS 0x1003, ARCH_SET_GS 0x1001, ARCH_GET_GS 0x1004.
    static func archPrctl(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let code = a.int(0)
        switch code {
        case 0x1002, 0x1001:
            guard a[1] < 0x0000_8000_0000_0000 else { return .failure(.EPERM) }
            if code == 0x1002 { k.platform.setFSBase(a[1]) } else { k.platform.setGSBase(a[1]) }
            return .success(0)
        case 0x1003, 0x1004:
            let value = code == 0x1003 ? k.platform.fsBase() : k.platform.gsBase()
            if let e = k.memory.writeUInt64(a.address(1), value) { return .failure(e) }
            return .success(0)
        default:
            return .failure(.EINVAL)
        }
    }

    /// Resource limits egg reports (getrlimit(2)); RLIM_INFINITY is all ones.
    static func limit(_ resource: Int, _ k: KernelState) -> (UInt64, UInt64)? {
        let infinity = UInt64.max
        switch resource {
        case 0, 1, 2, 4, 5, 9, 10, 14, 15: return (infinity, infinity)  // CPU, FSIZE, DATA, CORE... AS, LOCKS
        case 3: return (ProgramLoader.stackSize, infinity)               // STACK
        case 6: return (4096, 4096)                                      // NPROC
        case 7: return (1024, 4096)                                      // NOFILE
        case 8: return (8 << 20, 8 << 20)                                // MEMLOCK
        case 11, 12: return (0, 0)                                       // SIGPENDING... keep simple
        case 13: return (0, 0)                                           // NICE
        default: return nil
        }
    }

    static func getrlimit(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard let (cur, max) = limit(a.int(0), k) else { return .failure(.EINVAL) }
        var w = LittleEndianBytes()
        w.u64(cur); w.u64(max)
        if let e = k.memory.copyOut(a.address(1), from: w.bytes) { return .failure(e) }
        return .success(0)
    }

    /// prlimit64(2) on ourselves (pid 0 or our pid). Setting a limit is accepted only when it
    /// does not ask for more than the hard limit, and is not stored (limits are fixed here):
    /// a new value is refused with EPERM rather than silently dropped.
    static func prlimit64(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let pid = a.int32(0)
        guard pid == 0 || Int(pid) == k.process.pid else { return .failure(.ESRCH) }
        guard let (cur, max) = limit(a.int(1), k) else { return .failure(.EINVAL) }
        if !a.address(2).isNull {
            guard case .success(let newCur) = k.memory.readUInt64(a.address(2)),
                  case .success(let newMax) = k.memory.readUInt64(a.address(2).advanced(by: 8)) else {
                return .failure(.EFAULT)
            }
            if newCur > newMax { return .failure(.EINVAL) }
            if newCur != cur || newMax != max { return .failure(.EPERM) }
        }
        if !a.address(3).isNull {
            var w = LittleEndianBytes()
            w.u64(cur); w.u64(max)
            if let e = k.memory.copyOut(a.address(3), from: w.bytes) { return .failure(e) }
        }
        return .success(0)
    }

    /// Signals to ourselves. Until signal delivery exists (issue 3), a signal whose default
    /// action is to terminate ends the guest with status 128+sig, exactly what an unhandled
    /// signal does on Linux; ignored-by-default signals are dropped; a signal with a user
    /// handler installed cannot be delivered yet and is reported as ENOSYS.
    static func sendSignalToSelf(_ k: KernelState, _ signal: Int) -> SyscallResult {
        guard signal >= 0 && signal <= 64 else { return .failure(.EINVAL) }
        if signal == 0 { return .success(0) }
        switch signal {
        case 17, 18, 23, 28: return .success(0)  // SIGCHLD, SIGCONT, SIGURG, SIGWINCH: ignored
        default: break
        }
        if k.signalHandlers[signal] > 1 { return .failure(.ENOSYS) }
        if k.signalHandlers[signal] == 1 { return .success(0) }   // SIG_IGN
        let name = CrashReport.signalName(signal)
        k.platform.diagnostic("\negg: \(String(decoding: k.process.executablePath, as: UTF8.self)): killed by \(name) (\(CrashReport.signalDescription(signal)))\n")
        k.terminate(status: 128 + signal)
    }

    static func kill(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let pid = a.int32(0)
        guard pid == Int32(k.process.pid) || pid == 0 || pid == -1 else { return .failure(.ESRCH) }
        return sendSignalToSelf(k, a.int(1))
    }

    static func tkill(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard a.int32(0) == Int32(k.process.pid) else { return .failure(.ESRCH) }
        return sendSignalToSelf(k, a.int(1))
    }

    static func tgkill(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard a.int32(0) == Int32(k.process.pid), a.int32(1) == Int32(k.process.pid) else { return .failure(.ESRCH) }
        return sendSignalToSelf(k, a.int(2))
    }

    /// rt_sigaction(2): the table is kept (handler, flags, restorer, mask), so old actions
    /// read back correctly; delivery is issue 3.
    static func rtSigaction(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let signal = a.int(0)
        guard signal >= 1 && signal <= 64, a[3] == 8 else { return .failure(.EINVAL) }
        if !a.address(2).isNull {
            var w = LittleEndianBytes()
            w.u64(k.signalHandlers[signal]); w.u64(k.signalFlags[signal])
            w.u64(k.signalRestorers[signal]); w.u64(k.signalMasks[signal])
            if let e = k.memory.copyOut(a.address(2), from: w.bytes) { return .failure(e) }
        }
        if !a.address(1).isNull {
            guard signal != 9 && signal != 19 else { return .failure(.EINVAL) }  // SIGKILL, SIGSTOP
            switch k.memory.copyIn(a.address(1), count: 32) {
            case .failure(let e): return .failure(e)
            case .success(let b):
                let r = LittleEndianReader(b)
                k.signalHandlers[signal] = r.u64(0)
                k.signalFlags[signal] = r.u64(8)
                k.signalRestorers[signal] = r.u64(16)
                k.signalMasks[signal] = r.u64(24)
            }
        }
        return .success(0)
    }

    /// rt_sigprocmask(2): SIG_BLOCK 0, SIG_UNBLOCK 1, SIG_SETMASK 2; SIGKILL/SIGSTOP never blocked.
    static func rtSigprocmask(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard a[3] == 8 else { return .failure(.EINVAL) }
        let old = k.signalMask
        if !a.address(1).isNull {
            guard case .success(let set) = k.memory.readUInt64(a.address(1)) else { return .failure(.EFAULT) }
            switch a.int(0) {
            case 0: k.signalMask |= set
            case 1: k.signalMask &= ~set
            case 2: k.signalMask = set
            default: return .failure(.EINVAL)
            }
            k.signalMask &= ~((1 << 8) | (1 << 18))  // bits for SIGKILL (9) and SIGSTOP (19)
        }
        if !a.address(2).isNull, let e = k.memory.writeUInt64(a.address(2), old) { return .failure(e) }
        return .success(0)
    }

    static func schedYield(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult { .success(0) }

    /// sched_getaffinity(2): a mask of the CPUs we run on; returns the bytes written.
    static func schedGetaffinity(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let size = a.size(1)
        guard size >= 8, size % 8 == 0 else { return .failure(.EINVAL) }
        var bytes = [UInt8](repeating: 0, count: 8)
        for cpu in 0..<min(k.cpuCount, 64) { bytes[cpu / 8] |= 1 << UInt8(cpu % 8) }
        if let e = k.memory.copyOut(a.address(2), from: bytes) { return .failure(e) }
        return .success(8)
    }
}
