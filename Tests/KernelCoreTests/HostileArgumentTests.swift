// HostileArgumentTests — every handler registered in the test kernel's syscall table is called
// with hostile arguments (issue 12 item 6): small integers, 0, -1, huge values, pointers into
// the kernel's scratch buffer (start, page edges, the last bytes of the mapping), unmapped,
// kernel-window (0x7f8000000000, README "Architecture") and non-canonical pointers, and
// descriptors the test opened (file, pipe, socket pair, eventfd, epoll).
//
// Layer: host tests of KernelCore (TestKernel in Fakes.swift; the handlers are listed in
// Sources/KernelCore/Syscalls/BuiltinSyscalls.swift). A Swift arithmetic or bounds trap in a
// handler kills the whole test process, so a run that finishes is the first assertion; the
// others are that each call returns (a watchdog fails the test, naming the call, when one does
// not come back within seconds) and that a success is never a value the guest would read as
// an error (-4095...-1 in rax). Blocking calls are made to return: a signal is pending before
// every call (interruptible waits give EINTR, signal(7)), the fake clock jumps 2^40 ns per read
// (finite timeouts expire), and console reads find input.
@testable import KernelCore
import LinuxABI
import XCTest

final class HostileArgumentTests: XCTestCase {
    /// Calls that end the process in the test kernel (FakePlatform.powerOff is a fatalError).
    static let endsTheProcess: [Int: String] = [
        SyscallNumber.exit.rawValue: "ends the thread (the last one: the process) — powerOff",
        SyscallNumber.exit_group.rawValue: "ends the process — powerOff",
        SyscallNumber.rt_sigreturn.rawValue: "restores a frame from the user stack; a bad one is a SIGSEGV death — powerOff",
        SyscallNumber.vfork.rawValue: "the parent sleeps until the child execs or exits, and the test kernel runs no child",
        SyscallNumber.pause.rawValue: "sleeps until a signal arrives, and none is sent here",
    ]

    static let pageSize: UInt64 = 4096

    /// Issue 12's known defects, being fixed by their owners (items 2 and 3: a kernel buffer
    /// sized by the guest's count; file growth to a huge size). These argument combinations are
    /// left out until then, and counted; everything else about the same calls is still tried.
    static func knownIssue(_ n: Int, _ a: [UInt64]) -> String? {
        let count: Int? = switch n {
        case SyscallNumber.read.rawValue, SyscallNumber.write.rawValue, SyscallNumber.pread64.rawValue,
             SyscallNumber.pwrite64.rawValue, SyscallNumber.sendto.rawValue, SyscallNumber.recvfrom.rawValue,
             SyscallNumber.getdents64.rawValue, SyscallNumber.getrandom.rawValue, SyscallNumber.readlink.rawValue: 2
        case SyscallNumber.sendfile.rawValue, SyscallNumber.readlinkat.rawValue: 3
        default: nil
        }
        if let count, a[count] > 1 << 20 { return "issue 12 item 3 (a kernel buffer sized by the count)" }
        let size: Int? = switch n {
        case SyscallNumber.ftruncate.rawValue, SyscallNumber.truncate.rawValue, SyscallNumber.lseek.rawValue: 1
        case SyscallNumber.pwrite64.rawValue: 3
        default: nil
        }
        if let size, a[size] > 1 << 24 { return "issue 12 item 2 (file growth to a huge size)" }
        return nil
    }

    /// The values every argument is drawn from; `scratch` is TestKernel's mapped buffer.
    static func hostileValues(scratch: UInt64, descriptors: [Int]) -> [UInt64] {
        let end = scratch + TestKernel.scratchLength
        var values: [UInt64] = [
            0, 1, 2, 3, 7, 64, 4095, 4096, 65536,
            UInt64.max, UInt64.max - 1, 0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 1 << 32,
            1 << 47, 1 << 62, UInt64(Int64.max), 0x7fff_ffff_ffff, 0x8000_0000_0000_0000,
            0xffff_ffff_ffff_f000, UInt64(bitPattern: -100),         // AT_FDCWD
            scratch, scratch + 8, scratch + pageSize - 4, end - 8, end - 1,
            0x1000, 0x1000_0000,                                     // unmapped
            0x7f7f_ffff_f000, 0x7f7f_ffff_fff8,                      // the top of user space
            0x7f80_0000_0000, 0x7f80_0010_0000,                      // the kernel window
            0x8000_0000_0000, 0xffff_8000_0000_0000, 0xdead_0000_0000_0000, // non-canonical
        ]
        values += descriptors.map { UInt64($0) }
        return values
    }

