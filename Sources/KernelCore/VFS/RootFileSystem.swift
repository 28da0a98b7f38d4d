// RootFileSystem — the tree a guest starts with (KernelCore/VFS): the console on
// descriptors 0-2, /dev and /proc nodes made by the kernel, /tmp, then the contents of the
// `egg run --files DIR` archive (CpioArchive.swift), then /etc basics the archive lacks.
// /proc and /sys are made by KernelState.installProcAndSys (SysFS.swift, ProcFS.swift);
// their files are generated when opened (ProcFSText.swift). The namespace logic is
// FileSystem.swift.
import ELF
import LinuxABI

extension FileTable {
    /// The kernel-made part of the tree, and the console on 0, 1 and 2.
    public func populateStandardTree(pid: Int, executablePath: [UInt8]) {
        let console = OpenFile(kind: .console, statusFlags: 2)  // O_RDWR
        for fd in 0..<3 { install(console, at: fd, closeOnExec: false) }
        let fs = fileSystem
        fs.makeDirectories(Array("/tmp".utf8), permissions: 0o1777)
        fs.makeDirectories(Array("/dev".utf8), permissions: 0o755).mount = .devtmpfs
        let devices: [(String, DeviceKind, UInt32)] = [
            ("null", .null, 0o666), ("zero", .zero, 0o666), ("random", .random, 0o666),
            ("urandom", .urandom, 0o666), ("tty", .tty, 0o666), ("console", .console, 0o600),
        ]
        for (name, kind, permissions) in devices {
            let node = fs.makeInode(.device(kind), permissions: permissions)
            node.mount = .devtmpfs
            fs.place(node, at: Array(("/dev/" + name).utf8))
        }
        // /proc and /sys are made by KernelState.installProcAndSys (VFS/SysFS.swift).
        fs.makeDirectories(Array("/dev/shm".utf8), permissions: 0o1777).mount = .shm
        _ = pid; _ = executablePath
    }

    /// Unpacks a cpio (newc) archive over the tree. Members are created with their modes,
    /// owners and times; parents missing from the archive are made 0755.
    public func unpack(_ members: [CpioMember]) {
        let entries = members.map { m in
            CpioEntry(name: m.name, mode: m.mode, uid: m.uid, gid: m.gid, mtime: m.mtime, rdevMajor: m.rdevMajor,
                      rdevMinor: m.rdevMinor, dataOffset: 0, dataLength: m.data.count)
        }
        unpack(entries, data: { members[$0].data }, backing: nil)
    }

    /// Unpacks `entries` of an archive in `source`. With `physicalBase` (where `source` lies
    /// in RAM: the boot bundle, which stays reserved for the guest's lifetime) regular files
    /// are backed by their bytes in place, not copied (FileData.swift); without it they are
    /// copied into blocks.
    public func unpack<S: ByteSource>(_ entries: [CpioEntry], from source: S, physicalBase: UInt64?) {
        unpack(entries, data: { index in
            let e = entries[index]
            var bytes: [UInt8] = []
            bytes.reserveCapacity(e.dataLength)
            for i in 0..<e.dataLength { bytes.append(source.byte(at: e.dataOffset + i)) }
            return bytes
        }, backing: physicalBase == nil ? nil : { e in
            FileBacking(base: physicalBase! + UInt64(e.dataOffset), length: e.dataLength)
        })
    }

    /// `data(i)` gives member i's bytes (for symlinks always, for regular files when there is
    /// no `backing`).
    func unpack(_ entries: [CpioEntry], data: (Int) -> [UInt8], backing: ((CpioEntry) -> FileBacking)?) {
        let fs = fileSystem
        // Times are applied at the end: creating a child changes its directory's mtime.
        var times: [(Inode, Int64)] = []
        defer { for (n, t) in times { n.modifyTime = t; n.accessTime = t; n.changeTime = t } }
        for (index, m) in entries.enumerated() {
            var path: [UInt8] = [FileSystem.slash]
            path.append(contentsOf: m.name)
            let parts = FileSystem.components(path).filter { !FileSystem.isDot($0) && !FileSystem.isDotDot($0) }
            var clean: [UInt8] = []
            for p in parts { clean.append(FileSystem.slash); clean.append(contentsOf: p) }
            let permissions = m.mode & 0o7777
            var node: Inode? = nil
            switch m.mode & FileMode.S_IFMT {
            case FileMode.S_IFDIR:
                node = fs.makeDirectories(clean, permissions: permissions)
                node?.permissions = permissions
            case FileMode.S_IFREG:
                if clean.isEmpty { continue }
                if let backing {
                    node = fs.makeFile(clean, backing: backing(m), permissions: permissions)
                } else {
                    node = fs.writeFile(clean, contents: data(index), permissions: permissions)
                }
            case FileMode.S_IFLNK:
                if clean.isEmpty || m.dataLength > FileSystem.pathMax { continue }
                let link = fs.makeInode(.symlink, permissions: 0o777)
                link.linkTarget = data(index)
                fs.place(link, at: clean)
                node = link
            case FileMode.S_IFCHR:
                let known: [DeviceKind] = [.null, .zero, .random, .urandom, .tty, .console]
                guard let kind = known.first(where: { $0.number == (m.rdevMajor, m.rdevMinor) }), !clean.isEmpty else { continue }
                let device = fs.makeInode(.device(kind), permissions: permissions)
                fs.place(device, at: clean)
                node = device
            case FileMode.S_IFIFO:
                if clean.isEmpty { continue }
                let fifo = fs.makeInode(.fifo, permissions: permissions)
                fs.place(fifo, at: clean)
                node = fifo
            default:
                continue
            }
            if let n = node {
                n.uid = m.uid
                n.gid = m.gid
                times.append((n, Int64(m.mtime) * 1_000_000_000))
            }
        }
    }

    /// /etc/hostname, /etc/passwd and /etc/group when the archive has none.
    public func addSystemFiles(hostname: [UInt8]) {
        let fs = fileSystem
        let defaults: [(String, [UInt8])] = [
            ("hostname", hostname + [0x0A]),
            ("passwd", Array("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n".utf8)),
            ("group", Array("root:x:0:\nnogroup:x:65534:\n".utf8)),
        ]
        let etc = fs.makeDirectories(Array("/etc".utf8))
        for (name, contents) in defaults where etc.lookup(Array(name.utf8)) == nil {
            fs.writeFile(Array(("/etc/" + name).utf8), contents: contents)
        }
    }
}

extension KernelState {
    /// Called once at boot (Sources/Kernel/Main.swift) with the --files archive where the
    /// boot bundle holds it in RAM (`physicalBase`: its files are read in place), or none.
    public func installRootFileSystem<S: ByteSource>(archive: S?, physicalBase: UInt64? = nil) {
        _ = fileBlocks   // connect the block store to RAM before any file is made
        if let archive {
            do throws(CpioError) {
                files.unpack(try CpioArchive.entries(archive), from: archive, physicalBase: physicalBase)
            } catch {
                platform.diagnostic("egg: the --files archive is damaged; the root file system may be incomplete\n")
            }
        }
        files.addSystemFiles(hostname: hostname)
    }

    /// The same, for an archive in kernel memory (tests).
    public func installRootFileSystem(archive: [UInt8]?) {
        installRootFileSystem(archive: archive, physicalBase: nil)
    }
}
