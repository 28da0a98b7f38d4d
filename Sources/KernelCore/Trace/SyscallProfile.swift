// SyscallProfile — `egg run --profile`: kernel time per system call, as a table (KernelCore/Trace).
//
// The arch layer (Sources/Kernel/Profiler.swift) counts, per CPU and without locks, the calls
// and TSC cycles of every system call from entry to return (and the part spent waiting for
// the kernel lock), page faults and interrupts; at power-off it adds the CPUs' counters into
// one SyscallProfile and sends `render`'s lines to egg over the control channel, which prints
// them on stderr (Sources/EggHost/EggRun.swift). This file is pure: the sums and the text,
// host-tested in Tests/KernelCoreTests/SyscallProfileTests.swift. Cycles become nanoseconds
// with the calibrated TSC frequency (Sources/Kernel/Clock.swift).
import LinuxABI

public struct SyscallProfile: Equatable {
    /// Numbers 0 ..< capacity, as SyscallTable.
    public static let capacity = SyscallTable.capacity
    public var calls: [UInt64]
    /// TSC cycles from kernel entry to the return to user mode, lock wait included.
    public var cycles: [UInt64]
    /// Of `cycles`, the part spent waiting for the kernel lock.
    public var lockCycles: [UInt64]
    public var pageFaults: UInt64 = 0
    public var pageFaultCycles: UInt64 = 0
    public var interrupts: UInt64 = 0
    public var interruptCycles: UInt64 = 0
    public var contextSwitches: UInt64 = 0

    public init() {
        calls = [UInt64](repeating: 0, count: SyscallProfile.capacity)
        cycles = calls
        lockCycles = calls
    }

    /// Counts one call (tests; the kernel adds whole per-CPU arrays with `add(number:...)`).
    public mutating func add(number: Int, calls n: UInt64 = 1, cycles c: UInt64, lockCycles l: UInt64 = 0) {
        guard number >= 0 && number < SyscallProfile.capacity else { return }
        calls[number] &+= n
        cycles[number] &+= c
        lockCycles[number] &+= l
    }

    /// `cycles` at `hz` as nanoseconds, without overflowing for long runs (cycles × 10⁹ does
    /// not fit 64 bits after about 18 s at 1 GHz).
    public static func nanoseconds(_ cycles: UInt64, hz: UInt64) -> UInt64 {
        TSCScale.nanoseconds(cycles, hz: hz)
    }

    /// The table, one line per element, sorted by total time (then by number), calls never
    /// made left out:
    ///   syscall              calls      total ms    avg ns   lock ns
    ///   getppid             100000        51.234       512         3
    /// then the page-fault, interrupt and context-switch totals.
    public func render(tscHz: UInt64) -> [String] {
        var order: [Int] = []
        for n in 0..<SyscallProfile.capacity where calls[n] != 0 { order.append(n) }
        order.sort { a, b in cycles[a] != cycles[b] ? cycles[a] > cycles[b] : a < b }
        var totalCalls: UInt64 = 0, totalCycles: UInt64 = 0
        for n in order { totalCalls &+= calls[n]; totalCycles &+= cycles[n] }
        var lines: [String] = []
        lines.append("egg profile: " + unsignedDecimalString(totalCalls) + " system calls, "
                     + SyscallProfile.milliseconds(SyscallProfile.nanoseconds(totalCycles, hz: tscHz))
                     + " ms in them (TSC " + unsignedDecimalString(tscHz / 1_000_000) + " MHz)")
        lines.append(SyscallProfile.row("syscall", "calls", "total ms", "avg ns", "lock ns"))
        for n in order {
            let name: String
            if let known = SyscallNumber(n).name { name = stringFromStatic(known) } else { name = "syscall_" + decimalString(Int64(n)) }
            let total = SyscallProfile.nanoseconds(cycles[n], hz: tscHz)
            let lock = SyscallProfile.nanoseconds(lockCycles[n], hz: tscHz)
            lines.append(SyscallProfile.row(name, unsignedDecimalString(calls[n]), SyscallProfile.milliseconds(total),
                                            unsignedDecimalString(total / calls[n]),
                                            unsignedDecimalString(lock / calls[n])))
        }
        lines.append(SyscallProfile.event("page faults", pageFaults, pageFaultCycles, tscHz))
        lines.append(SyscallProfile.event("interrupts", interrupts, interruptCycles, tscHz))
        lines.append(SyscallProfile.row("context switches", unsignedDecimalString(contextSwitches), "-", "-", "-"))
        return lines
    }

    static func event(_ name: String, _ count: UInt64, _ cycles: UInt64, _ hz: UInt64) -> String {
        let total = nanoseconds(cycles, hz: hz)
        return row(name, unsignedDecimalString(count), milliseconds(total),
                   count == 0 ? "-" : unsignedDecimalString(total / count), "-")
    }

    /// "12.345": nanoseconds as milliseconds with three decimals.
    static func milliseconds(_ ns: UInt64) -> String {
        let micro = ns / 1000
        let fraction = unsignedDecimalString(micro % 1000)
        return unsignedDecimalString(micro / 1000) + "." + String(repeating: "0", count: 3 - fraction.utf8.count) + fraction
    }

    static func row(_ name: String, _ calls: String, _ total: String, _ average: String, _ lock: String) -> String {
        pad(name, 18, left: true) + pad(calls, 11) + pad(total, 14) + pad(average, 10) + pad(lock, 10)
    }

    static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.utf8.count))
        return left ? text + fill : fill + text
    }
}

extension KernelState {
    /// Context switches since boot, for the profile's last line (VFS/ProcFS.swift counts them
    /// for /proc/stat's ctxt).
    public var contextSwitchCount: UInt64 { procfs.contextSwitches }
}
