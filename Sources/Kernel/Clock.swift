// Clock — TSC calibrated against the PIT, wall time from the CMOS RTC (Kernel layer).
//
// Monotonic time is TSC ticks since boot scaled by the calibrated frequency; realtime adds
// the RTC reading taken at boot. Channel 0 is read back while it counts down, so calibration
// needs no interrupt (Intel 8254 data sheet, mode 0 and the counter-latch command). If the PIT never answers (no PIT on
// the machine) the CPUID 0x16 base frequency is used, and 1 GHz as a last resort.
import HW
import Drivers
import KernelArch
import KernelCore

enum Clock {
    nonisolated(unsafe) static var tscAtBoot: UInt64 = 0
    nonisolated(unsafe) static var tscHz: UInt64 = 1_000_000_000
    nonisolated(unsafe) static var bootUnixSeconds: Int64 = 0
    nonisolated(unsafe) static var calibrationSource = "default"
    /// Timer interrupts seen; Traps.swift counts them.
    nonisolated(unsafe) static var ticks: UInt64 = 0
    /// Whether timer interrupts arrive (no legacy PIC on microvm without pic=on): only then
    /// may an idle CPU halt; otherwise it polls.
    nonisolated(unsafe) static var ticking = false

    static func calibrate() {
        tscAtBoot = hw_rdtsc()
        if let hz = medianPITMeasurement() {
            tscHz = hz
            calibrationSource = "pit"
        } else if hw_cpuid(0, 0).eax >= 0x16, hw_cpuid(0x16, 0).eax != 0 {
            tscHz = UInt64(hw_cpuid(0x16, 0).eax) * 1_000_000
            calibrationSource = "cpuid"
        }
        bootUnixSeconds = CMOSClock(io: X86PortIO()).unixTime() ?? 1_767_225_600  // 2026-01-01 if no RTC
    }

    /// The median of three PIT measurements (up to seven while they disagree by more than
    /// 0.5%). One measurement is at the mercy of the host: a virtual CPU descheduled between
    /// a PIT read and the TSC read next to it (a loaded machine under TCG) gave 19 GHz or a
    /// few hundred MHz for a 3 GHz TSC, and every time in the guest ran that much off.
    static func medianPITMeasurement() -> UInt64? {
        var found: [UInt64] = []
        for _ in 0..<7 {
            guard let hz = measureWithPIT() else { return found.isEmpty ? nil : found.sorted()[found.count / 2] }
            found.append(hz)
            if found.count >= 3 {
                let sorted = found.sorted()
                let middle = sorted[sorted.count / 2]
                // The median's two neighbours within 0.5% of it: two of three agree.
                let low = sorted[sorted.count / 2 - 1], high = sorted[sorted.count / 2 + 1]
                if (middle - low) * 200 <= middle && (high - middle) * 200 <= middle { return middle }
            }
        }
        return found.sorted()[found.count / 2]
    }

    /// Count TSC ticks across 4 ms of PIT channel 0 (4773 ticks of 1.193182 MHz), read
    /// back with the latch command so no speaker gate (port 0x61, absent on microvm) is
    /// needed. A result outside 100 MHz-20 GHz means there is no working PIT.
    static func measureWithPIT() -> UInt64? {
        let ticks: UInt32 = 4773
        hw_outb(0x43, 0x30)                     // channel 0, lobyte/hibyte, mode 0
        hw_outb(0x40, 0xFF)
        hw_outb(0x40, 0xFF)
        func count() -> UInt32 {
            hw_outb(0x43, 0x00)                 // latch channel 0
            let lo = UInt32(hw_inb(0x40))
            return lo | UInt32(hw_inb(0x40)) << 8
        }
        let first = count()
        let start = hw_rdtsc()
        var spins: UInt64 = 0
        while true {
            let now = count()
            if now <= first && first - now >= ticks { break }
            spins += 1
            if spins > 20_000_000 || now > first { return nil }
        }
        let elapsed = hw_rdtsc() &- start
        let hz = elapsed * 1_193_182 / UInt64(ticks)
        return hz >= 100_000_000 && hz <= 20_000_000_000 ? hz : nil
    }

    /// PIT channel 0 as a periodic tick (mode 2) so a halted CPU wakes up to check sleeps.
    static func startTicks(hz: UInt32) {
        let divisor = 1_193_182 / hz
        hw_outb(0x43, 0x34)
        hw_outb(0x40, UInt8(truncatingIfNeeded: divisor))
        hw_outb(0x40, UInt8(truncatingIfNeeded: divisor >> 8))
    }

    /// After the PIC is unmasked: wait up to 5 tick periods for a timer interrupt.
    static func checkTicking(hz: UInt64) {
        let deadline = hw_rdtsc() &+ tscHz / hz * 5
        hw_kernel_unlock()  // the tick handler takes the kernel lock
        hw_sti()
        while ticks == 0 && hw_rdtsc() < deadline { hw_pause() }
        hw_cli()
        hw_kernel_lock()
        ticking = ticks > 0
    }

    /// TSC ticks since calibration in ns, by TSCScale (KernelCore/TSCScale.swift): the vDSO
    /// (Sources/KernelArch/vdso/vdso.c) takes the same steps, so both clocks agree.
    static func nanosecondsSinceBoot() -> UInt64 {
        // A CPU whose TSC reads a little behind the boot CPU's (skew between sockets or
        // vCPUs) must not wrap to a huge count: clamp to boot.
        let now = hw_rdtsc()
        return TSCScale.nanoseconds(now >= tscAtBoot ? now - tscAtBoot : 0, hz: tscHz)
    }
}
