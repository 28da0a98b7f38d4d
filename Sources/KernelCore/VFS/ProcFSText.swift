// ProcFSText — the bytes of each /proc and /sys file, made from the kernel's live state at
// open (KernelCore/VFS, pure logic). Formats follow Linux 6.1: fs/proc/array.c (stat,
// status, statm), fs/proc/base.c (cmdline, environ, auxv, limits, comm), fs/proc/fd.c
// (fdinfo), fs/proc/task_mmu.c (maps, smaps_rollup), fs/proc_namespace.c (mounts,
// mountinfo), fs/proc/loadavg.c, fs/proc/stat.c and Documentation/filesystems/proc.rst.
// Where egg keeps no figure Linux would show (page-fault counts, I/O counters) the field
// is the value Linux shows for a task that has none, never an invented one.
// The directories are ProcFS.swift; the /proc/sys and /sys trees are SysFS.swift.
import LinuxABI

/// Left-justified in `width` columns (printf "%-*s").
func procPadRight(_ s: String, _ width: Int) -> String {
    var t = s
    var n = s.utf8.count
    while n < width { t += " "; n += 1 }
    return t
}

/// Right-justified in `width` columns (printf "%*s").
func procPadLeft(_ s: String, _ width: Int) -> String {
    var t = ""
    var n = s.utf8.count
    while n < width { t += " "; n += 1 }
    return t + s
}

