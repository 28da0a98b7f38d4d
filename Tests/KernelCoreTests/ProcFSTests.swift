// ProcFSTests — /proc and /sys made from live state, per-mount st_dev and statfs, and the
// process controls (Sources/KernelCore/VFS/ProcFS*.swift, SysFS.swift,
// Syscalls/ProcessControlSyscalls.swift), through dispatch on a TestKernel.
import XCTest
@testable import KernelCore
import LinuxABI

final class ProcFSTests: XCTestCase {
    static let atFDCWD = UInt64(bitPattern: -100)
    var k: TestKernel!

    override func setUp() { k = TestKernel() }

    func path(_ s: String, slot: UInt64 = 0) -> UInt64 { k.pokeString(s, at: 32_768 + slot * 4096) }

    /// The whole of a /proc file, or nil when it cannot be opened.
    func contents(_ s: String) -> [UInt8]? {
        guard case .success(let fd) = k.call(.openat, Self.atFDCWD, path(s), 0, 0) else { return nil }
        defer { _ = k.call(.close, UInt64(fd)) }
        var out: [UInt8] = []
        while case .success(let n) = k.call(.read, UInt64(fd), k.scratch + 8192, 4096), n > 0 {
            out += k.peek(k.scratch + 8192, count: n)
        }
        return out
    }

    func text(_ s: String) -> String? { contents(s).map { String(decoding: $0, as: UTF8.self) } }

    func readlink(_ s: String) -> String? {
        guard case .success(let n) = k.call(.readlinkat, Self.atFDCWD, path(s), k.scratch + 8192, 4096) else { return nil }
        return String(decoding: k.peek(k.scratch + 8192, count: n), as: UTF8.self)
    }

    func stat(_ s: String) -> Stat? {
        let buf = k.scratch + 24_000
        guard case .success = k.call(.newfstatat, Self.atFDCWD, path(s, slot: 1), buf, 0) else { return nil }
        return try? Stat.decode(from: k.peek(buf, count: Stat.byteSize))
    }

    /// Names getdents64 gives for a directory.
    func list(_ s: String) -> [String] {
        guard case .success(let fd) = k.call(.openat, Self.atFDCWD, path(s), 0o200000, 0) else { return [] }
        defer { _ = k.call(.close, UInt64(fd)) }
        var names: [String] = []
        while case .success(let n) = k.call(.getdents64, UInt64(fd), k.scratch + 8192, 4096), n > 0 {
            let bytes = k.peek(k.scratch + 8192, count: n)
            var at = 0
            while at + 19 < n {
                let length = Int(bytes[at + 16]) | Int(bytes[at + 17]) << 8
                var end = at + 19
                while bytes[end] != 0 { end += 1 }
                names.append(String(decoding: bytes[(at + 19)..<end], as: UTF8.self))
                at += length
            }
        }
        return names
    }

    func testSelfLinksToTheCallersProcessAndItsDirectoryIsGenerated() {
        XCTAssertEqual(readlink("/proc/self"), "1")
        XCTAssertEqual(readlink("/proc/thread-self"), "1/task/1")
        XCTAssertEqual(readlink("/proc/self/exe"), TestKernel.executablePath)
        XCTAssertEqual(readlink("/proc/1/cwd"), "/")
        let names = list("/proc")
        XCTAssertTrue(names.contains("1") && names.contains("self") && names.contains("cpuinfo"), "\(names)")
        let own = list("/proc/self")
        for n in ["stat", "status", "fd", "fdinfo", "task", "maps", "cmdline", "limits"] { XCTAssertTrue(own.contains(n), n) }
        XCTAssertNil(stat("/proc/2"), "no process 2")
        XCTAssertNil(stat("/proc/01"), "leading zeros name nothing (name_to_int)")
    }

    func testStatLineStartsWithPidAndCommAndHas52Fields() throws {
        let line = try XCTUnwrap(text("/proc/self/stat"))
        XCTAssertTrue(line.hasPrefix("1 (guest-program) R 0 "), line)
        let afterComm = line.split(separator: ")")[1]
        XCTAssertEqual(afterComm.split(separator: " ").count + 2, 52, line)
    }

    func testAThreadIsVisibleByTidAtTheTopAndInTask() throws {
        let t = Thread(tid: 7, context: k.state.currentThread.context)
        t.process = k.state.process   // as clone makes a thread of the calling process
        k.state.process.threads.append(t)
        k.state.scheduler.add(t)
        t.name = Array("worker".utf8)
        XCTAssertTrue(list("/proc/self/task").contains("7"))
        XCTAssertFalse(list("/proc").contains("7"), "readdir lists thread group leaders only")
        let line = try XCTUnwrap(text("/proc/7/stat"))
        XCTAssertTrue(line.hasPrefix("7 (worker) "), line)
        XCTAssertEqual(text("/proc/1/task/7/comm"), "worker\n")
        XCTAssertTrue(text("/proc/self/status")?.contains("\nThreads:\t2\n") ?? false)
    }

