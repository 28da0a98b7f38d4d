// ProgramLoaderTests — boot bundle → runnable process (Sources/KernelCore/Process/ProgramLoader.swift)
// with a hand-made two-segment ELF in FakePhysicalMemory: image pages and rights, .bss, the
// brk start, the stack and the initial argc/argv/envp/auxv block (System V x86-64 ABI §3.4.1).
@testable import KernelCore
import ELF
import LinuxABI
import XCTest

final class ProgramLoaderTests: XCTestCase {
    static let entry: UInt64 = 0x40_0100
    static let code: [UInt8] = [0x48, 0x31, 0xFF, 0xB8, 0xE7, 0x00, 0x00, 0x00, 0x0F, 0x05]  // exit_group(0)
    static let data: [UInt8] = Array("initialised data".utf8)   // 16 bytes at 0x401010

    /// ELF64 ET_EXEC: PT_LOAD r-x [0x400000, +0x200) from offset 0, PT_LOAD rw- at 0x401010
    /// with 16 file bytes and 0x3000 bytes in memory (the rest is .bss).
    static func makeELF() -> [UInt8] {
        var w = ByteWriter()
        for b in [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] as [UInt8] { w.u8(b) }
        w.zeros(8)
        w.u16(2); w.u16(62); w.u32(1)          // ET_EXEC, EM_X86_64, EV_CURRENT
        w.u64(entry); w.u64(64); w.u64(0)      // e_entry, e_phoff, e_shoff
        w.u32(0); w.u16(64); w.u16(56); w.u16(2); w.u16(0); w.u16(0); w.u16(0)
        func phdr(flags: UInt32, offset: UInt64, address: UInt64, fileSize: UInt64, memorySize: UInt64) {
            w.u32(1); w.u32(flags); w.u64(offset); w.u64(address); w.u64(address)
            w.u64(fileSize); w.u64(memorySize); w.u64(0x1000)
        }
        phdr(flags: 5, offset: 0, address: 0x40_0000, fileSize: 0x200, memorySize: 0x200)
        phdr(flags: 6, offset: 0x1010, address: 0x40_1010, fileSize: 16, memorySize: 0x3000)
        var bytes = w.bytes
        bytes += [UInt8](repeating: 0xCC, count: 0x100 - bytes.count)
        bytes += code
        bytes += [UInt8](repeating: 0xCC, count: 0x1010 - bytes.count)
        bytes += data
        return bytes
    }

    var machine: TestMachine!
    let platform = FakePlatform()
    static let bundleBase: UInt64 = 0x1000  // below the allocator's low reserve: never handed out

    override func setUp() { machine = TestMachine() }

    func load(_ records: [(BootBundleRecordKind, [UInt8])]) -> Result<LoadedProgram, LoadError> {
        let bundle = BootBundle.build(records)
        machine.memory.write(Self.bundleBase, from: bundle, offset: 0, count: bundle.count)
        return ProgramLoader.load(bundle: PhysicalBytes(memory: machine.memory, base: Self.bundleBase, count: bundle.count),
                                  kernelTable: machine.kernelTable, memory: machine.memory, frames: machine.pool,
                                  platform: platform)
    }

    func loadSample() -> LoadedProgram? {
        switch load([(.executable, Self.makeELF()), (.argument, Array("prog".utf8)), (.argument, Array("-x".utf8)),
                     (.environment, Array("A=B".utf8)), (.executablePath, Array("/bin/prog".utf8))]) {
        case .success(let p): return p
        case .failure(let e):
            XCTFail("load failed: \(e.message)")
            return nil
        }
    }

    func cString(_ space: AddressSpace, _ address: UInt64) -> String? {
        guard case .success(let b) = space.readCString(UserAddress(address)) else { return nil }
        return String(decoding: b, as: UTF8.self)
    }

    func testELFChecksUseTheKernelsUserTop() {
        // ELF refuses segments above the user space the loader gives the guest: one limit.
        XCTAssertEqual(ELFConstants.userAddressLimit, ProgramLoader.stackTop)
    }

    func testImageIsCopiedWithRights() {
        guard let p = loadSample() else { return }
        let space = p.process.addressSpace
        XCTAssertEqual(p.entry, Self.entry)
        assertSuccess(space.copyIn(UserAddress(Self.entry), count: Self.code.count), Self.code)
        assertSuccess(space.copyIn(UserAddress(0x40_1010), count: 16), Self.data)
        XCTAssertEqual(space.copyOut(UserAddress(Self.entry), from: [0x90]), .EFAULT, "text is read-only")
        XCTAssertNil(space.copyOut(UserAddress(0x40_1010), from: [0x90]), "data is writable")
        let text = space.pageTable.translate(Self.entry)!
        XCTAssertFalse(text.flags.contains(.noExecute))
        XCTAssertTrue(space.pageTable.translate(0x40_1010)!.flags.contains(.noExecute))
        // Bytes of the file page that lie outside the data segment are zero, like the .bss.
        assertSuccess(space.copyIn(UserAddress(0x40_1000), count: 16), [UInt8](repeating: 0, count: 16))
        assertSuccess(space.copyIn(UserAddress(0x40_1020), count: 0x2FF0), [UInt8](repeating: 0, count: 0x2FF0))
        assertSuccess(space.copyIn(UserAddress(0x40_4FFF), count: 1), [0])  // rest of the last page
        assertFailure(space.copyIn(UserAddress(0x40_5000), count: 1), .EFAULT)
    }

