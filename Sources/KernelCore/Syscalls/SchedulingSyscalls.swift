// SchedulingSyscalls — scheduling policy, priorities, nice values, CPU affinity, I/O
// priority and getcpu (KernelCore layer).
//
// egg's scheduler (Threads/Scheduler.swift) is one round-robin queue shared by every CPU:
// it has no priorities and no per-CPU queues. These calls therefore keep what the guest
// sets per thread (Thread.scheduling) and answer with it, with Linux's validation and
// permission rules, so programs that tune themselves work and read back what they set:
// the policy, priority and nice value do not change how often a thread runs, and the
// affinity mask is stored and reported, not honoured (README, "Not yet"). Neighbours:
// ProcessSyscalls.swift (sched_getaffinity's old home), Threads/ThreadSyscalls.swift
// (sched_yield). References: sched(7), sched_setscheduler(2), sched_setattr(2),
// getpriority(2), sched_setaffinity(2), getcpu(2), ioprio_set(2); kernel/sched/syscalls.c
// (do_sched_setscheduler, sched_copy_attr, __sched_setscheduler's checks), kernel/sys.c
// (set_one_prio), block/ioprio.c (ioprio_check_cap, __get_task_ioprio).
import LinuxABI

/// What a thread asked of the scheduler. Inherited by fork and clone; SCHED_RESET_ON_FORK
/// gives a child SCHED_OTHER, priority 0 and a nice value of at least 0.
public struct SchedulingAttributes: Equatable, Sendable {
    public var policy: Int32 = 0          // SCHED_OTHER
    public var priority: Int32 = 0        // sched_priority: 1...99 for FIFO/RR, else 0
    public var nice: Int32 = 0            // -20...19
    public var resetOnFork = false
    /// CPUs the thread may run on, bit n = CPU n; all ones = every CPU.
    public var affinity: UInt64 = ~0
    /// ioprio_set's value (class << 13 | level); 0 = none set (follows the nice value).
    public var ioPriority: Int32 = 0
    public init() {}

    /// The attributes a child starts with (sched(7), "Resetting scheduling policy for child
    /// processes").
    public var forChild: SchedulingAttributes {
        guard resetOnFork else { return self }
        var c = self
        if c.policy == SchedulingPolicy.fifo || c.policy == SchedulingPolicy.roundRobin { c.policy = 0; c.priority = 0 }
        if c.nice < 0 { c.nice = 0 }
        c.resetOnFork = false
        return c
    }
}

public enum SchedulingPolicy {
    public static let other: Int32 = 0, fifo: Int32 = 1, roundRobin: Int32 = 2, batch: Int32 = 3
    public static let idle: Int32 = 5, deadline: Int32 = 6
    public static let resetOnFork: Int32 = 0x4000_0000
    static func isRealTime(_ p: Int32) -> Bool { p == fifo || p == roundRobin }
    static func isValid(_ p: Int32) -> Bool { p == other || p == fifo || p == roundRobin || p == batch || p == idle }
}

enum SchedulingSyscalls {
    static let capSysNice = 23, capSysAdmin = 21
    /// SCHED_RR's quantum as Linux reports it (RR_TIMESLICE, 100 ms), and egg's own slice for
    /// the other policies: the 250 Hz preemption tick (Sources/Kernel/SMP.swift tickHz).
    static let roundRobinSlice: UInt64 = 100_000_000, tickSlice: UInt64 = 4_000_000

    /// find_process_by_pid(): 0 is the caller, otherwise a thread id; ESRCH if none.
    static func thread(_ k: KernelState, _ pid: Int32) throws(Errno) -> Thread {
        if pid == 0 { return k.currentThread }
        guard pid > 0, let t = k.scheduler.thread(withID: Int(pid)) else { throw .ESRCH }
        return t
    }

