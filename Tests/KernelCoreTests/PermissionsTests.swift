// PermissionsTests — file permission decisions (Sources/KernelCore/VFS/Permissions.swift)
// and the hooks FileSystem makes while walking and editing the tree as a non-root caller:
// search, create, delete, the sticky bit, new nodes' owners, chmod and chown rules.
import XCTest
@testable import KernelCore
import LinuxABI

final class PermissionsTests: XCTestCase {
    var fs = FileSystem()
    var caller = Credentials.root

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func user(_ u: UInt32, _ g: UInt32, groups: [UInt32] = []) -> Credentials {
        var c = try! Credentials.root.settingGroups(groups).get()
        c = try! c.settingRESGID(g, g, g).get()
        return try! c.settingRESUID(u, u, u).get()
    }

    override func setUp() {
        fs = FileSystem()
        caller = .root
        fs.caller = { [unowned self] in self.caller }
        fs.makeDirectories(b("/tmp"), permissions: 0o1777)
        fs.makeDirectories(b("/private"), permissions: 0o700)
        fs.writeFile(b("/private/secret"), contents: b("s"), permissions: 0o644)
        fs.writeFile(b("/etc/shadow"), contents: b("x"), permissions: 0o640)
    }

    func inode(_ path: String) -> Inode { try! fs.resolve(b(path), from: fs.root).get() }

    func testOwnerGroupOtherClassesAreExclusive() {
        let f = inode("/etc/shadow")
        f.uid = 1000; f.gid = 50; f.permissions = 0o070
        XCTAssertEqual(Permissions.check(f, AccessMask.read, Self.user(1000, 50)), .EACCES,
                       "the owner class decides for the owner even when group bits would allow")
        XCTAssertNil(Permissions.check(f, AccessMask.read, Self.user(2000, 1, groups: [50])), "supplementary group")
        XCTAssertEqual(Permissions.check(f, AccessMask.read, Self.user(2000, 1)), .EACCES)
    }

    func testRootCapabilitiesOverrideExceptExecWithoutAnyBit() {
        let f = inode("/etc/shadow")
        f.uid = 1000; f.permissions = 0o000
        XCTAssertNil(Permissions.check(f, AccessMask.read | AccessMask.write, .root), "CAP_DAC_OVERRIDE")
        XCTAssertEqual(Permissions.check(f, AccessMask.execute, .root), .EACCES, "no execute bit: not even root")
        f.permissions = 0o001
        XCTAssertNil(Permissions.mayExecute(f, .root))
        XCTAssertEqual(Permissions.mayExecute(inode("/tmp"), .root), .EACCES, "only regular files execute")
        var readSearchOnly = Credentials.root
        readSearchOnly.effective = CapabilitySet(bits: 1 << UInt64(CapabilitySet.dacReadSearch))
        f.permissions = 0
        XCTAssertNil(Permissions.check(f, AccessMask.read, readSearchOnly))
        XCTAssertEqual(Permissions.check(f, AccessMask.write, readSearchOnly), .EACCES)
        XCTAssertNil(Permissions.check(inode("/private"), AccessMask.read | AccessMask.execute, readSearchOnly))
    }

    func testSearchPermissionStopsAWalk() {
        caller = Self.user(1000, 1000)
        XCTAssertEqual(fs.resolve(b("/private/secret"), from: fs.root).failureValue, .EACCES)
        XCTAssertEqual(fs.resolve(b("/private/nothing"), from: fs.root).failureValue, .EACCES,
                       "EACCES before ENOENT: the directory cannot be searched")
        XCTAssertNotNil(try? fs.resolve(b("/private"), from: fs.root).get(), "naming the directory itself is fine")
        XCTAssertEqual(fs.makeDirectory(b("/private/d"), from: fs.root, permissions: 0o755).failureValue, .EACCES)
    }

    func testCreateNeedsWriteOnDirectoryAndNewNodesBelongToFsIds() throws {
        caller = Self.user(1000, 100)
        XCTAssertEqual(fs.makeDirectory(b("/etc/new"), from: fs.root, permissions: 0o755).failureValue, .EACCES)
        let mine = try fs.makeDirectory(b("/tmp/mine"), from: fs.root, permissions: 0o755).get()
        XCTAssertEqual(mine.uid, 1000)
        XCTAssertEqual(mine.gid, 100)
    }

    func testSetgidDirectoryGivesItsGroupAndBitToNewNodes() throws {
        let shared = fs.makeDirectories(b("/shared"), permissions: 0o2777)
        shared.gid = 77
        caller = Self.user(1000, 100)
        let sub = try fs.makeDirectory(b("/shared/sub"), from: fs.root, permissions: 0o755).get()
        XCTAssertEqual(sub.gid, 77)
        XCTAssertEqual(sub.permissions & FileMode.S_ISGID, FileMode.S_ISGID, "directories inherit S_ISGID")
        let file = try fs.makeNode(b("/shared/f"), from: fs.root, kind: .regular, permissions: 0o2755).get()
        XCTAssertEqual(file.gid, 77)
        XCTAssertEqual(file.permissions & FileMode.S_ISGID, 0, "not in group 77 and no CAP_FSETID")
    }

