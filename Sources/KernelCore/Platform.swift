// Platform — the few services pure kernel logic needs from the machine (KernelCore layer).
//
// Sources/Kernel/MachinePlatform.swift implements it with the serial port, TSC, RTC and
// RDRAND; host tests use a scripted fake (Tests/KernelCoreTests/FakePlatform.swift).

public protocol Platform: AnyObject {
    /// Guest console output (fd 1 and 2 when they are the console).
    func consoleWrite(_ bytes: [UInt8], count: Int)
    /// Console input that arrived since the last call (serial line, keyboard), oldest first,
    /// as raw bytes; never blocks. The kernel's line discipline gives them meaning
    /// (Sources/KernelCore/Devices/Terminal.swift).
    func consoleTakeInput() -> [UInt8]
    /// Nanoseconds since boot, monotonic.
    func monotonicNanoseconds() -> UInt64
    /// Nanoseconds since the Unix epoch.
    func realtimeNanoseconds() -> Int64
    /// Cryptographic-quality random bytes (getrandom, AT_RANDOM).
    func fillRandom(_ buffer: inout [UInt8], count: Int)
    /// The thread's FS base (TLS pointer), ARCH_SET_FS / ARCH_GET_FS.
    func setFSBase(_ value: UInt64)
    func fsBase() -> UInt64
    func setGSBase(_ value: UInt64)
    func gsBase() -> UInt64
    /// Wait a moment for something to happen (an interrupt, or just time passing).
    func idle()
    // Threads (Sources/KernelCore/Threads/). The "current frame" is the user register set
    // saved when the running thread entered the kernel; changing it changes where the thread
    // resumes.
    /// The running CPU's number (0 = the boot CPU).
    var cpuIndex: Int { get }
    func currentUserRegisters() -> UserRegisters
    func setCurrentUserRegisters(_ registers: UserRegisters)
    /// The context of the thread that booted (created by the platform before the scheduler).
    func initialThreadContext() -> any ThreadContext
    /// A new thread that will enter user mode with `registers` and TLS base `fsBase`;
    /// nil when no memory is left for its kernel stack.
    func makeThread(registers: UserRegisters, fsBase: UInt64) -> (any ThreadContext)?
    /// Save the running thread's kernel context and resume `to`'s; returns when some thread
    /// switches back to `from`.
    func switchThread(from: any ThreadContext, to: any ThreadContext)
    /// Make the page tables rooted at `root` this CPU's active address space (CR3), before
    /// switching to a thread of another process.
    func activateAddressSpace(root: UInt64)
    /// Free an exited thread's kernel stack (never the one in use).
    func releaseThread(_ context: any ThreadContext)
    /// The running thread's FPU/SSE registers as an fxsave image (512 bytes), for signal
    /// frames, and loading one back (rt_sigreturn).
    func captureFPUState() -> [UInt8]
    func restoreFPUState(_ image: [UInt8])
    /// Ends the machine: reports `status` to the host (egg exits with it) and powers off.
    func powerOff(status: Int) -> Never
    /// Kernel diagnostics (boot messages, crash reports): the console, kept apart from
    /// guest writes so a trace or a capture can tell them apart.
    func diagnostic(_ text: String)
}
