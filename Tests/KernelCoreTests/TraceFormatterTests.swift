// TraceFormatterTests — the --trace line format (Sources/KernelCore/Trace), driven through a
// real KernelState (Fakes.swift: TestKernel). Expected lines were printed by strace 6.1 for the
// same calls on Linux (Guest/c/trace_target.c and a throwaway program), except for
// addresses and pids, which differ by machine.
@testable import KernelCore
import LinuxABI
import XCTest

final class TraceFormatterTests: XCTestCase {
    var k: TestKernel!
    var lines: [String] = []
    let formatter = SyscallTraceFormatter()

    override func setUp() {
        k = TestKernel()
        lines = []
    }

    func args(_ n: SyscallNumber, _ a: UInt64...) -> SyscallArguments {
        var v = a
        while v.count < 6 { v.append(0) }
        return SyscallArguments(number: n.rawValue, v[0], v[1], v[2], v[3], v[4], v[5])
    }

    func line(_ a: SyscallArguments, _ result: SyscallResult?) -> String {
        formatter.line(a, result: result, memory: k.space)
    }

    static let atFDCWD = UInt64(bitPattern: -100)

    // MARK: the lines Tests/integration/run.sh also checks under QEMU

    func testWriteIsPaddedToColumnFortyLikeStrace() {
        let buf = k.poke(Array("hi\n".utf8))
        XCTAssertEqual(line(args(.write, 1, buf, 3), .success(3)), "write(1, \"hi\\n\", 3)                     = 3")
    }

    func testFailedOpenatShowsErrnoNameAndMessage() {
        let path = k.pokeString("/nonexistent")
        XCTAssertEqual(line(args(.openat, Self.atFDCWD, path, 0), .failure(.ENOENT)),
                       "openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT (No such file or directory)")
    }

    func testCloseOfMinusOneIsEBADF() {
        XCTAssertEqual(line(args(.close, UInt64(bitPattern: -1)), .failure(.EBADF)),
                       "close(-1)                               = -1 EBADF (Bad file descriptor)")
    }

    func testCredentialAndSysVCallsShowTheirArguments() {
        XCTAssertEqual(line(args(.setresuid, UInt64(UInt32.max), 1000, 0), .success(0)),
                       "setresuid(-1, 1000, 0)                  = 0")
        XCTAssertEqual(line(args(.setgroups, 0, 0), .failure(.EPERM)),
                       "setgroups(0, NULL)                      = -1 EPERM (Operation not permitted)")
        XCTAssertEqual(line(args(.semop, 3, 0, 501), .failure(.E2BIG)),
                       "semop(3, NULL, 501)                     = -1 E2BIG (Argument list too long)")
    }

    func testCallWithoutArguments() {
        XCTAssertEqual(line(args(.getpid), .success(1)), "getpid()                                = 1")
    }

    func testLongBufferIsCutAtThirtyTwoBytesWithEllipsis() {
        let text = "0123456789abcdefghijklmnopqrstuvwxyz\tend\n"
        let buf = k.poke(Array(text.utf8))
        XCTAssertEqual(line(args(.write, 1, buf, 41), .success(41)),
                       "write(1, \"0123456789abcdefghijklmnopqrstuv\"..., 41) = 41")
    }

    func testExitGroupNeverReturns() {
        XCTAssertEqual(line(args(.exit_group, 0), nil), "exit_group(0)                           = ?")
    }

    // MARK: quoting

    func testNonPrintableBytesUseShortestOctalUnlessADigitFollows() {
        let bytes: [UInt8] = [0x61, 0x62, 0, 0x63, 1, 2, 0x33, 0x7f, 0xff, 0]
        let buf = k.poke(bytes)
        XCTAssertEqual(formatter.call(args(.write, 4, buf, 10), result: .success(10), memory: k.space),
                       "write(4, \"ab\\0c\\1\\0023\\177\\377\\0\", 10)")
        XCTAssertEqual(TraceText.quoted([1, 0x38, 0x1b, 0x5b]), "\"\\18\\33[\"")
        XCTAssertEqual(TraceText.quoted(Array("a\"b\\c\r\t\u{0B}\u{0C}".utf8)), "\"a\\\"b\\\\c\\r\\t\\v\\f\"")
    }

