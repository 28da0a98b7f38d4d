// EpollNestingTests — epoll instances watching epoll instances (host tests for
// Sources/KernelCore/Events/Epoll.swift): readiness propagating up, ELOOP for cycles and for
// chains of more than five instances, and EPOLLEXCLUSIVE's EINVAL cases. Guest/c/
// epoll_nested_test.c checks the same on Linux and egg.
@testable import KernelCore
import LinuxABI
import XCTest

final class EpollNestingTests: XCTestCase {
    var k: TestKernel!
    override func setUp() { k = TestKernel() }

    func create() -> Int { successValue(k.call(.epoll_create1, 0)) ?? -1 }

    func add(_ ep: Int, _ fd: Int, _ events: UInt32, op: UInt64 = 1) -> SyscallResult {
        var w = ByteWriter()
        w.u32(events); w.u64(UInt64(fd))
        return k.call(.epoll_ctl, UInt64(ep), op, UInt64(fd), k.poke(w.bytes, at: 0x100))
    }

    func testReadinessPropagatesThroughNestedInstances() {
        assertSuccess(k.call(.pipe2, k.scratch + 0x200, 0), 0)
        let r = Int(ByteReader(k.peek(k.scratch + 0x200, count: 8)).u32(0)), w = Int(ByteReader(k.peek(k.scratch + 0x200, count: 8)).u32(4))
        let inner = create(), outer = create()
        assertSuccess(add(inner, r, PollEvents.input), 0)
        assertSuccess(add(outer, inner, PollEvents.input), 0)
        assertSuccess(k.call(.epoll_wait, UInt64(outer), k.scratch + 0x300, 4, 0), 0)
        assertSuccess(k.call(.write, UInt64(w), k.poke([1], at: 0x400), 1), 1)
        assertSuccess(k.call(.epoll_wait, UInt64(outer), k.scratch + 0x300, 4, 0), 1)
        XCTAssertEqual(ByteReader(k.peek(k.scratch + 0x300, count: 12)).u64(4), UInt64(inner))
        assertFailure(add(inner, outer, PollEvents.input), .ELOOP)   // a cycle
    }

    func testChainsLongerThanFiveInstancesAreELOOP() {
        let e = (0..<7).map { _ in create() }
        for i in 0..<4 { assertSuccess(add(e[i + 1], e[i], PollEvents.input), 0) }
        assertFailure(add(e[5], e[4], PollEvents.input), .ELOOP)   // from below
        assertFailure(add(e[0], e[5], PollEvents.input), .ELOOP)   // e4>...>e0>e5: six
        assertSuccess(add(e[6], e[5], PollEvents.input), 0)
    }

    func testExclusiveIsAddOnlyWithPlainEvents() {
        assertSuccess(k.call(.pipe2, k.scratch + 0x200, 0), 0)
        let r = Int(ByteReader(k.peek(k.scratch + 0x200, count: 8)).u32(0)), w = Int(ByteReader(k.peek(k.scratch + 0x200, count: 8)).u32(4))
        let ep = create(), other = create()
        assertSuccess(add(ep, r, PollEvents.input | EpollInstance.exclusive), 0)
        assertFailure(add(ep, r, PollEvents.input | EpollInstance.exclusive, op: 3), .EINVAL)
        assertFailure(add(ep, r, PollEvents.input, op: 3), .EINVAL)
        assertFailure(add(ep, w, PollEvents.output | EpollInstance.exclusive | EpollInstance.oneShot), .EINVAL)
        assertFailure(add(ep, other, PollEvents.input | EpollInstance.exclusive), .EINVAL)
        assertSuccess(add(ep, w, PollEvents.output | EpollInstance.exclusive | EpollInstance.wakeUp | EpollInstance.edgeTriggered), 0)
    }
}
