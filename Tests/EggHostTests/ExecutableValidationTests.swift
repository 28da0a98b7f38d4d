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
}
