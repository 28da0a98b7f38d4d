// SysFS — the fixed part of /proc (system files, /proc/sys) and /sys, made at boot, and
// the values of their files (KernelCore/VFS, pure logic).
//
// Values are egg's own: what the kernel really enforces or has (Documentation/admin-guide/
// sysctl/kernel.rst, vm.rst, fs.rst say what each means). /proc/config.gz describes the
// features this kernel has in Kconfig's language, as LTP (tst_kconfig.c) and libc-test read
// it; it names only options whose behaviour egg implements, and says "is not set" for the
// ones test suites probe that egg lacks. The process directories are ProcFS.swift; file
// texts for /proc are ProcFSText.swift.
import LinuxABI

/// The /proc/sys files egg has.
public enum Sysctl: Equatable {
    case pidMax, ostype, osrelease, hostname, version, bootID, uuid, threadsMax, ngroupsMax, capLastCap
    case maxMapCount, overcommitMemory, fileMax, nrOpen, pipeMaxSize
    /// /proc/sys/fs/mqueue (IPC/PosixMessageQueue.swift's limits).
    case mqueueMessagesMax, mqueueMessageSizeMax, mqueueQueuesMax, mqueueMessagesDefault, mqueueMessageSizeDefault

    /// fs.nr_open: the most RLIMIT_NOFILE may be raised to (Linux's default, 1024 * 1024).
    public static let openFileCeiling = 1 << 20
}

/// The /sys files egg has.
public enum SysfsFile: Equatable {
    case cpuOnline, cpuPossible, cpuPresent
}

/// The feature description behind /proc/config.gz.
enum KernelConfiguration {
    static let text = """
        # egg: the features this kernel implements, in Kconfig terms
        CONFIG_64BIT=y
        CONFIG_X86_64=y
        CONFIG_SMP=y
        CONFIG_MMU=y
        CONFIG_PROC_FS=y
        CONFIG_SYSFS=y
        CONFIG_TMPFS=y
        CONFIG_DEVTMPFS=y
        CONFIG_SHMEM=y
        CONFIG_FUTEX=y
        CONFIG_EPOLL=y
        CONFIG_EVENTFD=y
        CONFIG_TIMERFD=y
        CONFIG_SIGNALFD=y
        CONFIG_INET=y
        # CONFIG_IPV6 is not set
        CONFIG_HIGH_RES_TIMERS=y
        CONFIG_POSIX_TIMERS=y
        CONFIG_MULTIUSER=y
        # CONFIG_MODULES is not set
        # CONFIG_SECCOMP is not set
        # CONFIG_SYSVIPC is not set
        CONFIG_POSIX_MQUEUE=y
        # CONFIG_CGROUPS is not set
        # CONFIG_NAMESPACES is not set
        # CONFIG_USER_NS is not set
        # CONFIG_QUOTA is not set
        # CONFIG_SWAP is not set
        # CONFIG_TRANSPARENT_HUGEPAGE is not set
        # CONFIG_HUGETLBFS is not set
        # CONFIG_ANON_VMA_NAME is not set
        # CONFIG_KSM is not set
        # CONFIG_NUMA is not set
        # CONFIG_BPF_SYSCALL is not set
        # CONFIG_PERF_EVENTS is not set
        # CONFIG_AIO is not set
        # CONFIG_IO_URING is not set
        # CONFIG_FANOTIFY is not set
        # CONFIG_INOTIFY_USER is not set
        # CONFIG_KEYS is not set
        # CONFIG_AUDIT is not set
        # CONFIG_SECURITY is not set
        # CONFIG_BLOCK is not set
        # CONFIG_KCMP is not set

        """

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as gzip's trailer needs (RFC 1952).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A gzip member (RFC 1952) whose deflate stream is stored blocks (RFC 1951 §3.2.4):
    /// valid for every gunzip/zcat, no compressor needed.
    static func gzipped(_ text: String) -> [UInt8] {
        let data = Array(text.utf8)
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]   // deflate, no flags, no mtime, Unix
        var at = 0
        repeat {
            let n = min(65535, data.count - at)
            let final: UInt8 = at + n == data.count ? 1 : 0
            out.append(final)   // BFINAL, BTYPE 00, then byte-aligned LEN and NLEN
            out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
            out.append(UInt8(~n & 0xFF)); out.append(UInt8((~n >> 8) & 0xFF))
            out.append(contentsOf: data[at..<at + n])
            at += n
        } while at < data.count
        let crc = crc32(data)
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: UInt32(data.count) >> (8 * UInt32(i)))) }
        return out
    }
}

