// ProcFS — /proc's process directories, made from live kernel state when they are looked
// up or listed (KernelCore/VFS, pure logic; host-tested in Tests/KernelCoreTests/ProcFSTests).
//
// /proc itself is an ordinary read-only directory holding the fixed files (made at boot by
// RootFileSystem.swift) plus a generator (`ProcRootDirectory`) that adds "self",
// "thread-self" and one directory per process; /proc/TID also resolves for every thread, as
// on Linux (proc_pid_lookup finds any task, proc_pid_readdir lists thread group leaders).
// The directories below (/proc/PID, task/, task/TID, fd/, fdinfo/) are generated too, and
// their inodes cached by path so that st_ino stays the same while the process lives. File
// bytes are made at open (SyntheticContent → ProcFSText.swift). The layout follows
// fs/proc/base.c (tgid_base_stuff, tid_base_stuff) and Documentation/filesystems/proc.rst.
import LinuxABI

/// The files of /proc/PID/ and /proc/PID/task/TID/.
public enum ProcProcessFile: Equatable, Sendable {
    case stat, status, statm, cmdline, environ, auxv, comm, maps, mounts, mountinfo, limits, smapsRollup
    /// /proc/PID/io (VFS/ProcessIOAccounting.swift).
    case io
}

/// The whole-system files of /proc.
public enum ProcSystemFile: Equatable {
    case loadavg, stat, filesystems, version, config, mountinfo
}

/// What procfs needs to know about one process. Built from `k.process` and the scheduler's
/// threads today; the process registry replaces the body of `procProcesses` once it exists.
public struct ProcessView {
    public let pid: Int
    public let process: Process
    public let threads: [Thread]
    public let files: FileTable
}

extension KernelState {
    /// Every live process (thread groups), for /proc. One process today (`k.process`).
    public func procProcesses() -> [ProcessView] {
        // Every process with a living thread, by pid (zombies have no threads left).
        var out: [ProcessView] = []
        for p in processes.values.sorted(by: { $0.pid < $1.pid }) {
            let live = p.threads.filter { $0.state != .exited }
            guard !live.isEmpty, let table = p.fileTable else { continue }
            out.append(ProcessView(pid: p.pid, process: p, threads: live, files: table))
        }
        return out
    }

    /// The process and thread behind an id, if alive: any thread's id finds its process.
    func procFind(_ id: Int) -> (view: ProcessView, thread: Thread)? {
        for v in procProcesses() {
            for t in v.threads where t.tid == id { return (v, t) }
        }
        return nil
    }

    /// The process the calling thread belongs to (for /proc/self).
    var procCallerPID: Int { procProcesses().first { v in v.threads.contains { $0 === currentThread } }?.pid ?? process.pid }
}

/// Parses a decimal directory name ("123"); nil for anything else (leading zeros included,
/// which Linux's name_to_int refuses too).
func procNumber(_ name: [UInt8]) -> Int? {
    guard !name.isEmpty, name.count <= 9, !(name.count > 1 && name[0] == 0x30) else { return nil }
    var n = 0
    for b in name {
        guard b >= 0x30 && b <= 0x39 else { return nil }
        n = n * 10 + Int(b - 0x30)
    }
    return n
}

/// The cache of generated inodes and the entry points the generators share.
public final class ProcFileSystem {
    /// A strong reference (Embedded Swift has no `unowned`): KernelState and its /proc live
    /// as long as the machine, so the cycle costs nothing in the kernel (host tests leak one
    /// small object graph per KernelState).
    let kernel: KernelState
    /// Generated nodes by a path-like key ("12/task/13/stat"); pruned when the process or
    /// thread in the key's first components is gone.
    var nodes: [String: Inode] = [:]
    /// /proc/sys/kernel/random/boot_id, made at its first read.
    var bootIdentifier: String? = nil
    /// /proc/loadavg's averages (fixed point, 11 fractional bits) and when they last moved.
    var load: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var lastLoadSample: UInt64 = 0
    /// Thread switches since boot (/proc/stat ctxt).
    var contextSwitches: UInt64 = 0

    init(kernel: KernelState) { self.kernel = kernel }

    var fs: FileSystem { kernel.files.fileSystem }

    /// The cached node for `key`, or a new one made by `make` (then marked read-only /proc).
    func node(_ key: String, parent: Inode, make: () -> Inode) -> Inode {
        if let n = nodes[key] { return n }
        let n = make()
        n.mount = .proc
        n.readOnly = n.isSymlink || n.permissions & 0o200 == 0   // comm (0644) takes writes
        if n.isDirectory { n.parent = parent }
        nodes[key] = n
        return n
    }

    func directory(_ key: String, parent: Inode, _ generator: ProcDirectory.Kind) -> Inode {
        node(key, parent: parent) {
            let d = fs.makeInode(.directory, permissions: 0o555)
            d.generator = ProcDirectory(self, generator)
            return d
        }
    }

