// TSCScale — TSC ticks to nanoseconds without overflow (KernelCore layer, pure, host-tested
// in Tests/KernelCoreTests/SyscallProfileTests.swift).
//
// The kernel's clock (Sources/Kernel/Clock.swift), the profile table (Trace/SyscallProfile.swift)
// and the vDSO (Sources/KernelArch/vdso/vdso.c, the same steps in C) all turn a TSC count into
// nanoseconds as whole seconds plus the remainder scaled by 10^9 / Hz. The remainder's product
// needs 128 bits: a remainder below a frequency above 18.4 GHz times 10^9 passes 2^64, and
// a TSC calibrated that high under a loaded host (the PIT read back late) made the
// kernel's checked multiply trap: a kernel panic in clock_gettime.
public enum TSCScale {
    /// `ticks` at `hz` in nanoseconds (0 when hz is 0).
    public static func nanoseconds(_ ticks: UInt64, hz: UInt64) -> UInt64 {
        guard hz != 0 else { return 0 }
        let seconds = ticks / hz, rest = ticks % hz
        // rest × 10^9 / hz in two exact steps of 64 bits (a 128-bit division would need
        // compiler-rt's __udivti3, which the kernel does not link): rest × 1000 = q·hz + r,
        // so rest × 10^9 / hz = q·10^6 + r·10^6 / hz. Both products fit for any hz below
        // 2^44 (17 THz); the calibration accepts at most 20 GHz.
        let scaled = rest &* 1000
        let fraction = scaled / hz * 1_000_000 + scaled % hz * 1_000_000 / hz
        return seconds &* 1_000_000_000 &+ fraction
    }
}