    static func readInt32(_ k: KernelState, _ address: UserAddress) throws(Errno) -> Int32 {
        let b = try k.memory.copyIn(address, count: 4).get()
        return Int32(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
    }

    /// __sched_setscheduler()'s checks, then the change. `policy` nil keeps the thread's
    /// (sched_setparam). EINVAL for an unknown policy or a priority outside the policy's
    /// range; EPERM for a real-time policy without CAP_SYS_NICE (RLIMIT_RTPRIO is 0), and
    /// for another user's thread.
    static func apply(_ k: KernelState, _ t: Thread, policy requested: Int32?, priority: Int32,
                      nice: Int32? = nil, resetOnFork: Bool? = nil) throws(Errno) {
        let policy = requested ?? t.scheduling.policy
        guard SchedulingPolicy.isValid(policy) else { throw .EINVAL }
        if SchedulingPolicy.isRealTime(policy) {
            guard priority >= 1 && priority <= 99 else { throw .EINVAL }
        } else {
            guard priority == 0 else { throw .EINVAL }
        }
        let me = k.currentThread.credentials
        if t !== k.currentThread && !me.capable(capSysNice) && me.euid != t.credentials.uid && me.euid != t.credentials.euid {
            throw .EPERM
        }
        if SchedulingPolicy.isRealTime(policy) && !me.capable(capSysNice) {
            // An unprivileged thread may only lower its real-time priority (RLIMIT_RTPRIO 0).
            guard SchedulingPolicy.isRealTime(t.scheduling.policy), policy == t.scheduling.policy,
                  priority <= t.scheduling.priority else { throw .EPERM }
        }
        if let n = nice, n < t.scheduling.nice, !me.capable(capSysNice) { throw .EPERM }
        // Leaving SCHED_RESET_ON_FORK needs the capability too.
        if resetOnFork == false && t.scheduling.resetOnFork && !me.capable(capSysNice) { throw .EPERM }
        t.scheduling.policy = policy
        t.scheduling.priority = priority
        if let n = nice { t.scheduling.nice = n }
        if let r = resetOnFork { t.scheduling.resetOnFork = r }
    }

    // MARK: sched_setscheduler(2) family

    static func schedSetscheduler(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        var policy = a.int32(1)
        guard a[2] != 0, pid >= 0, policy >= 0 else { throw .EINVAL }
        let priority = try readInt32(k, a.address(2))
        let t = try thread(k, pid)
        let reset = policy & SchedulingPolicy.resetOnFork != 0
        policy &= ~SchedulingPolicy.resetOnFork
        try apply(k, t, policy: policy, priority: priority, resetOnFork: reset)
        return 0
    }

    static func schedSetparam(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard a[1] != 0, pid >= 0 else { throw .EINVAL }
        let priority = try readInt32(k, a.address(1))
        try apply(k, try thread(k, pid), policy: nil, priority: priority)
        return 0
    }

    static func schedGetscheduler(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard pid >= 0 else { throw .EINVAL }
        let s = try thread(k, pid).scheduling
        return Int(s.policy | (s.resetOnFork ? SchedulingPolicy.resetOnFork : 0))
    }

    static func schedGetparam(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard a[1] != 0, pid >= 0 else { throw .EINVAL }
        let t = try thread(k, pid)
        if let e = k.memory.writeUInt32(a.address(1), UInt32(bitPattern: t.scheduling.priority)) { throw e }
        return 0
    }

    static func schedGetPriorityMax(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let p = a.int32(0)
        if SchedulingPolicy.isRealTime(p) { return 99 }
        guard SchedulingPolicy.isValid(p) || p == SchedulingPolicy.deadline else { throw .EINVAL }
        return 0
    }

    static func schedGetPriorityMin(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let p = a.int32(0)
        if SchedulingPolicy.isRealTime(p) { return 1 }
        guard SchedulingPolicy.isValid(p) || p == SchedulingPolicy.deadline else { throw .EINVAL }
        return 0
    }

    /// sched_rr_get_interval(2): SCHED_FIFO has no quantum (0); SCHED_RR Linux's 100 ms; the
    /// others the slice egg's round robin gives every thread.
    static func schedRrGetInterval(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard pid >= 0 else { throw .EINVAL }
        let policy = try thread(k, pid).scheduling.policy
        let slice: UInt64 = policy == SchedulingPolicy.fifo ? 0 : policy == SchedulingPolicy.roundRobin ? roundRobinSlice : tickSlice
        if let e = k.memory.writeUInt64(a.address(1), slice / 1_000_000_000) { throw e }
        if let e = k.memory.writeUInt64(a.address(1).advanced(by: 8), slice % 1_000_000_000) { throw e }
        return 0
    }

    // MARK: sched_setattr(2), sched_getattr(2)

    static let attrSizeVer0 = 48, attrSizeVer1 = 56
    static let flagResetOnFork: UInt64 = 1
    /// SCHED_FLAG_ALL: RESET_ON_FORK, RECLAIM, DL_OVERRUN, KEEP_POLICY, KEEP_PARAMS,
    /// UTIL_CLAMP_MIN, UTIL_CLAMP_MAX (include/uapi/linux/sched.h).
    static let flagAll: UInt64 = 0x7F
    static let flagKeepPolicy: UInt64 = 0x08, flagKeepParams: UInt64 = 0x10

    static func schedSetattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        guard a.uint32(2) == 0, a[1] != 0, pid >= 0 else { throw .EINVAL }
        // sched_copy_attr: the size field first; 0 means the first version; a larger struct
        // is accepted only when the bytes egg does not know are zero (E2BIG otherwise, with
        // the size egg knows written back).
        var size = Int(try readInt32(k, a.address(1)))
        if size == 0 { size = attrSizeVer0 }
        func tooBig() throws(Errno) -> Never {
            _ = k.memory.writeUInt32(a.address(1), UInt32(attrSizeVer1))
            throw .E2BIG
        }
        if size < attrSizeVer0 || size > 4096 { try tooBig() }
        let bytes = try k.memory.copyIn(a.address(1), count: size).get()
        if size > attrSizeVer1 && bytes[attrSizeVer1...].contains(where: { $0 != 0 }) { try tooBig() }
        func u32(_ o: Int) -> UInt32 { UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24 }
        func u64(_ o: Int) -> UInt64 { UInt64(u32(o)) | UInt64(u32(o + 4)) << 32 }
        var policy = Int32(bitPattern: u32(4))
        let flags = u64(8)
        let nice = max(-20, min(19, Int32(bitPattern: u32(16))))
        let priority = Int32(bitPattern: u32(20))
        let runtime = u64(24), deadline = u64(32), period = u64(40)
        guard flags & ~flagAll == 0 else { throw .EINVAL }
        let t = try thread(k, pid)
        if flags & flagKeepPolicy != 0 { policy = t.scheduling.policy }
        if policy == SchedulingPolicy.deadline {
            // __checkparam_dl's rules, then admission control: egg admits no deadline
            // thread (it has no deadline scheduler), Linux's EBUSY for a refused admission.
            let effectivePeriod = period == 0 ? deadline : period
            guard deadline != 0, runtime >= 1024, runtime <= deadline, deadline <= effectivePeriod else { throw .EINVAL }
            throw .EBUSY
        }
        if flags & flagKeepParams != 0 {
            try apply(k, t, policy: policy, priority: t.scheduling.priority, resetOnFork: flags & flagResetOnFork != 0)
            return 0
        }
        let fair = !SchedulingPolicy.isRealTime(policy)
        try apply(k, t, policy: policy, priority: priority, nice: fair ? nice : nil, resetOnFork: flags & flagResetOnFork != 0)
        return 0
    }

