// SysVIPCTests — System V IPC ids, keys and permissions (Sources/KernelCore/IPC/SysVIPC.swift)
// the message queue's selection and size rules (SysVMessageQueue.swift) and the semaphore
// set's all-or-nothing operations, waiter counts and SEM_UNDO (SysVSemaphoreSet.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class SysVIPCTests: XCTestCase {
    let create = IPCPermissions.create, exclusive = IPCPermissions.exclusive

    func user(_ u: UInt32) -> Credentials { try! Credentials.root.settingRESUID(u, u, u).get() }

    func testKeysPrivateAndExclusiveCreation() throws {
        let t = IPCObjectTable<SysVMessageQueue>(limit: 2)
        let make = { () -> Result<SysVMessageQueue, Errno> in .success(SysVMessageQueue(now: 0)) }
        XCTAssertEqual(t.get(key: 42, flags: 0o600, .root, make: make).failureValue, .ENOENT)
        let id = try t.get(key: 42, flags: create | 0o600, .root, make: make).get()
        XCTAssertEqual(try t.get(key: 42, flags: 0, .root, make: make).get(), id)
        XCTAssertEqual(t.get(key: 42, flags: create | exclusive, .root, make: make).failureValue, .EEXIST)
        let p = try t.get(key: IPCPermissions.privateKey, flags: 0o600, .root, make: make).get()
        XCTAssertNotEqual(p, id)
        XCTAssertEqual(t.get(key: IPCPermissions.privateKey, flags: 0, .root, make: make).failureValue, .ENOSPC, "msgmni")
        t.remove(id: p)
        let again = try t.get(key: IPCPermissions.privateKey, flags: 0, .root, make: make).get()
        XCTAssertEqual(again % 32768, p % 32768, "the index is reused")
        XCTAssertNotEqual(again, p, "with a new sequence number, so the old id stays dead")
        XCTAssertNil(t.lookup(id: p))
    }

    func testPermissionClassesAndCapIpcOwner() {
        let perms = IPCPermissions(key: 1, mode: 0o640, creator: user(1000), sequence: 0)
        XCTAssertFalse(perms.denies(0o600, user(1000)))
        XCTAssertTrue(perms.denies(0o222, user(2000)), "other class: nothing")
        var member = user(2000)
        member.egid = 0   // perms.gid is 0 (root's egid at creation survives setresuid)
        XCTAssertFalse(perms.denies(0o444, member))
        XCTAssertTrue(perms.denies(0o222, member))
        XCTAssertFalse(perms.denies(0o666, .root), "CAP_IPC_OWNER")
        XCTAssertFalse(perms.denies(0, user(3000)), "asking for nothing")
        XCTAssertTrue(perms.mayControl(user(1000)))
        XCTAssertFalse(perms.mayControl(user(2000)))
    }

    func testMessageSelection() {
        let q = SysVMessageQueue(now: 0)
        for t in [2, 1, 3, 1] { q.append(.init(type: t, text: [UInt8(t)])) }
        XCTAssertEqual(q.select(type: 0, flags: 0), 0)
        XCTAssertEqual(q.select(type: 1, flags: 0), 1)
        XCTAssertEqual(q.select(type: 1, flags: SysVMessageQueue.except), 0)
        XCTAssertEqual(q.select(type: -2, flags: 0), 1, "lowest type not above 2, first of them")
        XCTAssertNil(q.select(type: 4, flags: 0))
        XCTAssertEqual(q.select(type: Int.min, flags: 0), 1)
    }

    func testQueueLimitCountsBytesAndMessages() {
        let q = SysVMessageQueue(now: 0)
        q.byteLimit = 4
        XCTAssertTrue(q.fits(4))
        q.append(.init(type: 1, text: [1, 2, 3]))
        XCTAssertFalse(q.fits(2))
        XCTAssertTrue(q.fits(0))
        for _ in 0..<3 { q.append(.init(type: 1, text: [])) }
        XCTAssertFalse(q.fits(0), "four messages in a 4-byte queue: zero-length ones count too")
        _ = q.remove(at: 0)
        XCTAssertEqual(q.byteCount, 0)
    }

    typealias Op = SysVSemaphoreSet.Operation

    func testSemopIsAllOrNothing() {
        let set = SysVSemaphoreSet(count: 2, now: 0)
        set.set(0, to: 1, pid: 1, now: 0)
        XCTAssertEqual(set.perform([Op(number: 0, delta: -1, flags: 0), Op(number: 1, delta: -1, flags: 0)], pid: 7, now: 0),
                       .blocked(Op(number: 1, delta: -1, flags: 0)))
        XCTAssertEqual(set.values, [1, 0], "nothing applied")
        XCTAssertEqual(set.perform([Op(number: 1, delta: 2, flags: 0), Op(number: 1, delta: -1, flags: 0)], pid: 7, now: 0), .done,
                       "operations apply in order within the array")
        XCTAssertEqual(set.values, [1, 1])
        XCTAssertEqual(set.lastPIDs, [1, 7])
        XCTAssertEqual(set.perform([Op(number: 0, delta: 0, flags: 0)], pid: 7, now: 0), .blocked(Op(number: 0, delta: 0, flags: 0)))
        XCTAssertEqual(set.perform([Op(number: 0, delta: 32767, flags: 0)], pid: 7, now: 0), .failed(.ERANGE))
    }

    func testWaiterCountsUseTheBlockingOperation() {
        let set = SysVSemaphoreSet(count: 2, now: 0)
        set.blockedOn = [Op(number: 0, delta: -1, flags: 0), Op(number: 0, delta: 0, flags: 0), Op(number: 1, delta: -2, flags: 0)]
        XCTAssertEqual(set.waitingCount(0, forZero: false), 1)
        XCTAssertEqual(set.waitingCount(0, forZero: true), 1)
        XCTAssertEqual(set.waitingCount(1, forZero: false), 1)
        XCTAssertEqual(set.waitingCount(1, forZero: true), 0)
    }

    func testUndoReversesAProcessesOperationsAndSetvalClearsIt() {
        let set = SysVSemaphoreSet(count: 1, now: 0)
        XCTAssertEqual(set.perform([Op(number: 0, delta: 3, flags: SysVSemaphoreSet.undo)], pid: 5, now: 0), .done)
        XCTAssertEqual(set.perform([Op(number: 0, delta: -1, flags: 0)], pid: 6, now: 0), .done)
        set.applyUndo(pid: 5)
        XCTAssertEqual(set.values, [0], "3 - 1 - 3 clamps at 0")
        XCTAssertEqual(set.perform([Op(number: 0, delta: 2, flags: SysVSemaphoreSet.undo)], pid: 5, now: 0), .done)
        set.set(0, to: 2, pid: 1, now: 0)
        set.applyUndo(pid: 5)
        XCTAssertEqual(set.values, [2], "SETVAL cleared the adjustment")
    }
}