    func testStickyDirectoryOnlyOwnersDelete() throws {
        caller = Self.user(1000, 1000)
        _ = try fs.makeNode(b("/tmp/a"), from: fs.root, kind: .regular, permissions: 0o666).get()
        caller = Self.user(2000, 2000)
        XCTAssertEqual(fs.unlink(b("/tmp/a"), from: fs.root).failureValue, .EPERM)
        XCTAssertEqual(fs.rename(b("/tmp/a"), from: fs.root, to: b("/tmp/b"), from: fs.root).failureValue, .EPERM)
        caller = .root
        XCTAssertNotNil(try? fs.rename(b("/tmp/a"), from: fs.root, to: b("/tmp/b"), from: fs.root).get(), "CAP_FOWNER")
        caller = Self.user(1000, 1000)
        XCTAssertNotNil(try? fs.unlink(b("/tmp/b"), from: fs.root).get(), "the file's owner")
    }

    func testDeleteWithoutWriteOnDirectoryIsEACCES() {
        fs.makeDirectories(b("/ro"), permissions: 0o755)
        fs.writeFile(b("/ro/f"), contents: [])
        fs.makeDirectories(b("/ro/d"), permissions: 0o755)
        caller = Self.user(1000, 1000)
        XCTAssertEqual(fs.unlink(b("/ro/f"), from: fs.root).failureValue, .EACCES)
        XCTAssertEqual(fs.removeDirectory(b("/ro/d"), from: fs.root).failureValue, .EACCES)
    }

    func testChmodRules() {
        let f = inode("/etc/shadow")
        f.uid = 1000; f.gid = 50
        XCTAssertEqual(Permissions.changingMode(f, to: 0o777, Self.user(2000, 50)).failureValue, .EPERM)
        XCTAssertEqual(try? Permissions.changingMode(f, to: 0o2755, Self.user(1000, 1)).get(), 0o755,
                       "S_ISGID dropped for a non-member without CAP_FSETID")
        XCTAssertEqual(try? Permissions.changingMode(f, to: 0o2755, Self.user(1000, 50)).get(), 0o2755)
        XCTAssertEqual(try? Permissions.changingMode(f, to: 0o4755, .root).get(), 0o4755, "CAP_FOWNER")
    }

    func testChownRulesAndSetIdBitsCleared() {
        let f = inode("/etc/shadow")
        f.uid = 1000; f.gid = 50; f.permissions = 0o6755
        let owner = Self.user(1000, 50, groups: [60])
        XCTAssertEqual(Permissions.changingOwner(f, uid: 2000, gid: none, owner).failureValue, .EPERM, "CAP_CHOWN needed")
        XCTAssertEqual(Permissions.changingOwner(f, uid: none, gid: 70, owner).failureValue, .EPERM, "not a group of the owner")
        let r = try? Permissions.changingOwner(f, uid: 1000, gid: 60, owner).get()
        XCTAssertEqual(r?.0, 1000)
        XCTAssertEqual(r?.1, 60)
        XCTAssertEqual(r?.2, 0o755, "S_ISUID and (group-executable) S_ISGID cleared")
        XCTAssertEqual(Permissions.changingOwner(f, uid: 5, gid: none, Self.user(2000, 50)).failureValue, .EPERM)
        f.permissions = 0o2644
        XCTAssertEqual((try? Permissions.changingOwner(f, uid: 0, gid: 0, .root).get())?.2, 0o2644,
                       "S_ISGID without group execute is mandatory locking, kept")
    }

    var none: UInt32 { Credentials.unchanged }

    func testUtimesNowNeedsWriteExplicitNeedsOwner() {
        let f = inode("/etc/shadow")
        f.uid = 1000; f.permissions = 0o666
        let other = Self.user(2000, 2000)
        XCTAssertNil(Permissions.mayChangeTimes(f, toNow: true, other))
        XCTAssertEqual(Permissions.mayChangeTimes(f, toNow: false, other), .EPERM)
        f.permissions = 0o644
        XCTAssertEqual(Permissions.mayChangeTimes(f, toNow: true, other), .EACCES)
    }

    func testOpenChecksReadAndWriteAndTruncate() {
        let f = inode("/etc/shadow")
        f.uid = 1000; f.permissions = 0o444
        let u = Self.user(1000, 1000)
        XCTAssertNil(Permissions.mayOpen(f, accessMode: 0, truncate: false, u))
        XCTAssertEqual(Permissions.mayOpen(f, accessMode: 1, truncate: false, u), .EACCES)
        XCTAssertEqual(Permissions.mayOpen(f, accessMode: 0, truncate: true, u), .EACCES)
    }
}
