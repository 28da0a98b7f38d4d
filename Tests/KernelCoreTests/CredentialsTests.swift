// CredentialsTests — the set*id, setgroups and capset transitions of
// Sources/KernelCore/Process/Credentials.swift against the rules of credentials(7),
// capabilities(7) and kernel/sys.c, as a table of starting points, calls and outcomes.
import XCTest
@testable import KernelCore
import LinuxABI

final class CredentialsTests: XCTestCase {
    let none = Credentials.unchanged

    /// A process that ran setresuid(ruid, euid, suid) from root (capabilities fixed up).
    func user(_ r: UInt32, _ e: UInt32, _ s: UInt32) -> Credentials {
        try! Credentials.root.settingRESUID(r, e, s).get()
    }

    func testRootStartsWithEveryCapabilityAndAllIdsZero() {
        let c = Credentials.root
        XCTAssertEqual([c.uid, c.euid, c.suid, c.fsuid, c.gid, c.egid, c.sgid, c.fsgid], [0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertTrue(c.capable(CapabilitySet.setuid) && c.capable(CapabilitySet.dacOverride))
        XCTAssertEqual(c.effective, .full)
        XCTAssertEqual(c.inheritable, .empty)
    }

    func testRootSetuidChangesAllFourIdsAndDropsCapabilities() throws {
        let c = try Credentials.root.settingUID(1000).get()
        XCTAssertEqual([c.uid, c.euid, c.suid, c.fsuid], [1000, 1000, 1000, 1000])
        XCTAssertEqual(c.effective, .empty, "leaving root clears the effective set")
        XCTAssertEqual(c.permitted, .empty, "and the permitted set without SECBIT_KEEP_CAPS")
        XCTAssertEqual(c.settingUID(0).failureValue, .EPERM, "no way back")
        XCTAssertEqual(Credentials.root.settingUID(none).failureValue, .EINVAL)
    }

    func testKeepCapsKeepsPermittedButNotEffective() throws {
        var root = Credentials.root
        root.securebits = Credentials.secureKeepCaps
        let c = try root.settingRESUID(1000, 1000, 1000).get()
        XCTAssertEqual(c.permitted, .full)
        XCTAssertEqual(c.effective, .empty, "euid left 0: the effective set empties anyway")
    }

    func testEffectiveRootTemporarilyDroppedAndRegained() throws {
        // seteuid(1000) keeps the saved id 0, so the effective set can come back.
        let dropped = try Credentials.root.settingRESUID(none, 1000, none).get()
        XCTAssertEqual([dropped.uid, dropped.euid, dropped.suid, dropped.fsuid], [0, 1000, 0, 1000])
        XCTAssertEqual(dropped.effective, .empty)
        XCTAssertEqual(dropped.permitted, .full, "a saved and real id of 0 keep the permitted set")
        let back = try dropped.settingRESUID(none, 0, none).get()
        XCTAssertEqual(back.effective, .full, "effective returns to 0: effective = permitted")
    }

    func testUnprivilegedSetuidMayPickRealOrSaved() throws {
        let c = user(1000, 2000, 3000)
        let toSaved = try c.settingUID(3000).get()
        XCTAssertEqual([toSaved.uid, toSaved.euid, toSaved.suid], [1000, 3000, 3000], "only euid (and fsuid) change")
        XCTAssertEqual(toSaved.fsuid, 3000)
        XCTAssertEqual(c.settingUID(4000).failureValue, .EPERM)
    }

    func testSetreuidRulesAndSavedIdUpdate() throws {
        let c = user(1000, 2000, 3000)
        XCTAssertEqual(c.settingREUID(3000, none).failureValue, .EPERM, "ruid may become ruid or euid only")
        let swapped = try c.settingREUID(2000, 1000).get()
        XCTAssertEqual([swapped.uid, swapped.euid, swapped.suid], [2000, 1000, 1000], "ruid set: suid = new euid")
        let eOnlyToReal = try c.settingREUID(none, 1000).get()
        XCTAssertEqual(eOnlyToReal.suid, 3000, "euid set to the old ruid: suid unchanged")
        let eOnlyToSaved = try c.settingREUID(none, 3000).get()
        XCTAssertEqual(eOnlyToSaved.suid, 3000)
        XCTAssertEqual(c.settingREUID(none, 4000).failureValue, .EPERM)
    }

    func testSetresuidUnprivilegedPermutationsOnly() throws {
        let c = user(1000, 2000, 3000)
        let p = try c.settingRESUID(3000, 1000, 2000).get()
        XCTAssertEqual([p.uid, p.euid, p.suid, p.fsuid], [3000, 1000, 2000, 1000])
        XCTAssertEqual(c.settingRESUID(none, none, 5).failureValue, .EPERM)
        XCTAssertEqual(try c.settingRESUID(none, none, none).get(), c)
    }

    func testSetfsuidReturnsPreviousAndMovesFileCapabilities() {
        let r = Credentials.root.settingFSUID(1000)
        XCTAssertEqual(r.previous, 0)
        XCTAssertEqual(r.new.fsuid, 1000)
        XCTAssertFalse(r.new.capable(CapabilitySet.dacOverride), "CAP_FS_MASK leaves with fsuid 0")
        XCTAssertTrue(r.new.capable(CapabilitySet.setuid), "other capabilities stay")
        let back = r.new.settingFSUID(0)
        XCTAssertEqual(back.previous, 1000)
        XCTAssertTrue(back.new.capable(CapabilitySet.dacOverride))
        let u = user(1000, 1000, 1000)
        let refused = u.settingFSUID(0)
        XCTAssertEqual(refused.previous, 1000)
        XCTAssertEqual(refused.new.fsuid, 1000, "not one of the caller's ids and no CAP_SETUID: unchanged")
        XCTAssertEqual(u.settingFSUID(none).new.fsuid, 1000)
    }

    func testGroupIdsFollowTheSameRulesUnderCapSetgid() throws {
        let c = try Credentials.root.settingRESGID(100, 200, 300).get()
        XCTAssertTrue(c.capable(CapabilitySet.setgid), "changing gids never drops capabilities")
        var unprivileged = c
        unprivileged.effective = .empty
        XCTAssertEqual(unprivileged.settingGID(400).failureValue, .EPERM)
        XCTAssertEqual(try unprivileged.settingGID(300).get().egid, 300)
        XCTAssertEqual(unprivileged.settingREGID(300, none).failureValue, .EPERM)
        XCTAssertEqual(unprivileged.settingFSGID(999).new.fsgid, 200)
        XCTAssertEqual(unprivileged.settingFSGID(100).previous, 200)
    }

    func testSetgroupsNeedsCapSetgidAndSorts() throws {
        let c = try Credentials.root.settingGroups([30, 10, 20]).get()
        XCTAssertEqual(c.groups, [10, 20, 30])
        XCTAssertTrue(c.inGroup(20) && c.inGroup(0) && !c.inGroup(40))
        XCTAssertEqual(user(1, 1, 1).settingGroups([]).failureValue, .EPERM)
        XCTAssertEqual(Credentials.root.settingGroups([UInt32](repeating: 1, count: Credentials.groupsMax + 1)).failureValue, .EINVAL)
    }

    func testCapsetMayOnlyShrinkPermittedAndKeepEffectiveInside() throws {
        let half = CapabilitySet(bits: 0xFF)
        let c = try Credentials.root.settingCapabilities(effective: half, permitted: half, inheritable: .empty).get()
        XCTAssertEqual(c.permitted, half)
        XCTAssertEqual(c.settingCapabilities(effective: half, permitted: .full, inheritable: .empty).failureValue, .EPERM,
                       "permitted never grows")
        XCTAssertEqual(c.settingCapabilities(effective: CapabilitySet(bits: 0x1FF), permitted: half,
                                             inheritable: .empty).failureValue, .EPERM, "effective within permitted")
        var noSetpcap = c
        noSetpcap.effective = CapabilitySet(bits: 1)
        XCTAssertEqual(noSetpcap.settingCapabilities(effective: .empty, permitted: half,
                                                     inheritable: CapabilitySet(bits: 0x100)).failureValue, .EPERM,
                       "inheritable may not gain what is not permitted without CAP_SETPCAP")
        XCTAssertNoThrow(try noSetpcap.settingCapabilities(effective: .empty, permitted: half, inheritable: CapabilitySet(bits: 0x3)).get())
    }

    func testAccessCheckUsesRealIds() {
        let c = user(1000, 0, 0)   // real 1000, effective root (a set-user-ID root program)
        let a = c.forAccessCheck
        XCTAssertEqual(a.fsuid, 1000)
        XCTAssertEqual(a.effective, .empty, "a non-root real id checks without capabilities")
        XCTAssertEqual(Credentials.root.forAccessCheck.effective, .full)
    }
}
