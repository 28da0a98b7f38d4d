// BootBundleTests — the bundle egg hands the kernel (Sources/KernelCore/BootBundle.swift):
// build/parse round trip, bad input, and every truncation parsed without a crash.
@testable import KernelCore
import ELF
import XCTest

final class BootBundleTests: XCTestCase {
    let executable: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 9, 9, 9]
    var sample: [UInt8] {
        BootBundle.build([
            (.executable, executable),
            (.argument, Array("/bin/prog".utf8)),
            (.argument, Array("-v".utf8)),
            (.environment, Array("HOME=/".utf8)),
            (.executablePath, Array("/bin/prog".utf8)),
            (.argument, []),
        ])
    }

    func payload(_ bytes: [UInt8], _ r: BootBundleRecord) -> [UInt8] { Array(bytes[r.offset..<(r.offset + r.length)]) }

    func testRoundTrip() throws {
        let bytes = sample
        XCTAssertEqual(Array(bytes[0..<8]), Array("EGGBNDL1".utf8))
        XCTAssertEqual(bytes.count % 8, 0)
        let bundle = try BootBundle(parsing: bytes)
        XCTAssertEqual(bundle.records.count, 6)
        XCTAssertEqual(payload(bytes, bundle.first(.executable)!), executable)
        XCTAssertEqual(bundle.records(of: .argument).map { payload(bytes, $0) },
                       [Array("/bin/prog".utf8), Array("-v".utf8), []], "order kept, empty argument kept")
        XCTAssertEqual(bundle.records(of: .environment).map { payload(bytes, $0) }, [Array("HOME=/".utf8)])
        XCTAssertEqual(payload(bytes, bundle.first(.executablePath)!), Array("/bin/prog".utf8))
        XCTAssertNil(bundle.first(.fileArchive))
        for r in bundle.records { XCTAssertEqual(r.offset % 8, 0, "payloads are 8-byte aligned") }
    }

    func testParsesFromPhysicalMemory() throws {
        let memory = FakePhysicalMemory(bytes: 1 << 20)
        let bytes = sample
        memory.write(0x8_0000, from: bytes, offset: 0, count: bytes.count)
        let source = PhysicalBytes(memory: memory, base: 0x8_0000, count: bytes.count)
        let bundle = try BootBundle(parsing: source)
        XCTAssertEqual(bundle.records, try BootBundle(parsing: bytes).records)
        XCTAssertEqual(source.bytes(at: bundle.first(.executable)!.offset, count: executable.count), executable)
    }

    func expectError(_ bytes: [UInt8], _ expected: BootBundleError, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try BootBundle(parsing: bytes)
            XCTFail("parsed", file: file, line: line)
        } catch {
            XCTAssertEqual(error, expected, file: file, line: line)
        }
    }

    func testBadMagic() {
        var bytes = sample
        bytes[7] = UInt8(ascii: "2")
        expectError(bytes, .badMagic)
        expectError([UInt8](repeating: 0, count: 64), .badMagic)
    }

    func testMissingExecutable() {
        expectError(BootBundle.build([(.argument, [0x61])]), .missingExecutable)
        expectError(BootBundle.build([]), .missingExecutable)
    }

    func testHugeCountOrLengthIsTruncatedNotACrash() {
        var bytes = sample
        bytes[8] = 0xFF; bytes[9] = 0xFF; bytes[10] = 0xFF; bytes[11] = 0xFF
        expectError(bytes, .truncated)
        var long = sample
        for i in 24..<32 { long[i] = 0xFF }  // first record's length = 2^64-1
        expectError(long, .truncated)
        var justOver = sample
        justOver[24] = UInt8(justOver.count - 32 + 1)  // one byte more than the file holds
        for i in 25..<32 { justOver[i] = 0 }
        expectError(justOver, .truncated)
    }

    func testEveryTruncationFailsOrParsesTheSameRecords() throws {
        let bytes = sample
        let full = try BootBundle(parsing: bytes).records
        var failures = 0
        for n in 0..<bytes.count {
            do {
                let records = try BootBundle(parsing: Array(bytes[0..<n])).records
                // Only the last record's padding may be missing.
                XCTAssertEqual(records, full, "prefix \(n)")
                XCTAssertGreaterThanOrEqual(n, full.last!.offset + full.last!.length)
            } catch {
                XCTAssertEqual(error, .truncated, "prefix \(n)")
                failures += 1
            }
        }
        XCTAssertGreaterThan(failures, bytes.count - 8)
    }
}