extension KernelState {
    /// Builds /proc's fixed files, /proc/sys and /sys, and makes /proc generate its process
    /// directories (ProcFS.swift). Called once from KernelState.init.
    func installProcAndSys() {
        let fs = files.fileSystem
        let proc = fs.makeDirectories(Array("/proc".utf8), permissions: 0o555)
        proc.mount = .proc
        proc.readOnly = true
        proc.generator = ProcDirectory(procfs, .root)
        func file(_ path: String, _ content: SyntheticContent, _ mount: MountKind, permissions: UInt32 = 0o444) {
            var parts = FileSystem.components(Array(path.utf8))
            let name = parts.removeLast()
            var directory = fs.root
            for p in parts {
                if let d = directory.lookup(p), d.isDirectory { directory = d; continue }
                let d = fs.makeInode(.directory, permissions: 0o555)
                d.mount = mount
                d.readOnly = true
                directory.link(p, d, now: fs.clock())
                directory = d
            }
            let node = fs.makeInode(.regular, permissions: permissions)
            node.mount = mount
            node.readOnly = permissions & 0o200 == 0
            node.synthetic = content
            directory.link(name, node, now: fs.clock())
        }
        let procFiles: [(String, SyntheticContent)] = [
            ("cpuinfo", .cpuinfo), ("meminfo", .meminfo), ("uptime", .uptime), ("loadavg", .system(.loadavg)),
            ("stat", .system(.stat)), ("filesystems", .system(.filesystems)), ("version", .system(.version)),
            ("config.gz", .system(.config)), ("mounts", .mounts),
        ]
        for (name, content) in procFiles { file("/proc/" + name, content, .proc) }
        let sysctls: [(String, Sysctl)] = [
            ("kernel/pid_max", .pidMax), ("kernel/ostype", .ostype), ("kernel/osrelease", .osrelease),
            ("kernel/hostname", .hostname), ("kernel/version", .version), ("kernel/random/boot_id", .bootID),
            ("kernel/random/uuid", .uuid), ("kernel/threads-max", .threadsMax), ("kernel/ngroups_max", .ngroupsMax),
            ("kernel/cap_last_cap", .capLastCap), ("vm/max_map_count", .maxMapCount),
            ("vm/overcommit_memory", .overcommitMemory), ("fs/file-max", .fileMax), ("fs/nr_open", .nrOpen),
            ("fs/pipe-max-size", .pipeMaxSize),
            ("fs/mqueue/msg_max", .mqueueMessagesMax), ("fs/mqueue/msgsize_max", .mqueueMessageSizeMax),
            ("fs/mqueue/queues_max", .mqueueQueuesMax), ("fs/mqueue/msg_default", .mqueueMessagesDefault),
            ("fs/mqueue/msgsize_default", .mqueueMessageSizeDefault),
        ]
        for (name, s) in sysctls { file("/proc/sys/" + name, .sysctl(s), .proc, permissions: s == .hostname ? 0o644 : 0o444) }
        let sys = fs.makeDirectories(Array("/sys".utf8), permissions: 0o555)
        sys.mount = .sysfs
        sys.readOnly = true
        let cpu: [(String, SysfsFile)] = [("online", .cpuOnline), ("possible", .cpuPossible), ("present", .cpuPresent)]
        for (name, f) in cpu { file("/sys/devices/system/cpu/" + name, .sysfs(f), .sysfs) }
    }

