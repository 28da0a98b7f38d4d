// SyscallProfileTests — the `egg run --profile` table (Sources/KernelCore/Trace/SyscallProfile.swift):
// order by total time, averages in nanoseconds from the TSC frequency, names from LinuxABI,
// calls never made left out, and no overflow on long runs.
@testable import KernelCore
import LinuxABI
import XCTest

final class SyscallProfileTests: XCTestCase {
    func testRowsSortedByTotalTimeWithAveragesInNanoseconds() {
        var p = SyscallProfile()
        // 2 GHz: 2 cycles per nanosecond.
        p.add(number: 110, calls: 1000, cycles: 1_000_000, lockCycles: 20_000)  // getppid: 0.5 ms, 500 ns each
        p.add(number: 1, calls: 10, cycles: 4_000_000)                           // write: 2 ms, 200000 ns each
        p.add(number: 39, calls: 3, cycles: 600)                                 // getpid: 100 ns each
        p.pageFaults = 4; p.pageFaultCycles = 8000
        p.interrupts = 2; p.interruptCycles = 0
        p.contextSwitches = 7
        let lines = p.render(tscHz: 2_000_000_000)
        XCTAssertEqual(lines[0], "egg profile: 1013 system calls, 2.500 ms in them (TSC 2000 MHz)")
        XCTAssertEqual(lines[1], "syscall                 calls      total ms    avg ns   lock ns")
        XCTAssertEqual(lines[2], "write                      10         2.000    200000         0")
        XCTAssertEqual(lines[3], "getppid                  1000         0.500       500        10")
        XCTAssertEqual(lines[4], "getpid                      3         0.000       100         0")
        XCTAssertEqual(lines[5], "page faults                 4         0.004      1000         -")
        XCTAssertEqual(lines[6], "interrupts                  2         0.000         0         -")
        XCTAssertEqual(lines[7], "context switches            7             -         -         -")
        XCTAssertEqual(lines.count, 8)
    }

    func testUnknownNumbersAreNamedByNumberAndEqualTimesKeepNumberOrder() {
        var p = SyscallProfile()
        p.add(number: 500, cycles: 10)
        p.add(number: 0, cycles: 10)
        let lines = p.render(tscHz: 1_000_000_000)
        XCTAssertTrue(lines[2].hasPrefix("read "), lines[2])
        XCTAssertTrue(lines[3].hasPrefix("syscall_500 "), lines[3])
    }

    func testOutOfRangeNumbersAreIgnored() {
        var p = SyscallProfile()
        p.add(number: -1, cycles: 10)
        p.add(number: SyscallProfile.capacity, cycles: 10)
        XCTAssertEqual(p, SyscallProfile())
    }

    /// Regression: a TSC calibrated above 18.4 GHz (a loaded host reads the PIT late) made
    /// Clock.nanosecondsSinceBoot's remainder × 10^9 overflow: a kernel panic (invalid
    /// opcode, Swift's overflow trap) in clock_gettime.
    func testTSCScaleDoesNotOverflowForFrequenciesAbove18GHz() {
        let hz: UInt64 = 19_100_000_000
        XCTAssertEqual(TSCScale.nanoseconds(hz - 1, hz: hz), 999_999_999)
        XCTAssertEqual(TSCScale.nanoseconds(hz * 5 + hz / 2, hz: hz), 5_500_000_000)
        XCTAssertEqual(TSCScale.nanoseconds(UInt64.max, hz: 1_000_000_000), UInt64.max)
        XCTAssertEqual(TSCScale.nanoseconds(2_994_000_123, hz: 2_994_000_000), 1_000_000_041)
    }

    func testNanosecondsDoNotOverflowOnLongRuns() {
        // An hour at 3 GHz: cycles × 10⁹ would overflow 64 bits.
        let hz: UInt64 = 3_000_000_000
        XCTAssertEqual(SyscallProfile.nanoseconds(hz * 3600, hz: hz), 3_600_000_000_000)
        XCTAssertEqual(SyscallProfile.nanoseconds(3, hz: hz), 1)
        XCTAssertEqual(SyscallProfile.nanoseconds(5, hz: 0), 0)
    }
}
