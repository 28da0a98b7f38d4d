// GuestRunnerTests — the child-process plumbing egg runs QEMU with, exercised with ordinary
// programs instead of QEMU (tests for Sources/EggHost/GuestRunner.swift).

import EggHost
import Foundation
import XCTest

final class GuestRunnerTests: XCTestCase {
    func testExitCodeAndStderrFile() throws {
        let dir = try TemporaryRunDirectory()
        defer { dir.remove() }
        let result = try runChild(program: "/bin/sh", arguments: ["-c", "echo oops >&2; exit 7"], stdin: .null,
                                  discardStdout: true, stderrPath: dir.file("qemu-stderr"), timeout: nil)
        XCTAssertEqual(result.exitCode, 7)
        XCTAssertNil(result.terminatingSignal)
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(try String(contentsOfFile: dir.file("qemu-stderr"), encoding: .utf8), "oops\n")
    }

    func testTimeoutStopsTheChild() throws {
        let dir = try TemporaryRunDirectory()
        defer { dir.remove() }
        let start = Date()
        let result = try runChild(program: "/bin/sleep", arguments: ["30"], stdin: .null, discardStdout: true,
                                  stderrPath: dir.file("qemu-stderr"), timeout: 0.3)
        XCTAssertTrue(result.timedOut)
        XCTAssertEqual(result.terminatingSignal, SIGTERM)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testTemporaryDirectoryIsRemoved() throws {
        let dir = try TemporaryRunDirectory()
        _ = FileManager.default.createFile(atPath: dir.file("bundle"), contents: Data([1, 2, 3]))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("bundle")))
        dir.remove()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
    }

    /// egg's stdin when it is not a terminal: copied, then ^D (twice without a final newline).
    /// Checked through the release egg binary with a stand-in for QEMU (skipped if egg is
    /// not built), since the pump reads egg's own stdin.
    func testStandardInputPumpEndsWithControlD() throws {
        // `swift test` builds the debug egg beside this bundle; a release one is the fallback.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        guard let egg = [".build/debug/egg", ".build/release/egg"].map({ root.appendingPathComponent($0).path })
            .first(where: FileManager.default.isExecutableFile(atPath:)) else { throw XCTSkip("egg is not built") }
        // EGG_QEMU points egg at a shell script that records its stdin and reports exit 0
        // on the control channel, as the kernel would.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-pump-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fake = dir.appendingPathComponent("fake-qemu").path
        let seen = dir.appendingPathComponent("stdin").path
        try """
            #!/bin/sh
            # stand-in for qemu-system-x86_64: record EXPECT_BYTES bytes of stdin (dd bs=1
            # writes each at once; the time limit ends it if fewer come), then report exit 0.
            for a; do case "$a" in file,id=control,path=*) ctl="${a#file,id=control,path=}";; esac; done
            timeout 3 dd bs=1 count=$EXPECT_BYTES of=\(seen) 2>/dev/null
            echo "exit 0" > "$ctl"
            """.write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        // An image (ISORun.swift) keeps the UART for stdin: a file with ISO 9660's "CD001" at
        // byte 0x8001 is one to egg. (Programs on pc, q35 and microvm use the virtio streams.)
        let program = dir.appendingPathComponent("app.iso").path
        _ = FileManager.default.createFile(atPath: program, contents: Data([UInt8](repeating: 0, count: 0x8001)
                                                                             + Array("CD001".utf8) + [UInt8](repeating: 0, count: 0x7FA)))

        for (input, expected) in [("ab\n", "ab\n\u{4}"), ("ab", "ab\u{4}\u{4}"), ("", "\u{4}")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: egg)
            process.arguments = ["run", "--accel", "tcg", program]
            process.environment = ProcessInfo.processInfo.environment.merging(
                ["EGG_QEMU": fake, "EXPECT_BYTES": "\(expected.utf8.count)"]) { $1 }
            let stdin = Pipe()
            process.standardInput = stdin
            try process.run()
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, input)
            XCTAssertEqual(try String(contentsOfFile: seen, encoding: .utf8), expected, input)
        }
    }

    /// `egg run app.iso -v ...`: an image cannot take volumes; egg says so and exits 125
    /// (docker's status for refused options) before it looks for QEMU or starts anything.
    func testImageWithVolumeIsRefusedWith125() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        guard let egg = [".build/debug/egg", ".build/release/egg"].map({ root.appendingPathComponent($0).path })
            .first(where: FileManager.default.isExecutableFile(atPath:)) else { throw XCTSkip("egg is not built") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-iso-v-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let image = dir.appendingPathComponent("app.iso").path
        _ = FileManager.default.createFile(atPath: image, contents: Data([UInt8](repeating: 0, count: 0x8001)
                                                                           + Array("CD001".utf8) + [UInt8](repeating: 0, count: 0x7FA)))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: egg)
        process.arguments = ["run", "-v", dir.path + ":/data", image]
        process.environment = ProcessInfo.processInfo.environment.merging(["EGG_QEMU": "/nonexistent/qemu"]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 125, text)
        XCTAssertTrue(text.contains("-v needs"), text)
    }
}
