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
}
