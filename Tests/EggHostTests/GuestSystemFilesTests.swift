// GuestSystemFilesTests — the generated /etc files, --hostname and -w checks, and the
// options the kernel reads (tests for Sources/EggHost/GuestSystemFiles.swift).

@testable import EggHost
import Foundation
import KernelCore
import XCTest

final class GuestSystemFilesTests: XCTestCase {
    func names(_ members: [CpioMember]) -> [String] { members.map { String(decoding: $0.name, as: UTF8.self) } }

    func testNetworkedGuestGetsQEMUsDNSAndHosts() {
        let members = generatedSystemFiles(hostname: "box", networked: true, provided: { _ in false })
        XCTAssertEqual(names(members), ["etc", "etc/resolv.conf", "etc/hosts"])
        XCTAssertEqual(members[0].mode, UInt32(S_IFDIR) | 0o755)
        let resolv = String(decoding: members[1].data, as: UTF8.self)
        XCTAssertTrue(resolv.contains("nameserver 10.0.2.3\n"), resolv)
        let hosts = String(decoding: members[2].data, as: UTF8.self)
        XCTAssertTrue(hosts.contains("127.0.0.1\tlocalhost\n"), hosts)
        XCTAssertTrue(hosts.contains("::1\tlocalhost"), hosts)
        XCTAssertTrue(hosts.contains("10.0.2.15\tbox\n"), hosts)
    }

    func testNoNetworkMeansNoResolvConf() {
        let members = generatedSystemFiles(hostname: "egg", networked: false, provided: { _ in false })
        XCTAssertEqual(names(members), ["etc", "etc/hosts"])
        XCTAssertTrue(String(decoding: members[1].data, as: UTF8.self).contains("127.0.1.1\tegg\n"))
    }

    func testFilesFromTheDirectoryWin() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("egg-sysfiles-\(getpid())").path
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "nameserver 1.1.1.1\n".write(toFile: root + "/etc/resolv.conf", atomically: true, encoding: .utf8)
        let provided = filesDirectoryProvides(root: root)
        XCTAssertTrue(provided("etc"))
        XCTAssertTrue(provided("etc/resolv.conf"))
        XCTAssertFalse(provided("etc/hosts"))
        XCTAssertEqual(names(generatedSystemFiles(hostname: "egg", networked: true, provided: provided)), ["etc/hosts"])
        // An etc that is a file: egg adds nothing below it.
        try FileManager.default.removeItem(atPath: root + "/etc")
        try "x".write(toFile: root + "/etc", atomically: true, encoding: .utf8)
        XCTAssertEqual(names(generatedSystemFiles(hostname: "egg", networked: true, provided: filesDirectoryProvides(root: root))), [])
        XCTAssertFalse(filesDirectoryProvides(root: nil)("etc"))
    }

    func testMembersAppendToAnArchiveTheKernelParses() throws {
        let base = CpioArchive.build([CpioMember(name: Array("a.txt".utf8), mode: UInt32(S_IFREG) | 0o644, data: Array("A".utf8))])
        let extra = generatedSystemFiles(hostname: "egg", networked: true, provided: { _ in false })
        var combined: [UInt8]? = base
        appendMembers(extra, to: &combined)
        XCTAssertEqual(names(try CpioArchive.parse(try XCTUnwrap(combined))), ["a.txt", "etc", "etc/resolv.conf", "etc/hosts"])
        // No archive yet: the members alone.
        var fresh: [UInt8]? = nil
        appendMembers(extra, to: &fresh)
        XCTAssertEqual(names(try CpioArchive.parse(try XCTUnwrap(fresh))).count, 3)
        // Nothing to add: unchanged.
        var same: [UInt8]? = base
        appendMembers([], to: &same)
        XCTAssertEqual(same, base)
        var none: [UInt8]? = nil
        appendMembers([], to: &none)
        XCTAssertNil(none)
    }

    func testHostnameFollowsRFC1123() {
        for good in ["egg", "web-1", "a.b.c", String(repeating: "a", count: 63), "x" + String(repeating: ".y", count: 31)] {
            XCTAssertNil(hostnameProblem(good), good)
        }
        for bad in ["", "-x", "x-", "a..b", "with space", "under_score", "é", String(repeating: "a", count: 65), "a;b"] {
            XCTAssertNotNil(hostnameProblem(bad), bad)
        }
    }

    func testWorkdirMustBeAbsolute() {
        XCTAssertNil(workdirProblem("/srv/app"))
        XCTAssertNotNil(workdirProblem("srv"))
        XCTAssertNotNil(workdirProblem("/a\nb"))
    }

    func testIdentityTravelsAsOptionsTheKernelReads() {
        let options = identityKernelOptions(hostname: "box", workdir: "/srv") + ["console=pipe"]
        XCTAssertEqual(BootBundle.optionValue("hostname", in: options), "box")
        XCTAssertEqual(BootBundle.optionValue("workdir", in: options), "/srv")
        XCTAssertNil(BootBundle.optionValue("host", in: options))
        XCTAssertEqual(identityKernelOptions(hostname: nil, workdir: nil), [])
        // The last one wins, a value may contain '='.
        XCTAssertEqual(BootBundle.optionValue("workdir", in: ["workdir=/a", "workdir=/b=c"]), "/b=c")
    }
}
