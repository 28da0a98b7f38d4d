// ExecSyscallTests — execve/execveat (Sources/KernelCore/Syscalls/ExecSyscalls.swift) on a
// TestKernel: the new image replaces the old in the same AddressSpace, close-on-exec
// descriptors close, caught signals reset, the registers start at the entry point with argv
// on the new stack; and every error before the point of no return leaves the caller intact.
@testable import KernelCore
import ELF
import LinuxABI
import XCTest

final class ExecSyscallTests: XCTestCase {
    var k: TestKernel!
    var fs: FileSystem { k.state.files.fileSystem }

    override func setUp() {
        k = TestKernel()
        _ = k.state.fileBlocks
        fs.writeFile(Array("/bin/prog".utf8), contents: ProgramLoaderTests.makeELF(), permissions: 0o755)
    }

    /// argv/envp arrays in scratch memory; returns (path, argv, envp) addresses.
    func arguments(path: String, argv: [String], envp: [String]) -> (UInt64, UInt64, UInt64) {
        var offset: UInt64 = 0x2000
        func string(_ s: String) -> UInt64 {
            let a = k.pokeString(s, at: offset)
            offset += UInt64(s.utf8.count + 1)
            return a
        }
        let p = string(path)
        let argvPointers = argv.map(string), envPointers = envp.map(string)
        let argvAddress = k.poke(le64(argvPointers + [0]), at: 0x100)
        let envAddress = k.poke(le64(envPointers + [0]), at: 0x800)
        return (p, argvAddress, envAddress)
    }

    func le64(_ values: [UInt64]) -> [UInt8] {
        var w = ByteWriter()
        for v in values { w.u64(v) }
        return w.bytes
    }

    func exec(_ path: String, _ argv: [String] = ["prog"], _ envp: [String] = []) -> SyscallResult {
        let (p, a, e) = arguments(path: path, argv: argv, envp: envp)
        return k.call(.execve, p, a, e)
    }

    /// argv as the new image's initial stack holds it.
    func newArguments() -> [String] {
        let sp = k.platform.registers.rsp
        guard case .success(let argc) = k.space.readUInt64(UserAddress(sp)) else { XCTFail("no argc"); return [] }
        var out: [String] = []
        for i in 0..<Int(argc) {
            guard case .success(let p) = k.space.readUInt64(UserAddress(sp + 8 + UInt64(i) * 8)),
                  case .success(let s) = k.space.readCString(UserAddress(p)) else { XCTFail("argv[\(i)]"); return out }
            out.append(String(decoding: s, as: UTF8.self))
        }
        return out
    }

    var scratchIsMapped: Bool {
        if case .success = k.space.copyIn(UserAddress(k.scratch), count: 1) { return true }
        return false
    }

    func testExecLoadsTheNewImageIntoTheSameAddressSpace() {
        let root = k.space.pageTable.root
        assertSuccess(exec("/bin/prog", ["prog", "two words"], ["A=1"]), 0)
        XCTAssertEqual(k.platform.registers.rip, ProgramLoaderTests.entry)
        XCTAssertEqual(k.platform.registers.rax, 0)
        XCTAssertEqual(newArguments(), ["prog", "two words"])
        XCTAssertEqual(k.space.pageTable.root, root)
        XCTAssertFalse(scratchIsMapped, "the old program's mappings survived exec")
        XCTAssertEqual(k.space.copyIn(UserAddress(ProgramLoaderTests.entry), count: ProgramLoaderTests.code.count),
                       .success(ProgramLoaderTests.code))
        XCTAssertEqual(k.state.process.executablePath, Array("/bin/prog".utf8))
        XCTAssertTrue(k.state.process.executableInode === (try? fs.resolve(Array("/bin/prog".utf8), from: fs.root).get()))
    }

    func testExecClosesCloseOnExecDescriptorsAndKeepsTheOthers() {
        let path = k.pokeString("/bin/prog", at: 0x3000)
        let closing = successValue(k.call(.openat, UInt64(bitPattern: -100), path, 0o2000000)) ?? -1   // O_CLOEXEC
        let staying = successValue(k.call(.openat, UInt64(bitPattern: -100), path, 0)) ?? -1
        assertSuccess(exec("/bin/prog"), 0)
        XCTAssertNil(k.state.files[closing])
        XCTAssertNotNil(k.state.files[staying])
    }

