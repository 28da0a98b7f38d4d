// ExecutableValidationTests — egg refuses what it cannot run, with the right reason
// (tests for Sources/EggHost/ExecutableValidation.swift).
//
// Inputs are made here: real programs from gcc and musl-gcc (skipped when the compiler is
// missing), hand-written ELF headers, and truncated copies.

import EggHost
import Foundation
import XCTest

final class ExecutableValidationTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("egg-validation-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: helpers

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let p = path(name)
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    func problem(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> ExecutableProblem? {
        switch validateExecutable(atPath: path) {
        case .success:
            XCTFail("\(path) was accepted", file: file, line: line)
            return nil
        case .failure(let p):
            return p
        }
    }

    /// Compiles `source` with `compiler flags`; nil (and the test skips) when that fails.
    func compile(_ compiler: String, _ flags: [String], source: String, output: String) throws -> String {
        let src = path(output + ".c")
        try source.write(toFile: src, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [compiler] + flags + [src, "-o", path(output)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("\(compiler) \(flags) failed here") }
        return path(output)
    }

    let hello = "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n"

    // MARK: accepted

    func testMuslStaticProgramIsAccepted() throws {
        let p = try compile("musl-gcc", ["-static", "-O1"], source: hello, output: "hello-musl")
        guard case .success(let exe) = validateExecutable(atPath: p) else { return XCTFail("refused") }
        XCTAssertFalse(exe.isPositionIndependent)
        XCTAssertGreaterThan(exe.loadSegmentCount, 0)
        XCTAssertEqual(exe.bytes.count, try FileManager.default.attributesOfItem(atPath: p)[.size] as? Int)
    }

    func testStaticPIEIsAccepted() throws {
        let p = try compile("gcc", ["-static-pie", "-O1"], source: hello, output: "hello-pie")
        guard case .success(let exe) = validateExecutable(atPath: p) else { return XCTFail("refused") }
        XCTAssertTrue(exe.isPositionIndependent)
        XCTAssertNotEqual(exe.entry, 0)
    }

    func testMinimalExecutableIsAccepted() {
        let bytes = minimalExitExecutable()
        guard case .success(let exe) = validateExecutable(bytes: bytes) else { return XCTFail("refused") }
        XCTAssertEqual(exe.entry, 0x400078)
        XCTAssertEqual(exe.loadSegmentCount, 1)
        XCTAssertEqual(bytes.count, 132)
    }

    // MARK: refused

    func testMissingFileSaysNoSuchFile() {
        let p = problem(path("does-not-exist"))
        XCTAssertEqual(p, .cannotOpen(errno: ENOENT))
        XCTAssertTrue(p?.message.contains("No such file") ?? false)
    }

    func testUnreadableFileIsRefused() throws {
        if getuid() == 0 { throw XCTSkip("root reads any file") }
        let p = write("secret", minimalExitExecutable())
        chmod(p, 0)
        XCTAssertEqual(problem(p), .cannotOpen(errno: EACCES))
    }

    func testDirectoryIsRefused() {
        XCTAssertEqual(problem(directory.path), .isDirectory)
    }

    func testTextFileIsNotAnELF() {
        let p = write("text.txt", Array("this is a text file, not a program\n".utf8))
        let found = problem(p)
        XCTAssertEqual(found, .notELF(startsWith: Array("this".utf8)))
        XCTAssertTrue(found?.message.contains("not an ELF") ?? false)
    }

    func testEmptyFileIsNotAnELF() {
        XCTAssertEqual(problem(write("empty", [])), .notELF(startsWith: []))
    }

    func testScriptNamesItsInterpreter() {
        XCTAssertEqual(problem(write("s.sh", Array("#!/bin/sh -e\necho hi\n".utf8))), .script(interpreter: "/bin/sh -e"))
    }

    func testThirtyTwoBitELFIsRefused() throws {
        var p: String
        do {
            p = try compile("gcc", ["-m32", "-nostdlib", "-static"],
                            source: "void _start(void) { for (;;) {} }\n", output: "elf32")
        } catch {
            // No 32-bit toolchain: the i386 header of Guest/Makefile's bad/elf32, by hand.
            var bytes = minimalExitExecutable()
            bytes[4] = 1; bytes[18] = 3
            p = write("elf32", bytes)
        }
        let found = problem(p)
        XCTAssertEqual(found, .elf32)
        XCTAssertTrue(found?.message.contains("32-bit") ?? false)
    }

    func testForeignMachineIsNamed() {
        var bytes = minimalExitExecutable()
        bytes[18] = 183; bytes[19] = 0 // EM_AARCH64
        let found = problem(write("arm64", bytes))
        XCTAssertEqual(found, .wrongMachine(183))
        XCTAssertTrue(found?.message.contains("AArch64") ?? false)
    }

    func testBigEndianIsRefused() {
        var bytes = minimalExitExecutable()
        bytes[5] = 2
        XCTAssertEqual(problem(write("be", bytes)), .bigEndian)
    }

    func testRelocatableObjectIsNotAnExecutable() throws {
        let p = try compile("gcc", ["-c"], source: hello, output: "hello.o")
        XCTAssertEqual(problem(p), .notAnExecutable(type: 1))
    }

    func testDynamicProgramAsksForStaticLinking() throws {
        let p = try compile("gcc", ["-O1"], source: hello, output: "hello-dynamic")
        let found = problem(p)
        guard case .dynamic(let interpreter) = found else { return XCTFail("got \(String(describing: found))") }
        XCTAssertTrue(interpreter.hasPrefix("/lib"), interpreter)
        XCTAssertTrue(found!.message.contains("dynamically linked"))
        XCTAssertTrue(found!.message.contains("-static"))
    }

    func testSharedLibraryIsNotAProgram() throws {
        let p = try compile("gcc", ["-shared", "-fPIC", "-nostdlib"], source: "int f(void) { return 1; }\n",
                            output: "libf.so")
        XCTAssertEqual(problem(p), .sharedLibrary)
    }

    func testTruncatedCopiesSayTruncated() throws {
        let p = try compile("musl-gcc", ["-static", "-O1"], source: hello, output: "whole")
        let whole = try Array(Data(contentsOf: URL(fileURLWithPath: p)))
        // Inside the ELF header, inside the program headers (as Guest/Makefile's
        // bad/truncated), and in the middle of the loadable segments.
        for size in [40, 200, whole.count / 2, whole.count - 1] {
            let found = problem(write("cut-\(size)", Array(whole.prefix(size))))
            guard case .truncated = found else {
                XCTFail("\(size) bytes: \(String(describing: found))")
                continue
            }
            XCTAssertTrue(found!.message.hasPrefix("truncated"), found!.message)
        }
    }

    func testSegmentOutsideTheFileIsTruncation() {
        var bytes = minimalExitExecutable()
        bytes[64 + 32] = 0xFF // p_filesz far beyond the 132-byte file
        guard case .truncated(let detail) = problem(write("short", bytes)) else { return XCTFail("accepted") }
        XCTAssertTrue(detail.contains("segment 0"), detail)
    }

    func testNoLoadSegmentIsRefused() {
        var bytes = minimalExitExecutable()
        bytes[64] = 4 // PT_NOTE instead of PT_LOAD
        XCTAssertEqual(problem(write("noload", bytes)), .noLoadableSegments)
    }

    // MARK: hostile input (issue 12 item 7): each refusal is prompt, with a true message and
    // docker's status

    /// The minimal program with one 8-byte program-header field replaced.
    func minimalWith(programHeaderField offset: Int, _ value: UInt64) -> [UInt8] {
        var bytes = minimalExitExecutable()
        for i in 0..<8 { bytes[64 + offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return bytes
    }

    func testOverflowingSegmentOffsetIsRefusedNotTrapped() {
        // p_offset (at 8 in Elf64_Phdr) + p_filesz wraps around 2^64: used to trap egg (status 132).
        let bytes = minimalWith(programHeaderField: 8, 0xFFFF_FFFF_FFFF_FFF0)
        guard case .failure(let p) = validateExecutable(bytes: bytes) else { return XCTFail("accepted") }
        guard case .truncated(let detail) = p else { return XCTFail("\(p)") }
        XCTAssertTrue(detail.contains("wraps around"), detail)
        XCTAssertEqual(p.exitStatus, 126)
        // The same through a file on disk.
        XCTAssertEqual(problem(write("wrap", bytes))?.exitStatus, 126)
    }

    func testSegmentWhoseAddressesWrapIsRefused() {
        // p_vaddr (at 16) near 2^64: p_vaddr + p_memsz wraps.
        let p = problem(write("vwrap", minimalWith(programHeaderField: 16, 0xFFFF_FFFF_FFFF_FFF0)))
        XCTAssertEqual(p, .outsideUserSpace(segment: 0, end: nil))
    }

    func testSegmentAboveUserSpaceNamesTheRealLimit() {
        // Ends above 0x7f7ffffff000, where egg's user space stops (README: Architecture).
        let p = problem(write("high", minimalWith(programHeaderField: 16, 0x7F7F_FFFF_F000)))
        guard let p, case .outsideUserSpace(0, let end?) = p else { return XCTFail("\(String(describing: p))") }
        XCTAssertGreaterThan(end, 0x7F7F_FFFF_F000)
        XCTAssertTrue(p.message.contains("0x7f7ffffff000"), p.message)
        XCTAssertFalse(p.message.contains("0x800000000000"), p.message)
        // Just below the limit is fine.
        let fits = minimalWith(programHeaderField: 16, 0x7F7F_FFFF_F000 - 0x1000)
        if case .failure(let q) = validateExecutable(bytes: fits), case .outsideUserSpace = q { XCTFail("\(q)") }
    }

    func testFIFOIsRefusedWithoutOpeningIt() {
        // Opening a FIFO with no writer blocks: egg used to hang here, ignoring --timeout.
        let fifo = path("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let started = Date()
        let p = problem(fifo)
        XCTAssertEqual(p, .notRegularFile(kind: "a FIFO (named pipe)"))
        XCTAssertEqual(p?.exitStatus, 126)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertFalse(isRegularFile(atPath: fifo))
    }

    func testDeviceIsRefusedWithoutReadingIt() {
        // /dev/zero never ends: egg used to try to read it whole (34 GB) and abort.
        let p = problem("/dev/zero")
        XCTAssertEqual(p, .notRegularFile(kind: "a character device"))
        XCTAssertEqual(p?.exitStatus, 126)
        XCTAssertEqual(p?.message, "is a character device, not a regular file; give the path of a program")
    }

    func testDirectoryAndMissingFileGetDockersStatuses() {
        XCTAssertEqual(problem(directory.path)?.exitStatus, 126)
        XCTAssertEqual(problem(path("nothing-here"))?.exitStatus, 127)
        XCTAssertEqual(problem(path("nothing-here") + "/below")?.exitStatus, 127)
        // Through a file that is not a directory: ENOTDIR, also "not there".
        let file = write("plain", Array("text".utf8))
        XCTAssertEqual(problem(file + "/below")?.exitStatus, 127)
    }

    func testSymlinkToAProgramIsFollowed() {
        let target = write("real", minimalExitExecutable())
        let link = path("link")
        XCTAssertEqual(symlink(target, link), 0)
        guard case .success = validateExecutable(atPath: link) else { return XCTFail("refused") }
    }

    func testFileLargerThanGuestMemoryIsRefusedBeforeReadingIt() throws {
        // A valid header followed by 3 MiB: refused against a 1 MiB limit with status 125.
        var bytes = minimalExitExecutable()
        bytes += [UInt8](repeating: 0, count: 3 << 20)
        let p = write("big", bytes)
        guard case .failure(let problem) = validateExecutable(atPath: p, maximumBytes: 1 << 20) else {
            return XCTFail("accepted")
        }
        XCTAssertEqual(problem, .tooLarge(bytes: UInt64(bytes.count), maximum: 1 << 20))
        XCTAssertEqual(problem.exitStatus, 125)
        XCTAssertTrue(problem.message.contains("give a larger -m"), problem.message)
        // A text file that large is still "not ELF" (judged from its first bytes).
        let text = write("bigtext", [UInt8](repeating: 0x41, count: 2 << 20))
        guard case .failure(.notELF) = validateExecutable(atPath: text, maximumBytes: 1 << 20) else {
            return XCTFail("not refused as not ELF")
        }
        // Within the limit, accepted whole.
        guard case .success(let exe) = validateExecutable(atPath: p, maximumBytes: 8 << 20) else { return XCTFail("refused") }
        XCTAssertEqual(exe.bytes.count, bytes.count)
    }

    func testEveryRefusalHasADockerStatus() {
        let cases: [(ExecutableProblem, Int32)] = [
            (.cannotOpen(errno: ENOENT), 127), (.cannotOpen(errno: EACCES), 126), (.isDirectory, 126),
            (.notELF(startsWith: []), 126), (.elf32, 126), (.dynamic(interpreter: "/lib/ld"), 126),
            (.truncated(detail: "x"), 126), (.tooLarge(bytes: 2, maximum: 1), 125),
        ]
        for (problem, status) in cases { XCTAssertEqual(problem.exitStatus, status, "\(problem)") }
    }
}