    func testGetrandomBufferIsHex() {
        let buf = k.poke([0x99, 0x78, 0x7b, 0x64])
        XCTAssertEqual(formatter.call(args(.getrandom, buf, 4, 0), result: .success(4), memory: k.space),
                       "getrandom(\"\\x99\\x78\\x7b\\x64\", 4, 0)")
    }

    // MARK: output arguments and bad pointers

    func testReadShowsTheBytesReadAfterTheCall() {
        let buf = k.poke(Array("hello world".utf8))
        XCTAssertEqual(formatter.call(args(.read, 0, buf, 64), result: .success(5), memory: k.space),
                       "read(0, \"hello\", 64)")
    }

    func testFailedReadShowsTheBufferAddress() {
        let buf = k.scratch
        XCTAssertEqual(line(args(.read, 99, buf, 64), .failure(.EBADF)),
                       "read(99, \(hexString(buf)), 64)" + String(repeating: " ", count: 40 - "read(99, \(hexString(buf)), 64)".count) + "= -1 EBADF (Bad file descriptor)")
    }

    func testUnmappedPointersPrintAsAddressesInsteadOfFaulting() {
        XCTAssertEqual(formatter.call(args(.write, 1, 0x10, 5), result: .failure(.EFAULT), memory: k.space),
                       "write(1, 0x10, 5)")
        XCTAssertEqual(formatter.call(args(.openat, Self.atFDCWD, 0xdead_0000, 0), result: .failure(.EFAULT), memory: k.space),
                       "openat(AT_FDCWD, 0xdead0000, O_RDONLY)")
        XCTAssertEqual(formatter.call(args(.open, 0, 0), result: .failure(.EFAULT), memory: k.space),
                       "open(NULL, O_RDONLY)")
    }

    func testFstatOfACharacterDeviceShowsModeAndRdev() {
        var st = Stat()
        st.mode = FileMode(FileMode.S_IFCHR | 0o666)
        st.rdev = encodeDeviceNumber(major: 1, minor: 3)
        let buf = k.poke(st.encode())
        XCTAssertEqual(formatter.call(args(.fstat, 1, buf), result: .success(0), memory: k.space),
                       "fstat(1, {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...})")
    }

    func testNewfstatatOfADirectoryShowsSize() {
        var st = Stat()
        st.mode = FileMode(FileMode.S_IFDIR | FileMode.S_ISVTX | 0o777)
        st.size = 65536
        let buf = k.poke(st.encode(), at: 512)
        let path = k.pokeString("/tmp")
        XCTAssertEqual(formatter.call(args(.newfstatat, Self.atFDCWD, path, buf, 0), result: .success(0), memory: k.space),
                       "newfstatat(AT_FDCWD, \"/tmp\", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=65536, ...}, 0)")
        XCTAssertEqual(formatter.call(args(.newfstatat, Self.atFDCWD, path, buf, 0x100), result: .failure(.ENOENT), memory: k.space),
                       "newfstatat(AT_FDCWD, \"/tmp\", \(hexString(buf)), AT_SYMLINK_NOFOLLOW)")
    }

    func testWritevShowsEachIovec() {
        let hello = k.poke(Array("hello".utf8), at: 256)
        let newline = k.poke([0x0a], at: 300)
        var vec = ByteWriter()
        Iovec(base: hello, length: 5).encode(into: &vec)
        Iovec(base: newline, length: 1).encode(into: &vec)
        let iov = k.poke(vec.bytes)
        XCTAssertEqual(formatter.call(args(.writev, 1, iov, 2), result: .success(6), memory: k.space),
                       "writev(1, [{iov_base=\"hello\", iov_len=5}, {iov_base=\"\\n\", iov_len=1}], 2)")
    }

