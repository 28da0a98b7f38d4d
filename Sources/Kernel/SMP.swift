// SMP — the local APIC, starting the other CPUs, TLB shootdown (Kernel layer).
//
// CPUs: the ACPI MADT lists their APIC ids (Sources/Drivers/ACPITables.swift; on a PC and
// under QEMU's SeaBIOS/OVMF alike); without ACPI, QEMU's fw_cfg says how many (key 0x05,
// FW_CFG_NB_CPUS; QEMU docs/specs/fw_cfg.txt) and QEMU numbers their APIC ids 0..n-1.
// Each AP is woken with INIT-SIPI-SIPI (Intel SDM vol. 3 §8.4.4) into ap_boot.S, sets up
// its own GDT/TSS/per-CPU block and local APIC timer, then idles in the scheduler.
// Locking: one big kernel lock (hw.h) taken on every entry from ring 3 and released on the
// way back and while idle — simple and correct; finer locks are future work.
// TLB shootdown: after unmapping or reprotecting, the CPU holding the lock sends vector
// 0xF0 to all others and waits until each has reloaded CR3 (DirectMapMemory).
import Drivers
import HW
import KernelArch
import KernelCore

enum LocalAPIC {
    static var base: UInt64 { physicalToVirtual(0xFEE0_0000) }
    static let timerVector: UInt32 = 0x40
    static let shootdownVector: UInt32 = 0xF0
    /// The reschedule IPI (Scheduler.kickIdleCPU): it only has to end an idle CPU's `hlt`,
    /// after which its idle loop takes the lock and finds the new thread. It reuses the
    /// timer's vector, whose handler (Traps.swift) already ends the interrupt, re-programs
    /// the one-shot timer and, should the CPU have left idle meanwhile, lets a runnable
    /// thread have it; a vector of its own needs its own case in trapEntry first.
    static let rescheduleVector: UInt32 = timerVector
    static let spuriousVector: UInt32 = 0xFF
    nonisolated(unsafe) static var ticksPerSecond: UInt64 = 0

    static func read(_ register: UInt64) -> UInt32 { hw_load32(base + register) }
    static func write(_ register: UInt64, _ value: UInt32) { hw_store32(base + register, value) }

    static var present: Bool { hw_cpuid(1, 0).edx & (1 << 9) != 0 }
    static var id: UInt32 { read(0x20) >> 24 }

    static func enable() {
        write(0x80, 0)                              // TPR: accept everything
        write(0xF0, spuriousVector | 0x100)         // software enable
    }

    static func endOfInterrupt() { write(0xB0, 0) }

    static func waitForDelivery() {
        var spins = 0
        while read(0x300) & (1 << 12) != 0 && spins < 1_000_000 { hw_pause(); spins += 1 }
    }

    static func sendIPI(to apic: UInt32, command: UInt32) {
        write(0x310, apic << 24)
        write(0x300, command)
        waitForDelivery()
    }

    static func sendToAllOthers(vector: UInt32) {
        write(0x300, (3 << 18) | (1 << 14) | vector)  // all excluding self, assert, fixed
        waitForDelivery()
    }

    /// Measure the timer against the TSC once (boot CPU); all CPUs share the rate.
    static func calibrateTimer() {
        write(0x3E0, 0x3)                           // divide by 16
        write(0x320, 1 << 16)                       // masked, one-shot
        write(0x380, 0xFFFF_FFFF)
        let start = hw_rdtsc()
        let window = Clock.tscHz / 100              // 10 ms
        while hw_rdtsc() &- start < window {}
        let elapsed = 0xFFFF_FFFF - read(0x390)
        write(0x380, 0)
        ticksPerSecond = UInt64(elapsed) * 100
    }

