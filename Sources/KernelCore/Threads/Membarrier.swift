// Membarrier — membarrier(2) (KernelCore layer, beside ThreadSyscalls.swift).
//
// membarrier(cmd, flags, cpu_id) makes every thread of the system (GLOBAL*) or of the
// caller's process (PRIVATE_EXPEDITED) pass a full memory barrier before the call returns,
// so user space can drop the barrier on its fast path (kernel/sched/membarrier.c).
// Here, with more than one CPU online, the barrier is the TLB-shootdown interrupt
// (KernelArch/DirectMap.swift synchronizeTranslations, Sources/Kernel/SMP.swift): it
// interrupts every other CPU and waits until each has acknowledged by a CR3 write, a
// serializing instruction, so each CPU's earlier user-space stores are visible and its
// later loads happen after the call — what Linux's IPI with smp_mb() guarantees. A CPU
// that was in the kernel instead is already past the big kernel lock's atomic exchange.
// With one CPU online the system call itself is the barrier (Linux returns at once too).
// Supported: QUERY, GLOBAL, GLOBAL_EXPEDITED and its REGISTER, PRIVATE_EXPEDITED and its
// REGISTER; the SYNC_CORE and RSEQ forms are EINVAL, as Linux's default case answers, and
// QUERY does not list them.
import LinuxABI

enum Membarrier {
    static let query = 0
    static let global = 1 << 0
    static let globalExpedited = 1 << 1
    static let registerGlobalExpedited = 1 << 2
    static let privateExpedited = 1 << 3
    static let registerPrivateExpedited = 1 << 4
    static let privateExpeditedRSEQ = 1 << 7
    static let flagCPU: UInt64 = 1
    /// What QUERY answers: the commands below.
    static let supported = global | globalExpedited | registerGlobalExpedited | privateExpedited | registerPrivateExpedited

    static func membarrier(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let cmd = Int(a.int32(0))
        // Only the RSEQ command takes a flag (MEMBARRIER_CMD_FLAG_CPU).
        if cmd == privateExpeditedRSEQ {
            guard a.uint32(1) == 0 || UInt64(a.uint32(1)) == flagCPU else { throw .EINVAL }
        } else {
            guard a.uint32(1) == 0 else { throw .EINVAL }
        }
        switch cmd {
        case query:
            return supported
        case global, globalExpedited:
            barrierOnEveryCPU(k)
            return 0
        case registerGlobalExpedited:
            return 0
        case registerPrivateExpedited:
            k.memory.membarrierPrivateExpeditedReady = true
            return 0
        case privateExpedited:
            // membarrier_private_expedited: EPERM until the process registered.
            guard k.memory.membarrierPrivateExpeditedReady else { throw .EPERM }
            // One thread, one address-space user: nobody else to order against.
            if k.memory.mayBeLoadedElsewhere { barrierOnEveryCPU(k) }
            return 0
        default:
            throw .EINVAL
        }
    }

    /// Interrupt every other online CPU and wait for each (a no-op with one CPU online).
    static func barrierOnEveryCPU(_ k: KernelState) {
        let ram = k.memory.memory
        // Any address will do: the point is the interrupt, not the translation.
        ram.invalidateTranslation(0)
        ram.synchronizeTranslations()
    }
}