    func testFdLinksNameThePathAndFdinfoFollowsTheOffset() throws {
        guard case .success(let fd) = k.call(.openat, Self.atFDCWD, path("/tmp/f"), 0o102, 0o644) else { return XCTFail("open") }
        _ = k.call(.write, UInt64(fd), k.poke(Array("hello".utf8), at: 16_384), 5)
        XCTAssertEqual(readlink("/proc/self/fd/\(fd)"), "/tmp/f")
        let info = try XCTUnwrap(text("/proc/self/fdinfo/\(fd)"))
        XCTAssertTrue(info.hasPrefix("pos:\t5\nflags:\t0"), info)
        // Descriptor 40, not `fd`: listing opens a descriptor, which takes the lowest free one.
        XCTAssertEqual(k.call(.dup2, UInt64(fd), 40), .success(40))
        XCTAssertTrue(list("/proc/self/fd").contains("40"))
        _ = k.call(.close, 40)
        XCTAssertFalse(list("/proc/self/fd").contains("40"))
        XCTAssertNil(readlink("/proc/self/fd/40"))
    }

    func testEachMountHasItsOwnDeviceAndStatfsType() throws {
        let root = try XCTUnwrap(stat("/")), proc = try XCTUnwrap(stat("/proc/self/status"))
        let sys = try XCTUnwrap(stat("/sys/devices/system/cpu/online")), shm = try XCTUnwrap(stat("/dev/shm"))
        let dev = try XCTUnwrap(stat("/dev/null")), tmp = try XCTUnwrap(stat("/tmp"))
        XCTAssertEqual(Set([root.dev, proc.dev, sys.dev, shm.dev, dev.dev]).count, 5)
        XCTAssertEqual(tmp.dev, root.dev, "/tmp is part of the root tmpfs")
        XCTAssertEqual(k.call(.statfs, path("/proc"), k.scratch + 4096), .success(0))
        XCTAssertEqual(k.peek(k.scratch + 4096, count: 2), [0xA0, 0x9F])   // PROC_SUPER_MAGIC
        let mounts = try XCTUnwrap(text("/proc/self/mounts"))
        XCTAssertTrue(mounts.contains("proc /proc proc ") && mounts.contains(" /sys sysfs "), mounts)
    }

    func testSysctlsAndConfigGzip() throws {
        XCTAssertEqual(text("/proc/sys/kernel/ostype"), "Linux\n")
        XCTAssertEqual(text("/proc/sys/kernel/hostname"), "egg\n")
        XCTAssertEqual(text("/proc/sys/kernel/cap_last_cap"), "40\n")
        XCTAssertEqual(text("/proc/sys/vm/max_map_count"), "\(k.state.memory.map.maxAreaCount)\n")
        let a = try XCTUnwrap(text("/proc/sys/kernel/random/boot_id"))
        XCTAssertEqual(text("/proc/sys/kernel/random/boot_id"), a)
        XCTAssertEqual(a.utf8.count, 37)
        let gz = try XCTUnwrap(contents("/proc/config.gz"))
        XCTAssertEqual(Array(gz.prefix(3)), [0x1F, 0x8B, 8])
        // Stored blocks: the text follows the 10-byte header and the 5-byte block header.
        let config = String(decoding: gz[15..<(gz.count - 8)], as: UTF8.self)
        XCTAssertTrue(config.contains("CONFIG_PROC_FS=y\n") && config.contains("# CONFIG_SYSVIPC is not set\n"))
        let crc = UInt32(gz[gz.count - 8]) | UInt32(gz[gz.count - 7]) << 8 | UInt32(gz[gz.count - 6]) << 16 | UInt32(gz[gz.count - 5]) << 24
        XCTAssertEqual(crc, KernelConfiguration.crc32(Array(config.utf8)))
        XCTAssertEqual(KernelConfiguration.crc32(Array("123456789".utf8)), 0xCBF4_3926)   // the check value
    }

    func testProcFilesAreReadOnly() {
        XCTAssertEqual(k.call(.openat, Self.atFDCWD, path("/proc/self/stat"), 1, 0), .failure(.EACCES))
        XCTAssertEqual(k.call(.mkdirat, Self.atFDCWD, path("/proc/x"), 0o755), .failure(.EACCES))
    }

