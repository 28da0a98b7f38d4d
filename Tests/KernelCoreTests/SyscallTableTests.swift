// SyscallTableTests — the number → handler table (Sources/KernelCore/Syscalls/SyscallTable.swift):
// ENOSYS for holes, registration through the same table as the built-ins, wrapping a
// built-in, and the rax encoding of results.
@testable import KernelCore
import LinuxABI
import XCTest

final class SyscallTableTests: XCTestCase {
    func testUnknownNumberIsENOSYS() {
        let k = TestKernel()
        assertFailure(k.state.dispatch(SyscallArguments(number: 335)), .ENOSYS)  // unused gap on x86-64
        assertFailure(k.state.dispatch(SyscallArguments(number: 511)), .ENOSYS)
        assertFailure(k.state.dispatch(SyscallArguments(number: 512)), .ENOSYS)
        assertFailure(k.state.dispatch(SyscallArguments(number: -1)), .ENOSYS)
        assertFailure(k.state.dispatch(SyscallArguments(number: Int.max)), .ENOSYS)
        XCTAssertTrue(k.platform.consoleOutput.isEmpty)
    }

    func testEmptyTableAnswersENOSYSEvenForBuiltinNumbers() {
        let k = TestKernel()
        let empty = SyscallTable()
        XCTAssertNil(empty.handler(for: SyscallNumber.getpid.rawValue))
        assertFailure(empty.dispatch(k.state, SyscallArguments(number: SyscallNumber.getpid.rawValue)), .ENOSYS)
    }

    func testRegisterNewNumberAndSeeArguments() {
        let k = TestKernel()
        var seen: [UInt64] = []
        let previous = k.state.syscalls.register(400) { _, a in
            seen = [a[0], a[1], a[2], a[3], a[4], a[5]]
            return a.int(0) + a.int(5)
        }
        XCTAssertNil(previous, "nothing was registered at 400")
        assertSuccess(k.state.dispatch(SyscallArguments(number: 400, 40, 2, 3, 4, 5, 2)), 42)
        XCTAssertEqual(seen, [40, 2, 3, 4, 5, 2])
    }

    func testRegisterReturnsThePreviousHandlerSoAWrapperCanCallIt() {
        // Like eggos's uname wrapper: change one field of the built-in answer.
        let k = TestKernel()
        guard let original = k.state.syscalls.register(.uname, { _, _ throws(Errno) -> Int in throw .EPERM }) else {
            return XCTFail("uname must have a built-in handler")
        }
        let mine = k.state.syscalls.register(.uname) { state, a throws(Errno) -> Int in
            let result = try original(state, a)
            let nodename = Array("wrapped".utf8) + [0]
            if let e = state.memory.copyOut(a.address(0).advanced(by: 65), from: nodename) { throw e }
            return result
        }
        XCTAssertNotNil(mine, "the second register returns the first replacement")
        assertFailure(SyscallTable.invoke(mine!, k.state, SyscallArguments(number: 63, k.scratch)), .EPERM)
        assertSuccess(k.call(.uname, k.scratch), 0)
        let bytes = k.peek(k.scratch, count: 390)
        XCTAssertEqual(Array(bytes[0..<6]), Array("Linux\0".utf8), "sysname from the original")
        XCTAssertEqual(Array(bytes[65..<73]), Array("wrapped\0".utf8), "nodename from the wrapper")
    }

    func testNumbersOutsideTheTableAreRefused() {
        var table = SyscallTable()
        var called = false
        XCTAssertNil(table.register(-1) { _, _ in called = true; return 0 })
        XCTAssertNil(table.register(SyscallTable.capacity) { _, _ in called = true; return 0 })
        XCTAssertNil(table.handler(for: -1))
        XCTAssertNil(table.handler(for: SyscallTable.capacity))
        let k = TestKernel()
        assertFailure(table.dispatch(k.state, SyscallArguments(number: SyscallTable.capacity)), .ENOSYS)
        XCTAssertFalse(called)
        table.register(SyscallTable.capacity - 1) { _, _ in 7 }
        assertSuccess(table.dispatch(k.state, SyscallArguments(number: SyscallTable.capacity - 1)), 7)
    }

    func testTableCoversEveryDefinedNumber() {
        XCTAssertGreaterThanOrEqual(SyscallTable.capacity, SyscallNumber.tableSize)
    }

    func testEncode() {
        XCTAssertEqual(SyscallTable.encode(.success(0)), 0)
        XCTAssertEqual(SyscallTable.encode(.success(0x7FFF_F000_0000)), 0x7FFF_F000_0000)
        XCTAssertEqual(SyscallTable.encode(.failure(.ENOSYS)), UInt64(bitPattern: -38))
        XCTAssertEqual(SyscallTable.encode(.failure(.EFAULT)), 0xFFFF_FFFF_FFFF_FFF2)
        XCTAssertEqual(SyscallTable.encode(.failure(.EPERM)), UInt64.max)
        // A user-space errno check (rax in [-4095, -1]) must see failures and only them.
        let failure = SyscallTable.encode(.failure(.EINVAL))
        XCTAssertTrue(failure >= UInt64(bitPattern: -4095))
        XCTAssertFalse(SyscallTable.encode(.success(Int(ProgramLoader.stackTop))) >= UInt64(bitPattern: -4095))
    }

    func testTypedArgumentViews() {
        let a = SyscallArguments(number: 0, UInt64(bitPattern: -100), 0xFFFF_FFFF, 0x1_0000_0005, 3)
        XCTAssertEqual(a.int(0), -100)
        XCTAssertEqual(a.int32(1), -1)
        XCTAssertThrowsError(try a.fd(1)) { XCTAssertEqual($0 as? Errno, .EBADF) }
        XCTAssertEqual(try a.fd(2), 5)  // only the low 32 bits name the descriptor
        XCTAssertEqual(try a.flags(3, known: 3), 3)
        XCTAssertThrowsError(try a.flags(3, known: 1)) { XCTAssertEqual($0 as? Errno, .EINVAL) }
        XCTAssertEqual(a[6], a[5])
    }

    func testFlagSetArgumentsRejectUnknownBits() {
        // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH decodes; an undefined bit (0x1) is EINVAL, and the
        // upper half of the register (undefined for a C int) is ignored.
        let good = SyscallArguments(number: 0, 0xFFFF_FFFF_0000_0000 | 0x1100)
        XCTAssertEqual(try good.flags(0, as: AtFlags.self), [.AT_SYMLINK_NOFOLLOW, .AT_EMPTY_PATH])
        let bad = SyscallArguments(number: 0, 0x1101)
        XCTAssertThrowsError(try bad.flags(0, as: AtFlags.self)) { XCTAssertEqual($0 as? Errno, .EINVAL) }
    }

    func testWrapHandsOverTheOriginalOrUnimplemented() {
        let k = TestKernel()
        XCTAssertTrue(k.state.syscalls.wrap(450) { state, a, original throws(Errno) -> Int in
            if case .failure(.ENOSYS) = SyscallTable.invoke(original, state, a) { return 77 }
            return -1
        })
        assertSuccess(k.state.dispatch(SyscallArguments(number: 450)), 77)
        XCTAssertFalse(k.state.syscalls.wrap(SyscallTable.capacity) { _, _, _ in 0 })
    }
}
