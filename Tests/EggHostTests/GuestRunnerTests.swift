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
        let kernel = dir.appendingPathComponent("kernel.elf").path
        _ = FileManager.default.createFile(atPath: kernel, contents: Data([0]))
        let program = dir.appendingPathComponent("prog").path
        _ = FileManager.default.createFile(atPath: program, contents: Data(minimalExitExecutable()))

        for (input, expected) in [("ab\n", "ab\n\u{4}"), ("ab", "ab\u{4}\u{4}"), ("", "\u{4}")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: egg)
            // microvm: the UART pump (pc and q35 pipe stdin over virtio-console, HostStreams.swift).
            process.arguments = ["run", "--accel", "tcg", "--machine", "microvm", "--kernel", kernel, program]
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
}