    func testMmapFlagsAndHexResult() {
        let a = args(.mmap, 0, 8192, 3, 0x22, UInt64(bitPattern: -1), 0)
        XCTAssertEqual(line(a, .success(0x7f03_08bf_0000)),
                       "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0308bf0000")
        XCTAssertEqual(formatter.call(args(.mprotect, 0x7f03_08bf_0000, 4096, 0), result: .success(0), memory: k.space),
                       "mprotect(0x7f0308bf0000, 4096, PROT_NONE)")
        XCTAssertEqual(line(args(.brk, 0), .success(0xfb89000)), "brk(NULL)                               = 0xfb89000")
    }

    func testTimespecSigsetAndRlimitStructs() {
        var ts = ByteWriter()
        Timespec(seconds: 0, nanoseconds: 1000).encode(into: &ts)
        let req = k.poke(ts.bytes)
        XCTAssertEqual(formatter.call(args(.nanosleep, req, 0), result: .success(0), memory: k.space),
                       "nanosleep({tv_sec=0, tv_nsec=1000}, NULL)")
        let set = k.poke([2, 0, 0, 0, 0, 0, 0, 0], at: 64)      // SIGINT
        let old = k.poke([0, 0, 0, 0, 0, 0, 0, 0], at: 128)
        XCTAssertEqual(formatter.call(args(.rt_sigprocmask, 0, set, old, 8), result: .success(0), memory: k.space),
                       "rt_sigprocmask(SIG_BLOCK, [INT], [], 8)")
        var rl = ByteWriter()
        Rlimit(current: 8192 * 1024, maximum: UInt64.max).encode(into: &rl)
        let limit = k.poke(rl.bytes, at: 512)
        XCTAssertEqual(formatter.call(args(.prlimit64, 0, 3, 0, limit), result: .success(0), memory: k.space),
                       "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY})")
    }

    func testUnameFcntlAndArchPrctl() {
        var uts = [UInt8](repeating: 0, count: 390)
        for (i, b) in "Linux".utf8.enumerated() { uts[i] = b }
        for (i, b) in "vm".utf8.enumerated() { uts[65 + i] = b }
        let buf = k.poke(uts)
        XCTAssertEqual(formatter.call(args(.uname, buf), result: .success(0), memory: k.space),
                       "uname({sysname=\"Linux\", nodename=\"vm\", ...})")
        XCTAssertEqual(line(args(.fcntl, 1, 3), .success(0x8001)),
                       "fcntl(1, F_GETFL)                       = 0x8001 (flags O_WRONLY|O_LARGEFILE)")
        let slot = k.poke([0x80, 0x93, 0xb8, 0x0f, 0, 0, 0, 0], at: 1024)
        XCTAssertEqual(formatter.call(args(.arch_prctl, 0x1003, slot), result: .success(0), memory: k.space),
                       "arch_prctl(ARCH_GET_FS, [0xfb89380])")
        XCTAssertEqual(formatter.call(args(.arch_prctl, 0x1002, 0xfb89380), result: .success(0), memory: k.space),
                       "arch_prctl(ARCH_SET_FS, 0xfb89380)")
    }

    func testFutexAndOpenFlags() {
        XCTAssertEqual(formatter.call(args(.futex, 0x7ffc_de7d_12cc, 129, 1), result: .success(0), memory: k.space),
                       "futex(0x7ffcde7d12cc, FUTEX_WAKE_PRIVATE, 1)")
        XCTAssertEqual(formatter.call(args(.futex, 0x1000, 128, 2, 0), result: .success(0), memory: k.space),
                       "futex(0x1000, FUTEX_WAIT_PRIVATE, 2, NULL)")
        let path = k.pokeString("/tmp/xx")
        XCTAssertEqual(formatter.call(args(.openat, Self.atFDCWD, path, 0o2001101, 0o644), result: .success(5), memory: k.space),
                       "openat(AT_FDCWD, \"/tmp/xx\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644)")
    }

