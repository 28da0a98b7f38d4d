// Clock — TSC calibrated against the PIT, wall time from the CMOS RTC (Kernel layer).
//
// Monotonic time is TSC ticks since boot scaled by the calibrated frequency; realtime adds
// the RTC reading taken at boot. PIT channel 2 is gated through port 0x61 so calibration
// needs no interrupt (Intel 8254 data sheet, mode 0). If the PIT never answers (no PIT on
// the machine) the CPUID 0x16 base frequency is used, and 1 GHz as a last resort.
import HW
import Drivers
import KernelArch

enum Clock {
    nonisolated(unsafe) static var tscAtBoot: UInt64 = 0
    nonisolated(unsafe) static var tscHz: UInt64 = 1_000_000_000
    nonisolated(unsafe) static var bootUnixSeconds: Int64 = 0
    nonisolated(unsafe) static var calibrationSource = "default"

    static func calibrate() {
        tscAtBoot = hw_rdtsc()
        if let hz = measureWithPIT() {
            tscHz = hz
            calibrationSource = "pit"
        } else if hw_cpuid(0, 0).eax >= 0x16, hw_cpuid(0x16, 0).eax != 0 {
            tscHz = UInt64(hw_cpuid(0x16, 0).eax) * 1_000_000
            calibrationSource = "cpuid"
        }
        bootUnixSeconds = CMOSClock(io: X86PortIO()).unixTime() ?? 1_767_225_600  // 2026-01-01 if no RTC
    }

    /// Count TSC ticks across 10 ms of PIT channel 2 (11932 ticks of 1.193182 MHz).
    static func measureWithPIT() -> UInt64? {
        let ticks: UInt64 = 11932
        let gate = hw_inb(0x61)
        hw_outb(0x61, (gate & 0xFD) | 0x01)     // speaker off, gate on
        hw_outb(0x43, 0xB0)                     // channel 2, lobyte/hibyte, mode 0
        hw_outb(0x42, UInt8(ticks & 0xFF))
        hw_outb(0x42, UInt8(ticks >> 8))
        // Restart the count: drop and raise the gate.
        let g = hw_inb(0x61)
        hw_outb(0x61, g & 0xFE)
        hw_outb(0x61, g | 0x01)
        let start = hw_rdtsc()
        var spins: UInt64 = 0
        while hw_inb(0x61) & 0x20 == 0 {
            spins += 1
            if spins > 50_000_000 { return nil }
        }
        let elapsed = hw_rdtsc() &- start
        hw_outb(0x61, gate)
        guard elapsed > 1000 else { return nil }
        // elapsed ticks took ticks/1193182 s.
        return elapsed * 1_193_182 / ticks
    }

    /// PIT channel 0 as a periodic tick (mode 2) so a halted CPU wakes up to check sleeps.
    static func startTicks(hz: UInt32) {
        let divisor = 1_193_182 / hz
        hw_outb(0x43, 0x34)
        hw_outb(0x40, UInt8(truncatingIfNeeded: divisor))
        hw_outb(0x40, UInt8(truncatingIfNeeded: divisor >> 8))
    }

    static func nanosecondsSinceBoot() -> UInt64 {
        let delta = hw_rdtsc() &- tscAtBoot
        let seconds = delta / tscHz
        let rest = delta % tscHz
        return seconds * 1_000_000_000 + rest * 1_000_000_000 / tscHz
    }
}
