// Platform — the few services pure kernel logic needs from the machine (KernelCore layer).
//
// Sources/Kernel/MachinePlatform.swift implements it with the serial port, TSC, RTC and
// RDRAND; host tests use a scripted fake (Tests/KernelCoreTests/FakePlatform.swift).

public protocol Platform: AnyObject {
    /// Guest console output (fd 1 and 2 when they are the console).
    func consoleWrite(_ bytes: [UInt8], count: Int)
    /// Blocks until at least one byte is available; returns 0 only at end of input.
    func consoleRead(into buffer: inout [UInt8], maximum: Int) -> Int
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
    /// Ends the machine: reports `status` to the host (egg exits with it) and powers off.
    func powerOff(status: Int) -> Never
    /// Kernel diagnostics (boot messages, crash reports): the console, kept apart from
    /// guest writes so a trace or a capture can tell them apart.
    func diagnostic(_ text: String)
}
