// KernelState — everything a syscall handler may touch (KernelCore layer).
//
// One instance per machine, created by Sources/Kernel/Main.swift after boot. Handlers get it
// as their first argument; it owns the process, the syscall table and the platform services.
import LinuxABI
import Net

public final class Process {
    public let pid: Int
    public var addressSpace: AddressSpace
    /// The path the guest sees for itself (/proc/self/exe, AT_EXECFN).
    public var executablePath: [UInt8]
    public var umask: UInt32 = 0o022
    public var exitStatus: Int? = nil

    public init(pid: Int, addressSpace: AddressSpace, executablePath: [UInt8]) {
        self.pid = pid
        self.addressSpace = addressSpace
        self.executablePath = executablePath
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
    public var process: Process
    public let frames: FramePool
    /// System facts for uname, sysinfo and /proc.
    public var hostname: [UInt8] = Array("egg".utf8)
    public var cpuCount = 1
    public var bootRealtimeSeconds: Int64 = 0
    /// Signal dispositions (rt_sigaction) and the blocked mask (rt_sigprocmask), index = signal.
    public var signalHandlers = [UInt64](repeating: 0, count: 65)
    public var signalFlags = [UInt64](repeating: 0, count: 65)
    public var signalRestorers = [UInt64](repeating: 0, count: 65)
    public var signalMasks = [UInt64](repeating: 0, count: 65)
    /// Signals sent to the process (kill) not yet taken by a thread.
    public var processPendingSignals: UInt64 = 0
    /// The descriptor table, working directory and file system (Sources/KernelCore/VFS/);
    /// 0-2 start as the console.
    public var files: FileTable
    /// The console's line discipline, termios and window size
    /// (Sources/KernelCore/Devices/Terminal.swift, ConsoleTerminal.swift).
    public let terminal = Terminal()

    public let scheduler: Scheduler
    /// Threads waiting for console input; the console interrupt wakes them.
    public let consoleInput = WaitQueue()
    /// poll/select/epoll waiters: woken whenever any descriptor's readiness may change.
    public let pollWaiters = WaitQueue()
    public var futexes = FutexTable()
    /// Interval timers, POSIX timers, armed timerfds, the realtime offset
    /// (Threads/IntervalTimers.swift, Threads/PosixTimers.swift).
    public let timers = ProcessTimers()
    /// The TCP/IP stack (Sources/Net/) and the card under it (nil: no card; loopback
    /// still works when the stack exists). Set up by Sources/Kernel/ at boot.
    public var network: NetworkStack? = nil
    public var networkInterface: (any NetworkInterface)? = nil
    /// The thread running now.
    public var currentThread: Thread { scheduler.current }

    public init(platform: any Platform, process: Process, frames: FramePool) {
        self.platform = platform
        self.scheduler = Scheduler(initial: Thread(tid: process.pid, context: platform.initialThreadContext()),
                                   cpu: { platform.cpuIndex })
        self.process = process
        self.frames = frames
        self.syscalls = SyscallTable()
        self.files = FileTable(fileSystem: FileSystem(clock: { platform.realtimeNanoseconds() }))
        files.populateStandardTree(pid: process.pid, executablePath: process.executablePath)
        registerBuiltinSyscalls(&syscalls)
    }

    public var memory: AddressSpace { process.addressSpace }

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

    /// Ends the guest (exit_group, or death by signal) and the machine with it.
    public func terminate(status: Int) -> Never {
        process.exitStatus = status
        platform.powerOff(status: status)
    }
}
