// RunSettingsTests — `-m` sizes and the guest environment (tests for
// Sources/EggHost/RunSettings.swift).

import EggHost
import XCTest

final class RunSettingsTests: XCTestCase {
    func testMemorySizesInMiB() {
        XCTAssertEqual(parseMemorySize("256M"), 256)
        XCTAssertEqual(parseMemorySize("64m"), 64)
        XCTAssertEqual(parseMemorySize("1G"), 1024)
        XCTAssertEqual(parseMemorySize("2GiB"), 2048)
        XCTAssertEqual(parseMemorySize("512"), 512)       // a plain number is MiB, as for QEMU
        XCTAssertEqual(parseMemorySize("65536K"), 64)
        XCTAssertEqual(parseMemorySize("128MB"), 128)
    }

    func testMalformedOrUnreasonableSizesAreRejected() {
        for text in ["", "M", "12X", "-64M", "1.5G", "0", "8M", "1000K", "64 M", "２５６M", "99999999999T"] {
            XCTAssertNil(parseMemorySize(text), text)
        }
    }

    func testDefaultEnvironmentUsesHostTermOrVT100() {
        XCTAssertEqual(defaultGuestEnvironment(hostTERM: "xterm-256color"),
                       ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "TERM=xterm-256color"])
        XCTAssertEqual(defaultGuestEnvironment(hostTERM: nil).last, "TERM=vt100")
        XCTAssertEqual(defaultGuestEnvironment(hostTERM: "").last, "TERM=vt100")
    }

    func testOverridesReplaceInPlaceAndNewKeysAppend() {
        let base = defaultGuestEnvironment(hostTERM: "vt100")
        let merged = try? mergeEnvironment(base: base, overrides: ["HOME=/root", "LANG=C", "EMPTY="]).get()
        XCTAssertEqual(merged, ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root", "TERM=vt100", "LANG=C", "EMPTY="])
    }

    func testLaterOverrideWinsAndValueMayContainEquals() {
        let merged = try? mergeEnvironment(base: [], overrides: ["A=1", "A=x=y"]).get()
        XCTAssertEqual(merged, ["A=x=y"])
    }

    func testBareKeyCopiesHostValueOrIsDropped() {
        let host = ["USER": "alice"]
        let merged = try? mergeEnvironment(base: ["HOME=/"], overrides: ["USER", "NOT_SET"], hostValue: { host[$0] }).get()
        XCTAssertEqual(merged, ["HOME=/", "USER=alice"])
    }

    func testEmptyKeyIsAnError() {
        XCTAssertEqual(mergeEnvironment(base: [], overrides: ["=value"]), .failure(.malformed("=value")))
        XCTAssertEqual(mergeEnvironment(base: [], overrides: [""]), .failure(.malformed("")))
    }

    func testKeyMatchIsExactNotPrefix() {
        let merged = try? mergeEnvironment(base: ["PATHX=1", "PATH=/bin"], overrides: ["PATH=/sbin"]).get()
        XCTAssertEqual(merged, ["PATHX=1", "PATH=/sbin"])
    }

    // MARK: -m bounds and the bundle (issue 12 item 7)

    func testMemoryAboveWhatTheHostOrKernelAllowsIsRefusedWithAMessage() {
        // -m 64G used to reach QEMU and end as a boot failure (251) on a 23 GiB host.
        let problem = memorySizeProblem("64G", hostLimitMiB: 23 * 1024)
        XCTAssertTrue(problem?.contains("at most 23552 MiB") == true, problem ?? "")
        XCTAssertNil(memorySizeProblem("23G", hostLimitMiB: 23 * 1024))
        XCTAssertNil(memorySizeProblem("64G", hostLimitMiB: nil))
        XCTAssertNotNil(memorySizeProblem("\(maximumMemoryMiB + 1)M", hostLimitMiB: nil))
        XCTAssertNil(memorySizeProblem("\(maximumMemoryMiB)M", hostLimitMiB: nil))
        XCTAssertNil(memorySizeProblem("16M", hostLimitMiB: 1024))
        XCTAssertNotNil(memorySizeProblem("8M", hostLimitMiB: nil))
        XCTAssertNotNil(memorySizeProblem("lots", hostLimitMiB: nil))
    }

    func testHostLimitFollowsTheOvercommitMode() {
        let meminfo = "MemTotal:       24683664 kB\nSwapTotal:        1048576 kB\nCommitLimit:    12341832 kB\n"
        XCTAssertEqual(hostMemoryLimitMiB(overcommitMode: "0\n", meminfo: meminfo), (24683664 + 1048576) >> 10)
        XCTAssertEqual(hostMemoryLimitMiB(overcommitMode: "2\n", meminfo: meminfo), 12341832 >> 10)
        XCTAssertNil(hostMemoryLimitMiB(overcommitMode: "1\n", meminfo: meminfo))
        XCTAssertNil(hostMemoryLimitMiB(overcommitMode: nil, meminfo: nil))
    }

    func testBundleMustFitBesideTheKernel() {
        // 256 MiB: the kernel keeps 4 MiB + a 32 MiB heap.
        XCTAssertEqual(kernelReservedBytes(memoryMiB: 256), 36 << 20)
        XCTAssertEqual(bundleCapacityBytes(memoryMiB: 256), 220 << 20)
        XCTAssertNil(bundleSizeProblem(bytes: 220 << 20, memoryMiB: 256))
        let problem = bundleSizeProblem(bytes: (220 << 20) + 1, memoryMiB: 256)
        XCTAssertNotNil(problem)
        // The suggested -m really holds it.
        if let problem, let range = problem.range(of: "give -m "), let m = Int(problem[range.upperBound...].prefix { $0.isNumber }) {
            XCTAssertGreaterThanOrEqual(bundleCapacityBytes(memoryMiB: m), (220 << 20) + 1)
            XCTAssertNil(memorySizeProblem("\(m)M", hostLimitMiB: nil))
        } else {
            XCTFail("no suggestion in \(String(describing: problem))")
        }
        // A 1 GiB file fits at -m 2G (the heap stops growing at 256 MiB).
        XCTAssertNil(bundleSizeProblem(bytes: 1 << 30, memoryMiB: 2048))
        // The smallest -m still runs hello (its bundle is a few KiB).
        XCTAssertNil(bundleSizeProblem(bytes: 64 << 10, memoryMiB: minimumMemoryMiB))
    }
}
