// Thread — one guest thread: its ids, its kernel-side context and its per-thread state
// (KernelCore layer). The arch layer owns the kernel stack and saved registers behind
// `ThreadContext` (Sources/Kernel/ThreadSwitch.swift); the scheduler (Scheduler.swift)
// decides which thread runs.

/// Arch-side state of a thread: kernel stack, saved kernel context, FPU area, TLS bases.
public protocol ThreadContext: AnyObject {}

/// A thread's user-mode registers, as saved on entry to the kernel (entry.S trap_frame).
public struct UserRegisters: Equatable {
    public var r15: UInt64 = 0, r14: UInt64 = 0, r13: UInt64 = 0, r12: UInt64 = 0
    public var r11: UInt64 = 0, r10: UInt64 = 0, r9: UInt64 = 0, r8: UInt64 = 0
    public var rbp: UInt64 = 0, rdi: UInt64 = 0, rsi: UInt64 = 0, rdx: UInt64 = 0
    public var rcx: UInt64 = 0, rbx: UInt64 = 0, rax: UInt64 = 0
    public var rip: UInt64 = 0, rflags: UInt64 = 0x202, rsp: UInt64 = 0
    public init() {}
}

public final class Thread {
    public enum State: Equatable { case runnable, running, blocked, exited }

    public internal(set) var tid: Int   // var: execve from a non-leader thread takes the leader's (ExecSyscalls.swift)
    public var context: any ThreadContext
    /// The process this thread belongs to (nil for a CPU's idle context).
    public var process: Process? = nil
    public var state: State = .runnable
    /// set_tid_address / CLONE_CHILD_CLEARTID: cleared and futex-woken at exit.
    public var clearChildTID: UInt64 = 0
    public var robustList: UInt64 = 0
    /// Blocked signals (rt_sigprocmask) and signals waiting for delivery.
    public var signalMask: UInt64 = 0
    public var pendingSignals: UInt64 = 0
    /// The mask to restore after a signal is delivered (rt_sigsuspend's caller mask).
    public var savedSignalMask: UInt64? = nil
    /// The mask rt_sigtimedwait replaced while it waits (Linux's real_blocked): signals in it
    /// count as blocked, so they are never dropped as ignored (Signals/QueuedSignals.swift).
    public var realBlockedSignals: UInt64 = 0
    /// sigaltstack(2): base, size, flags (SS_DISABLE = 2 when none).
    public var alternateStack: (base: UInt64, size: UInt64, flags: UInt32) = (0, 0, 2)
    /// What the thread is blocked on, and until when (monotonic ns), if anything.
    public var waitQueue: WaitQueue? = nil
    public var wakeDeadline: UInt64? = nil
    /// Set when a wake-up came from a signal rather than the event (the call gives EINTR).
    public var interrupted = false
    /// The syscall that just failed with EINTR and is one signal(7) restarts: the next
    /// return to user space rewinds it when the signal's handler has SA_RESTART (or no
    /// handler runs). Set by KernelState.dispatch, taken by returnToUser.
    public var restartableSyscall: Int? = nil
    /// The thread's name (comm, PR_SET_NAME); nil: the executable's base name
    /// (VFS/ProcFSText.swift procThreadName).
    public var name: [UInt8]? = nil
    /// prctl state of the thread (Syscalls/ProcessControlSyscalls.swift).
    public var controls = ThreadControls()
    /// Policy, priorities, affinity, I/O priority (Syscalls/SchedulingSyscalls.swift).
    public var scheduling = SchedulingAttributes()
    /// CPU time used (getrusage, times, /proc): the counters the timers keep at every
    /// kernel entry and exit and switch (userNanoseconds, systemNanoseconds below).
    public var cpuUserNanoseconds: UInt64 { userNanoseconds }
    public var cpuSystemNanoseconds: UInt64 { systemNanoseconds }
    /// Whether the thread has had a CPU yet (its start time is stamped then).
    var hasRun = false
    /// When the thread first ran (monotonic ns; 0 for the first thread, started at boot).
    public var startNanoseconds: UInt64 = 0
    public var voluntarySwitches = 0
    public var involuntarySwitches = 0
    /// Ids and capabilities (Process/Credentials.swift): per thread, as Linux's task cred;
    /// a new thread starts with its creator's.
    public var credentials = Credentials.root
    /// The EINTR just returned is Linux's ERESTARTNOINTR (FUTEX_LOCK_PI): the call restarts
    /// after the handler whatever its SA_RESTART (Threads/Futex.swift sets it).
    public var restartAfterAnySignal = false

    /// CPU time spent in user mode and in the kernel (ns): charged at every kernel entry and
    /// exit (Sources/Kernel/Traps.swift) and when the thread leaves or takes a CPU
    /// (Scheduler), by Threads/IntervalTimers.swift. getrusage, /proc and the CPU clocks
    /// read these two.
    public var userNanoseconds: UInt64 = 0
    public var systemNanoseconds: UInt64 = 0
    /// When the stretch now being charged began (monotonic ns); 0 while off the CPU.
    public var accountingMark: UInt64 = 0

    public init(tid: Int, context: any ThreadContext) {
        self.tid = tid
        self.context = context
    }
}