    func testUnknownNumberPrintsAsStraceDoes() {
        XCTAssertEqual(line(args(SyscallNumber(500), 1, 2), .failure(.ENOSYS)),
                       "syscall_0x1f4(0x1, 0x2, 0, 0, 0, 0)     = -1 ENOSYS (Function not implemented)")
    }

    // MARK: the tracer: filters, never-returning calls, durations

    func install(_ options: [String]) {
        k.state.configureTracing(options: options) { [unowned self] in self.lines.append($0) }
    }

    func testNoTraceOptionInstallsNoTracer() {
        k.state.configureTracing(options: ["other=1"]) { _ in }
        XCTAssertNil(k.state.tracer)
    }

    func testTracerPrintsOneLinePerDispatchedCall() {
        install(["trace=1"])
        XCTAssertNotNil(k.state.tracer)
        _ = k.call(.getpid)
        let path = k.pokeString("/nonexistent")
        _ = k.call(.openat, Self.atFDCWD, path, 0)
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[0], "getpid()                                = 1\n")
        XCTAssertTrue(lines[1].hasPrefix("openat(AT_FDCWD, \"/nonexistent\", O_RDONLY) = -1 ENOENT"), lines[1])
    }

    func testFilterKeepsOnlyTheNamedCallsAndClasses() {
        install(["trace=1", "trace-filter=getpid,%memory"])
        _ = k.call(.getppid)
        _ = k.call(.getpid)
        _ = k.call(.brk, 0)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("getpid()"))
        XCTAssertTrue(lines[1].hasPrefix("brk(NULL)"))
    }

    func testFilterParsing() {
        guard case .success(let f) = SyscallFilter.parse("read,write,%net") else { return XCTFail("parse failed") }
        XCTAssertTrue(f.contains(0))
        XCTAssertTrue(f.contains(1))
        XCTAssertTrue(f.contains(SyscallNumber.connect.rawValue))
        XCTAssertFalse(f.contains(SyscallNumber.openat.rawValue))
        guard case .success(let g) = SyscallFilter.parse("!write") else { return XCTFail("parse failed") }
        XCTAssertFalse(g.contains(1))
        XCTAssertTrue(g.contains(0))
        XCTAssertEqual(SyscallFilter.parse("read,frobnicate"), .failure(.unknownSyscall("frobnicate")))
        XCTAssertEqual(SyscallFilter.parse("%nonsense"), .failure(.unknownClass("%nonsense")))
        XCTAssertEqual(SyscallFilter.parse("read,,write"), .failure(.empty))
    }

    func testDurationsAreAppendedInNanoseconds() {
        install(["trace=1", "trace-durations=1"])
        _ = k.call(.getpid)
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines[0].hasPrefix("getpid()                                = 1 <0."), lines[0])
        XCTAssertTrue(lines[0].hasSuffix(">\n"))
        XCTAssertEqual(SerialSyscallTracer.seconds(1_234), "0.000001234")
        XCTAssertEqual(SerialSyscallTracer.seconds(2_500_000_000), "2.500000000")
    }

    func testTimeOfDayPrefix() {
        // 1970-01-02 03:04:05.678901 UTC
        let ns: Int64 = (86_400 + 3 * 3600 + 4 * 60 + 5) * 1_000_000_000 + 678_901_000
        XCTAssertEqual(SerialSyscallTracer.timeOfDay(ns), "03:04:05.678901")
        k.platform.realtime = ns
        install(["trace=1", "trace-time=1"])
        _ = k.call(.getpid)
        XCTAssertEqual(lines.first?.hasPrefix("03:04:05.678901 getpid()"), true, lines.first ?? "")
    }
}
