// KernelState — everything a syscall handler may touch (KernelCore layer).
//
// One instance per machine, created by Sources/Kernel/Main.swift after boot. Handlers get it
// as their first argument; it owns the process, the syscall table and the platform services.
import LinuxABI
import Net

/// One process: an address space, a descriptor table, signal dispositions and its place in
/// the process tree (parent, children, group, session). Threads (Threads/Thread.swift) point
/// to their process; KernelState's per-process names forward to the current thread's one.
/// Fork, exit and wait are Process/ProcessLifecycle.swift; copy-on-write is
/// Process/CopyOnWrite.swift.
public final class Process {
    public let pid: Int
    /// This process's interval timers (ITIMER_REAL/VIRTUAL/PROF) and POSIX timers with their
    /// queued signals (Threads/IntervalTimers.swift, PosixTimers.swift). A new process starts
    /// with none (fork(2): timers are not inherited); execve keeps the interval timers and
    /// deletes the POSIX timers (execve(2)). The machine-wide clock state (clock_settime's
    /// offset, the timezone, armed timerfds) stays in KernelState.timers.
    public let ownTimers = ProcessTimers()
    public var addressSpace: AddressSpace
    /// The path the guest sees for itself (/proc/self/exe, AT_EXECFN).
    public var executablePath: [UInt8]
    /// The file the program was loaded from (execve reads it again for /proc/self/exe); the
    /// boot executable's lies in the boot bundle (set by Sources/Kernel/Main.swift).
    public var executableInode: Inode? = nil
    public var umask: UInt32 = 0o022
    /// The status egg reports when this is PID 1, and wait's low byte otherwise (exit code).
    public var exitStatus: Int? = nil
    /// The descriptor table and working directory (nil only before KernelState adopts the
    /// first process).
    public var fileTable: FileTable? = nil
    /// Signal dispositions (rt_sigaction), index = signal number.
    public var signalHandlers = [UInt64](repeating: 0, count: 65)
    public var signalFlags = [UInt64](repeating: 0, count: 65)
    public var signalRestorers = [UInt64](repeating: 0, count: 65)
    public var signalMasks = [UInt64](repeating: 0, count: 65)
    /// Signals sent to the process (kill) not yet taken by a thread.
    public var processPendingSignals: UInt64 = 0
    /// Queued signal instances with their siginfo (Signals/QueuedSignals.swift).
    public var queuedSignals = SignalQueue()
    /// The process tree: parent (nil for PID 1), living and zombie children. The cycle is
    /// broken when the process is reaped (ProcessLifecycle.reap).
    public var parent: Process? = nil
    public var children: [Process] = []
    public var processGroup: Int
    public var session: Int
    /// The threads still alive in this process.
    public var threads: [Thread] = []
    /// /proc/PID/io's counters (task_io_accounting): bytes read and written by read- and
    /// write-like calls, and how many such calls (VFS/ProcessIOAccounting.swift).
    public var ioAccounting = ProcessIOAccounting()
    /// The wait(2) status word once the process ended (exit code << 8, or the signal), and
    /// whether a waiter already took it (the process is then gone).
    public var waitStatus: Int32? = nil
    /// Stop/continue reports waiting for WUNTRACED/WCONTINUED: a status word or nil.
    public var stopReport: Int32? = nil
    public var continueReport = false
    public var stopped = false
    /// The threads of a stopped process park here until SIGCONT (Signals/JobControl.swift).
    public let stopWaiters = WaitQueue()
    /// Set once exit_group (or a fatal signal) began: the remaining threads die on their
    /// next way out of the kernel.
    public var exiting = false
    /// A vfork(2) parent sleeps here until this child execs or exits.
    public var vforkParentWaits: WaitQueue? = nil
    /// The signal the parent gets when this child ends (clone's low byte; SIGCHLD for fork).
    public var exitSignal = 17
    /// The siginfo of the last child event (CLD_EXITED...), given with the next SIGCHLD.
    public var childSignalInfo: Siginfo? = nil
    /// Parents blocked in wait4/waitid sleep here; a child's exit or stop wakes them.
    public let childEvents = WaitQueue()
    /// The stack pointer the program started with (argc, argv, envp, auxv above it):
    /// /proc/PID/cmdline, environ, auxv and stat read the start area from it.
    public var startStack: UInt64 = 0
    /// The parent's pid (0: started by the kernel, like init).
    public var parentPID: Int { parent?.pid ?? 0 }
    /// Resource limits and prctl state (Syscalls/ProcessControlSyscalls.swift).
    public var limits = ResourceLimits()
    public var controls = ProcessControls()
    /// CPU time of waited-for children (RUSAGE_CHILDREN, times' cutime/cstime).
    public var childrenUserNanoseconds: UInt64 = 0
    public var childrenSystemNanoseconds: UInt64 = 0
    /// The largest the address space has been (VmPeak).
    public var peakVirtualSize: UInt64 = 0
    /// CPU time of this process's threads that ended (its CPU clock and its parent's
    /// RUSAGE_CHILDREN keep it; Threads/IntervalTimers.swift retireThreadCPUTime).
    public var exitedUserNanoseconds: UInt64 = 0
    public var exitedSystemNanoseconds: UInt64 = 0
    /// TIOCNOTTY by a process that does not lead its session: it alone gives up the console
    /// as its controlling terminal (Devices/ConsoleTerminal.swift); inherited by fork.
    public var droppedConsole = false

