// RealBinaryTests — parses executables made by the toolchains egg's guests come from
// (musl-gcc -static, gcc -static, gcc -static-pie, plain gcc) and the system's busybox,
// and cross-checks ELFImage/LoadPlan (Sources/ELF) against readelf and the file bytes.
// A test is skipped only when its compiler is not installed.

import Foundation
import XCTest
import ELF

private let programSource = """
    #include <stdio.h>
    __thread int counter = 5;
    __thread char scratch[40];
    int main(int argc, char **argv) {
        scratch[0] = (char)argc;
        printf("%d %s\\n", counter + scratch[0], argv[0]);
        return 0;
    }
    """

final class RealBinaryTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("elftests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try programSource.write(to: directory.appendingPathComponent("prog.c"), atomically: true,
                                encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Compiles prog.c with `compiler flags`; skips if the compiler is missing, fails if
    /// it is present but the build fails.
    private func compile(_ compiler: String, _ flags: [String], output: String) throws -> [UInt8] {
        guard let path = which(compiler) else { throw XCTSkip("\(compiler) is not installed") }
        let out = directory.appendingPathComponent(output).path
        let result = try run(path, flags + ["-o", out, directory.appendingPathComponent("prog.c").path])
        XCTAssertEqual(result.status, 0, "\(compiler) \(flags) failed: \(result.output)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    /// readelf's view: entry point and the PT_LOAD count, or nil if readelf is missing.
    private func readelfFacts(_ bytes: [UInt8]) throws -> (entry: UInt64, loads: Int)? {
        guard let readelf = which("readelf") else { return nil }
        let file = directory.appendingPathComponent("readelf-input")
        try Data(bytes).write(to: file)
        let result = try run(readelf, ["-hlW", file.path])
        XCTAssertEqual(result.status, 0)
        var entry: UInt64 = 0
        var loads = 0
        for line in result.output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if line.contains("Entry point address:"), let last = fields.last {
                entry = UInt64(last.dropFirst(2), radix: 16) ?? 0
            }
            if fields.first == "LOAD" { loads += 1 }
        }
        return (entry, loads)
    }

    /// Reads guest memory as the loader would lay it out: file bytes, then zeros up to
    /// memsz. nil if the address is not mapped by any segment.
    private func memory(_ plan: LoadPlan, _ file: [UInt8], at address: UInt64, count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        for a in address..<(address + UInt64(count)) {
            guard let s = plan.segments.first(where: {
                a >= $0.virtualAddress && a < $0.virtualAddress + $0.memorySize
            }) else { return nil }
            let inSegment = a - s.virtualAddress
            out.append(inSegment < s.fileSize ? file[Int(s.fileOffset + inSegment)] : 0)
        }
        return out
    }

    /// Checks shared by every static binary: readelf agrees, AT_PHDR really shows the program
    /// headers, the entry lies in an executable mapping, and the TLS template is inside the
    /// image.
    private func checkLoadable(_ bytes: [UInt8], expectedType: ELFFileType) throws -> LoadPlan {
        let image = try ELFImage(bytes)
        XCTAssertEqual(image.type, expectedType)
        let plan = try image.makeLoadPlan()
        if let facts = try readelfFacts(bytes) {
            XCTAssertEqual(facts.entry, image.entry)
            XCTAssertEqual(facts.loads, image.loadSegments.count)
        }
        XCTAssertEqual(plan.entry, image.entry + plan.base)
        let phdr = try XCTUnwrap(plan.programHeaderAddress)
        let tableSize = Int(image.programHeaderCount) * 56
        XCTAssertEqual(memory(plan, bytes, at: phdr, count: tableSize),
                       Array(bytes[Int(image.programHeaderOffset)..<Int(image.programHeaderOffset) + tableSize]))
        XCTAssertTrue(plan.mappings.contains {
            $0.executable && plan.entry >= $0.start && plan.entry < $0.end
        })
        for (a, b) in zip(plan.mappings, plan.mappings.dropFirst()) {
            XCTAssertLessThanOrEqual(a.end, b.start)
        }
        XCTAssertEqual(plan.programBreakStart % 4096, 0)
        XCTAssertEqual(plan.programBreakStart, plan.mappings.last?.end)
        XCTAssertFalse(plan.executableStack)
        return plan
    }

    func testMuslStaticExecutable() throws {
        let bytes = try compile("musl-gcc", ["-static", "-O1"], output: "prog-musl")
        let plan = try checkLoadable(bytes, expectedType: .executable)
        XCTAssertEqual(plan.base, 0)
        XCTAssertEqual(plan.mappings.first?.start, 0x400000)
        let tls = try XCTUnwrap(plan.tls)
        XCTAssertGreaterThanOrEqual(tls.memorySize, 44)
    }

    func testGlibcStaticExecutableHasTLS() throws {
        let bytes = try compile("gcc", ["-static", "-O1"], output: "prog-static")
        let plan = try checkLoadable(bytes, expectedType: .executable)
        XCTAssertEqual(plan.base, 0)
        let tls = try XCTUnwrap(plan.tls)
        XCTAssertGreaterThanOrEqual(tls.memorySize, 44)
        XCTAssertEqual(memory(plan, bytes, at: tls.address, count: 4), [5, 0, 0, 0],
                       "counter's initial value is the first .tdata word")
    }

    func testGlibcStaticPIEIsRelocated() throws {
        let bytes = try compile("gcc", ["-static-pie", "-O1"], output: "prog-static-pie")
        let plan = try checkLoadable(bytes, expectedType: .sharedObject)
        XCTAssertEqual(plan.base, 0x5555_5555_4000)
        XCTAssertEqual(plan.mappings.first?.start, 0x5555_5555_4000)
        let other = try ELFImage(bytes).makeLoadPlan(base: 0x7f00_0000_0000)
        XCTAssertEqual(other.entry - plan.entry, 0x7f00_0000_0000 - 0x5555_5555_4000)
        XCTAssertEqual(memory(plan, bytes, at: try XCTUnwrap(plan.tls).address, count: 4),
                       [5, 0, 0, 0])
    }

    func testDynamicallyLinkedExecutableIsRefused() throws {
        let bytes = try compile("gcc", ["-O1"], output: "prog-dynamic")
        XCTAssertEqual(parseError(bytes), .dynamicallyLinked)
    }

    func testObjectFileIsNotExecutable() throws {
        let bytes = try compile("gcc", ["-c"], output: "prog.o")
        XCTAssertEqual(parseError(bytes), .notExecutable(1))
    }

    func testEveryPrefixOfARealBinaryParsesOrThrows() throws {
        let bytes = try compile("musl-gcc", ["-static", "-Os", "-s"], output: "prog-musl-small")
        // Every length up to the program headers' end, then a stride through the rest.
        let image = try ELFImage(bytes)
        let headerEnd = Int(image.programHeaderOffset) + Int(image.programHeaderCount) * 56
        var lengths = Array(0...headerEnd)
        lengths += stride(from: headerEnd, to: bytes.count, by: 97)
        // Bytes after the last segment (section headers, .comment) are not needed to load.
        let neededEnd = image.programHeaders.map { Int($0.offset + $0.fileSize) }.max() ?? 0
        for length in lengths {
            let error = parseError(Array(bytes.prefix(length)))
            if length < neededEnd {
                XCTAssertNotNil(error, "prefix \(length)")
            } else {
                XCTAssertNil(error, "prefix \(length)")
            }
        }
        XCTAssertLessThan(neededEnd, bytes.count)
    }

    func testSystemBusyboxIfPresent() throws {
        let path = "/bin/busybox"
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("no \(path)") }
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        switch parseError(bytes) {
        case nil:
            _ = try checkLoadable(bytes, expectedType: try ELFImage(bytes).type)
        case .dynamicallyLinked?:
            break // a distribution's dynamic busybox is fine to refuse
        case let error?:
            XCTFail("busybox refused: \(error.message)")
        }
    }
}