    func testExecResetsCaughtSignalsKeepsIgnoredOnesMaskAndPending() {
        k.state.signalHandlers[10] = 0x40_1234      // caught
        k.state.signalFlags[10] = 0x0400_0000
        k.state.signalHandlers[12] = 1              // SIG_IGN
        k.state.currentThread.signalMask = 1 << 9
        k.state.currentThread.pendingSignals = 1 << 9
        k.state.currentThread.alternateStack = (0x5000, 0x4000, 0)
        k.state.currentThread.clearChildTID = 0x1234
        k.platform.setFSBase(0x7777)
        assertSuccess(exec("/bin/prog"), 0)
        XCTAssertEqual(k.state.signalHandlers[10], 0)
        XCTAssertEqual(k.state.signalFlags[10], 0)
        XCTAssertEqual(k.state.signalHandlers[12], 1)
        XCTAssertEqual(k.state.currentThread.signalMask, 1 << 9)
        XCTAssertEqual(k.state.currentThread.pendingSignals, 1 << 9)
        XCTAssertEqual(k.state.currentThread.alternateStack.flags, 2)
        XCTAssertEqual(k.state.currentThread.clearChildTID, 0)
        XCTAssertEqual(k.platform.fsBase(), 0)
    }

    func testScriptRunsItsInterpreterWithTheScriptPathAsArgument() {
        fs.writeFile(Array("/s.sh".utf8), contents: Array("#!/bin/prog -a b\necho\n".utf8), permissions: 0o755)
        assertSuccess(exec("/s.sh", ["ignored", "x"]), 0)
        XCTAssertEqual(newArguments(), ["/bin/prog", "-a b", "/s.sh", "x"])
        XCTAssertEqual(k.state.process.executablePath, Array("/bin/prog".utf8))
    }

    func testErrorsLeaveTheCallerIntact() {
        fs.writeFile(Array("/noexec".utf8), contents: ProgramLoaderTests.makeELF(), permissions: 0o644)
        fs.writeFile(Array("/garbage".utf8), contents: Array("\u{1}\u{2} no".utf8), permissions: 0o755)
        fs.writeFile(Array("/loop".utf8), contents: Array("#!/loop\n".utf8), permissions: 0o755)
        fs.writeFile(Array("/empty-shebang".utf8), contents: Array("#! \n".utf8), permissions: 0o755)
        fs.writeFile(Array("/missing-interp".utf8), contents: Array("#!/nowhere\n".utf8), permissions: 0o755)
        assertFailure(exec("/nonexistent"), .ENOENT)
        assertFailure(exec(""), .ENOENT)
        assertFailure(exec("/"), .EACCES)
        assertFailure(exec("/noexec"), .EACCES)
        assertFailure(exec("/garbage"), .ENOEXEC)
        assertFailure(exec("/empty-shebang"), .ENOEXEC)
        assertFailure(exec("/loop"), .ELOOP)
        assertFailure(exec("/missing-interp"), .ENOENT)
        // One string over MAX_ARG_STRLEN (32 pages), in a mapping of its own.
        let big = k.machine.mapAnonymous(length: 40 * 4096)
        XCTAssertNil(k.space.copyOut(UserAddress(big), from: [UInt8](repeating: 0x61, count: 33 * 4096) + [0]))
        let (p0, _, e0) = arguments(path: "/bin/prog", argv: [], envp: [])
        let hugeArgv = k.poke(le64([big, 0]), at: 0x1000)
        assertFailure(k.call(.execve, p0, hugeArgv, e0), .E2BIG)
        let (p, _, e) = arguments(path: "/bin/prog", argv: [], envp: [])
        assertFailure(k.call(.execve, p, 8, e), .EFAULT)
        assertFailure(k.call(.execve, 8, 0, 0), .EFAULT)
        assertFailure(k.call(.execveat, UInt64(bitPattern: -100), p, 0, 0, 4), .EINVAL)
        XCTAssertTrue(scratchIsMapped)
        XCTAssertEqual(k.state.process.executablePath, Array(TestKernel.executablePath.utf8))
    }

    func testScriptChainsFiveDeepButNotSix() {
        // /c1 → /c2 → ... → /c5 → /bin/prog: five interpreter hops run; six are ELOOP.
        for i in 1...6 {
            let next = i == 6 ? "/bin/prog" : "/c\(i + 1)"
            fs.writeFile(Array("/c\(i)".utf8), contents: Array("#!\(next)\n".utf8), permissions: 0o755)
        }
        assertFailure(exec("/c1"), .ELOOP)
        assertSuccess(exec("/c2"), 0)
    }

    func testDynamicallyLinkedWithAMissingInterpreterIsENOENT() {
        var b = ProgramLoaderTests.makeELF()
        // Turn the second PT_LOAD into PT_INTERP naming "/lib/ld.so" at file offset 0x200.
        let interp = Array("/lib/ld.so".utf8) + [0]
        let header = 64 + 56
        b.replaceSubrange(header..<(header + 4), with: [3, 0, 0, 0])
        b.replaceSubrange((header + 8)..<(header + 16), with: le64([0x200]))
        b.replaceSubrange((header + 32)..<(header + 40), with: le64([UInt64(interp.count)]))
        b.replaceSubrange(0x200..<(0x200 + interp.count), with: interp)
        fs.writeFile(Array("/dyn".utf8), contents: b, permissions: 0o755)
        assertFailure(exec("/dyn"), .ENOENT)
        fs.writeFile(Array("/lib/ld.so".utf8), contents: ProgramLoaderTests.makeELF(), permissions: 0o755)
        assertFailure(exec("/dyn"), .ENOEXEC)
    }

