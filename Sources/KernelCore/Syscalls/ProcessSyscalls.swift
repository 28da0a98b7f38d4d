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

    // getrlimit, setrlimit and prlimit64 are in ProcessControlSyscalls.swift.

    /// sched_getaffinity(2): the thread's stored mask (SchedulingSyscalls.swift).
    static func schedGetaffinity(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try SchedulingSyscalls.schedGetaffinity(k, a)
    }
}