    /// Descriptors of every kind the kernel has, opened through the table as a guest would.
    static func openDescriptors(_ k: TestKernel) -> [Int] {
        var fds: [Int] = []
        let path = k.pokeString("hostile-file", at: 8192)
        if case .success(let fd) = k.call(.openat, UInt64(bitPattern: -100), path, 0o102, 0o644) { fds.append(fd) } // O_RDWR|O_CREAT
        let pair = k.scratch + 9000
        if case .success = k.call(.pipe2, pair, 0o4000) {
            fds.append(Int(k.peek(pair, count: 4).withUnsafeBytes { $0.load(as: Int32.self) }))
        }
        if case .success = k.call(.socketpair, 1, 1, 0, pair) {
            fds.append(Int(k.peek(pair, count: 4).withUnsafeBytes { $0.load(as: Int32.self) }))
        }
        if case .success(let fd) = k.call(.eventfd2, 0, 0) { fds.append(fd) }
        if case .success(let fd) = k.call(.epoll_create1, 0) { fds.append(fd) }
        return fds
    }

    /// One kernel per call number: the calls of one number share state, as in a fuzz run.
    func testEveryHandlerSurvivesHostileArguments() {
        let numbers = (0..<SyscallTable.capacity).filter { n in
            TestKernel().state.syscalls.handler(for: n) != nil
        }
        XCTAssertGreaterThan(numbers.count, 100, "the built-in table should have its handlers")
        var skipped: [String] = []
        let progress = Progress()
        let worker = Thread {
            for n in numbers {
                if let reason = HostileArgumentTests.endsTheProcess[n] {
                    progress.note("skip \(n): \(reason)")
                    continue
                }
                HostileArgumentTests.hammer(number: n, progress: progress)
            }
            progress.finish()
        }
        worker.stackSize = 8 << 20
        worker.start()
        // The watchdog: each call should come back at once; a call that does not is a hang.
        var last = progress.count
        var quiet = 0
        while !progress.done {
            Thread.sleep(forTimeInterval: 0.5)
            let now = progress.count
            if now == last { quiet += 1 } else { quiet = 0; last = now }
            if quiet >= 20 {
                XCTFail("a call did not return within 10 s (a hang): \(progress.current)")
                return
            }
        }
        skipped = progress.notes
        for line in progress.failures { XCTFail(line) }
        XCTAssertGreaterThan(progress.count, 10_000, "calls made")
        print("HostileArgumentTests: \(progress.count) calls over \(numbers.count) handlers; \(skipped.joined(separator: "; "))")
    }

