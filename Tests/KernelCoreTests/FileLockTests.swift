// FileLockTests — advisory locks (host tests for Sources/KernelCore/VFS/FileLocks.swift and
// the fcntl/flock handlers in Syscalls/FileSyscalls.swift): range split and merge, conflict
// rules between owners, struct flock ranges (whence, l_len 0 and negative), OFD locks seen
// through F_GETLK with l_pid -1, release on close, and flock conversion. Guest/c/locks_test.c
// checks the same on Linux and egg.
@testable import KernelCore
import LinuxABI
import XCTest

final class FileLockTests: XCTestCase {
    let me = LockOwner.process(1)
    let other = LockOwner.process(2)

    func lock(_ owner: LockOwner, _ exclusive: Bool, _ start: Int64, _ end: Int64) -> RecordLock {
        RecordLock(owner: owner, exclusive: exclusive, start: start, end: end, pid: 1)
    }

    func ranges(_ list: RecordLockList, _ owner: LockOwner) -> [[Int64]] {
        list.held(by: owner).map { [$0.start, $0.end, $0.exclusive ? 1 : 0] }
    }

    func testUnlockInTheMiddleSplitsAndRelockingMerges() {
        var list = RecordLockList()
        list.set(lock(me, true, 0, 99))
        list.remove(owner: me, start: 40, end: 59)
        XCTAssertEqual(ranges(list, me), [[0, 39, 1], [60, 99, 1]])
        list.set(lock(me, true, 40, 59))
        XCTAssertEqual(ranges(list, me), [[0, 99, 1]])
        // Adjacent locks of the same type merge; another type splits.
        list.set(lock(me, true, 100, 109))
        XCTAssertEqual(ranges(list, me), [[0, 109, 1]])
        list.set(lock(me, false, 10, 19))
        XCTAssertEqual(ranges(list, me), [[0, 9, 1], [10, 19, 0], [20, 109, 1]])
        // To end of file swallows what follows.
        list.set(lock(me, true, 50, Int64.max))
        XCTAssertEqual(ranges(list, me), [[0, 9, 1], [10, 19, 0], [20, Int64.max, 1]])
        list.remove(owner: me, start: 0, end: Int64.max)
        XCTAssertTrue(list.locks.isEmpty)
    }

    func testConflictsNeedAnotherOwnerAndAWriteLock() {
        var list = RecordLockList()
        list.set(lock(me, false, 0, 9))
        XCTAssertNil(list.conflict(with: lock(other, false, 5, 5)))   // read vs read
        XCTAssertEqual(list.conflict(with: lock(other, true, 9, 20))?.start, 0)
        XCTAssertNil(list.conflict(with: lock(other, true, 10, 20)))   // no overlap
        XCTAssertNil(list.conflict(with: lock(me, true, 0, 9)))        // own lock
        let description = LockOwner.description(ObjectIdentifier(self))
        XCTAssertNotNil(list.conflict(with: lock(description, true, 0, 0)))   // OFD vs POSIX
    }

    func testFlockStructRangesFollowWhenceAndLength() {
        let f = OpenFile(kind: .console, statusFlags: 2)
        f.offset = 50
        XCTAssertEqual(try? FileSyscalls.lockRange(f, whence: 0, start: 10, length: 5).get().0, 10)
        XCTAssertEqual(try? FileSyscalls.lockRange(f, whence: 0, start: 10, length: 5).get().1, 14)
        XCTAssertEqual(try? FileSyscalls.lockRange(f, whence: 1, start: -10, length: 5).get().0, 40)
        XCTAssertEqual(try? FileSyscalls.lockRange(f, whence: 0, start: 7, length: 0).get().1, Int64.max)
        // Negative l_len: the bytes before l_start.
        XCTAssertEqual(try? FileSyscalls.lockRange(f, whence: 0, start: 100, length: -10).get().0, 90)
        XCTAssertEqual(try? FileSyscalls.lockRange(f, whence: 0, start: 100, length: -10).get().1, 99)
        assertFailure(FileSyscalls.lockRange(f, whence: 0, start: 5, length: -10), .EINVAL)
        assertFailure(FileSyscalls.lockRange(f, whence: 0, start: -1, length: 1), .EINVAL)
        assertFailure(FileSyscalls.lockRange(f, whence: 3, start: 0, length: 1), .EINVAL)
        assertFailure(FileSyscalls.lockRange(f, whence: 0, start: Int64.max, length: 2), .EOVERFLOW)
        // Regression: l_start Int64.min with a negative l_len computed l_start - 1 and
        // trapped (a guest-triggered kernel panic); Linux answers EINVAL.
        assertFailure(FileSyscalls.lockRange(f, whence: 0, start: Int64.min, length: -1), .EINVAL)
    }

    func testOFDLockSeenThroughGETLKAndReleasedOnClose() {
        let k = TestKernel()
        let path = k.pokeString("/tmp/locked", at: 0x100)
        guard let a = successValue(k.call(.open, path, 0o102, 0o600)),   // O_RDWR|O_CREAT
              let b = successValue(k.call(.open, path, 2)) else { return XCTFail("open") }
        func flockStruct(_ type: Int16, _ start: Int64, _ length: Int64, at offset: UInt64) -> UInt64 {
            var w = ByteWriter()
            w.u16(UInt16(bitPattern: type)); w.u16(0); w.zeros(4)
            w.u64(UInt64(bitPattern: start)); w.u64(UInt64(bitPattern: length)); w.u32(0); w.zeros(4)
            return k.poke(w.bytes, at: offset)
        }
        assertSuccess(k.call(.fcntl, UInt64(a), 37, flockStruct(1, 0, 10, at: 0x200)), 0)   // F_OFD_SETLK W
        let query = flockStruct(0, 5, 1, at: 0x300)
        assertSuccess(k.call(.fcntl, UInt64(b), 5, query), 0)                               // F_GETLK R
        let r = ByteReader(k.peek(query, count: 32))
        XCTAssertEqual(r.u32(0) & 0xffff, 1)          // F_WRLCK
        XCTAssertEqual(r.i64(8), 0)
        XCTAssertEqual(r.i64(16), 10)
        XCTAssertEqual(Int32(bitPattern: r.u32(24)), -1)   // an OFD lock has no pid
        assertFailure(k.call(.fcntl, UInt64(b), 6, flockStruct(0, 5, 1, at: 0x400)), .EAGAIN)
        // The description's last close releases its OFD lock.
        assertSuccess(k.call(.close, UInt64(a)), 0)
        assertSuccess(k.call(.fcntl, UInt64(b), 6, flockStruct(1, 0, 0, at: 0x400)), 0)
        // flock: shared then exclusive by another description is EWOULDBLOCK; conversion.
        guard let c = successValue(k.call(.open, path, 2)) else { return XCTFail("open c") }
        assertSuccess(k.call(.flock, UInt64(b), 1), 0)
        assertFailure(k.call(.flock, UInt64(c), 2 | 4), .EAGAIN)
        assertSuccess(k.call(.flock, UInt64(b), 2 | 4), 0)   // converted to exclusive
        assertFailure(k.call(.flock, UInt64(c), 1 | 4), .EAGAIN)
        assertSuccess(k.call(.flock, UInt64(b), 8), 0)
        assertSuccess(k.call(.flock, UInt64(c), 2 | 4), 0)
        assertFailure(k.call(.flock, UInt64(c), 16), .EINVAL)
    }
}