    public init(pid: Int, addressSpace: AddressSpace, executablePath: [UInt8]) {
        self.pid = pid
        self.addressSpace = addressSpace
        self.executablePath = executablePath
        self.processGroup = pid
        self.session = pid
    }
}

/// Observes every system call (the --trace feature, Sources/KernelCore/Trace/). With no
/// tracer installed dispatch pays one nil check.
public protocol SyscallTracer: AnyObject {
    /// Before the handler runs (calls that never return, like exit_group, end here).
    func willDispatch(_ k: KernelState, _ arguments: SyscallArguments)
    /// After it returns, with the result the guest will see.
    func didDispatch(_ k: KernelState, _ arguments: SyscallArguments, _ result: SyscallResult)
}

public final class KernelState {
    public var tracer: (any SyscallTracer)? = nil
    public let platform: any Platform
    public var syscalls: SyscallTable
    /// The first process (PID 1): egg's exit status is its own, and it adopts orphans.
    public let initProcess: Process
    /// Every process not yet reaped, by pid (wait, kill, /proc).
    public var processes: [Int: Process] = [:]
    /// The kernel's own page-table root, active while a CPU runs no process (idle); 0 on
    /// the host.
    public var kernelRoot: UInt64 = 0
    /// Bounds the number of processes (RLIMIT_NPROC), so a fork bomb gets EAGAIN.
    public var processLimit = 256
    /// POSIX message queues by name (IPC/PosixMessageQueue.swift).
    public let messageQueues = MessageQueueNamespace()
    /// The current thread's process (PID 1 when the CPU runs no thread of any process, as
    /// in an interrupt taken by the idle loop).
    /// Set while kernel work runs on behalf of a process other than the current thread's
    /// (timer expiry, Threads/IntervalTimers.swift).
    var processOverride: Process? = nil
    public var process: Process {
        get { processOverride ?? scheduler.current.process ?? initProcess }
        set { scheduler.current.process = newValue; processes[newValue.pid] = newValue }
    }
    public let frames: FramePool
    /// System facts for uname, sysinfo and /proc.
    public var hostname: [UInt8] = Array("egg".utf8)
    /// The NIS domain name uname(2) reports (setdomainname(2); Linux's default "(none)").
    public var domainname: [UInt8] = Array("(none)".utf8)
    public var cpuCount = 1
    public var bootRealtimeSeconds: Int64 = 0
    /// Signal dispositions (rt_sigaction) and the blocked mask (rt_sigprocmask), index = signal:
    /// the current process's (Process).
    public var signalHandlers: [UInt64] {
        get { process.signalHandlers }
        set { process.signalHandlers = newValue }
    }
    public var signalFlags: [UInt64] {
        get { process.signalFlags }
        set { process.signalFlags = newValue }
    }
    public var signalRestorers: [UInt64] {
        get { process.signalRestorers }
        set { process.signalRestorers = newValue }
    }
    public var signalMasks: [UInt64] {
        get { process.signalMasks }
        set { process.signalMasks = newValue }
    }
    /// Signals sent to the current process (kill) not yet taken by a thread.
    public var processPendingSignals: UInt64 {
        get { process.processPendingSignals }
        set { process.processPendingSignals = newValue }
    }
    /// The current process's descriptor table, working directory and file system
    /// (Sources/KernelCore/VFS/); 0-2 start as the console.
    public var files: FileTable {
        get { process.fileTable! }
        set { process.fileTable = newValue }
    }
    /// The console's line discipline, termios and window size
    /// (Sources/KernelCore/Devices/Terminal.swift, ConsoleTerminal.swift).
    public let terminal = Terminal()