    static func hammer(number n: Int, progress: Progress) {
        let k = TestKernel()
        k.platform.monotonicStep = 1 << 40
        k.platform.consoleInputOnIdle = Array(repeating: Array("input\n".utf8), count: 100_000)
        let fds = openDescriptors(k)
        let values = hostileValues(scratch: k.scratch, descriptors: fds)
        let plausible: [UInt64] = [UInt64(fds.first ?? 3), k.scratch, 64, 0, 0, 0]
        var argumentSets: [[UInt64]] = values.map { [UInt64](repeating: $0, count: 6) }
        for baseline in [[UInt64](repeating: 0, count: 6), plausible] {
            for position in 0..<6 {
                for v in values {
                    var a = baseline
                    a[position] = v
                    argumentSets.append(a)
                }
            }
        }
        var known = 0
        for a in argumentSets {
            if knownIssue(n, a) != nil { known += 1; continue }
            // A pending, unblocked signal: any interruptible wait returns EINTR at once.
            let thread = k.state.currentThread
            thread.signalMask = 0
            thread.pendingSignals = 1 << (10 - 1) // SIGUSR1
            let name = syscallName(n).map { "\($0)" } ?? "syscall\(n)"
            progress.begin("\(name)(\(a.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")))")
            let result = k.state.dispatch(SyscallArguments(number: n, a[0], a[1], a[2], a[3], a[4], a[5]))
            switch result {
            case .success(let v) where v < 0 && v >= -4095:
                progress.fail("\(progress.current) succeeded with \(v), which the guest reads as an errno")
            case .failure(let e) where e.rawValue <= 0 || e.rawValue > 4095:
                progress.fail("\(progress.current) failed with errno \(e.rawValue), outside 1...4095")
            default: break
            }
            progress.end()
        }
        if known > 0 { progress.note("\(syscallName(n).map { "\($0)" } ?? "?"): \(known) known-issue combinations left out") }
    }

    // MARK: regressions found by the fuzzer (Guest/c/syscall_fuzz.c), each a single call

    /// syscall_fuzz seed 16: sigaltstack with a base and size whose sum wraps was stored, and
    /// the next sigaltstack computed base + size and trapped ("invalid opcode" in
    /// SignalSyscalls.sigaltstack). Linux's on_sig_stack() compares a difference.
    func testSigaltstackWithAWrappingBaseAndSizeDoesNotTrap() {
        let k = TestKernel()
        let stack = k.poke(le64(0xffff_ffff_ffff_f000, 0, 1 << 62))   // ss_sp, ss_flags, ss_size
        assertSuccess(k.call(.sigaltstack, stack, 0), 0)
        let old = k.scratch + 256
        assertSuccess(k.call(.sigaltstack, 0, old), 0)
        XCTAssertEqual(k.peek64(old), 0xffff_ffff_ffff_f000)
        XCTAssertEqual(k.peek64(old + 16), 1 << 62)
    }

    /// syscall_fuzz seeds 18 and 20: a handler with SA_ONSTACK and such an alternate stack made
    /// signal delivery compute base + size and trap in setUpHandlerFrame. Now the frame cannot
    /// be placed, and delivery reports it (the caller kills with SIGSEGV, as Linux's
    /// force_sigsegv()).
    func testSignalFrameOnAWrappingAlternateStackIsRefusedNotATrap() {
        let k = TestKernel()
        let stack = k.poke(le64(0xffff_ffff_ffff_f000, 0, 1 << 62))
        assertSuccess(k.call(.sigaltstack, stack, 0), 0)
        let saOnStack: UInt64 = 0x0800_0000, saRestorer: UInt64 = 0x0400_0000, saSiginfo: UInt64 = 4
        let action = k.poke(le64(0x40_1000, saOnStack | saRestorer | saSiginfo, 0x40_2000, 0), at: 512)
        assertSuccess(k.call(.rt_sigaction, 10, action, 0, 8), 0)
        let info = Siginfo(signal: 10, code: 0, detail: .sender(pid: 1, uid: 0))
        XCTAssertFalse(k.state.setUpHandlerFrame(signal: 10, info: info))
        // An alternate stack at the bottom of the address space: the same refusal.
        assertSuccess(k.call(.sigaltstack, k.poke(le64(0, 0, 4096), at: 1024), 0), 0)
        XCTAssertFalse(k.state.setUpHandlerFrame(signal: 10, info: info))
    }

    /// syscall_fuzz seeds 32, 1005, 1007, 1013: openat kept the whole flags register, so bit
    /// 63 reached fcntl(F_GETFL)'s Int conversion and trapped the kernel ("invalid opcode in
    /// FileSyscalls.fcntl"). open(2)'s flags are a C int: the upper half is not part of them.
    func testOpenFlagsAboveBit31AreIgnoredAndGetflDoesNotTrap() {
        let k = TestKernel()
        let path = k.poke(Array("/tmp/f0\0".utf8), at: 64)
        let atFdcwd = UInt64(bitPattern: -100)
        let fd = successValue(k.call(.openat, atFdcwd, path, (1 << 63) | 0o102, 0o644)) ?? -1   // O_RDWR|O_CREAT
        XCTAssertGreaterThanOrEqual(fd, 0)
        guard let flags = successValue(k.call(.fcntl, UInt64(fd), 3)) else { return XCTFail("F_GETFL failed") }
        XCTAssertEqual(flags & 0o3, 0o2, "O_RDWR")
        XCTAssertEqual(flags & ~0xFFFF_FFFF, 0, "nothing above the int")
    }

    /// What the worker is doing, for the watchdog on the test's thread.
    final class Progress: @unchecked Sendable {
        private let lock = NSLock()
        private var _count = 0
        private var _current = ""
        private var _done = false
        private(set) var notes: [String] = []
        private(set) var failures: [String] = []
        var count: Int { lock.lock(); defer { lock.unlock() }; return _count }
        var current: String { lock.lock(); defer { lock.unlock() }; return _current }
        var done: Bool { lock.lock(); defer { lock.unlock() }; return _done }
        func begin(_ call: String) { lock.lock(); _current = call; lock.unlock() }
        func end() { lock.lock(); _count += 1; lock.unlock() }
        func note(_ s: String) { lock.lock(); notes.append(s); lock.unlock() }
        func fail(_ s: String) { lock.lock(); failures.append(s); lock.unlock() }
        func finish() { lock.lock(); _done = true; lock.unlock() }
    }
}