    func file(_ key: String, parent: Inode, _ content: SyntheticContent, permissions: UInt32 = 0o444) -> Inode {
        node(key, parent: parent) {
            let f = fs.makeInode(.regular, permissions: permissions)
            f.synthetic = content
            return f
        }
    }

    /// A symlink whose target is recomputed at every lookup (cwd, fd/N, self).
    func link(_ key: String, parent: Inode, target: [UInt8]) -> Inode {
        let l = node(key, parent: parent) { fs.makeInode(.symlink, permissions: 0o777) }
        l.linkTarget = target
        return l
    }

    /// Forget nodes of processes and threads that are gone.
    func prune() {
        var alive = Set<String>()
        for v in kernel.procProcesses() {
            alive.insert(String(v.pid))
            for t in v.threads { alive.insert(String(t.tid)) }
        }
        let stale = nodes.keys.filter { key in
            let first = key.split(separator: "/").first.map { String($0) } ?? key
            return procNumber(Array(first.utf8)) != nil && !alive.contains(first)
        }
        for key in stale { nodes[key] = nil }
    }
}

/// One generated /proc directory.
public final class ProcDirectory: DirectoryGenerator {
    public enum Kind {
        case root
        /// /proc/PID (tid 0) or /proc/PID/task/TID and /proc/TID (tid set).
        case process(pid: Int, tid: Int)
        case tasks(pid: Int)
        case fds(pid: Int, info: Bool)
    }

    let procfs: ProcFileSystem
    let kind: Kind

    init(_ procfs: ProcFileSystem, _ kind: Kind) {
        self.procfs = procfs
        self.kind = kind
    }

    var k: KernelState { procfs.kernel }

    /// The files of a process or thread directory, in Linux's order (tgid_base_stuff).
    static let processFiles: [(String, ProcProcessFile)] = [
        ("auxv", .auxv), ("cmdline", .cmdline), ("comm", .comm), ("environ", .environ),
        ("limits", .limits), ("maps", .maps), ("mountinfo", .mountinfo), ("mounts", .mounts),
        ("smaps_rollup", .smapsRollup), ("stat", .stat), ("statm", .statm), ("status", .status),
        ("io", .io),
    ]

    public func entries(of directory: Inode) -> [DirectoryEntry] {
        var out: [DirectoryEntry] = []
        switch kind {
        case .root:
            out = directory.storedEntries
            procfs.prune()
            for (i, name) in ["self", "thread-self"].enumerated() {
                if let n = lookup(Array(name.utf8), in: directory) {
                    out.append(DirectoryEntry(name: Array(name.utf8), inode: n, cookie: 1_000_000 + Int64(i)))
                }
            }
            for v in k.procProcesses() {
                let name = Array(String(v.pid).utf8)
                if let n = lookup(name, in: directory) {
                    out.append(DirectoryEntry(name: name, inode: n, cookie: 2_000_000 + Int64(v.pid)))
                }
            }
        case .process(let pid, let tid):
            var names = ["fd", "fdinfo", "cwd", "root", "exe"] + ProcDirectory.processFiles.map { $0.0 }
            if tid == 0 { names.append("task") }
            for (i, name) in names.enumerated() {
                if let n = lookup(Array(name.utf8), in: directory) {
                    out.append(DirectoryEntry(name: Array(name.utf8), inode: n, cookie: 3 + Int64(i)))
                }
            }
            _ = pid
        case .tasks(let pid):
            guard let (v, _) = k.procFind(pid) else { return [] }
            for t in v.threads {
                let name = Array(String(t.tid).utf8)
                if let n = lookup(name, in: directory) {
                    out.append(DirectoryEntry(name: name, inode: n, cookie: 3 + Int64(t.tid)))
                }
            }
        case .fds(let pid, _):
            guard let (v, _) = k.procFind(pid) else { return [] }
            for fd in 0..<v.files.count where v.files[fd] != nil {
                let name = Array(String(fd).utf8)
                if let n = lookup(name, in: directory) {
                    out.append(DirectoryEntry(name: name, inode: n, cookie: 3 + Int64(fd)))
                }
            }
        }
        return out
    }