    // One-shot timer with a software tick. The preemption tick (every `tickPeriod` ns) is
    // kept per CPU in `nextTick`; the timer is programmed for whichever comes first, that
    // tick or the earliest deadline a sleeper or a timer wants (Scheduler.
    // earliestWakeDeadline), so a 100 µs sleep on an idle CPU ends within a few µs instead of
    // at the next 4 ms tick. Intel SDM vol. 3A §11.5.4 (APIC timer): LVT timer mode 00 is
    // one-shot, and writing the initial-count register (0x380) starts the count-down again;
    // a count of 0 would stop it, so at least 1 is written. TSC-deadline mode (§11.5.4.1,
    // CPUID.01H:ECX[24]) would avoid the rate conversion, but the one-shot count works on
    // every local APIC QEMU offers, TCG and KVM alike.
    nonisolated(unsafe) static var tickPeriod: UInt64 = 4_000_000
    /// Per CPU (index = CPU number): when its next preemption tick is due (monotonic ns).
    nonisolated(unsafe) static var nextTick = [UInt64](repeating: 0, count: CPU.maximumCPUs)

    static func startTimer(hz: UInt64) {
        guard ticksPerSecond > 0 else { return }
        tickPeriod = 1_000_000_000 / hz
        write(0x3E0, 0x3)                           // divide by 16, as calibrated
        write(0x320, timerVector)                   // one-shot, unmasked
        nextTick[CPU.index] = Clock.nanosecondsSinceBoot() + tickPeriod
        program(at: nextTick[CPU.index])
    }

    /// Start the count-down so the interrupt comes at `deadline` (monotonic ns).
    static func program(at deadline: UInt64) {
        let now = Clock.nanosecondsSinceBoot()
        let delta = min(deadline > now ? deadline - now : 0, 1_000_000_000)
        let count = delta * ticksPerSecond / 1_000_000_000
        write(0x380, UInt32(truncatingIfNeeded: max(1, min(count, 0xFFFF_FFFF))))
    }

    /// A timer interrupt on this CPU: whether a preemption tick is due (and moves it on).
    static func takeTick() -> Bool {
        let cpu = CPU.index
        let now = Clock.nanosecondsSinceBoot()
        guard now >= nextTick[cpu] else { return false }
        nextTick[cpu] += tickPeriod
        if nextTick[cpu] <= now { nextTick[cpu] = now + tickPeriod }  // fell behind: no burst
        return true
    }

    /// Program this CPU's timer for the next tick or `earliest` (if still ahead), whichever
    /// is first. A deadline already past is left to the caller, which is about to expire it.
    static func rearm(earliest: UInt64?) {
        var target = nextTick[CPU.index]
        if let e = earliest, e > Clock.nanosecondsSinceBoot(), e < target { target = e }
        program(at: target)
    }
}

enum SMP {
    static let tickHz: UInt64 = 250
    nonisolated(unsafe) static var usingAPICTimer = false
    /// Where the CPU list came from, for the boot info line: "acpi" or "fw_cfg".
    nonisolated(unsafe) static var cpuSource = "fw_cfg"
    /// The parsed MADT (nil without ACPI) and the boot CPU's APIC id, kept for IOAPIC.swift.
    nonisolated(unsafe) static var acpiMachine: ACPIMachine? = nil
    nonisolated(unsafe) static var bootAPICID: UInt32 = 0

    /// Number of CPUs QEMU was started with (fw_cfg), 1 if it cannot tell.
    static func cpuCountFromFirmware() -> Int {
        hw_outw(0x510, 0x0000)                      // FW_CFG_SIGNATURE
        let signature = [hw_inb(0x511), hw_inb(0x511), hw_inb(0x511), hw_inb(0x511)]
        guard signature == [0x51, 0x45, 0x4D, 0x55] else { return 1 }  // "QEMU"
        hw_outw(0x510, 0x0005)                      // FW_CFG_NB_CPUS
        let n = Int(hw_inb(0x511)) | Int(hw_inb(0x511)) << 8
        return max(1, min(n, CPU.maximumCPUs))
    }