    func testCommAndHostnameTakeWrites() {
        guard case .success(let fd) = k.call(.openat, Self.atFDCWD, path("/proc/self/comm"), 1, 0) else { return XCTFail("open comm") }
        XCTAssertEqual(k.call(.write, UInt64(fd), k.poke(Array("0123456789abcdefghij".utf8), at: 1024), 20), .success(20))
        XCTAssertEqual(text("/proc/self/comm"), "0123456789abcde\n")
        guard case .success(let h) = k.call(.openat, Self.atFDCWD, path("/proc/sys/kernel/hostname"), 1, 0) else { return XCTFail("open hostname") }
        XCTAssertEqual(k.call(.write, UInt64(h), k.poke(Array("box\n".utf8), at: 1024), 4), .success(4))
        XCTAssertEqual(k.state.hostname, Array("box".utf8))
        XCTAssertEqual(k.call(.openat, Self.atFDCWD, path("/proc/sys/kernel/ostype"), 1, 0), .failure(.EACCES))
    }

    // MARK: process controls

    func testPrctlNameIsPerThreadAndCutTo15Bytes() {
        XCTAssertEqual(k.call(.prctl, 15, k.pokeString("abcdefghijklmnopqrstuvwxyz")), .success(0))
        XCTAssertEqual(k.call(.prctl, 16, k.scratch + 4096), .success(0))
        XCTAssertEqual(k.peek(k.scratch + 4096, count: 16), Array("abcdefghijklmno".utf8) + [0])
        XCTAssertEqual(text("/proc/self/comm"), "abcdefghijklmno\n")
        XCTAssertEqual(k.call(.prctl, 0x7fff_1234), .failure(.EINVAL), "unknown option")
        XCTAssertEqual(k.call(.prctl, 4, 2), .failure(.EINVAL), "SUID_DUMP_ROOT refused")
    }

    func testNofileLimitGivesEMFILEAndRaisingPastNrOpenIsEPERM() {
        let limit = k.poke([4, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0])   // soft 4, hard 4096
        XCTAssertEqual(k.call(.setrlimit, 7, limit), .success(0))
        XCTAssertEqual(k.call(.openat, Self.atFDCWD, path("/dev/null"), 0, 0), .success(3))
        XCTAssertEqual(k.call(.openat, Self.atFDCWD, path("/dev/null"), 0, 0), .failure(.EMFILE))
        let huge = k.poke([0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x20, 0], at: 64)   // 2^49
        XCTAssertEqual(k.call(.setrlimit, 7, huge), .failure(.EPERM))
        let inverted = k.poke([9, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0], at: 128)
        XCTAssertEqual(k.call(.setrlimit, 4, inverted), .failure(.EINVAL))
        _ = k.call(.close, 3)   // room for the descriptor that reads the file
        let limits = text("/proc/self/limits") ?? ""
        XCTAssertTrue(limits.contains("\nMax open files            4                    4096                 files     \n"), limits)
    }

    func testFsizeLimitCutsAWriteShortThenGivesEFBIG() {
        let limit = k.poke([10, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(k.call(.setrlimit, 1, limit), .success(0))
        guard case .success(let fd) = k.call(.openat, Self.atFDCWD, path("/tmp/big"), 0o102, 0o644) else { return XCTFail("open") }
        let data = k.poke([UInt8](repeating: 0x41, count: 64), at: 1024)
        XCTAssertEqual(k.call(.write, UInt64(fd), data, 64), .success(10))
        XCTAssertEqual(k.call(.write, UInt64(fd), data, 1), .failure(.EFBIG))
        XCTAssertNotEqual(k.state.currentThread.pendingSignals & (1 << 24), 0, "SIGXFSZ pending")
        XCTAssertEqual(k.call(.ftruncate, UInt64(fd), 11), .failure(.EFBIG))
        XCTAssertEqual(k.call(.ftruncate, UInt64(fd), 5), .success(0), "shrinking is allowed")
    }

    func testCPUTimeIsChargedAtKernelEntryAndExit() {
        // The arch layer charges at every entry from user mode (Traps.swift calls
        // accountKernelEntry / accountKernelExit, Threads/IntervalTimers.swift).
        let t = k.state.currentThread
        k.state.startRunning(t)
        k.state.accountKernelEntry()
        k.state.accountKernelExit()
        k.platform.monotonic += 30_000_000   // 30 ms in user mode
        k.state.accountKernelEntry()
        _ = k.call(.getpid)
        k.state.accountKernelExit()
        XCTAssertGreaterThanOrEqual(t.cpuUserNanoseconds, 30_000_000)
        XCTAssertEqual(k.call(.getrusage, UInt64(bitPattern: 5), k.scratch), .failure(.EINVAL))
        XCTAssertEqual(k.call(.getrusage, 1, k.scratch), .success(0))
        let usec = k.peek(k.scratch, count: 16)
        let seconds = Int(usec[0]) , micro = Int(usec[8]) | Int(usec[9]) << 8 | Int(usec[10]) << 16
        XCTAssertGreaterThanOrEqual(seconds * 1_000_000 + micro, 30_000)
    }
}