    public func lookup(_ name: [UInt8], in directory: Inode) -> Inode? {
        let text = String(decoding: name, as: UTF8.self)
        switch kind {
        case .root:
            for e in directory.storedEntries where e.name == name { return e.inode }
            if text == "self" {
                return procfs.link("self", parent: directory, target: Array(String(k.procCallerPID).utf8))
            }
            if text == "thread-self" {
                let target = String(k.procCallerPID) + "/task/" + String(k.currentThread.tid)
                return procfs.link("thread-self", parent: directory, target: Array(target.utf8))
            }
            guard let id = procNumber(name), let (v, _) = k.procFind(id) else { return nil }
            // /proc/TID of a thread that is not the leader shows that thread (Linux's
            // proc_pid_lookup instantiates the task's tgid-style directory for it).
            return procfs.directory(text, parent: directory, .process(pid: v.pid, tid: id == v.pid ? 0 : id))
        case .process(let pid, let tid):
            guard let (v, thread) = k.procFind(tid == 0 ? pid : tid) else { return nil }
            let base = tid == 0 ? String(pid) : String(pid) + "/task/" + String(tid)
            let key = base + "/" + text
            switch text {
            case "task" where tid == 0:
                return procfs.directory(key, parent: directory, .tasks(pid: pid))
            case "fd":
                return procfs.directory(key, parent: directory, .fds(pid: pid, info: false))
            case "fdinfo":
                return procfs.directory(key, parent: directory, .fds(pid: pid, info: true))
            case "cwd":
                let cwd = v.files.fileSystem.path(of: v.files.workingDirectory)
                let target: [UInt8]
                if case .success(let p) = cwd { target = p } else { target = Array("/ (deleted)".utf8) }
                return procfs.link(key, parent: directory, target: target)
            case "root":
                return procfs.link(key, parent: directory, target: [FileSystem.slash])
            case "exe":
                return procfs.link(key, parent: directory, target: v.process.executablePath)
            default:
                for (fileName, file) in ProcDirectory.processFiles where fileName == text {
                    // comm is writable by the thread itself (proc_pid_set_comm).
                    let writable = file == .comm
                    return procfs.file(key, parent: directory, .process(pid: pid, tid: tid == 0 ? 0 : thread.tid, file),
                                       permissions: writable ? 0o644 : (file == .environ || file == .auxv ? 0o400 : 0o444))
                }
                return nil
            }
        case .tasks(let pid):
            guard let id = procNumber(name), let (v, _) = k.procFind(id), v.pid == pid else { return nil }
            return procfs.directory(String(pid) + "/task/" + text, parent: directory, .process(pid: pid, tid: id))
        case .fds(let pid, let info):
            guard let fd = procNumber(name), let (v, _) = k.procFind(pid), let f = v.files[fd] else { return nil }
            let key = String(pid) + (info ? "/fdinfo/" : "/fd/") + text
            if info { return procfs.file(key, parent: directory, .fdinfo(pid: pid, fd: fd)) }
            return procfs.link(key, parent: directory, target: k.procDescriptorName(f, fd: fd))
        }
    }
}

extension KernelState {
    /// What readlink(/proc/PID/fd/N) shows (fs/proc/fd.c proc_fd_link, d_path): the path of
    /// a file, "pipe:[ino]" and "socket:[ino]" for pipes and sockets, "anon_inode:[name]"
    /// for eventfd, timerfd and epoll (fs/anon_inodes.c names).
    func procDescriptorName(_ f: OpenFile, fd: Int) -> [UInt8] {
        if let object = f.object {
            let ino = String(FileSyscalls.stat(of: f, fd: fd, self).ino)
            if object is KernelSocket || object.fileMode & FileMode.S_IFMT == 0o140000 {
                return Array(("socket:[" + ino + "]").utf8)
            }
            if f.inode == nil || object is PipeEnd {
                if object.fileMode & FileMode.S_IFMT == FileMode.S_IFIFO { return Array(("pipe:[" + ino + "]").utf8) }
                let name: String
                if object is EventCounter { name = "eventfd" }
                else if object is Timer { name = "timerfd" }
                else if object is EpollInstance { name = "eventpoll" }
                else { name = "unknown" }
                return Array(("anon_inode:[" + name + "]").utf8)
            }
        }
        if f.kind == .console && f.inode == nil { return Array("/dev/console".utf8) }
        guard let inode = f.inode else { return Array("anon_inode:[unknown]".utf8) }
        return procPath(of: inode)
    }

    /// The path of any inode of the tree: a directory through its parents, anything else by
    /// searching the (non-generated) tree; " (deleted)" when it has no name any more, as d_path.
    func procPath(of inode: Inode) -> [UInt8] {
        let fs = files.fileSystem
        if inode.isDirectory, case .success(let p) = fs.path(of: inode) { return p }
        var pending: [(Inode, [UInt8])] = [(fs.root, [])]
        var visited = 0
        while let (directory, prefix) = pending.popLast(), visited < 100_000 {
            visited += 1
            for e in directory.storedEntries {
                let path = prefix + [FileSystem.slash] + e.name
                if e.inode === inode { return path }
                if e.inode.isDirectory && e.inode.generator == nil && e.inode.mount != .proc { pending.append((e.inode, path)) }
            }
        }
        return Array(("/" + String(inode.number) + " (deleted)").utf8)
    }
}
