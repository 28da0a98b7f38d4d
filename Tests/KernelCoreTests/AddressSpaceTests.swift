// AddressSpaceTests — demand paging and the one checked path for guest memory
// (Sources/KernelCore/Process/AddressSpace.swift) over a TestMachine (Fakes.swift).
@testable import KernelCore
import LinuxABI
import XCTest

final class AddressSpaceTests: XCTestCase {
    var machine: TestMachine!
    var space: AddressSpace { machine.space }

    override func setUp() { machine = TestMachine() }

    // MARK: faults

    func testDemandZeroFaultMapsAZeroedUserPage() {
        let start = machine.mapAnonymous(length: 4 * 4096)
        // Dirty the frame the fault will get, to prove it is zeroed.
        let next = machine.pool.allocateFrame()!
        machine.memory.fill(next, count: 4096, value: 0xAA)
        machine.pool.freeFrame(next)
        XCTAssertNil(space.pageTable.translate(start + 4096))
        XCTAssertEqual(space.handleFault(at: start + 4096 + 17, write: true, execute: false), .resolved)
        let t = space.pageTable.translate(start + 4096)
        XCTAssertNotNil(t)
        XCTAssertTrue(t?.flags.contains([.user, .writable, .noExecute]) ?? false)
        XCTAssertEqual(machine.memory.bytes(at: t!.physical, count: 4096), [UInt8](repeating: 0, count: 4096))
        XCTAssertEqual(space.residentPages, 1)
        XCTAssertNil(space.pageTable.translate(start), "only the faulting page is populated")
    }

    func testFaultOutsideAnyAreaIsSegmentationFault() {
        machine.mapAnonymous(at: 0x1000_0000, length: 4096, placement: .fixed)
        XCTAssertEqual(space.handleFault(at: 0x1000_1000, write: false, execute: false), .segmentationFault)
        XCTAssertEqual(space.handleFault(at: 0, write: false, execute: false), .segmentationFault)
    }

    func testWriteToReadOnlyAreaIsSegmentationFault() {
        let a = machine.mapAnonymous(length: 4096, protection: .read)
        XCTAssertEqual(space.handleFault(at: a, write: true, execute: false), .segmentationFault)
        XCTAssertEqual(space.handleFault(at: a, write: false, execute: false), .resolved)
        XCTAssertFalse(space.pageTable.translate(a)?.flags.contains(.writable) ?? true)
        XCTAssertEqual(space.handleFault(at: a, write: true, execute: false), .segmentationFault,
                       "present read-only page: a write fault stays a SIGSEGV")
    }

    func testExecuteFromNonExecutableAreaIsSegmentationFault() {
        let a = machine.mapAnonymous(length: 4096, protection: .readWrite)
        XCTAssertEqual(space.handleFault(at: a, write: false, execute: true), .segmentationFault)
    }

    func testProtNoneIsSegmentationFault() {
        let a = machine.mapAnonymous(length: 4096, protection: .none)
        XCTAssertEqual(space.handleFault(at: a, write: false, execute: false), .segmentationFault)
        XCTAssertEqual(space.handleFault(at: a, write: true, execute: false), .segmentationFault)
        XCTAssertNil(space.pageTable.translate(a))
    }

    func testOutOfMemoryWhenThePoolIsEmpty() {
        let a = machine.mapAnonymous(length: 4096)
        while machine.pool.allocateFrame() != nil {}
        XCTAssertEqual(space.handleFault(at: a, write: true, execute: false), .outOfMemory)
        var buffer: [UInt8] = []
        XCTAssertEqual(space.copyIn(UserAddress(a), count: 1, into: &buffer), .EFAULT)
    }

    // MARK: copyIn / copyOut

    func testCopyOutCopyInRoundTripAcrossPageBoundaries() {
        let a = machine.mapAnonymous(length: 4 * 4096)
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let address = a + 4096 - 100   // starts 100 bytes before a boundary, spans 3 pages
        XCTAssertNil(space.copyOut(UserAddress(address), from: data))
        var back = [UInt8](repeating: 0, count: 3)
        XCTAssertNil(space.copyIn(UserAddress(address), count: data.count, into: &back, offset: 3))
        XCTAssertEqual(Array(back[3...]), data, "copyIn grows the buffer and honours the offset")
        assertSuccess(space.copyIn(UserAddress(address + 50), count: 100), Array(data[50..<150]))
        // The bytes landed in three different frames, at the right offsets.
        let second = space.pageTable.translate(a + 4096)!.physical
        XCTAssertEqual(machine.memory.load8(second), data[100])
    }