    /// APIC ids of the CPUs to run, the boot CPU's first: the MADT's enabled processors
    /// (RSDP from the boot loader, else found in the EBDA or 0xE0000-0xFFFFF, ACPI 6.5
    /// §5.2.5.1), else fw_cfg's count. xAPIC IPIs reach ids up to 254 only.
    static func processorAPICIDs(rsdp bootRSDP: [UInt8]?, memory: DirectMapMemory) -> [UInt32] {
        let boot = LocalAPIC.present ? LocalAPIC.id : 0
        bootAPICID = boot
        func read(_ physical: UInt64, _ count: Int) -> [UInt8] {
            guard physical < 0x1_0000_0000, count > 0, count <= 1 << 20 else { return [] }  // the direct map's 4 GiB
            var out = [UInt8](repeating: 0, count: count)
            memory.read(physical, into: &out, offset: 0, count: count)
            return out
        }
        var rsdp = bootRSDP
        if rsdp == nil {
            let ebda = UInt64(read(0x40E, 2).reduce(0) { $0 >> 8 | UInt32($1) << 8 }) << 4
            for (base, size) in [(ebda, 1024), (UInt64(0xE0000), 0x20000)] where base >= 0x400 {
                let region = read(base, size)
                if let at = ACPITables.findRSDP(in: region) {
                    rsdp = Array(region[at..<min(at + 36, region.count)])
                    break
                }
            }
        }
        if let rsdp, let machine = ACPITables.machine(rsdp: rsdp, read: read) {
            cpuSource = "acpi"
            acpiMachine = machine
            var ids = [boot]
            for id in machine.enabledAPICIDs where id != boot && id < 255 && ids.count < CPU.maximumCPUs {
                ids.append(id)
            }
            return ids
        }
        let count = cpuCountFromFirmware()
        return [boot] + (0..<UInt32(CPU.maximumCPUs)).filter { $0 != boot }.prefix(count - 1)
    }

    /// Boot CPU: local APIC on, timer calibrated and started (it replaces the PIT tick).
    static func setUpBootCPU() {
        guard LocalAPIC.present else { return }
        LocalAPIC.enable()
        LocalAPIC.calibrateTimer()
        if LocalAPIC.ticksPerSecond > 1_000_000 {
            LocalAPIC.startTimer(hz: tickHz)
            usingAPICTimer = true
        }
        DirectMapMemory.shootdown = shootdown
    }

    /// Start the CPUs with APIC ids `apicIDs[1...]` (numbered 1, 2, … in that order);
    /// returns how many CPUs are online.
    static func startApplicationProcessors(apicIDs: [UInt32], kernelTable: PageTable, memory: DirectMapMemory) -> Int {
        let count = apicIDs.count
        guard count > 1, LocalAPIC.present, usingAPICTimer else { return 1 }
        for (i, id) in apicIDs.enumerated() where i < CPU.maximumCPUs { cpuAPICIDs[i] = id }
        // The trampoline runs at physical 0x8000 with paging turning on under it: identity-map
        // the first 2 MiB in the kernel's tables while APs start.
        kernelTable.mapLarge(0, to: 0, flags: [.writable])
        let trampoline = physicalToVirtual(0x8000)
        let size = Int(hw_ap_trampoline_size())
        for i in 0..<size { hw_store8(trampoline + UInt64(i), hw_load8(hw_ap_trampoline_start() + UInt64(i))) }
        let params = trampoline + hw_ap_params_offset()
        let efer = hw_rdmsr(0xC000_0080) & ((1 << 0) | (1 << 8) | (1 << 11))
        for cpu in 1..<count {
            let stack = CPU.permanentAllocation(bytes: 16384, alignment: 16)
            apIdleThreads[cpu] = ArchThread(stackBase: stack, stackTop: stack + 16384, owned: false)
            hw_store64(params, kernelTable.root)
            hw_store64(params + 8, stack + 16384)
            hw_store64(params + 16, apEntryAddress())
            hw_store64(params + 24, efer)
            hw_store64(params + 32, UInt64(cpu))
            let before = hw_atomic_load32(&egg_cpus_online)
            let apic = apicIDs[cpu]
            LocalAPIC.sendIPI(to: apic, command: 0x4500)          // INIT
            delay(microseconds: 10_000)
            for _ in 0..<2 {
                LocalAPIC.sendIPI(to: apic, command: 0x4600 | 0x08)  // STARTUP at 0x8000
                delay(microseconds: 200)
            }
            let deadline = hw_rdtsc() &+ Clock.tscHz / 5            // 200 ms
            while hw_atomic_load32(&egg_cpus_online) == before && hw_rdtsc() < deadline { hw_pause() }
        }
        // Drop the identity map again (PML4 slot 0 belongs to user space).
        memory.store64(kernelTable.root, 0)
        hw_write_cr3(hw_read_cr3())
        return Int(hw_atomic_load32(&egg_cpus_online))
    }