    static func schedGetattr(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        let size = Int(a.uint32(2))
        guard a.uint32(3) == 0, a[1] != 0, pid >= 0, size >= attrSizeVer0, size <= 4096 else { throw .EINVAL }
        let s = try thread(k, pid).scheduling
        let count = min(size, attrSizeVer1)
        var b = [UInt8](repeating: 0, count: count)
        func put32(_ o: Int, _ v: UInt32) { for i in 0..<4 where o + i < count { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        put32(0, UInt32(count))
        put32(4, UInt32(bitPattern: s.policy))
        put32(8, s.resetOnFork ? UInt32(flagResetOnFork) : 0)
        put32(16, UInt32(bitPattern: SchedulingPolicy.isRealTime(s.policy) ? 0 : s.nice))
        put32(20, UInt32(bitPattern: s.priority))
        if count >= attrSizeVer1 { put32(52, 1024) }   // util_max: SCHED_CAPACITY_SCALE
        if let e = k.memory.copyOut(a.address(1), from: b) { throw e }
        return 0
    }

    // MARK: getpriority(2), setpriority(2)

    /// The threads `which`/`who` name: PRIO_PROCESS a thread (0: the caller), PRIO_PGRP the
    /// threads of a process group (0: the caller's), PRIO_USER a user's (0: the caller's).
    static func priorityTargets(_ k: KernelState, _ which: Int32, _ who: Int32) throws(Errno) -> [Thread] {
        switch which {
        case 0:
            if who == 0 { return [k.currentThread] }
            guard who > 0, let t = k.scheduler.thread(withID: Int(who)) else { return [] }
            return [t]
        case 1:
            let group = who == 0 ? k.process.processGroup : Int(who)
            return k.scheduler.threads.filter { $0.process?.processGroup == group && $0.process?.waitStatus == nil }
        case 2:
            let uid = who == 0 ? k.currentThread.credentials.uid : UInt32(bitPattern: who)
            return k.scheduler.threads.filter { $0.credentials.uid == uid }
        default:
            throw .EINVAL
        }
    }

    /// getpriority: the highest priority (lowest nice) among the targets, as 20 - nice so the
    /// syscall never returns a negative success (the C library converts it back).
    static func getpriority(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let targets = try priorityTargets(k, a.int32(0), a.int32(1))
        guard let best = targets.map({ $0.scheduling.nice }).min() else { throw .ESRCH }
        return Int(20 - best)
    }

    /// set_one_prio: EPERM for another user's thread, EACCES to lower a nice value without
    /// CAP_SYS_NICE (RLIMIT_NICE is 0); the value is clamped to -20...19.
    static func setpriority(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let targets = try priorityTargets(k, a.int32(0), a.int32(1))
        let nice = max(-20, min(19, a.int32(2)))
        guard !targets.isEmpty else { throw .ESRCH }
        let me = k.currentThread.credentials
        var failure: Errno? = nil
        for t in targets {
            if t !== k.currentThread && me.euid != 0 && me.euid != t.credentials.uid && me.euid != t.credentials.euid {
                failure = .EPERM
                continue
            }
            if nice < t.scheduling.nice && !me.capable(capSysNice) {
                failure = .EACCES
                continue
            }
            t.scheduling.nice = nice
        }
        if let e = failure { throw e }
        return 0
    }

    // MARK: CPU affinity, getcpu(2)

    /// The online CPUs as a mask (the scheduler uses CPUs 0..<cpuCount).
    static func onlineMask(_ k: KernelState) -> UInt64 {
        k.cpuCount >= 64 ? ~0 : (UInt64(1) << UInt64(k.cpuCount)) - 1
    }

    /// sched_setaffinity(2): the mask is read (shorter than 8 bytes: the rest are 0), cut to
    /// the online CPUs, and refused with EINVAL when no online CPU is left in it.
    static func schedSetaffinity(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        let length = a.size(1)
        guard length >= 0 else { throw .EINVAL }
        let bytes = try k.memory.copyIn(a.address(2), count: min(length, 8)).get()
        var mask: UInt64 = 0
        for (i, byte) in bytes.enumerated() { mask |= UInt64(byte) << UInt64(8 * i) }
        let t = try thread(k, pid)
        let me = k.currentThread.credentials
        if t !== k.currentThread && !me.capable(capSysNice) && me.euid != t.credentials.uid && me.euid != t.credentials.euid {
            throw .EPERM
        }
        let usable = mask & onlineMask(k)
        guard usable != 0 else { throw .EINVAL }
        t.scheduling.affinity = usable
        return 0
    }

    /// sched_getaffinity(2): the thread's mask within the online CPUs; the size must hold
    /// the kernel's mask (8 bytes) and be a multiple of a long; returns the bytes written.
    static func schedGetaffinity(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let size = a.size(1)
        guard size >= 8, size % 8 == 0 else { throw .EINVAL }
        let t = try thread(k, a.int32(0))
        let mask = t.scheduling.affinity & onlineMask(k)
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: mask >> UInt64(8 * i)) }
        if let e = k.memory.copyOut(a.address(2), from: bytes) { throw e }
        return 8
    }

