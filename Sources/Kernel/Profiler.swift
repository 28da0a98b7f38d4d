// Profiler — the counters behind `egg run --profile` (Kernel layer).
//
// Traps.swift reads the TSC at each system call's entry, after it has the kernel lock, and
// before it returns, and counts page faults and interrupts, all into this CPU's own block,
// so no counter is shared between CPUs and none needs a lock or an atomic. At power-off
// (MachinePlatform.powerOff) `report` adds the blocks into a SyscallProfile
// (Sources/KernelCore/Trace/SyscallProfile.swift) and writes its lines to the control
// channel as "profile ..." lines; egg prints them on stderr. Off (the default), the only
// cost is the test of `enabled` on each entry: one load and one well-predicted branch.
import HW
import KernelArch
import KernelCore

enum Profiler {
    /// Set once at boot from the bundle's "profile=1" option (Main.swift), before any user code.
    nonisolated(unsafe) static var enabled = false
    /// Per-CPU block addresses, indexed by CPU.index; 0 for CPUs that never came up.
    nonisolated(unsafe) static var blocks = [UInt64](repeating: 0, count: CPU.maximumCPUs)

    // Block layout, in 64-bit words.
    static let callsBase = 0
    static let cyclesBase = SyscallProfile.capacity
    static let lockBase = 2 * SyscallProfile.capacity
    static let faults = 3 * SyscallProfile.capacity
    static let faultCycles = faults + 1
    static let interrupts = faults + 2
    static let interruptCycles = faults + 3
    static let words = faults + 4

    /// Allocates a zeroed block for each of `cpus` CPUs and turns counting on.
    static func start(cpus: Int) {
        for i in 0..<min(cpus, CPU.maximumCPUs) {
            let base = CPU.permanentAllocation(bytes: words * 8, alignment: 64)
            // SAFETY: a fresh permanent allocation of `words` words, used only by CPU i.
            let p = UnsafeMutablePointer<UInt64>(bitPattern: UInt(base))!
            p.initialize(repeating: 0, count: words)
            blocks[i] = base
        }
        enabled = true
    }

    @inline(__always) static func block() -> UnsafeMutablePointer<UInt64>? {
        let i = CPU.index
        guard i < CPU.maximumCPUs, blocks[i] != 0 else { return nil }
        // SAFETY: blocks[i] is this CPU's block from `start`, `words` words long.
        return UnsafeMutablePointer<UInt64>(bitPattern: UInt(blocks[i]))
    }

    /// One system call: `start` at entry, `locked` once the kernel lock was taken, `end` at return.
    static func recordSyscall(number: UInt64, start: UInt64, locked: UInt64, end: UInt64) {
        guard let b = block() else { return }
        let n = number < UInt64(SyscallProfile.capacity) ? Int(number) : SyscallProfile.capacity - 1
        b[callsBase + n] &+= 1
        b[cyclesBase + n] &+= end &- start
        b[lockBase + n] &+= locked &- start
    }

    static func recordFault(cycles: UInt64) {
        guard let b = block() else { return }
        b[faults] &+= 1
        b[faultCycles] &+= cycles
    }

    static func recordInterrupt(cycles: UInt64) {
        guard let b = block() else { return }
        b[interrupts] &+= 1
        b[interruptCycles] &+= cycles
    }

    /// The table on the control channel, one "profile ..." line per row.
    static func report() {
        guard enabled else { return }
        var p = SyscallProfile()
        for base in blocks where base != 0 {
            // SAFETY: a block from `start`; the machine is powering off, nothing counts now.
            let b = UnsafeMutablePointer<UInt64>(bitPattern: UInt(base))!
            for n in 0..<SyscallProfile.capacity where b[callsBase + n] != 0 {
                p.add(number: n, calls: b[callsBase + n], cycles: b[cyclesBase + n], lockCycles: b[lockBase + n])
            }
            p.pageFaults &+= b[faults]; p.pageFaultCycles &+= b[faultCycles]
            p.interrupts &+= b[interrupts]; p.interruptCycles &+= b[interruptCycles]
        }
        if let state = kernel { p.contextSwitches = state.contextSwitchCount }
        for line in p.render(tscHz: Clock.tscHz) { HostChannel.write("profile " + line + "\n") }
    }
}