    static func delay(microseconds: UInt64) {
        let start = hw_rdtsc()
        let ticks = Clock.tscHz / 1_000_000 * microseconds
        while hw_rdtsc() &- start < ticks { hw_pause() }
    }

    /// APIC id of each CPU (index = CPU number), for directed IPIs.
    nonisolated(unsafe) static var cpuAPICIDs = [UInt32](repeating: 0, count: CPU.maximumCPUs)

    /// The reschedule IPI to CPU `index` (fixed delivery, physical destination; Intel SDM
    /// vol. 3A §11.6.1). Called with the kernel lock held by Scheduler.kickIdleCPU.
    static func kick(_ index: Int) {
        guard index >= 0 && index < Int(hw_atomic_load32(&egg_cpus_online)) else { return }
        LocalAPIC.sendIPI(to: cpuAPICIDs[index], command: (1 << 14) | LocalAPIC.rescheduleVector)
    }

    /// Called with the kernel lock held: make every other CPU reload CR3 and wait for it.
    static func shootdown() {
        let online = Int(hw_atomic_load32(&egg_cpus_online))
        guard online > 1 else { return }
        let me = CPU.index
        let generation = hw_atomic_add32(&egg_shootdown_generation, 1)
        hw_shootdown_acknowledge()  // ourselves
        LocalAPIC.sendToAllOthers(vector: LocalAPIC.shootdownVector)
        for cpu in 0..<online where cpu != me {
            while shootdownSeen(cpu) != generation { hw_pause() }
        }
    }

    static func shootdownSeen(_ cpu: Int) -> UInt32 {
        withUnsafeMutablePointer(to: &egg_shootdown_seen) { tuple in
            // SAFETY: egg_shootdown_seen is a 64-entry array in runtime.c; cpu < 64.
            tuple.withMemoryRebound(to: UInt32.self, capacity: 64) { hw_atomic_load32($0 + cpu) }
        }
    }

    /// The shootdown IPI's handler: no lock (the sender holds it and waits for us).
    static func handleShootdown() {
        hw_shootdown_acknowledge()
        LocalAPIC.endOfInterrupt()
    }
}

@_cdecl("egg_ap_entry")
func apEntry(_ cpu: UInt64) {
    CPU.setUpThisCPU(index: Int(cpu))
    LocalAPIC.enable()
    LocalAPIC.startTimer(hz: SMP.tickHz)
    // The boot CPU holds the kernel lock while it waits for this count (it allocates nothing
    // meanwhile, so the setup above could use the heap safely).
    _ = hw_atomic_add32(&egg_cpus_online, 1)
    hw_kernel_lock()
    // Wait until the boot CPU has created the kernel state, then idle in the scheduler.
    while true {
        if let state = kernel, let idle = apIdleThreads[Int(cpu)] {
            ThreadSwitch.current = idle
            DirectMapMemory().activate(root: state.kernelRoot)  // idle runs on the kernel's tables
            state.scheduler.setIdleThread(Thread(tid: 0, context: idle), forCPU: Int(cpu))
            if state.scheduler.kickCPU == nil { state.scheduler.kickCPU = { SMP.kick($0) } }
            state.scheduler.idleLoop(state)
        }
        hw_kernel_unlock()
        hw_pause()
        hw_kernel_lock()
    }
}

/// The idle contexts of the secondary CPUs (their boot stacks become the idle stacks).
nonisolated(unsafe) var apIdleThreads = [ArchThread?](repeating: nil, count: CPU.maximumCPUs)

func apEntryAddress() -> UInt64 {
    let entry: @convention(c) (UInt64) -> Void = apEntry
    return UInt64(UInt(bitPattern: unsafeBitCast(entry, to: UnsafeRawPointer.self)))
}