    /// getcpu(2): the CPU running the caller now, and NUMA node 0 (egg's machine has one);
    /// either pointer may be NULL; the third argument is unused since Linux 2.6.24.
    static func getcpu(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        if a[0] != 0, let e = k.memory.writeUInt32(a.address(0), UInt32(k.platform.cpuIndex)) { throw e }
        if a[1] != 0, let e = k.memory.writeUInt32(a.address(1), 0) { throw e }
        return 0
    }

    // MARK: ioprio_set(2), ioprio_get(2)

    static let ioClassNone: Int32 = 0, ioClassRealTime: Int32 = 1, ioClassBestEffort: Int32 = 2, ioClassIdle: Int32 = 3

    /// IOPRIO_WHO_PROCESS (1) a thread, IOPRIO_WHO_PGRP (2) a group, IOPRIO_WHO_USER (3) a user.
    static func ioTargets(_ k: KernelState, _ which: Int32, _ who: Int32) throws(Errno) -> [Thread] {
        guard which >= 1 && which <= 3 else { throw .EINVAL }
        return try priorityTargets(k, which - 1, who)
    }

    /// __get_task_ioprio: a thread without a class of its own follows its nice value
    /// (best effort, level (nice + 20) / 5; idle class for SCHED_IDLE, real time for FIFO/RR).
    static func effectiveIOPriority(_ t: Thread) -> Int32 {
        let s = t.scheduling
        if s.ioPriority >> 13 != ioClassNone { return s.ioPriority }
        let ioClass = s.policy == SchedulingPolicy.idle ? ioClassIdle : SchedulingPolicy.isRealTime(s.policy) ? ioClassRealTime : ioClassBestEffort
        return ioClass << 13 | (s.nice + 20) / 5
    }