    func testCopyOutPartialSlice() {
        let a = machine.mapAnonymous(length: 4096)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [1, 2, 3, 4, 5], offset: 1, count: 3))
        assertSuccess(space.copyIn(UserAddress(a), count: 4), [2, 3, 4, 0])
        XCTAssertEqual(space.copyOut(UserAddress(a), from: [1, 2], offset: 1, count: 2), .EINVAL)
    }

    func testCopyInFromUnmappedKernelAndNonCanonicalAddressesIsEFAULT() {
        var buffer: [UInt8] = []
        let bad: [UInt64] = [0, 0x1000, 0x5000_0000, kernelWindowBase, kernelWindowBase + 0x1000,
                             ProgramLoader.layout.userTop, 0x0000_8000_0000_0000, 0xFFFF_8000_0000_0000,
                             0xFFFF_FFFF_FFFF_F000]
        for address in bad {
            XCTAssertEqual(space.copyIn(UserAddress(address), count: 8, into: &buffer), .EFAULT,
                           String(address, radix: 16))
        }
    }

    func testKernelWindowIsNotReadableEvenThoughItIsMapped() {
        XCTAssertNotNil(space.pageTable.translate(kernelWindowBase), "the window is mapped in every space")
        assertFailure(space.copyIn(UserAddress(kernelWindowBase + 64), count: 8), .EFAULT)
        XCTAssertEqual(space.copyOut(UserAddress(kernelWindowBase), from: [1]), .EFAULT)
    }

    func testCopyRunningOffTheEndOfAnAreaIsEFAULT() {
        let a = machine.mapAnonymous(at: 0x2000_0000, length: 4096, placement: .fixed)
        assertFailure(space.copyIn(UserAddress(a + 4000), count: 200), .EFAULT)
        XCTAssertEqual(space.copyOut(UserAddress(a + 4000), from: [UInt8](repeating: 1, count: 200)), .EFAULT)
    }

    func testCopyWrappingAroundTheAddressSpaceIsEFAULT() {
        var buffer: [UInt8] = []
        XCTAssertEqual(space.copyIn(UserAddress(UInt64.max - 3), count: 16, into: &buffer), .EFAULT)
    }

    func testCopyOutIntoReadOnlyAreaIsEFAULT() {
        let a = machine.mapAnonymous(length: 2 * 4096, protection: .read)
        XCTAssertEqual(space.copyOut(UserAddress(a), from: [1, 2, 3]), .EFAULT)
        // Reading it is fine (demand-zero).
        assertSuccess(space.copyIn(UserAddress(a), count: 3), [0, 0, 0])
        XCTAssertEqual(space.copyOut(UserAddress(a), from: [1, 2, 3]), .EFAULT, "also once present")
    }

    func testNegativeCountIsEINVAL() {
        let a = machine.mapAnonymous(length: 4096)
        var buffer: [UInt8] = []
        XCTAssertEqual(space.copyIn(UserAddress(a), count: -1, into: &buffer), .EINVAL)
    }

    func testUInt64AndUInt32Helpers() {
        let a = machine.mapAnonymous(length: 4096)
        XCTAssertNil(space.writeUInt64(UserAddress(a + 4088), 0x0102_0304_0506_0708))
        assertSuccess(space.readUInt64(UserAddress(a + 4088)), 0x0102_0304_0506_0708)
        assertSuccess(space.copyIn(UserAddress(a + 4088), count: 2), [0x08, 0x07])
        XCTAssertNil(space.writeUInt32(UserAddress(a), 0xDEAD_BEEF))
        assertSuccess(space.copyIn(UserAddress(a), count: 4), [0xEF, 0xBE, 0xAD, 0xDE])
        assertFailure(space.readUInt64(UserAddress(a + 4092)), .EFAULT)
    }

    // MARK: readCString

    func testReadCString() {
        let a = machine.mapAnonymous(length: 4096)
        XCTAssertNil(space.copyOut(UserAddress(a), from: Array("hello\0world\0".utf8)))
        assertSuccess(space.readCString(UserAddress(a)), Array("hello".utf8))
        assertSuccess(space.readCString(UserAddress(a + 6)), Array("world".utf8))
        assertSuccess(space.readCString(UserAddress(a + 5)), [])  // empty string
    }

    func testReadCStringSpanningPages() {
        let a = machine.mapAnonymous(length: 3 * 4096)
        let text = Array(String(repeating: "abcdefgh", count: 700).utf8)  // 5600 bytes
        XCTAssertNil(space.copyOut(UserAddress(a + 4000), from: text + [0]))
        assertSuccess(space.readCString(UserAddress(a + 4000), maximum: 8192), text)
    }

    func testReadCStringTooLongIsENAMETOOLONG() {
        let a = machine.mapAnonymous(length: 3 * 4096)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [UInt8](repeating: 0x41, count: 6000)))
        assertFailure(space.readCString(UserAddress(a)), .ENAMETOOLONG)
        assertFailure(space.readCString(UserAddress(a), maximum: 10), .ENAMETOOLONG)
    }

    func testReadCStringLimitFollowsPathMax() {
        // Linux's getname: a path of PATH_MAX-1 bytes plus its NUL fits, PATH_MAX bytes do not.
        let a = machine.mapAnonymous(length: 3 * 4096)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [UInt8](repeating: 0x41, count: 4095) + [0]))
        XCTAssertEqual(successValue(space.readCString(UserAddress(a)))?.count, 4095)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [UInt8](repeating: 0x41, count: 4096) + [0]))
        assertFailure(space.readCString(UserAddress(a)), .ENAMETOOLONG)
    }

    func testReadCStringRunningIntoUnmappedMemoryIsEFAULT() {
        let a = machine.mapAnonymous(at: 0x3000_0000, length: 4096, placement: .fixed)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [UInt8](repeating: 0x41, count: 4096)))
        assertFailure(space.readCString(UserAddress(a + 4000)), .EFAULT)
        assertFailure(space.readCString(UserAddress(0)), .EFAULT)
        assertFailure(space.readCString(UserAddress(kernelWindowBase)), .EFAULT)
    }

    // MARK: release and reprotect

    func testReleaseFreesFramesBackToThePool() {
        let before = machine.freeFrames
        let a = machine.mapAnonymous(length: 8 * 4096)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [UInt8](repeating: 7, count: 8 * 4096)))
        XCTAssertEqual(space.residentPages, 8)
        let used = before - machine.freeFrames
        XCTAssertGreaterThanOrEqual(used, 8)
        space.release(AddressRange(start: a, end: a + 8 * 4096))
        XCTAssertEqual(space.residentPages, 0)
        XCTAssertEqual(before - machine.freeFrames, used - 8, "the 8 data frames are back; tables stay")
        XCTAssertNil(space.pageTable.translate(a))
        // The area still exists: touching it again gives fresh zeroes.
        assertSuccess(space.copyIn(UserAddress(a), count: 2), [0, 0])
    }

    func testReprotectToReadOnlyThenBack() {
        let a = machine.mapAnonymous(length: 4096)
        XCTAssertNil(space.copyOut(UserAddress(a), from: [9, 8, 7]))
        _ = space.map.protect(start: a, length: 4096, protection: .read)
        space.reprotect(AddressRange(start: a, end: a + 4096), to: .read)
        XCTAssertEqual(space.copyOut(UserAddress(a), from: [1]), .EFAULT)
        assertSuccess(space.copyIn(UserAddress(a), count: 3), [9, 8, 7])
        _ = space.map.protect(start: a, length: 4096, protection: .none)
        space.reprotect(AddressRange(start: a, end: a + 4096), to: .none)
        assertFailure(space.copyIn(UserAddress(a), count: 1), .EFAULT)
        _ = space.map.protect(start: a, length: 4096, protection: .readWrite)
        space.reprotect(AddressRange(start: a, end: a + 4096), to: .readWrite)
        assertSuccess(space.copyIn(UserAddress(a), count: 3), [9, 8, 7])  // PROT_NONE kept the contents
        XCTAssertNil(space.copyOut(UserAddress(a), from: [1]))
    }
}
