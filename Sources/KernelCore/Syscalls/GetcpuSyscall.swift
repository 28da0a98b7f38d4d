// GetcpuSyscall — getcpu(2): the CPU (and NUMA node) the caller runs on (KernelCore layer).
//
// The vDSO's __vdso_getcpu (Sources/KernelArch/vdso/vdso.c) asks this call, since egg gives
// user mode no per-CPU number to read (Linux uses RDPID or the per-CPU GDT limit). egg has
// one NUMA node, 0. Either pointer may be NULL; the third argument (tcache) has been unused
// since Linux 2.6.24 (kernel/sys.c, SYSCALL_DEFINE3(getcpu)).
import LinuxABI

enum GetcpuSyscall {
    static func getcpu(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        if !a.address(0).isNull, let e = k.memory.writeUInt32(a.address(0), UInt32(k.platform.cpuIndex)) { throw e }
        if !a.address(1).isNull, let e = k.memory.writeUInt32(a.address(1), 0) { throw e }
        return 0
    }
}
