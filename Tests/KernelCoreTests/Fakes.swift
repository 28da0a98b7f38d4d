// Fakes — host stand-ins for the hardware KernelCore and Drivers talk to (host tests only).
//
// FakePhysicalMemory is an array-backed RAM starting at physical 0 (Paging/PhysicalMemory.swift
// is the protocol); FakePlatform scripts the console, clocks and randomness (Platform.swift);
// FakePortIO is a tiny programmable port space for the drivers (Sources/Drivers/PortIO.swift).
// TestMachine wires a frame pool, a kernel page table and a user AddressSpace together the
// way Sources/Kernel/Main.swift and ProgramLoader do, so tests start from a realistic state.
import Drivers
import ELF
@testable import KernelCore
import LinuxABI
import XCTest

final class FakePhysicalMemory: PhysicalMemory {
    var ram: [UInt8]
    private(set) var invalidations: [UInt64] = []
    private(set) var activations: [UInt64] = []

    init(bytes: Int = 16 << 20) {
        ram = [UInt8](repeating: 0, count: bytes)
    }

    var size: UInt64 { UInt64(ram.count) }

    func load64(_ physical: UInt64) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(ram[Int(physical) + i]) << (8 * UInt64(i)) }
        return v
    }

    func store64(_ physical: UInt64, _ value: UInt64) {
        for i in 0..<8 { ram[Int(physical) + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    func load8(_ physical: UInt64) -> UInt8 { ram[Int(physical)] }

    func read(_ physical: UInt64, into buffer: inout [UInt8], offset: Int, count: Int) {
        let p = Int(physical)
        for i in 0..<count { buffer[offset + i] = ram[p + i] }
    }

    func write(_ physical: UInt64, from buffer: [UInt8], offset: Int, count: Int) {
        let p = Int(physical)
        for i in 0..<count { ram[p + i] = buffer[offset + i] }
    }

    func copy(from source: UInt64, to destination: UInt64, count: Int) {
        let s = Int(source), d = Int(destination)
        let bytes = Array(ram[s..<(s + count)])
        for i in 0..<count { ram[d + i] = bytes[i] }
    }

    func fill(_ physical: UInt64, count: Int, value: UInt8) {
        let p = Int(physical)
        for i in 0..<count { ram[p + i] = value }
    }

    func invalidateTranslation(_ virtualAddress: UInt64) { invalidations.append(virtualAddress) }
    func activate(root: UInt64) { activations.append(root) }
    func synchronizeTranslations() {}

    func bytes(at physical: UInt64, count: Int) -> [UInt8] {
        Array(ram[Int(physical)..<(Int(physical) + count)])
    }
}

final class FakePlatform: Platform {
    private(set) var consoleOutput: [UInt8] = []
    /// Bytes consoleTakeInput hands over (all of them, at the next call): what was "typed".
    var consoleInput: [UInt8] = []
    /// Input that arrives later: each idle() (a blocked thread waiting) moves the next chunk
    /// into consoleInput, so tests can drive blocking console reads.
    var consoleInputOnIdle: [[UInt8]] = []
    var monotonic: UInt64 = 5_000_000_000
    /// Added to `monotonic` on every monotonicNanoseconds() call, so sleeps terminate.
    var monotonicStep: UInt64 = 1_000_000
    var realtime: Int64 = 1_764_000_000_123_456_789
    private var randomState: UInt64 = 0x9E37_79B9_7F4A_7C15
    private(set) var fsBaseValue: UInt64 = 0
    private(set) var gsBaseValue: UInt64 = 0
    private(set) var idleCalls = 0
    private(set) var diagnostics: [String] = []
    private(set) var powerOffStatus: Int? = nil

    var consoleText: String { String(decoding: consoleOutput, as: UTF8.self) }

    func consoleWrite(_ bytes: [UInt8], count: Int) { consoleOutput.append(contentsOf: bytes[0..<count]) }

    func consoleTakeInput() -> [UInt8] {
        let bytes = consoleInput
        consoleInput.removeAll()
        return bytes
    }

    func monotonicNanoseconds() -> UInt64 {
        monotonic += monotonicStep
        return monotonic
    }

    func realtimeNanoseconds() -> Int64 { realtime }

    /// xorshift64*: deterministic, and different on every call.
    func fillRandom(_ buffer: inout [UInt8], count: Int) {
        for i in 0..<count {
            randomState ^= randomState >> 12
            randomState ^= randomState << 25
            randomState ^= randomState >> 27
            buffer[i] = UInt8(truncatingIfNeeded: (randomState &* 0x2545_F491_4F6C_DD1D) >> 56)
        }
    }

    func setFSBase(_ value: UInt64) { fsBaseValue = value }
    func fsBase() -> UInt64 { fsBaseValue }
    func setGSBase(_ value: UInt64) { gsBaseValue = value }
    func gsBase() -> UInt64 { gsBaseValue }
    func idle() {
        idleCalls += 1
        if !consoleInputOnIdle.isEmpty { consoleInput += consoleInputOnIdle.removeFirst() }
    }

    /// Tests never take exit paths (they cannot return); reaching this is a test failure.
    func powerOff(status: Int) -> Never {
        powerOffStatus = status
        fatalError("FakePlatform.powerOff(status: \(status)) reached in a host test")
    }

    func diagnostic(_ text: String) { diagnostics.append(text) }

    // Threads: one fake thread whose "frame" is a stored register set.
    final class FakeThreadContext: ThreadContext {}
    var registers = UserRegisters()
    private(set) var createdThreads: [(UserRegisters, UInt64)] = []
    var cpuIndex: Int { 0 }
    func currentUserRegisters() -> UserRegisters { registers }
    func setCurrentUserRegisters(_ registers: UserRegisters) { self.registers = registers }
    func initialThreadContext() -> any ThreadContext { FakeThreadContext() }
    func makeThread(registers: UserRegisters, fsBase: UInt64) -> (any ThreadContext)? {
        createdThreads.append((registers, fsBase))
        return FakeThreadContext()
    }
    func switchThread(from: any ThreadContext, to: any ThreadContext) {}
    func releaseThread(_ context: any ThreadContext) {}
    private(set) var activatedRoots: [UInt64] = []
    func activateAddressSpace(root: UInt64) { activatedRoots.append(root) }
    func captureFPUState() -> [UInt8] { [UInt8](repeating: 0, count: 512) }
    func restoreFPUState(_ image: [UInt8]) {}
}

/// A port space: reads return scripted values per port (the last one repeats), writes are logged.
final class FakePortIO: PortIO {
    struct Access: Equatable {
        let port: UInt16
        let value: UInt8
    }
    private(set) var writes: [Access] = []
    private var readScripts: [UInt16: [UInt8]] = [:]
    /// Called on each write; lets a test model a device (e.g. the CMOS index register).
    var onWrite: ((UInt16, UInt8) -> Void)? = nil
    /// Called on each read before the script; a non-nil result wins.
    var onRead: ((UInt16) -> UInt8?)? = nil

    func script(_ port: UInt16, _ values: [UInt8]) { readScripts[port] = values }

    func read8(_ port: UInt16) -> UInt8 {
        if let v = onRead?(port) { return v }
        guard var values = readScripts[port], let first = values.first else { return 0xFF }
        if values.count > 1 { values.removeFirst(); readScripts[port] = values }
        return first
    }

    func write8(_ port: UInt16, _ value: UInt8) {
        writes.append(Access(port: port, value: value))
        onWrite?(port, value)
    }
}

/// A pool, a kernel page table with the kernel window mapped, and a user address space with
/// ProgramLoader's layout, over a FakePhysicalMemory.
final class TestMachine {
    let memory: FakePhysicalMemory
    let pool: FramePool
    let kernelTable: PageTable
    let space: AddressSpace

    init(memoryBytes: Int = 16 << 20) {
        memory = FakePhysicalMemory(bytes: memoryBytes)
        let usable = AddressRange(start: 0, end: UInt64(memoryBytes))
        pool = FramePool(PhysicalFrameAllocator(usable: [usable], reserved: []))
        let kernelRoot = pool.allocateFrame()!
        memory.fill(kernelRoot, count: Int(pageSize), value: 0)
        kernelTable = PageTable(root: kernelRoot, memory: memory, frames: pool, noExecuteSupported: true)
        // The kernel window: the first 2 MiB of RAM at kernelWindowBase, as the boot code maps it.
        XCTAssertTrue(kernelTable.mapLarge(kernelWindowBase, to: 0, flags: [.writable]))
        let table = PageTable.makeUserSpace(sharingKernelHalfOf: kernelTable)!
        space = AddressSpace(map: VirtualMemoryMap(layout: ProgramLoader.layout), pageTable: table,
                             memory: memory, frames: pool)
    }

    var freeFrames: Int { pool.allocator.freeFrames }

    /// Fill every free frame with garbage, so that "zeroed" checks mean something.
    func dirtyFreeFrames(_ value: UInt8 = 0xA5) {
        var taken: [UInt64] = []
        while let f = pool.allocateFrame() {
            memory.fill(f, count: Int(pageSize), value: value)
            taken.append(f)
        }
        for f in taken { pool.freeFrame(f) }
    }

    /// An anonymous private mapping placed by the map; returns its start.
    @discardableResult
    func mapAnonymous(at address: UInt64 = 0, length: UInt64, protection: MemoryProtection = .readWrite,
                      placement: MappingPlacement = .hint) -> UInt64 {
        switch space.map.map(at: address, length: length, protection: protection, placement: placement,
                             backing: .anonymous, shared: false, name: "") {
        case .success(let r): return r.address
        case .failure(let e):
            XCTFail("mapAnonymous failed: \(e)")
            return 0
        }
    }
}

/// A KernelState on a TestMachine, for driving syscall handlers through dispatch.
final class TestKernel {
    let machine: TestMachine
    let platform = FakePlatform()
    let state: KernelState
    /// A read-write scratch area (demand-zero) for syscall arguments.
    let scratch: UInt64
    static let scratchLength: UInt64 = 16 * 4096
    static let executablePath = "/usr/bin/guest-program"

    init() {
        machine = TestMachine()
        let process = Process(pid: 1, addressSpace: machine.space,
                              executablePath: Array(TestKernel.executablePath.utf8))
        state = KernelState(platform: platform, process: process, frames: machine.pool)
        scratch = machine.mapAnonymous(length: TestKernel.scratchLength)
    }

    var space: AddressSpace { machine.space }

    func call(_ number: SyscallNumber, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0,
              _ a3: UInt64 = 0, _ a4: UInt64 = 0, _ a5: UInt64 = 0) -> SyscallResult {
        state.dispatch(SyscallArguments(number: number.rawValue, a0, a1, a2, a3, a4, a5))
    }

    /// Put bytes in guest memory (through the checked path) and return their address.
    func poke(_ bytes: [UInt8], at offset: UInt64 = 0) -> UInt64 {
        let address = scratch + offset
        XCTAssertNil(space.copyOut(UserAddress(address), from: bytes))
        return address
    }

    /// A NUL-terminated string in guest memory.
    func pokeString(_ text: String, at offset: UInt64 = 0) -> UInt64 {
        poke(Array(text.utf8) + [0], at: offset)
    }

    func peek(_ address: UInt64, count: Int) -> [UInt8] {
        switch space.copyIn(UserAddress(address), count: count) {
        case .success(let b): return b
        case .failure(let e):
            XCTFail("peek at \(String(address, radix: 16)) failed: \(e)")
            return []
        }
    }

    func peek64(_ address: UInt64) -> UInt64 {
        ByteReader(peek(address, count: 8)).u64(0)
    }
}

/// Little-endian helpers for building guest-side structs in tests.
func le64(_ values: UInt64...) -> [UInt8] {
    var w = ByteWriter()
    for v in values { w.u64(v) }
    return w.bytes
}

func assertFailure<T>(_ result: Result<T, Errno>, _ expected: Errno,
                      file: StaticString = #filePath, line: UInt = #line) {
    switch result {
    case .success(let v): XCTFail("expected \(expected), got success \(v)", file: file, line: line)
    case .failure(let e): XCTAssertEqual(e, expected, file: file, line: line)
    }
}

func assertSuccess<T: Equatable>(_ result: Result<T, Errno>, _ expected: T,
                                 file: StaticString = #filePath, line: UInt = #line) {
    switch result {
    case .success(let v): XCTAssertEqual(v, expected, file: file, line: line)
    case .failure(let e): XCTFail("expected success \(expected), got \(e)", file: file, line: line)
    }
}

func successValue<T>(_ result: Result<T, Errno>, file: StaticString = #filePath, line: UInt = #line) -> T? {
    switch result {
    case .success(let v): return v
    case .failure(let e):
        XCTFail("unexpected failure \(e)", file: file, line: line)
        return nil
    }
}
