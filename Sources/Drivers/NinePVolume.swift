// NinePVolume — a host directory (egg run -v HOST:GUEST[:ro]) mounted at a guest path
// through a 9P2000.L server (Drivers layer, pure logic over KernelCore's VFS; host-tested
// with a fake server in Tests/KernelCoreTests/NinePTests.swift).
//
// Model: a write-through cache. At boot `load` copies the exported tree into the in-memory
// VFS (FileSystem.swift) under the mount point, so every file call the VFS supports (read,
// write, pread/pwrite, lseek, mmap, stat, getdents, rename, unlink, mkdir, rmdir, truncate)
// works on it unchanged. `synchronize` then makes the host tree equal to the guest's view:
// directories made, files renamed (Trenameat when a file only moved, so an atomic rename
// stays atomic on the host), files whose bytes changed rewritten, modes changed (Tsetattr),
// names that are gone removed. Files whose bytes did not change since the last pass are
// known by FileData.changeCount and not read again, so a pass costs a walk of the names.
// NinePSyncCalls.swift runs it right after every namespace call (create, mkdir, unlink,
// rename, link, symlink, chmod, truncate), after close/munmap/msync of a volume's file, at
// fsync/fdatasync/syncfs/sync, and before power-off (Sources/Kernel/NinePSetup.swift).
// Host changes: `refreshFile` reloads a file the host changed (by size and mtime) when the
// guest opens it, and `refreshDirectory` adds names the host made and drops names the host
// removed when the guest opens or misses a name in a directory.
// A read-only volume (":ro") marks every node read-only (EROFS) and is never written back.
// Every node carries MountKind.volume, so stat, statfs and /proc/mounts show a 9p mount.
import KernelCore
import LinuxABI

public final class NinePVolume {
    public let client: NinePClient
    public let guestPath: [UInt8]
    public let readOnly: Bool
    let fileSystem: FileSystem
    /// The mount every node of the volume belongs to (set before `load`).
    public var mount: MountKind = .tmpfs

    /// What the host holds at a path (relative to the volume, components joined by "/"), as
    /// of the last load or synchronize: the guest inode it came from or went to, and a digest
    /// of its bytes (or link target), to tell changed files from unchanged ones.
    struct Synced: Equatable {
        enum Kind: Equatable { case directory, file, symlink }
        var kind: Kind
        var inode: UInt64
        var digest: UInt64
        var size: Int
        /// The guest file's FileData.changeCount when the digest was taken.
        var changeCount: UInt64 = 0
        /// Permission bits the host has.
        var permissions: UInt32 = 0
        /// The host's size and mtime (ns) after the last transfer, to see host changes.
        var hostSize: UInt64 = 0
        var hostTime: UInt64 = 0

        /// Same node with the same bytes (what decides whether the host must be rewritten).
        func sameContent(_ o: Synced) -> Bool {
            kind == o.kind && inode == o.inode && digest == o.digest && size == o.size
        }
    }
    var synced: [[UInt8]: Synced] = [:]

    /// Bytes `load` may copy in (files past this are left out and reported).
    public var loadLimit: Int
    public private(set) var bytesLoaded = 0
    public private(set) var skipped: [[UInt8]] = []

    public init(client: NinePClient, fileSystem: FileSystem, guestPath: [UInt8], readOnly: Bool, loadLimit: Int) {
        self.client = client
        self.fileSystem = fileSystem
        self.guestPath = guestPath
        self.readOnly = readOnly
        self.loadLimit = loadLimit
    }

    static let slash: UInt8 = 0x2F

    static func join(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        a.isEmpty ? b : a + [slash] + b
    }

