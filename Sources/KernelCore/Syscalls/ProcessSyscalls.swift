// ProcessSyscalls — ids, TLS base, resource limits, CPU affinity (KernelCore layer).
// Threads are in Threads/ThreadSyscalls.swift, fork/wait/process groups in
// Process/WaitSyscalls.swift, signals in Signals/SignalSyscalls.swift.
import LinuxABI

enum ProcessSyscalls {
    static func getpid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { k.process.pid }
    static func getuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { 0 }

    /// getresuid(2)/getresgid(2): real, effective and saved ids, all root.
    static func getresuid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        for i in 0..<3 {
            if let e = k.memory.writeUInt32(a.address(i), 0) { throw e }
        }
        return 0
    }

    /// arch_prctl(2): ARCH_SET_FS 0x1002, ARCH_GET_FS 0x1003, ARCH_SET_GS 0x1001, ARCH_GET_GS 0x1004.
    static func archPrctl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let code = a.int(0)
        switch code {
        case 0x1002, 0x1001:
            guard a[1] < 0x0000_8000_0000_0000 else { throw .EPERM }
            if code == 0x1002 { k.platform.setFSBase(a[1]) } else { k.platform.setGSBase(a[1]) }
            return 0
        case 0x1003, 0x1004:
            let value = code == 0x1003 ? k.platform.fsBase() : k.platform.gsBase()
            if let e = k.memory.writeUInt64(a.address(1), value) { throw e }
            return 0
        default:
            throw .EINVAL
        }
    }

    /// Resource limits egg reports (getrlimit(2)); RLIM_INFINITY is all ones.
    static func limit(_ resource: Int, _ k: KernelState) -> (UInt64, UInt64)? {
        let infinity = UInt64.max
        switch resource {
        case 0, 1, 2, 4, 5, 9, 10, 14, 15: return (infinity, infinity)  // CPU, FSIZE, DATA, CORE... AS, LOCKS
        case 3: return (ProgramLoader.stackSize, infinity)               // STACK
        case 6: return (UInt64(k.processLimit), UInt64(k.processLimit))  // NPROC: the process cap
        case 7: return (1024, 4096)                                      // NOFILE
        case 8: return (8 << 20, 8 << 20)                                // MEMLOCK
        case 11, 12: return (0, 0)                                       // SIGPENDING... keep simple
        case 13: return (0, 0)                                           // NICE
        default: return nil
        }
    }

    static func getrlimit(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard let (cur, max) = limit(a.int(0), k) else { throw .EINVAL }
        var w = ByteWriter()
        w.u64(cur); w.u64(max)
        if let e = k.memory.copyOut(a.address(1), from: w.bytes) { throw e }
        return 0
    }

    /// prlimit64(2) on ourselves (pid 0 or our pid). Setting a limit is accepted only when it
    /// does not ask for more than the hard limit, and is not stored (limits are fixed here):
    /// a new value is refused with EPERM rather than silently dropped.
    static func prlimit64(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard pid == 0 || Int(pid) == k.process.pid else { throw .ESRCH }
        guard let (cur, max) = limit(a.int(1), k) else { throw .EINVAL }
        if !a.address(2).isNull {
            guard case .success(let newCur) = k.memory.readUInt64(a.address(2)),
                  case .success(let newMax) = k.memory.readUInt64(a.address(2).advanced(by: 8)) else {
                throw .EFAULT
            }
            if newCur > newMax { throw .EINVAL }
            if newCur != cur || newMax != max { throw .EPERM }
        }
        if !a.address(3).isNull {
            var w = ByteWriter()
            w.u64(cur); w.u64(max)
            if let e = k.memory.copyOut(a.address(3), from: w.bytes) { throw e }
        }
        return 0
    }

    /// sched_getaffinity(2): a mask of the CPUs we run on; returns the bytes written.
    static func schedGetaffinity(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let size = a.size(1)
        guard size >= 8, size % 8 == 0 else { throw .EINVAL }
        var bytes = [UInt8](repeating: 0, count: 8)
        for cpu in 0..<min(k.cpuCount, 64) { bytes[cpu / 8] |= 1 << UInt8(cpu % 8) }
        if let e = k.memory.copyOut(a.address(2), from: bytes) { throw e }
        return 8
    }
}