    func sysctlBytes(_ s: Sysctl) -> [UInt8] {
        let text: String
        switch s {
        case .pidMax: text = "4194304"   // PID_MAX_LIMIT: ids are never reused before it
        case .ostype: text = "Linux"
        case .osrelease: text = String(decoding: SystemSyscalls.release, as: UTF8.self)
        case .hostname: text = String(decoding: hostname, as: UTF8.self)
        case .version: text = String(decoding: SystemSyscalls.version, as: UTF8.self)
        case .bootID: text = procfs.bootID(self)
        case .uuid: text = procfs.randomUUID(self)
        case .threadsMax: text = String(process.limits[.nproc].hard * 2)   // RLIMIT_NPROC is max_threads / 2
        case .ngroupsMax: text = "65536"
        case .capLastCap: text = String(ProcessControls.lastCapability)
        case .maxMapCount: text = String(memory.map.maxAreaCount)
        // egg never refuses a mapping for lack of commit charge: OVERCOMMIT_ALWAYS.
        case .overcommitMemory: text = "1"
        // No system-wide limit on open files: the largest value the sysctl takes.
        case .fileMax: text = "9223372036854775807"
        case .nrOpen: text = String(Sysctl.openFileCeiling)
        case .pipeMaxSize: text = String(PipeBuffer.capacity)
        case .mqueueMessagesMax: text = String(MessageQueueLimits.messagesMax)
        case .mqueueMessageSizeMax: text = String(MessageQueueLimits.messageSizeMax)
        case .mqueueQueuesMax: text = String(MessageQueueLimits.queuesMax)
        case .mqueueMessagesDefault: text = String(MessageQueueLimits.messagesDefault)
        case .mqueueMessageSizeDefault: text = String(MessageQueueLimits.messageSizeDefault)
        }
        return Array((text + "\n").utf8)
    }

    func sysfsBytes(_ f: SysfsFile) -> [UInt8] {
        let last = max(1, cpuCount) - 1
        let range = last == 0 ? "0" : "0-" + String(last)
        switch f {
        case .cpuOnline, .cpuPossible, .cpuPresent: return Array((range + "\n").utf8)
        }
    }
}

extension ProcFileSystem {
    /// A version-4 UUID from the kernel's random pool, as drivers/char/random.c makes them.
    func randomUUID(_ k: KernelState) -> String {
        var b = [UInt8](repeating: 0, count: 16)
        k.platform.fillRandom(&b, count: 16)
        b[6] = (b[6] & 0x0F) | 0x40
        b[8] = (b[8] & 0x3F) | 0x80
        var text = ""
        for (i, byte) in b.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text += "-" }
            text += procHex(UInt64(byte), digits: 2)
        }
        return text
    }

    /// The boot id: made at the first read, the same for the rest of the boot.
    func bootID(_ k: KernelState) -> String {
        if let id = bootIdentifier { return id }
        let id = randomUUID(k)
        bootIdentifier = id
        return id
    }

    /// One step of calc_load per 5 s since the last read (kernel/sched/loadavg.c), with
    /// `runnable` threads as the active count.
    func advanceLoad(now: UInt64, runnable: UInt64) {
        let fixed1: UInt64 = 1 << 11
        let exps: [UInt64] = [1884, 2014, 2037]   // EXP_1, EXP_5, EXP_15
        let active = runnable * fixed1
        if lastLoadSample == 0 { lastLoadSample = now }
        var steps = (now - lastLoadSample) / 5_000_000_000
        if steps == 0 { return }
        lastLoadSample += steps * 5_000_000_000
        steps = min(steps, 2000)
        var l = [load.0, load.1, load.2]
        for _ in 0..<steps {
            for i in 0..<3 {
                var newLoad = l[i] * exps[i] + active * (fixed1 - exps[i])
                if active >= l[i] { newLoad += fixed1 - 1 }
                l[i] = newLoad / fixed1
            }
        }
        load = (l[0], l[1], l[2])
    }
}
