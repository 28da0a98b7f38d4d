// FutexAtomicTests — host tests for the atomic futex-word update (AddressSpace
// .compareExchangeUInt32, Process/AddressSpace.swift) and for the retry loops of the PI and
// robust paths that use it (Threads/Futex.swift): a word changed by "another CPU" between
// the kernel's read and its write must be read again, never overwritten.
import XCTest
@testable import KernelCore
import LinuxABI

/// A futex memory whose first compare-and-swap at `racyAddress` finds the word changed to
/// `raceValue` (as if a guest thread on another CPU wrote it just before).
final class RacingFutexMemory: FutexMemory {
    var words32: [UInt64: UInt32] = [:]
    var words64: [UInt64: UInt64] = [:]
    var racyAddress: UInt64 = 0
    var raceValue: UInt32 = 0
    var raced = false
    var swaps = 0
    func load64(_ address: UInt64) -> UInt64? { words64[address] }
    func load32(_ address: UInt64) -> UInt32? { words32[address] }
    func store32(_ address: UInt64, _ value: UInt32) -> Bool {
        guard words32[address] != nil else { return false }
        words32[address] = value
        return true
    }
    func compareExchange32(_ address: UInt64, expected: UInt32, desired: UInt32) -> UInt32? {
        swaps += 1
        if address == racyAddress && !raced {
            raced = true
            words32[address] = raceValue
        }
        guard let found = words32[address] else { return nil }
        if found == expected { words32[address] = desired }
        return found
    }
}

private func failureValue<T>(_ result: Result<T, Errno>) -> Errno? {
    if case .failure(let e) = result { return e }
    return nil
}

final class FutexAtomicTests: XCTestCase {
    func testCompareExchangeSwapsOnlyWhenTheWordMatches() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: pageSize)
        let word = UserAddress(base + 8)
        XCTAssertNil(m.space.writeUInt32(word, 5))
        XCTAssertEqual(successValue(m.space.compareExchangeUInt32(word, expected: 4, desired: 9)), 5)
        XCTAssertEqual(m.space.load32(word.value), 5, "a mismatch leaves the word alone")
        XCTAssertEqual(successValue(m.space.compareExchangeUInt32(word, expected: 5, desired: 9)), 5)
        XCTAssertEqual(m.space.load32(word.value), 9)
    }

    func testCompareExchangeRefusesMisalignedAndUnmappedWords() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: pageSize)
        XCTAssertEqual(failureValue(m.space.compareExchangeUInt32(UserAddress(base + 2), expected: 0, desired: 1)), .EINVAL)
        XCTAssertEqual(failureValue(m.space.compareExchangeUInt32(UserAddress(base + 16 * pageSize), expected: 0, desired: 1)), .EFAULT)
        let readOnly = m.mapAnonymous(length: pageSize, protection: .read)
        XCTAssertEqual(failureValue(m.space.compareExchangeUInt32(UserAddress(readOnly), expected: 0, desired: 1)), .EFAULT)
    }

    func testCompareExchangeOnACopyOnWritePageWritesOnlyThisProcesssCopy() {
        let m = TestMachine()
        let base = m.mapAnonymous(length: pageSize)
        XCTAssertNil(m.space.writeUInt32(UserAddress(base), 7))
        guard let child = m.space.forkCopy() else { return XCTFail("forkCopy failed") }
        XCTAssertEqual(successValue(child.compareExchangeUInt32(UserAddress(base), expected: 7, desired: 8)), 7)
        XCTAssertEqual(child.load32(base), 8)
        XCTAssertEqual(m.space.load32(base), 7, "the parent's word must not change")
    }

    /// handle_futex_death's retry: a waiter sets FUTEX_WAITERS between the read and the
    /// swap; the word ends OWNER_DIED with WAITERS kept, and the waiter is woken.
    func testRobustDeathRereadsAWordChangedUnderIt() {
        let m = RacingFutexMemory()
        m.words64[0x1000] = 0x2000
        m.words64[0x1008] = 8
        m.words64[0x1010] = 0
        m.words64[0x2000] = 0x1000
        m.words32[0x2008] = 42
        m.racyAddress = 0x2008
        m.raceValue = 42 | FutexWord.waiters
        var woken: [UInt64] = []
        let marked = RobustList.release(head: 0x1000, tid: 42, memory: m) { woken.append($0) }
        XCTAssertEqual(marked, [0x2008])
        XCTAssertEqual(m.words32[0x2008], FutexWord.ownerDied | FutexWord.waiters,
                       "a plain store would have lost the FUTEX_WAITERS bit")
        XCTAssertEqual(woken, [0x2008])
        XCTAssertEqual(m.swaps, 2)
    }

    /// The owner changed (another thread took the word in user space) before the swap:
    /// nothing is marked.
    func testRobustDeathLeavesAWordThatChangedOwner() {
        let m = RacingFutexMemory()
        m.words64[0x1000] = 0x2000
        m.words64[0x1008] = 8
        m.words64[0x1010] = 0
        m.words64[0x2000] = 0x1000
        m.words32[0x2008] = 42
        m.racyAddress = 0x2008
        m.raceValue = 43
        let marked = RobustList.release(head: 0x1000, tid: 42, memory: m) { _ in }
        XCTAssertEqual(marked, [])
        XCTAssertEqual(m.words32[0x2008], 43)
    }

    /// Regression: FUTEX_REQUEUE reset each moved waiter's bitset to all ones (Linux's
    /// requeue_futex moves the whole futex_q). Requeue-PI waiters (bitset 0) never move
    /// with a plain requeue nor wake with a plain wake.
    func testRequeueKeepsBitsetsAndLeavesRequeuePIWaiters() {
        var t = FutexTable()
        t.enqueue(address: 1, tid: 10, bitset: 0)       // FUTEX_WAIT_REQUEUE_PI
        t.enqueue(address: 1, tid: 11, bitset: 1)
        t.enqueue(address: 1, tid: 12, bitset: 2)
        XCTAssertEqual(t.requeue(from: 1, to: 2, count: 5), 2)
        XCTAssertTrue(t.isWaiting(address: 1, tid: 10))
        XCTAssertEqual(t.take(address: 2, count: 5, bitset: 2), [12])
        XCTAssertEqual(t.take(address: 2, count: 5, bitset: 1), [11])
        XCTAssertEqual(t.take(address: 1, count: 5), [], "a plain wake must not take a requeue-PI waiter")
        XCTAssertTrue(t.isWaiting(address: 1, tid: 10))
    }
}
