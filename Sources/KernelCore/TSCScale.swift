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
        // rest < hz, so rest × 10^9 / hz < 10^9: the full-width division cannot overflow.
        let product = rest.multipliedFullWidth(by: 1_000_000_000)
        let fraction = hz.dividingFullWidth((high: product.high, low: product.low)).quotient
        return seconds &* 1_000_000_000 &+ fraction
    }
}