    public let scheduler: Scheduler
    /// Threads waiting for console input; the console interrupt wakes them.
    public let consoleInput = WaitQueue()
    /// The console as a controlling terminal (Devices/ConsoleTerminal.swift, job control):
    /// the session it belongs to and its foreground process group (0: none). PID 1 starts
    /// as the leader of the console's session and its foreground group, as a container's
    /// init run with a terminal; piped input (console=pipe) leaves the console nobody's.
    public var consoleSession = 1
    public var consoleForegroundGroup = 1
    public var consoleIsPiped = false
    /// poll/select/epoll waiters: woken whenever any descriptor's readiness may change.
    public let pollWaiters = WaitQueue()
    /// Futex waiters by key (Threads/FutexKeys.swift: handlers use the `futexes` view).
    public var futexTable = FutexTable()
    /// Epoll instances with an edge-triggered interest, by the wake-up source they watch
    /// (Events/Epoll.swift pollWakeup: Linux reports an edge on every write).
    var epollEdgeWatchers: [ObjectIdentifier: [EpollInstance]] = [:]
    var nextFutexSpaceID: UInt64 = 0
    /// Threads in FUTEX_WAIT_REQUEUE_PI not yet requeued (Threads/FutexRequeuePI.swift).
    var requeuePIWaits: [RequeuePIWait] = []
    /// System V IPC objects (Sources/KernelCore/IPC/): one namespace per machine.
    public let sysvIPC = SysVIPCNamespace()
    /// AF_UNIX names: abstract names and the sockets bound to socket inodes
    /// (Sockets/UnixSocketNames.swift).
    let localSocketNames = LocalSocketNames()
    /// Advisory file locks: fcntl record locks, OFD locks, flock (VFS/FileLocks.swift).
    let fileLocks = FileLockTable()
    /// Interval timers, POSIX timers, armed timerfds, the realtime offset
    /// (Threads/IntervalTimers.swift, Threads/PosixTimers.swift).
    public let timers = ProcessTimers()
    /// The TCP/IP stack (Sources/Net/) and the card under it (nil: no card; loopback
    /// still works when the stack exists). Set up by Sources/Kernel/ at boot.
    public var network: NetworkStack? = nil
    public var networkInterface: (any NetworkInterface)? = nil
    /// The thread running now.
    public var currentThread: Thread { scheduler.current }
    /// /proc's generated part (VFS/ProcFS.swift).
    public lazy var procfs = ProcFileSystem(kernel: self)

    public init(platform: any Platform, process: Process, frames: FramePool) {
        self.platform = platform
        let first = Thread(tid: process.pid, context: platform.initialThreadContext())
        first.process = process
        process.threads = [first]
        self.scheduler = Scheduler(initial: first, cpu: { platform.cpuIndex })
        self.initProcess = process
        self.processes = [process.pid: process]
        self.frames = frames
        self.syscalls = SyscallTable()
        let table = FileTable(fileSystem: FileSystem(clock: { platform.realtimeNanoseconds() }))
        process.fileTable = table
        table.populateStandardTree(pid: process.pid, executablePath: process.executablePath)
        installProcAndSys()
        registerBuiltinSyscalls(&syscalls)
        let scheduler = self.scheduler   // no cycle: the file system asks the scheduler, not self
        files.fileSystem.caller = { scheduler.current.credentials }
        files.fileSystem.callerRoot = { scheduler.current.process?.fileTable?.root }   // chroot(2)
    }

    /// The current process's address space.
    public var memory: AddressSpace {
        get { process.addressSpace }
        set { process.addressSpace = newValue }
    }

    public func dispatch(_ arguments: SyscallArguments) -> SyscallResult {
        let result: SyscallResult
        if let tracer {
            tracer.willDispatch(self, arguments)
            result = syscalls.dispatch(self, arguments)
            tracer.didDispatch(self, arguments, result)
        } else {
            result = syscalls.dispatch(self, arguments)
        }
        if case .failure(.EINTR) = result, KernelState.isRestartable(arguments.number) || currentThread.restartAfterAnySignal {
            currentThread.restartableSyscall = arguments.number
        }
        return result
    }

    /// Ends the machine with `status` (PID 1 ended: egg's exit status is its own).
    public func powerOff(status: Int) -> Never {
        initProcess.exitStatus = status
        platform.powerOff(status: status)
    }
}