    func testProcSelfExeRunsTheProcessOwnFile() {
        k.state.installRootFileSystem(archive: nil)
        k.state.process.executableInode = try? fs.resolve(Array("/bin/prog".utf8), from: fs.root).get()
        // /proc/1/exe names a path that does not exist: the magic link still reaches the file.
        assertSuccess(exec("/proc/self/exe", ["again"]), 0)
        XCTAssertEqual(newArguments(), ["again"])
        XCTAssertEqual(k.state.process.executablePath, Array(TestKernel.executablePath.utf8))
    }

    func testExecEndsTheOtherThreadsAndTheirFutexWaits() {
        let flags: UInt64 = 0x100 | 0x200 | 0x400 | 0x800 | 0x1_0000   // VM FS FILES SIGHAND THREAD
        guard let tid = successValue(k.call(.clone, flags, k.scratch + 0x8000)) else { return }
        XCTAssertEqual(k.state.scheduler.threads.count, 2)
        k.state.futexes.enqueue(address: 0x40_1010, tid: tid, bitset: 0xFFFF_FFFF)
        assertSuccess(exec("/bin/prog"), 0)
        XCTAssertEqual(k.state.scheduler.threads.map(\.tid), [1])
        XCTAssertNil(k.state.scheduler.thread(withID: tid))
        XCTAssertTrue(k.state.futexes.isEmpty, "a dead thread still waits on a futex")
    }

    /// Regression: exec left the ended threads in the process's list, so the process never
    /// ended and its parent's wait hung (Guest/c/exec_thread_test.c); and a non-leader
    /// thread keeps the leader's TID after exec (de_thread).
    func testExecFromASecondThreadTakesTheLeadersTIDAndLeavesOneThread() {
        let flags: UInt64 = 0x100 | 0x200 | 0x400 | 0x800 | 0x1_0000   // VM FS FILES SIGHAND THREAD
        guard let tid = successValue(k.call(.clone, flags, k.scratch + 0x8000)),
              let second = k.state.scheduler.thread(withID: tid) else { return XCTFail("clone") }
        k.state.scheduler.current = second
        assertSuccess(exec("/bin/prog"), 0)
        XCTAssertEqual(second.tid, 1, "the leader's TID")
        XCTAssertEqual(k.state.scheduler.threads.map(\.tid), [1])
        XCTAssertEqual(k.state.process.threads.count, 1)
        XCTAssertTrue(k.state.process.threads.first === second)
    }

    func testRepeatedExecDoesNotLeakFrames() {
        assertSuccess(exec("/bin/prog", ["a"]), 0)
        // The new image has no scratch area: arguments go on a fresh mapping each round.
        func again() {
            let area = k.machine.mapAnonymous(length: 4 * 4096)
            let path = area, argv = area + 0x100
            XCTAssertNil(k.space.copyOut(UserAddress(path), from: Array("/bin/prog".utf8) + [0]))
            XCTAssertNil(k.space.copyOut(UserAddress(argv), from: le64([path, 0])))
            assertSuccess(k.call(.execve, path, argv, 0), 0)
        }
        again()
        let free = k.machine.freeFrames
        for _ in 0..<5 { again() }
        XCTAssertEqual(k.machine.freeFrames, free, "exec leaked frames")
    }

    func testTraceShowsTheArgumentsAsTheyWereBeforeTheExec() {
        let (p, a, e) = arguments(path: "/bin/prog", argv: ["prog", "-x", "two words"], envp: ["A=1", "B=2"])
        let before = SyscallTraceFormatter.execTraceArguments(dirfd: -100, path: UserAddress(p), argv: UserAddress(a),
                                                              envp: UserAddress(e), flags: 0, isExecveat: false, memory: k.space)
        XCTAssertEqual(before, "\"/bin/prog\", [\"prog\", \"-x\", \"two words\"], 0x" + String(e, radix: 16) + " /* 2 vars */")
        SyscallTraceFormatter.execArgumentsBeforeExec = before
        assertSuccess(k.call(.execve, p, a, e), 0)
        let line = SyscallTraceFormatter().line(SyscallArguments(number: SyscallNumber.execve.rawValue, p, a, e, 0, 0, 0),
                                                result: .success(0), memory: k.space)
        XCTAssertTrue(line.hasPrefix("execve(" + before + ")"), line)
        XCTAssertNil(SyscallTraceFormatter.execArgumentsBeforeExec)
        let failed = SyscallTraceFormatter().line(SyscallArguments(number: SyscallNumber.execveat.rawValue,
                                                  UInt64(bitPattern: -100), 8, 0, 0, 0x1000, 0),
                                                  result: .failure(.EFAULT), memory: k.space)
        XCTAssertTrue(failed.hasPrefix("execveat(AT_FDCWD, 0x8, NULL, NULL, AT_EMPTY_PATH)"), failed)
    }
}