/// Lower-case hexadecimal, zero-padded to `digits` ("%016llx").
func procHex(_ value: UInt64, digits: Int) -> String {
    var bytes: [UInt8] = []
    appendHex(value, minimumDigits: digits, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

func procOctal(_ value: UInt64) -> String {
    if value == 0 { return "0" }
    var digits: [UInt8] = []
    var v = value
    while v > 0 { digits.append(UInt8(0x30 + v % 8)); v /= 8 }
    return String(decoding: digits.reversed(), as: UTF8.self)
}

/// A fixed-point number with two decimals ("12.34") from hundredths.
func procHundredths(_ value: UInt64) -> String {
    let cents = value % 100
    return String(value / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
}

/// The clock tick /proc counts in (USER_HZ, sysconf(_SC_CLK_TCK)).
let procTicksPerSecond: UInt64 = 100

func procTicks(_ nanoseconds: UInt64) -> UInt64 { nanoseconds / (1_000_000_000 / procTicksPerSecond) }

/// The mounted file systems, in mount order: (source, mount point, type, options, kind).
/// st_dev and the mount id come from the kind (MountKind.deviceMinor).
let procMountTable: [(String, String, String, String, MountKind)] = [
    ("tmpfs", "/", "tmpfs", "rw,relatime", .tmpfs),   // not "rootfs": df skips that name
    ("devtmpfs", "/dev", "devtmpfs", "rw,nosuid,relatime", .devtmpfs),
    ("tmpfs", "/dev/shm", "tmpfs", "rw,nosuid,nodev", .shm),
    ("proc", "/proc", "proc", "rw,nosuid,nodev,noexec,relatime", .proc),
    ("sysfs", "/sys", "sysfs", "rw,nosuid,nodev,noexec,relatime", .sysfs),
]

extension MountKind {
    /// The minor of the anonymous device (major 0) each file system's st_dev shows; the
    /// root keeps 0x15, the number egg always reported.
    public var deviceMinor: UInt32 {
        switch self {
        case .tmpfs: return 0x15
        case .devtmpfs: return 0x05
        case .shm: return 0x16
        case .proc: return 0x14
        case .sysfs: return 0x13
        case .volume(let index, _): return 0x30 + UInt32(truncatingIfNeeded: index)   // volume hook
        }
    }

    public var deviceNumber: UInt64 { encodeDeviceNumber(major: 0, minor: deviceMinor) }

    /// The mount id statx(STATX_MNT_ID) and mountinfo show (PathSyscalls.statx's formula).
    public var mountID: Int { 1 + Int(deviceMinor) }
}

extension KernelState {
    /// The bytes of a /proc or /sys file at the moment it is opened.
    func syntheticBytes(_ content: SyntheticContent) -> [UInt8] {
        switch content {
        case .maps: return Array(memory.map.renderMaps().utf8)
        case .mounts: return Array(procMounts().utf8)
        case .uptime: return Array(procUptime().utf8)
        case .meminfo: return Array(procMeminfo().utf8)
        case .cpuinfo: return Array(procCpuinfo().utf8)
        case .system(let f): return procSystemFile(f)
        case .process(let pid, let tid, let f): return procProcessFile(pid: pid, tid: tid, f)
        case .fdinfo(let pid, let fd): return Array(procFdinfo(pid: pid, fd: fd).utf8)
        case .sysctl(let s): return sysctlBytes(s)
        case .sysfs(let s): return sysfsBytes(s)
        }
    }

    /// A write to one of the writable /proc files. comm (comm_write in fs/proc/base.c):
    /// a thread of the same process takes the first 15 bytes as its name, newline
    /// included, and the whole count is reported written; another process's is EINVAL.
    /// kernel/hostname (proc_dostring): up to the first newline, at most 64 bytes, is the
    /// new uname nodename.
    func writeSynthetic(_ content: SyntheticContent, from address: UserAddress, count: Int) throws(Errno) -> Int {
        switch content {
        case .process(let pid, let tid, .comm):
            guard let (v, thread) = procFind(tid == 0 ? pid : tid),
                  v.threads.contains(where: { $0 === currentThread }) else { throw .EINVAL }
            guard case .success(let bytes) = memory.copyIn(address, count: min(count, 15)) else { throw .EFAULT }
            thread.name = bytes
            return count
        case .sysctl(.hostname):
            guard case .success(let bytes) = memory.copyIn(address, count: min(count, 64)) else { throw .EFAULT }
            var name: [UInt8] = []
            for b in bytes { if b == 0x0A || b == 0 { break }; name.append(b) }
            hostname = name
            return count
        default:
            throw .EINVAL
        }
    }

    func procMounts() -> String {
        var text = ""
        for (source, point, type, options, _) in procMountTable {
            text += source + " " + point + " " + type + " " + options + " 0 0\n"
        }
        // Volume hook: each host directory (egg run -v) as the 9p mount it stands for.
        for v in files.fileSystem.volumeMounts {
            text += String(decoding: v.source, as: UTF8.self) + " " + String(decoding: v.path, as: UTF8.self) + " 9p " + v.options + " 0 0\n"
        }
        return text
    }

    /// mountinfo(5): "ID PARENT MAJ:MIN ROOT POINT OPTIONS - TYPE SOURCE SUPER-OPTIONS".
    func procMountinfo() -> String {
        var text = ""
        let rootID = MountKind.tmpfs.mountID
        for (source, point, type, options, kind) in procMountTable {
            let parent = kind == .tmpfs ? 1 : (kind == .shm ? MountKind.devtmpfs.mountID : rootID)
            var opts = Substring(options).split(separator: ",").filter { $0 == "rw" || $0 == "ro" || $0 == "nosuid" || $0 == "nodev" || $0 == "noexec" || $0 == "relatime" }.map { String($0) }
            if opts.isEmpty { opts = ["rw"] }
            var line = String(kind.mountID) + " " + String(parent) + " 0:" + String(kind.deviceMinor)
            line += " / " + point + " "
            var joined = ""
            for (i, o) in opts.enumerated() { joined += (i == 0 ? "" : ",") + o }
            line += joined + " - " + type + " " + source + " rw\n"
            text += line
        }
        // Volume hook: the 9p mounts, children of the root.
        for (index, v) in files.fileSystem.volumeMounts.enumerated() {
            let kind = MountKind.volume(index: index, readOnly: v.readOnly)
            text += String(kind.mountID) + " " + String(rootID) + " 0:" + String(kind.deviceMinor) + " / "
            text += String(decoding: v.path, as: UTF8.self) + " " + (v.readOnly ? "ro" : "rw") + ",relatime - 9p "
            text += String(decoding: v.source, as: UTF8.self) + " " + v.options + "\n"
        }
        return text
    }

    func procUptime() -> String {
        let ns = platform.monotonicNanoseconds()
        var busy: UInt64 = 0
        for v in procProcesses() { for t in v.threads { busy += t.cpuUserNanoseconds + t.cpuSystemNanoseconds } }
        let cpus = UInt64(max(1, cpuCount))
        let idle = ns * cpus > busy ? ns * cpus - busy : 0
        return procHundredths(ns / 10_000_000) + " " + procHundredths(idle / 10_000_000) + "\n"
    }

    func procMeminfo() -> String {
        func line(_ label: String, _ kb: UInt64) -> String {
            procPadRight(label + ":", 16) + procPadLeft(String(kb), 8) + " kB\n"
        }
        let total = frames.totalBytes / 1024, free = frames.freeBytes / 1024
        let shmem = UInt64(max(0, fileBlocks.limitBlocks - fileBlocks.freeBlocks)) * 4
        return line("MemTotal", total) + line("MemFree", free) + line("MemAvailable", free)
            + line("Buffers", 0) + line("Cached", shmem) + line("SwapCached", 0)
            + line("SwapTotal", 0) + line("SwapFree", 0) + line("Shmem", shmem)
    }

    func procCpuinfo() -> String {
        var text = ""
        for cpu in 0..<max(1, cpuCount) {
            text += "processor\t: " + String(cpu) + "\n"
            text += "vendor_id\t: egg\n"
            text += "model name\t: egg virtual CPU\n"
            text += "physical id\t: 0\n"
            text += "siblings\t: " + String(max(1, cpuCount)) + "\n"
            text += "core id\t\t: " + String(cpu) + "\n"
            text += "cpu cores\t: " + String(max(1, cpuCount)) + "\n"
            // The x86-64 baseline every CPU egg runs on has (the architecture requires them).
            text += "flags\t\t: fpu tsc cx8 cmov mmx fxsr sse sse2 syscall lm\n"
            text += "address sizes\t: 48 bits virtual\n\n"
        }
        return text
    }

    // MARK: whole-system files

    func procSystemFile(_ f: ProcSystemFile) -> [UInt8] {
        switch f {
        case .loadavg: return Array(procLoadavg().utf8)
        case .stat: return Array(procStat().utf8)
        case .filesystems:
            // Every file system type egg has; all are "nodev" (no block device behind them).
            return Array("nodev\tsysfs\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tproc\nnodev\tpipefs\nnodev\tsockfs\nnodev\tanon_inodefs\n".utf8)
        case .version:
            return Array(("Linux version " + String(decoding: SystemSyscalls.release, as: UTF8.self)
                          + " (egg) " + String(decoding: SystemSyscalls.version, as: UTF8.self) + "\n").utf8)
        case .config: return KernelConfiguration.gzipped(KernelConfiguration.text)
        case .mountinfo: return Array(procMountinfo().utf8)
        }
    }

    /// /proc/loadavg: the 1, 5 and 15-minute averages of runnable threads, computed as
    /// kernel/sched/loadavg.c does (fixed point, 11 bits, one step per 5 s), but sampled when
    /// the file is read: the count of runnable threads now stands for every step since the
    /// last read. Then running/total threads and the last id handed out.
    func procLoadavg() -> String {
        let now = platform.monotonicNanoseconds()
        var runnable = 0, total = 0
        for v in procProcesses() {
            for t in v.threads {
                total += 1
                if t.state == .running || t.state == .runnable { runnable += 1 }
            }
        }
        procfs.advanceLoad(now: now, runnable: UInt64(max(0, runnable - 1)) + 1)
        func show(_ fixed: UInt64) -> String {
            // LOAD_INT/LOAD_FRAC of fs/proc/loadavg.c.
            let v = fixed + 5   // FIXED_1/200: rounding
            return String(v >> 11) + "." + (((v & 2047) * 100) >> 11 < 10 ? "0" : "") + String(((v & 2047) * 100) >> 11)
        }
        return show(procfs.load.0) + " " + show(procfs.load.1) + " " + show(procfs.load.2) + " "
            + String(runnable) + "/" + String(total) + " " + String(scheduler.nextTID - 1) + "\n"
    }

    /// /proc/stat: CPU time in ticks (user and system from each thread's accounting; idle
    /// the rest of every CPU's time since boot; egg keeps no per-CPU split, so the per-CPU
    /// lines share the total evenly), then the boot time and thread counts.
    func procStat() -> String {
        var user: UInt64 = 0, system: UInt64 = 0, running = 0, blocked = 0
        for v in procProcesses() {
            for t in v.threads {
                user += t.cpuUserNanoseconds
                system += t.cpuSystemNanoseconds
                if t.state == .running || t.state == .runnable { running += 1 } else { blocked += 1 }
            }
        }
        let cpus = UInt64(max(1, cpuCount))
        let elapsed = platform.monotonicNanoseconds() * cpus
        let idle = elapsed > user + system ? elapsed - user - system : 0
        func cpuLine(_ name: String, _ u: UInt64, _ s: UInt64, _ i: UInt64) -> String {
            name + " " + String(procTicks(u)) + " 0 " + String(procTicks(s)) + " " + String(procTicks(i)) + " 0 0 0 0 0 0\n"
        }
        var text = cpuLine("cpu ", user, system, idle)
        for c in 0..<cpus { text += cpuLine("cpu" + String(c), user / cpus, system / cpus, idle / cpus) }
        text += "intr 0\nctxt " + String(procfs.contextSwitches) + "\nbtime " + String(bootRealtimeSeconds) + "\n"
        text += "processes " + String(scheduler.nextTID - 1) + "\n"
        text += "procs_running " + String(running) + "\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
        _ = blocked
        return text
    }

    // MARK: per-process files

    func procProcessFile(pid: Int, tid: Int, _ f: ProcProcessFile) -> [UInt8] {
        guard let (v, thread) = procFind(tid == 0 ? pid : tid) else { return [] }
        switch f {
        case .stat: return Array(procStatLine(v, thread, whole: tid == 0).utf8)
        case .status: return Array(procStatus(v, thread, whole: tid == 0).utf8)
        case .statm: return Array(procStatm(v).utf8)
        case .cmdline: return procStartArea(v.process).arguments
        case .environ: return procStartArea(v.process).environment
        case .auxv: return procStartArea(v.process).auxv
        case .comm: return procThreadName(thread, v.process) + [0x0A]
        case .maps: return Array(v.process.addressSpace.map.renderMaps().utf8)
        case .mounts: return Array(procMounts().utf8)
        case .mountinfo: return Array(procMountinfo().utf8)
        case .limits: return Array(procLimits(v.process).utf8)
        case .smapsRollup: return Array(procSmapsRollup(v.process).utf8)
        case .io: return Array(v.process.ioAccounting.procText.utf8)
        }
    }

    /// A thread's name (comm): its PR_SET_NAME name, else the executable's base name cut to
    /// TASK_COMM_LEN - 1 = 15 bytes, as exec sets it (__set_task_comm).
    func procThreadName(_ t: Thread, _ p: Process) -> [UInt8] {
        if let n = t.name { return n }
        var base: [UInt8] = []
        for b in p.executablePath { if b == FileSystem.slash { base = [] } else { base.append(b) } }
        return Array(base.prefix(15))
    }

    /// The argument, environment and auxiliary-vector areas the initial stack holds
    /// (mm->arg_start..arg_end, env_start..env_end, saved_auxv), read from user memory as
    /// Linux does, so a program that rewrites its argv strings sees the change.
    func procStartArea(_ p: Process) -> (arguments: [UInt8], environment: [UInt8], auxv: [UInt8],
                                         argStart: UInt64, argEnd: UInt64, envStart: UInt64, envEnd: UInt64) {
        let m = p.addressSpace
        var result: (arguments: [UInt8], environment: [UInt8], auxv: [UInt8],
                     argStart: UInt64, argEnd: UInt64, envStart: UInt64, envEnd: UInt64) = ([], [], [], 0, 0, 0, 0)
        let sp = p.startStack
        guard sp != 0, case .success(let argc) = m.readUInt64(UserAddress(sp)), argc < 1 << 20 else { return result }
        func strings(from first: UInt64) -> (pointers: [UInt64], next: UInt64) {
            var pointers: [UInt64] = []
            var at = first
            while pointers.count < 1 << 20, case .success(let ptr) = m.readUInt64(UserAddress(at)) {
                at += 8
                if ptr == 0 { break }
                pointers.append(ptr)
            }
            return (pointers, at)
        }
        let argv = strings(from: sp + 8)
        let envp = strings(from: argv.next)
        func area(_ pointers: [UInt64]) -> ([UInt8], UInt64, UInt64) {
            guard let first = pointers.first, let last = pointers.last,
                  case .success(let tail) = m.readCString(UserAddress(last), maximum: 32 * 4096) else { return ([], 0, 0) }
            let end = last + UInt64(tail.count) + 1
            guard end > first, end - first < 1 << 22, case .success(let bytes) = m.copyIn(UserAddress(first), count: Int(end - first)) else {
                return ([], 0, 0)
            }
            return (bytes, first, end)
        }
        let a = area(argv.pointers), e = area(envp.pointers)
        result.arguments = a.0; result.argStart = a.1; result.argEnd = a.2
        result.environment = e.0; result.envStart = e.1; result.envEnd = e.2
        var at = envp.next
        var auxv: [UInt8] = []
        while auxv.count < 64 * 16, case .success(let key) = m.readUInt64(UserAddress(at)),
              case .success(let value) = m.readUInt64(UserAddress(at + 8)) {
            for i in 0..<8 { auxv.append(UInt8(truncatingIfNeeded: key >> (8 * UInt64(i)))) }
            for i in 0..<8 { auxv.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
            at += 16
            if key == 0 { break }
        }
        result.auxv = auxv
        return result
    }

    func procStateLetter(_ t: Thread) -> (String, String) {
        switch t.state {
        case .running, .runnable: return ("R", "R (running)")
        case .blocked: return ("S", "S (sleeping)")
        case .exited: return ("Z", "Z (zombie)")
        }
    }

    /// Signals ignored and caught (sigignore, sigcatch of do_task_stat).
    func procSignalSets() -> (ignored: UInt64, caught: UInt64) {
        var ignored: UInt64 = 0, caught: UInt64 = 0
        for s in 1..<min(65, signalHandlers.count) {
            if signalHandlers[s] == 1 { ignored |= 1 << UInt64(s - 1) }
            else if signalHandlers[s] > 1 { caught |= 1 << UInt64(s - 1) }
        }
        return (ignored, caught)
    }

    func procVirtualSize(_ p: Process) -> UInt64 {
        var total: UInt64 = 0
        for a in p.addressSpace.map.areas { total += a.range.length }
        return total
    }

    /// The CPU on which a thread runs now, else 0 (egg does not remember the last one).
    func procProcessor(_ t: Thread) -> Int {
        for c in 0..<max(1, cpuCount) where scheduler.isRunning(t, onCPU: c) { return c }
        return 0
    }

    /// /proc/PID/stat: the 52 fields of do_task_stat, one line.
    func procStatLine(_ v: ProcessView, _ t: Thread, whole: Bool) -> String {
        let p = v.process
        let start = procStartArea(p)
        var user: UInt64 = 0, system: UInt64 = 0
        if whole { for x in v.threads { user += x.cpuUserNanoseconds; system += x.cpuSystemNanoseconds } }
        else { user = t.cpuUserNanoseconds; system = t.cpuSystemNanoseconds }
        let signals = procSignalSets()
        var code = (UInt64(0), UInt64(0))
        for a in p.addressSpace.map.areas where a.protection.contains(.execute) {
            if case .image = a.backing { if code.0 == 0 { code.0 = a.start }; code.1 = a.end }
        }
        let pending = t.pendingSignals | (whole ? processPendingSignals : 0)
        var f: [String] = []
        f.append(String(whole ? v.pid : t.tid))
        f.append("(" + String(decoding: procThreadName(whole ? (v.threads.first { $0.tid == v.pid } ?? t) : t, p), as: UTF8.self) + ")")
        f.append(procStateLetter(t).0)
        f.append(String(p.parentPID))
        f.append(String(p.processGroup)); f.append(String(p.session))
        // tty_nr and tpgid: the console (4:64) and its foreground group when it is this
        // process's controlling terminal; 0 and -1 otherwise (do_task_stat).
        let controlled = hasConsole(p)
        f.append(controlled ? String(encodeDeviceNumber(major: 4, minor: 64) & 0xFFFF_FFFF) : "0")
        f.append(controlled ? String(consoleForegroundGroup) : "-1")
        f.append("0")                                           // flags: egg keeps no PF_* bits
        f.append("0"); f.append("0"); f.append("0"); f.append("0")   // minflt cminflt majflt cmajflt
        f.append(String(procTicks(user))); f.append(String(procTicks(system)))
        f.append(String(procTicks(p.childrenUserNanoseconds))); f.append(String(procTicks(p.childrenSystemNanoseconds)))
        // priority and nice as task_prio() shows them: 20 + nice for the normal policies,
        // -1 - rt_priority for SCHED_FIFO/SCHED_RR.
        let sched = t.scheduling
        let realtime = sched.policy == 1 || sched.policy == 2
        f.append(String(realtime ? -1 - Int(sched.priority) : 20 + Int(sched.nice)))
        f.append(String(sched.nice))
        f.append(String(whole ? v.threads.count : v.threads.count))
        f.append("0")                                           // itrealvalue (always 0 since 2.6.17)
        f.append(String(procTicks(t.startNanoseconds)))
        f.append(String(procVirtualSize(p)))
        f.append(String(p.addressSpace.residentPages))
        f.append(String(p.limits.current(.rss)))
        f.append(String(code.0)); f.append(String(code.1)); f.append(String(p.startStack))
        f.append("0"); f.append("0")                            // kstkesp, kstkeip (hidden since 4.x)
        f.append(String(pending)); f.append(String(t.signalMask))
        f.append(String(signals.ignored)); f.append(String(signals.caught))
        f.append("0"); f.append("0"); f.append("0")             // wchan, nswap, cnswap
        f.append(whole || t.tid == v.pid ? "17" : "-1")         // exit_signal: SIGCHLD for a leader
        f.append(String(procProcessor(t)))
        f.append(String(sched.priority)); f.append(String(sched.policy))      // rt_priority, policy
        f.append("0"); f.append("0"); f.append("0")                          // blkio guest cguest
        f.append("0"); f.append("0")                            // start_data, end_data
        f.append(String(p.addressSpace.map.breakStart))
        f.append(String(start.argStart)); f.append(String(start.argEnd))
        f.append(String(start.envStart)); f.append(String(start.envEnd))
        f.append(String(p.exitStatus ?? 0))
        var line = ""
        for (i, x) in f.enumerated() { line += (i == 0 ? "" : " ") + x }
        return line + "\n"
    }

    /// /proc/PID/status (proc_pid_status: task_name, task_state, task_mem, task_sig,
    /// task_cap, task_seccomp, task_cpus_allowed, task_context_switch_counts).
    func procStatus(_ v: ProcessView, _ t: Thread, whole: Bool) -> String {
        let p = v.process
        let kb = { (bytes: UInt64) -> String in procPadLeft(String(bytes / 1024), 8) + " kB\n" }
        let signals = procSignalSets()
        let ids = procCredentials(p)
        var text = "Name:\t" + String(decoding: procThreadName(t, p), as: UTF8.self) + "\n"
        text += "Umask:\t" + (p.umask < 0o1000 ? "0" : "") + procPadLeftZero(procOctal(UInt64(p.umask)), 3) + "\n"
        text += "State:\t" + procStateLetter(t).1 + "\n"
        text += "Tgid:\t" + String(v.pid) + "\nNgid:\t0\nPid:\t" + String(whole ? v.pid : t.tid) + "\n"
        text += "PPid:\t" + String(p.parentPID) + "\nTracerPid:\t0\n"
        text += "Uid:\t" + ids.uid + "\nGid:\t" + ids.gid + "\n"
        text += "FDSize:\t" + String(max(64, (v.files.count + 63) / 64 * 64)) + "\nGroups:\t" + ids.groups + "\n"
        text += "NStgid:\t" + String(v.pid) + "\nNSpid:\t" + String(whole ? v.pid : t.tid) + "\n"
        text += "NSpgid:\t" + String(v.pid) + "\nNSsid:\t" + String(v.pid) + "\n"
        let size = procVirtualSize(p), rss = UInt64(p.addressSpace.residentPages) * 4096
        text += "VmPeak:\t" + kb(max(size, p.peakVirtualSize)) + "VmSize:\t" + kb(size) + "VmLck:\t" + kb(0) + "VmPin:\t" + kb(0)
        text += "VmHWM:\t" + kb(rss) + "VmRSS:\t" + kb(rss)
        text += "RssAnon:\t" + kb(rss) + "RssFile:\t" + kb(0) + "RssShmem:\t" + kb(0)
        var data: UInt64 = 0, stack: UInt64 = 0, exe: UInt64 = 0
        for a in p.addressSpace.map.areas {
            switch a.backing {
            case .stack: stack += a.range.length
            case .image: if a.protection.contains(.execute) { exe += a.range.length } else if a.protection.contains(.write) { data += a.range.length }
            default: if a.protection.contains(.write) && !a.shared { data += a.range.length }
            }
        }
        text += "VmData:\t" + kb(data) + "VmStk:\t" + kb(stack) + "VmExe:\t" + kb(exe) + "VmLib:\t" + kb(0)
        text += "VmPTE:\t" + kb(0) + "VmSwap:\t" + kb(0) + "HugetlbPages:\t" + kb(0)
        text += "CoreDumping:\t0\nTHP_enabled:\t" + (p.controls.thpDisabled ? "0" : "1") + "\n"
        text += "Threads:\t" + String(v.threads.count) + "\n"
        text += "SigQ:\t0/" + String(p.limits.current(.sigpending)) + "\n"
        text += "SigPnd:\t" + procHex(t.pendingSignals, digits: 16) + "\nShdPnd:\t" + procHex(processPendingSignals, digits: 16) + "\n"
        text += "SigBlk:\t" + procHex(t.signalMask, digits: 16) + "\nSigIgn:\t" + procHex(signals.ignored, digits: 16) + "\n"
        text += "SigCgt:\t" + procHex(signals.caught, digits: 16) + "\n"
        let caps = procCapabilities(p)
        text += "CapInh:\t" + procHex(caps.inheritable, digits: 16) + "\nCapPrm:\t" + procHex(caps.permitted, digits: 16) + "\n"
        text += "CapEff:\t" + procHex(caps.effective, digits: 16) + "\nCapBnd:\t" + procHex(caps.bounding, digits: 16) + "\n"
        text += "CapAmb:\t" + procHex(caps.ambient, digits: 16) + "\n"
        text += "NoNewPrivs:\t" + (p.controls.noNewPrivileges ? "1" : "0") + "\nSeccomp:\t0\nSeccomp_filters:\t0\n"
        text += "Speculation_Store_Bypass:\tunknown\nSpeculationIndirectBranch:\tunknown\n"
        let cpus = max(1, cpuCount)
        var mask: UInt64 = 0
        for c in 0..<min(64, cpus) { mask |= 1 << UInt64(c) }
        text += "Cpus_allowed:\t" + procHex(mask, digits: 1) + "\nCpus_allowed_list:\t" + (cpus == 1 ? "0" : "0-" + String(cpus - 1)) + "\n"
        text += "Mems_allowed:\t1\nMems_allowed_list:\t0\n"
        text += "voluntary_ctxt_switches:\t" + String(t.voluntarySwitches) + "\nnonvoluntary_ctxt_switches:\t" + String(t.involuntarySwitches) + "\n"
        return text
    }

    func procPadLeftZero(_ s: String, _ width: Int) -> String {
        var t = s
        var n = s.utf8.count
        while n < width { t = "0" + t; n += 1 }
        return t
    }

    /// statm: size resident shared text lib data dt, in pages (proc_pid_statm).
    func procStatm(_ p: ProcessView) -> String {
        var text: UInt64 = 0, data: UInt64 = 0
        for a in p.process.addressSpace.map.areas {
            if case .image = a.backing, a.protection.contains(.execute) { text += a.range.length }
            else if a.protection.contains(.write) && !a.shared { data += a.range.length }
        }
        let size = procVirtualSize(p.process) / 4096
        return String(size) + " " + String(p.process.addressSpace.residentPages) + " 0 " + String(text / 4096)
            + " 0 " + String(data / 4096) + " 0\n"
    }

    /// smaps_rollup: the whole address space as one range; egg counts resident pages per
    /// process, not per mapping, so Rss and Anonymous carry the process's figure.
    func procSmapsRollup(_ p: Process) -> String {
        let areas = p.addressSpace.map.areas
        guard let first = areas.first, let last = areas.last else { return "" }
        let kb = { (bytes: UInt64) -> String in procPadLeft(String(bytes / 1024), 8) + " kB\n" }
        let rss = UInt64(p.addressSpace.residentPages) * 4096
        var header: [UInt8] = []
        appendHex(first.start, minimumDigits: 8, to: &header)
        header.append(UInt8(ascii: "-"))
        appendHex(last.end, minimumDigits: 8, to: &header)
        var text = procPadRight(String(decoding: header, as: UTF8.self) + " ---p 00000000 00:00 0", 72) + " [rollup]\n"
        text += "Rss:           " + kb(rss) + "Pss:           " + kb(rss) + "Pss_Anon:      " + kb(rss)
        text += "Pss_File:      " + kb(0) + "Pss_Shmem:     " + kb(0)
        text += "Shared_Clean:  " + kb(0) + "Shared_Dirty:  " + kb(0) + "Private_Clean: " + kb(0)
        text += "Private_Dirty: " + kb(rss) + "Referenced:    " + kb(rss) + "Anonymous:     " + kb(rss)
        text += "LazyFree:      " + kb(0) + "AnonHugePages: " + kb(0) + "ShmemPmdMapped:" + kb(0)
        text += "FilePmdMapped: " + kb(0) + "Shared_Hugetlb:" + kb(0) + "Private_Hugetlb:" + kb(0)
        text += "Swap:          " + kb(0) + "SwapPss:       " + kb(0) + "Locked:        " + kb(0)
        return text
    }

    /// /proc/PID/limits (proc_pid_limits: "%-25s %-20s %-20s %-10s").
    func procLimits(_ p: Process) -> String {
        var text = procPadRight("Limit", 25) + " " + procPadRight("Soft Limit", 20) + " " + procPadRight("Hard Limit", 20) + " " + procPadRight("Units", 10) + "\n"
        for r in ResourceLimit.allCases {
            let (soft, hard) = p.limits[r]
            let show = { (v: UInt64) -> String in v == ResourceLimits.infinity ? "unlimited" : String(v) }
            text += procPadRight(r.title, 25) + " " + procPadRight(show(soft), 20) + " " + procPadRight(show(hard), 20) + " "
            text += r.unit.isEmpty ? "\n" : procPadRight(r.unit, 10) + "\n"
        }
        return text
    }

    /// fdinfo/N (seq_show in fs/proc/fd.c): position, flags in octal (with O_CLOEXEC from
    /// the descriptor), mount id and inode.
    func procFdinfo(pid: Int, fd: Int) -> String {
        guard let (v, _) = procFind(pid), let f = v.files[fd] else { return "" }
        var flags = f.statusFlags
        if v.files.closeOnExec(fd) { flags |= 0o2000000 }
        let s = FileSyscalls.stat(of: f, fd: fd, self)
        let mount = f.inode?.mount ?? .tmpfs
        var text = "pos:\t" + String(f.offset) + "\nflags:\t0" + procOctal(flags) + "\n"
        text += "mnt_id:\t" + String(f.object != nil && f.inode == nil ? 0 : mount.mountID) + "\nino:\t" + String(s.ino) + "\n"
        return text
    }
}
