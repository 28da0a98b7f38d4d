// GuestBundleTests — the bundle egg writes parses back into the records the kernel expects
// (tests for Sources/EggHost/GuestBundle.swift against Sources/KernelCore/BootBundle.swift).

import EggHost
import KernelCore
import XCTest

final class GuestBundleTests: XCTestCase {
    func strings(_ bundle: BootBundle, _ image: [UInt8], _ kind: BootBundleRecordKind) -> [String] {
        bundle.records(of: kind).map { String(decoding: image[$0.offset..<$0.offset + $0.length], as: UTF8.self) }
    }

    func testRecordsRoundTripThroughTheKernelParser() throws {
        let exe = minimalExitExecutable()
        let image = makeGuestBundle(executable: exe, hostPath: "./build/guest/hello-musl",
                                    arguments: ["one", "two words", ""], environment: ["HOME=/", "A=b=c"])
        let bundle = try BootBundle(parsing: image)
        let executable = try XCTUnwrap(bundle.first(.executable))
        XCTAssertEqual(Array(image[executable.offset..<executable.offset + executable.length]), exe)
        XCTAssertEqual(strings(bundle, image, .executablePath), ["/hello-musl"])
        XCTAssertEqual(strings(bundle, image, .argument), ["/hello-musl", "one", "two words", ""])
        XCTAssertEqual(strings(bundle, image, .environment), ["HOME=/", "A=b=c"])
        XCTAssertTrue(bundle.records(of: .option).isEmpty)
        XCTAssertEqual(image.count % 8, 0)
    }

    func testGuestPathIsSlashPlusBasename() {
        XCTAssertEqual(guestExecutablePath(forHostPath: "/usr/local/bin/prog"), "/prog")
        XCTAssertEqual(guestExecutablePath(forHostPath: "prog"), "/prog")
        XCTAssertEqual(guestExecutablePath(forHostPath: "./a/b/"), "/b")
    }
}