    static func ioprioSet(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let value = a.int32(2)
        // ioprio_check_cap (Linux 6.x): class in bits 13-15, level in bits 0-2; bits 3-12
        // are hints, accepted as they are.
        let ioClass = (value >> 13) & 0x7, level = value & 0x7
        let me = k.currentThread.credentials
        switch ioClass {
        case ioClassRealTime:
            guard me.capable(capSysNice) || me.capable(capSysAdmin) else { throw .EPERM }
        case ioClassBestEffort, ioClassIdle: break
        case ioClassNone: guard level == 0 else { throw .EINVAL }
        default: throw .EINVAL
        }
        let targets = try ioTargets(k, a.int32(0), a.int32(1))
        guard !targets.isEmpty else { throw .ESRCH }
        for t in targets {
            if t !== k.currentThread && me.euid != 0 && me.euid != t.credentials.uid && me.euid != t.credentials.euid { throw .EPERM }
            t.scheduling.ioPriority = value
        }
        return 0
    }

    /// ioprio_get: one thread's; for a group or a user the best of them (ioprio_best: lower
    /// class number first, then lower level).
    static func ioprioGet(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let targets = try ioTargets(k, a.int32(0), a.int32(1))
        var best: Int32? = nil
        for t in targets {
            let v = effectiveIOPriority(t)
            if let b = best {
                let (bc, vc) = (b >> 13 == ioClassNone ? ioClassBestEffort : b >> 13, v >> 13 == ioClassNone ? ioClassBestEffort : v >> 13)
                if vc < bc || (vc == bc && v & 7 < b & 7) { best = v }
            } else {
                best = v
            }
        }
        guard let result = best else { throw .ESRCH }
        return Int(result)
    }
}
