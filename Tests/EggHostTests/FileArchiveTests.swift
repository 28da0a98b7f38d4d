// FileArchiveTests — `egg run --files DIR` packing (Sources/EggHost/FileArchive.swift): a
// host directory round-trips through the cpio archive the kernel parses
// (Sources/KernelCore/VFS/CpioArchive.swift).
import Foundation
import KernelCore
import XCTest
@testable import EggHost

final class FileArchiveTests: XCTestCase {
    func testDirectoryRoundTripsWithModesAndSymlinks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-files-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: dir + "/sub/a.txt"))
        chmod(dir + "/sub/a.txt", 0o640)
        chmod(dir + "/sub", 0o750)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: "sub/a.txt")
        let archive = try packFileArchive(directory: dir).get()
        let members = try CpioArchive.parse(archive)
        let byName = Dictionary(uniqueKeysWithValues: members.map { (String(decoding: $0.name, as: UTF8.self), $0) })
        XCTAssertEqual(byName["sub/a.txt"]?.data, Array("hello\n".utf8))
        XCTAssertEqual(byName["sub/a.txt"]?.mode, 0o100640)
        XCTAssertEqual(byName["sub"]?.mode, 0o040750)
        XCTAssertEqual((byName["link"]?.mode ?? 0) & 0o170000, 0o120000, "a symlink")
        XCTAssertEqual(byName["link"]?.data, Array("sub/a.txt".utf8))
        XCTAssertNotNil(byName["."])
    }

    func testAFileOfFourGiBOrMoreIsRefusedBeforeItIsRead() throws {
        // newc's filesize has 8 hex digits; before, UInt32(count) trapped (egg crashed).
        // The file is sparse, so the test costs no disk; it must be refused without reading.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-big-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fd = open(dir + "/huge", O_CREAT | O_WRONLY, 0o644)
        XCTAssertTrue(fd >= 0)
        XCTAssertEqual(ftruncate(fd, 1 << 32), 0)
        close(fd)
        guard case .failure(let e) = packFileArchive(directory: dir) else { return XCTFail("packed a 4 GiB file") }
        XCTAssertEqual(e, .tooLarge(dir + "/huge", 1 << 32))
        XCTAssertTrue(e.message.contains("below 4 GiB"), e.message)
    }

    func testMissingDirectoryIsAClearError() {
        guard case .failure(let e) = packFileArchive(directory: "/no/such/egg-dir") else { return XCTFail("packed a missing directory") }
        XCTAssertEqual(e.message, "--files /no/such/egg-dir: no such directory")
    }
}