    static func components(_ relative: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        for b in relative {
            if b == slash { if !current.isEmpty { out.append(current) }; current = [] } else { current.append(b) }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    func guestAbsolute(_ relative: [UInt8]) -> [UInt8] {
        relative.isEmpty ? guestPath : guestPath + [NinePVolume.slash] + relative
    }

    /// FNV-1a 64 over the bytes: a cheap change detector (not a security boundary: the guest
    /// only fools itself by colliding it).
    static func digest(_ bytes: [UInt8], from seed: UInt64 = digestSeed) -> UInt64 {
        var h = seed
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
    static let digestSeed: UInt64 = 0xcbf2_9ce4_8422_2325
    /// How much of a file is looked at or sent at once (the kernel heap holds one chunk).
    static let scanChunk = 64 << 10

    // MARK: load

    /// Attaches and copies the exported tree in below `guestPath` (made if missing; what the
    /// root file system had there is replaced, as a mount hides it).
    public func load() throws(NinePFailure) {
        _ = try client.connect()
        let top = fileSystem.makeDirectories(guestPath)
        let rootAttributes = try client.attributes(client.rootFid)
        top.permissions = rootAttributes.mode & 0o7777
        top.mount = mount
        // Whatever --files put at the mount point is hidden by the mount (mount(2)).
        if case .success(let existing) = fileSystem.resolve(guestPath, from: fileSystem.root), existing.isDirectory {
            for e in existing.entries { removeGuestTree(guestAbsolute(e.name)) }
        }
        try loadDirectory(fid: client.rootFid, relative: [])
        synced[[]] = Synced(kind: .directory, inode: top.number, digest: 0, size: 0, permissions: top.permissions)
        if readOnly { top.readOnly = true }
    }

    /// Removes the files below `path`; directories stay (the working directory may be one
    /// of them, made by -w before the volume was mounted), and are merged with the host's.
    func removeGuestTree(_ path: [UInt8]) {
        guard case .success(let node) = fileSystem.resolve(path, from: fileSystem.root, followFinal: false) else { return }
        if node.isDirectory {
            for e in node.entries { removeGuestTree(path + [NinePVolume.slash] + e.name) }
        } else {
            _ = fileSystem.unlink(path, from: fileSystem.root)
        }
    }

    func loadDirectory(fid: UInt32, relative: [UInt8]) throws(NinePFailure) {
        for entry in try listDirectory(fid) {
            try loadEntry(in: fid, name: entry.name, relative: relative)
        }
    }

    /// The names in the host directory `fid` ("." and ".." left out).
    func listDirectory(_ fid: UInt32) throws(NinePFailure) -> [NinePDirectoryEntry] {
        let listing = try client.walk(from: fid, [])
        defer { client.clunk(listing) }
        try client.open(listing, flags: 0o200000)   // O_RDONLY | O_DIRECTORY
        return try client.readDirectory(listing)
    }

    static func nanoseconds(_ a: NinePAttributes) -> UInt64 { a.modifySeconds &* 1_000_000_000 &+ a.modifyNanoseconds }

    /// Copies one host node (`name` in the host directory `fid`) into the guest tree at
    /// `relative`/`name`, a directory with everything below it.
    func loadEntry(in fid: UInt32, name: [UInt8], relative: [UInt8]) throws(NinePFailure) {
        let path = NinePVolume.join(relative, name)
        let child = try client.walk(from: fid, [name])
        defer { client.clunk(child) }
        let a = try client.attributes(child)
        let type = a.mode & FileMode.S_IFMT
        let absolute = guestAbsolute(path)
        if type == FileMode.S_IFDIR {
            let d: Inode
            if case .success(let existing) = fileSystem.resolve(absolute, from: fileSystem.root, followFinal: false),
               existing.isDirectory {
                d = existing
                d.permissions = a.mode & 0o7777
                d.mount = mount
            } else if case .success(let made) = fileSystem.makeDirectory(absolute, from: fileSystem.root,
                                                                         permissions: a.mode & 0o7777) {
                d = made
            } else { return }
            synced[path] = Synced(kind: .directory, inode: d.number, digest: 0, size: 0, permissions: d.permissions)
            try loadDirectory(fid: child, relative: path)
            if readOnly { d.readOnly = true }
        } else if type == FileMode.S_IFREG {
            guard bytesLoaded + Int(a.size) <= loadLimit else { skipped.append(path); return }
            let inode = fileSystem.writeFile(absolute, contents: [], permissions: a.mode & 0o7777)
            let (digest, size) = try fill(inode, from: child, size: Int(a.size))
            bytesLoaded += size
            inode.modifyTime = Int64(truncatingIfNeeded: NinePVolume.nanoseconds(a))
            if readOnly { inode.readOnly = true }
            synced[path] = Synced(kind: .file, inode: inode.number, digest: digest, size: size,
                                  changeCount: inode.contents.changeCount, permissions: inode.permissions,
                                  hostSize: a.size, hostTime: NinePVolume.nanoseconds(a))
        } else if type == FileMode.S_IFLNK {
            let target = try client.readLink(child)
            guard case .success(let inode) = fileSystem.makeSymlink(absolute, target: target, from: fileSystem.root) else { return }
            synced[path] = Synced(kind: .symlink, inode: inode.number, digest: NinePVolume.digest(target), size: target.count)
        }
        // Sockets, FIFOs and device nodes on the host are not carried in.
    }

    /// Reads the host file `fid` (opened here) into the empty guest file, chunk by chunk
    /// into its blocks so a large file never sits whole in the kernel's heap.
    func fill(_ inode: Inode, from fid: UInt32, size expected: Int) throws(NinePFailure) -> (digest: UInt64, size: Int) {
        try client.open(fid, flags: 0)
        var digest = NinePVolume.digestSeed, size = 0
        while size < expected {
            let part = try client.read(fid, offset: UInt64(size), count: min(client.chunk, expected - size))
            if part.isEmpty { break }
            guard inode.contents.write(part, at: size) == part.count else { throw .error(.ENOSPC) }
            digest = NinePVolume.digest(part, from: digest)
            size += part.count
        }
        return (digest, size)
    }

    // MARK: host changes

    /// The volume-relative path the guest node was last synchronized at.
    func syncedPath(of inode: Inode) -> [UInt8]? {
        for (path, s) in synced where s.inode == inode.number { return path }
        return nil
    }

    /// Called when the guest opens a volume file: if the host's copy changed (size or mtime)
    /// since the last transfer and the guest's did not, the guest's bytes are reloaded.
    /// Returns an errno when the reload failed (the guest's bytes are then what the host
    /// had, up to the failure, so the open reports EIO rather than serve a mix silently).
    public func refreshFile(_ inode: Inode) -> Errno? {
        guard inode.isRegular, let path = syncedPath(of: inode), let old = synced[path], old.kind == .file,
              inode.contents.changeCount == old.changeCount, !inode.contents.everMapped else { return nil }
        do throws(NinePFailure) {
            let fid = try client.walk(from: client.rootFid, NinePVolume.components(path))
            defer { client.clunk(fid) }
            let a = try client.attributes(fid)
            guard a.mode & FileMode.S_IFMT == FileMode.S_IFREG else { return nil }
            if a.size == old.hostSize && NinePVolume.nanoseconds(a) == old.hostTime { return nil }
            inode.contents.resize(to: 0)
            let (digest, size) = try fill(inode, from: fid, size: Int(a.size))
            inode.modifyTime = Int64(truncatingIfNeeded: NinePVolume.nanoseconds(a))
            inode.permissions = a.mode & 0o7777
            synced[path] = Synced(kind: .file, inode: inode.number, digest: digest, size: size,
                                  changeCount: inode.contents.changeCount, permissions: inode.permissions,
                                  hostSize: a.size, hostTime: NinePVolume.nanoseconds(a))
            return nil
        } catch {
            if error == .error(.ENOENT) { return nil }   // gone on the host: the open file stays
            return error.errno
        }
    }

    /// Called when the guest opens a volume directory or misses a name in one: names the
    /// host made since are loaded, files and links the host removed (that the guest did not
    /// change since) are removed from the guest too.
    public func refreshDirectory(_ directory: Inode) {
        guard directory.isDirectory, let path = syncedPath(of: directory),
              let old = synced[path], old.kind == .directory else { return }
        let absolute = guestAbsolute(path)
        do throws(NinePFailure) {
            let fid = try client.walk(from: client.rootFid, NinePVolume.components(path))
            defer { client.clunk(fid) }
            let hostEntries = try listDirectory(fid)
            var onHost: Set<[UInt8]> = []
            for e in hostEntries {
                onHost.insert(e.name)
                let childPath = NinePVolume.join(path, e.name)
                if synced[childPath] != nil || directory.lookup(e.name) != nil { continue }
                let wasReadOnly = directory.readOnly
                directory.readOnly = false
                defer { directory.readOnly = wasReadOnly }
                try? loadEntry(in: fid, name: e.name, relative: path)
            }
            for e in directory.entries where !onHost.contains(e.name) {
                let childPath = NinePVolume.join(path, e.name)
                guard let s = synced[childPath], s.kind != .directory, s.inode == e.inode.number else { continue }
                if s.kind == .file && (e.inode.contents.changeCount != s.changeCount || e.inode.contents.everMapped) { continue }
                let wasReadOnly = directory.readOnly
                directory.readOnly = false
                _ = fileSystem.unlink(absolute + [NinePVolume.slash] + e.name, from: fileSystem.root)
                directory.readOnly = wasReadOnly
                synced[childPath] = nil
            }
        } catch {
            return   // the host directory is gone or unreadable: the guest keeps its view
        }
    }

    // MARK: write-back

    /// One node of the guest's tree under the mount point.
    struct Present {
        var path: [UInt8]
        var inode: Inode
        var kind: Synced.Kind
        var depth: Int
    }

    func collect(_ directory: Inode, relative: [UInt8], depth: Int, into out: inout [Present]) {
        for e in directory.entries {
            let path = NinePVolume.join(relative, e.name)
            switch e.inode.kind {
            case .directory:
                out.append(Present(path: path, inode: e.inode, kind: .directory, depth: depth))
                collect(e.inode, relative: path, depth: depth + 1, into: &out)
            case .regular: out.append(Present(path: path, inode: e.inode, kind: .file, depth: depth))
            case .symlink: out.append(Present(path: path, inode: e.inode, kind: .symlink, depth: depth))
            default: break   // device nodes and FIFOs made in a volume stay in the guest
            }
        }
    }

    func current(_ p: Present) -> Synced {
        switch p.kind {
        case .directory:
            return Synced(kind: .directory, inode: p.inode.number, digest: 0, size: 0, permissions: p.inode.permissions)
        case .file:
            let data = p.inode.contents
            // Unchanged since the last pass (no write, no resize, never mapped): the digest
            // stands, so a pass does not read every file's bytes.
            if var old = synced[p.path], old.kind == .file, old.inode == p.inode.number,
               old.changeCount == data.changeCount, !data.everMapped {
                old.permissions = p.inode.permissions
                return old
            }
            var digest = NinePVolume.digestSeed, at = 0
            while at < data.size {
                let part = data.bytes(at: at, count: min(NinePVolume.scanChunk, data.size - at))
                digest = NinePVolume.digest(part, from: digest)
                at += part.count
            }
            var s = Synced(kind: .file, inode: p.inode.number, digest: digest, size: data.size,
                           changeCount: data.changeCount, permissions: p.inode.permissions)
            if let old = synced[p.path], old.sameContent(s) { s.hostSize = old.hostSize; s.hostTime = old.hostTime }
            return s
        case .symlink:
            return Synced(kind: .symlink, inode: p.inode.number, digest: NinePVolume.digest(p.inode.linkTarget),
                          size: p.inode.linkTarget.count)
        }
    }

    /// Tsetattr of the mode when only the permission bits changed.
    func updateMode(_ path: [UInt8], _ permissions: UInt32) throws(NinePFailure) {
        let fid = try client.walk(from: client.rootFid, NinePVolume.components(path))
        defer { client.clunk(fid) }
        try client.setAttributes(fid, mode: permissions)
    }

    /// A fid for the directory holding `path` on the server, and the last component.
    func parent(of path: [UInt8]) throws(NinePFailure) -> (fid: UInt32, name: [UInt8]) {
        var parts = NinePVolume.components(path)
        let name = parts.removeLast()
        return (try client.walk(from: client.rootFid, parts), name)
    }

    func removeOnHost(_ path: [UInt8], kind: Synced.Kind) throws(NinePFailure) {
        let (dir, name) = try parent(of: path)
        defer { client.clunk(dir) }
        do throws(NinePFailure) {
            try client.unlink(in: dir, name: name, removeDirectory: kind == .directory)
        } catch {
            if error != .error(.ENOENT) { throw error }   // already gone on the host: fine
        }
    }

    /// Makes the host tree what the guest sees. Returns the first error met (the other
    /// changes are still tried; what failed is tried again at the next call).
    @discardableResult
    public func synchronize() -> Errno? {
        guard !readOnly else { return nil }
        guard case .success(let top) = fileSystem.resolve(guestPath, from: fileSystem.root), top.isDirectory else { return nil }
        var present: [Present] = []
        collect(top, relative: [], depth: 0, into: &present)
        var now: [[UInt8]: Synced] = [:]
        for p in present { now[p.path] = current(p) }
        var firstError: Errno? = nil
        func note(_ e: NinePFailure) { if firstError == nil { firstError = e.errno } }

        // 1. Files that are gone may have been renamed (same inode, same bytes, new name):
        //    kept for step 3. Everything else that is gone is removed now, deepest first, so a
        //    directory is empty when its turn comes and a new node can take the name.
        var movedFrom: [UInt64: [UInt8]] = [:]
        for (path, old) in synced where !path.isEmpty && now[path] == nil && old.kind == .file {
            movedFrom[old.inode] = path
        }
        removeGone(now: now, keeping: movedFrom, note: note)
        // 2. Directories the host lacks, parents first.
        for p in present.sorted(by: { $0.depth < $1.depth }) where p.kind == .directory {
            if let old = synced[p.path], old.kind == .directory {
                if old.permissions != p.inode.permissions {
                    do throws(NinePFailure) { try updateMode(p.path, p.inode.permissions); synced[p.path] = now[p.path] }
                    catch { note(error) }
                }
                continue
            }
            if let old = synced[p.path] {
                do throws(NinePFailure) { try removeOnHost(p.path, kind: old.kind) } catch { note(error); continue }
                synced[p.path] = nil
            }
            do throws(NinePFailure) {
                let (dir, name) = try parent(of: p.path)
                defer { client.clunk(dir) }
                do throws(NinePFailure) { try client.makeDirectory(in: dir, name: name, mode: p.inode.permissions) }
                catch { if error != .error(.EEXIST) { throw error } }
                synced[p.path] = now[p.path]
            } catch { note(error) }
        }
        // 3. Files and links.
        for p in present where p.kind != .directory {
            let n = now[p.path]!
            if let old = synced[p.path], old.sameContent(n) {
                if p.kind == .file && old.permissions != n.permissions {
                    do throws(NinePFailure) { try updateMode(p.path, n.permissions) } catch { note(error); continue }
                }
                synced[p.path] = n
                continue
            }
            if p.kind == .file, let from = movedFrom[n.inode], let old = synced[from], old.digest == n.digest,
               old.size == n.size, now[from] == nil {
                // Only moved: Trenameat keeps it one atomic step on the host, replacing the target.
                do throws(NinePFailure) {
                    let (a, oldName) = try parent(of: from)
                    defer { client.clunk(a) }
                    let (b, newName) = try parent(of: p.path)
                    defer { client.clunk(b) }
                    try client.rename(in: a, oldName, to: b, newName)
                    var moved = n
                    moved.hostSize = old.hostSize
                    moved.hostTime = old.hostTime
                    synced[from] = nil
                    movedFrom[n.inode] = nil
                    if old.permissions != n.permissions { try updateMode(p.path, n.permissions) }
                    synced[p.path] = moved
                    continue
                } catch { note(error) }
            }
            do throws(NinePFailure) {
                if let old = synced[p.path], old.kind != p.kind {
                    try removeOnHost(p.path, kind: old.kind)
                    synced[p.path] = nil
                }
                if p.kind == .symlink {
                    if synced[p.path] != nil { try removeOnHost(p.path, kind: .symlink); synced[p.path] = nil }
                    let (dir, name) = try parent(of: p.path)
                    defer { client.clunk(dir) }
                    try client.makeSymlink(in: dir, name: name, target: p.inode.linkTarget)
                    synced[p.path] = n
                } else {
                    var written = n
                    (written.hostSize, written.hostTime) = try writeFile(p, existsOnHost: synced[p.path] != nil)
                    synced[p.path] = written
                }
            } catch { note(error) }
        }
        // 4. Files that were gone but not renamed.
        removeGone(now: now, keeping: [:], note: note)
        return firstError
    }

    /// Removes on the host what the guest no longer has at a path (or has as another kind),
    /// deepest first, except the rename candidates in `keeping`.
    func removeGone(now: [[UInt8]: Synced], keeping: [UInt64: [UInt8]], note: (NinePFailure) -> Void) {
        var victims: [([UInt8], Synced)] = []
        for (path, old) in synced where !path.isEmpty {
            if let n = now[path], n.kind == old.kind { continue }
            if old.kind == .file, let kept = keeping[old.inode], kept == path { continue }
            // A directory still holding a rename candidate goes in the final pass.
            if old.kind == .directory && keeping.values.contains(where: { $0.count > path.count && Array($0.prefix(path.count + 1)) == path + [NinePVolume.slash] }) { continue }
            victims.append((path, old))
        }
        victims.sort { NinePVolume.components($0.0).count > NinePVolume.components($1.0).count }
        for (path, old) in victims {
            do throws(NinePFailure) {
                try removeOnHost(path, kind: old.kind)
                synced[path] = nil
            } catch { note(error) }
        }
    }

    /// Writes the guest file to the host; returns the host's size and mtime afterwards.
    func writeFile(_ p: Present, existsOnHost: Bool) throws(NinePFailure) -> (UInt64, UInt64) {
        let data = p.inode.contents
        let (dir, name) = try parent(of: p.path)
        defer { client.clunk(dir) }
        let file: UInt32
        if existsOnHost, let f = try? client.walk(from: dir, [name]) {
            file = f
            do throws(NinePFailure) {
                try client.open(file, flags: 0o1001)   // O_WRONLY | O_TRUNC
                let a = try client.attributes(file)
                if a.mode & 0o7777 != p.inode.permissions { try client.setAttributes(file, mode: p.inode.permissions) }
            } catch { client.clunk(file); throw error }
        } else {
            file = try client.walk(from: dir, [])
            do throws(NinePFailure) { try client.create(file, name: name, flags: 0o1101, mode: p.inode.permissions) } // O_WRONLY|O_CREAT|O_TRUNC
            catch { client.clunk(file); throw error }
        }
        defer { client.clunk(file) }
        var at = 0
        while at < data.size {
            let part = data.bytes(at: at, count: min(client.chunk, data.size - at))
            var done = 0
            while done < part.count {
                let n = try client.write(file, offset: UInt64(at + done), part[done...])
                if n == 0 { throw .error(.EIO) }
                done += n
            }
            at += part.count
        }
        try client.fsync(file)
        let a = try client.attributes(file)
        return (a.size, NinePVolume.nanoseconds(a))
    }

    /// statfs(2) of the host file system behind the volume.
    public func statistics() -> NinePStatfs? { try? client.statistics(client.rootFid) }
}