    func testBreakStartsAfterTheImageAndStackIsAtTheTop() {
        guard let p = loadSample() else { return }
        let map = p.process.addressSpace.map
        XCTAssertEqual(map.breakStart, 0x40_5000)
        XCTAssertEqual(map.currentBreak, 0x40_5000)
        let stack = map.area(containing: ProgramLoader.stackTop - 1)
        XCTAssertEqual(stack?.name, "[stack]")
        XCTAssertEqual(stack?.range.length, ProgramLoader.stackSize)
        XCTAssertLessThan(p.stackPointer, ProgramLoader.stackTop)
        XCTAssertEqual(p.stackPointer % 16, 0, "ABI: rsp 16-byte aligned at process entry")
        XCTAssertEqual(p.process.executablePath, Array("/bin/prog".utf8))
        XCTAssertTrue(map.renderMaps().contains("[stack]"))
    }

    func testInitialStackHoldsArgvEnvpAndAuxv() {
        guard let p = loadSample() else { return }
        let space = p.process.addressSpace
        func word(_ i: Int) -> UInt64 {
            successValue(space.readUInt64(UserAddress(p.stackPointer + UInt64(8 * i)))) ?? 0
        }
        XCTAssertEqual(word(0), 2, "argc")
        XCTAssertEqual(cString(space, word(1)), "prog")
        XCTAssertEqual(cString(space, word(2)), "-x")
        XCTAssertEqual(word(3), 0)
        XCTAssertEqual(cString(space, word(4)), "A=B")
        XCTAssertEqual(word(5), 0)
        var auxv: [(UInt64, UInt64)] = []
        var i = 6
        while word(i) != 0 && i < 200 { auxv.append((word(i), word(i + 1))); i += 2 }
        func aux(_ type: UInt64) -> UInt64? { auxv.first { $0.0 == type }?.1 }
        XCTAssertEqual(aux(9), Self.entry, "AT_ENTRY")
        XCTAssertEqual(aux(6), 4096, "AT_PAGESZ")
        XCTAssertEqual(aux(3), 0x40_0040, "AT_PHDR: the headers are in the first segment")
        XCTAssertEqual(aux(5), 2, "AT_PHNUM")
        XCTAssertEqual(cString(space, aux(31) ?? 0), "/bin/prog", "AT_EXECFN")
        XCTAssertEqual(cString(space, aux(15) ?? 0), "x86_64", "AT_PLATFORM")
        if let random = aux(25) {
            let bytes = successValue(space.copyIn(UserAddress(random), count: 16)) ?? []
            XCTAssertNotEqual(bytes, [UInt8](repeating: 0, count: 16), "AT_RANDOM from the platform")
        } else {
            XCTFail("no AT_RANDOM")
        }
    }

    func testArgvDefaultsToThePath() {
        guard case .success(let p) = load([(.executable, Self.makeELF())]) else { return XCTFail("load") }
        let space = p.process.addressSpace
        XCTAssertEqual(successValue(space.readUInt64(UserAddress(p.stackPointer))), 1)
        let argv0 = successValue(space.readUInt64(UserAddress(p.stackPointer + 8))) ?? 0
        XCTAssertEqual(cString(space, argv0), "/program")
    }

    func testBadBundleAndBadELFAreReported() {
        guard case .failure(.bundle(.missingExecutable)) = load([(.argument, [0x61])]) else {
            return XCTFail("expected missingExecutable")
        }
        guard case .failure(.elf(.notELF)) = load([(.executable, Array("#!/bin/sh\n".utf8))]) else {
            return XCTFail("expected notELF")
        }
        var wrongMachine = Self.makeELF()
        wrongMachine[18] = 40  // EM_ARM
        guard case .failure(.elf(.wrongMachine(40))) = load([(.executable, wrongMachine)]) else {
            return XCTFail("expected wrongMachine")
        }
    }

    func testOutOfMemoryIsReportedNotACrash() {
        while machine.pool.allocateFrame() != nil {}
        guard case .failure(.outOfMemory) = load([(.executable, Self.makeELF())]) else {
            return XCTFail("expected outOfMemory")
        }
    }

    func testPureBssPagesAreDemandZeroSoAHugeBssLoads() {
        // The data segment's memory size becomes 1 GiB: far more than the 16 MiB test RAM.
        var elf = Self.makeELF()
        let phdr2 = 64 + 56
        for i in 0..<8 { elf[phdr2 + 40 + i] = UInt8(truncatingIfNeeded: UInt64(1 << 30) >> (8 * UInt64(i))) }
        guard case .success(let p) = load([(.executable, elf)]) else { return XCTFail("a 1 GiB .bss must load") }
        let space = p.process.addressSpace
        XCTAssertEqual(space.map.area(containing: 0x40_1000)?.backing, .image(offset: 0x1000))
        XCTAssertEqual(space.map.area(containing: 0x40_2000)?.backing, .anonymous, "pure .bss is anonymous")
        XCTAssertNil(space.pageTable.translate(0x40_2000), "and not present until touched")
        assertSuccess(space.copyIn(UserAddress(0x40_1010 + (1 << 30) - 17), count: 1), [0])
        XCTAssertNil(space.copyOut(UserAddress(0x40_1010 + (1 << 29)), from: [5]))
    }

    func testHugeArgumentsAreRefusedBeforeTheyAreCopied() {
        let long = [UInt8](repeating: 0x61, count: 32 * 4096)
        guard case .failure(.stackTooLarge) = load([(.executable, Self.makeELF()), (.argument, long)]) else {
            return XCTFail("an argument of MAX_ARG_STRLEN bytes must be refused")
        }
        let many = [(BootBundleRecordKind, [UInt8])](repeating: (.environment, [UInt8](repeating: 0x62, count: 100_000)), count: 30)
        guard case .failure(.stackTooLarge) = load([(.executable, Self.makeELF())] + many) else {
            return XCTFail("3 MB of environment must be refused")
        }
    }
}
