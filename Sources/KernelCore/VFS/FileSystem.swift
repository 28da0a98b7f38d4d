// FileSystem — the guest's one in-memory file system: path resolution and the namespace
// operations (KernelCore/VFS, pure logic; host-tested in Tests/KernelCoreTests/VFS*.swift).
//
// Path walking follows path_resolution(7) and fs/namei.c: "." and "..", ".." of the root is
// the root, symbolic links are followed (at most 40 per lookup, then ELOOP), a trailing slash
// demands a directory, a component over NAME_MAX (255) is ENAMETOOLONG (PATH_MAX is enforced
// when the string is copied in). Error choices
// for unlink/rmdir/rename/mkdir follow do_unlinkat, do_rmdir, do_renameat2 and do_mkdirat.
// Permission checks (search, create, delete, sticky, ownership of new nodes) are one-line
// hooks into Permissions.swift, made with the credentials `caller` returns.
// Objects are Inode.swift; descriptors are FileTable.swift; syscalls are Syscalls/.
import LinuxABI

public final class FileSystem {
    public static let nameMax = 255
    public static let pathMax = 4096
    public static let symlinkLimit = 40

    public let root: Inode
    var nextInodeNumber: UInt64 = 2
    /// Where regular files' blocks come from, and the size limit (FileData.swift).
    public let blocks: FileBlockStore
    /// Realtime nanoseconds for timestamps (the platform clock in the kernel).
    public var clock: () -> Int64
    /// The credentials of the thread making the call (KernelState sets it; root otherwise).
    public var caller: () -> Credentials = { Credentials.root }
    /// The calling process's root directory after chroot(2) (nil: the file system's root).
    public var callerRoot: () -> Inode? = { nil }
    /// openat2(2)'s RESOLVE_* rules for the lookup in progress (VFS/ResolveRules.swift).
    var resolveRules: ResolveRules? = nil
    /// Where "/" and ".." stop: RESOLVE_IN_ROOT's directory, the chroot, or the root.
    var lookupRoot: Inode { resolveRules?.root ?? callerRoot() ?? root }
    /// The host directories mounted as 9p (egg run -v; VFS/VolumeMount.swift), by index.
    public var volumeMounts: [VolumeMount] = []

    public init(clock: @escaping () -> Int64 = { 0 }, blocks: FileBlockStore = FileBlockStore()) {
        self.clock = clock
        self.blocks = blocks
        root = Inode(kind: .directory, number: 1, permissions: 0o755, now: clock(), store: blocks)
        root.parent = root
    }

    public func makeInode(_ kind: Inode.Kind, permissions: UInt32) -> Inode {
        nextInodeNumber += 1
        return Inode(kind: kind, number: nextInodeNumber, permissions: permissions, now: clock(), store: blocks)
    }

    /// A new node to be linked into `directory`: it belongs to the directory's mount.
    func makeInode(_ kind: Inode.Kind, permissions: UInt32, in directory: Inode) -> Inode {
        let inode = makeInode(kind, permissions: permissions)
        inode.mount = directory.mount
        assignOwner(inode, in: directory)
        return inode
    }

    /// Whether a new inode may be made (tmpfs's nr_inodes limit: ENOSPC past it).
    var canMakeInode: Bool { !blocks.isBound || blocks.inodesInUse < blocks.limitInodes }

    // MARK: path resolution

    static let slash: UInt8 = 0x2F, dot: UInt8 = 0x2E

    static func components(_ path: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var current: [UInt8] = []
        for b in path {
            if b == slash {
                if !current.isEmpty { out.append(current); current = [] }
            } else {
                current.append(b)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    static func isDot(_ c: [UInt8]) -> Bool { c.count == 1 && c[0] == dot }
    static func isDotDot(_ c: [UInt8]) -> Bool { c.count == 2 && c[0] == dot && c[1] == dot }

    /// The inode `path` names, relative to `base` unless absolute. `followFinal` false is
    /// lstat/O_NOFOLLOW: a final symlink is returned itself (a trailing slash still follows).
    public func resolve(_ path: [UInt8], from base: Inode, followFinal: Bool = true) -> Result<Inode, Errno> {
        var links = 0
        return walk(path, from: base, followFinal: followFinal, links: &links)
    }

    func walk(_ path: [UInt8], from base: Inode, followFinal: Bool, links: inout Int) -> Result<Inode, Errno> {
        guard !path.isEmpty else { return .failure(.ENOENT) }
        if path[0] == FileSystem.slash, let e = resolveRules?.absolute() { return .failure(e) }
        var current = path[0] == FileSystem.slash ? lookupRoot : base
        let parts = FileSystem.components(path)
        let trailingSlash = path.last == FileSystem.slash
        for (i, c) in parts.enumerated() {
            guard current.isDirectory else { return .failure(.ENOTDIR) }
            if let e = searchDenied(current) { return .failure(e) }
            if FileSystem.isDot(c) { continue }
            if FileSystem.isDotDot(c) {
                if current === lookupRoot { continue }   // ".." of the (chroot) root is itself
                let up = current.parent ?? root
                if let e = resolveRules?.step(from: current, to: up, dotDot: true) { return .failure(e) }
                current = up
                continue
            }
            guard c.count <= FileSystem.nameMax else { return .failure(.ENAMETOOLONG) }
            guard let child = current.lookup(c) else { return .failure(.ENOENT) }
            if let e = resolveRules?.step(from: current, to: child, dotDot: false) { return .failure(e) }
            let isLast = i == parts.count - 1
            if child.isSymlink && (!isLast || followFinal || trailingSlash) {
                if let e = resolveRules?.following(child, name: c) { return .failure(e) }
                links += 1
                guard links <= FileSystem.symlinkLimit else { return .failure(.ELOOP) }
                switch walk(child.linkTarget, from: current, followFinal: true, links: &links) {
                case .failure(let e): return .failure(e)
                case .success(let target): current = target
                }
            } else {
                current = child
            }
        }
        if trailingSlash && !current.isDirectory { return .failure(.ENOTDIR) }
        return .success(current)
    }

    /// The directory that will hold the last component of `path`, and that component.
    public struct ParentLookup {
        public var directory: Inode
        /// Empty for "/" (the root has no name in any directory).
        public var name: [UInt8]
        public var trailingSlash: Bool
        /// What the name refers to now, without following a final symlink.
        public var existing: Inode?
        public var isDot: Bool { FileSystem.isDot(name) }
        public var isDotDot: Bool { FileSystem.isDotDot(name) }
        /// "." "..", or the root: not an ordinary name (LAST_DOT/LAST_DOTDOT/LAST_ROOT).
        public var isSpecial: Bool { name.isEmpty || isDot || isDotDot }
    }

    public func resolveParent(_ path: [UInt8], from base: Inode) -> Result<ParentLookup, Errno> {
        var links = 0
        return parentWalk(path, from: base, links: &links)
    }

    func parentWalk(_ path: [UInt8], from base: Inode, links: inout Int) -> Result<ParentLookup, Errno> {
        guard !path.isEmpty else { return .failure(.ENOENT) }
        var end = path.count
        while end > 0 && path[end - 1] == FileSystem.slash { end -= 1 }
        let trailingSlash = end < path.count
        if end == 0 {   // "/" or "///"
            if let e = resolveRules?.absolute() { return .failure(e) }
            return .success(ParentLookup(directory: lookupRoot, name: [], trailingSlash: true, existing: lookupRoot))
        }
        var start = end
        while start > 0 && path[start - 1] != FileSystem.slash { start -= 1 }
        let name = Array(path[start..<end])
        var directory = base
        if start == 0 && path[0] == FileSystem.slash { directory = lookupRoot }
        if start > 0 {
            switch walk(Array(path[0..<start]), from: base, followFinal: true, links: &links) {
            case .failure(let e): return .failure(e)
            case .success(let d): directory = d
            }
        }
        guard directory.isDirectory else { return .failure(.ENOTDIR) }
        if let e = searchDenied(directory) { return .failure(e) }
        guard name.count <= FileSystem.nameMax else { return .failure(.ENAMETOOLONG) }
        var existing: Inode? = nil
        if FileSystem.isDot(name) { existing = directory }
        else if FileSystem.isDotDot(name) { existing = directory === lookupRoot ? directory : (directory.parent ?? root) }
        else { existing = directory.lookup(name) }
        return .success(ParentLookup(directory: directory, name: name, trailingSlash: trailingSlash, existing: existing))
    }

    // MARK: namespace operations

    /// open(O_CREAT): the existing inode (following a final symlink unless `followFinal` is
    /// false), or a new regular file. `exclusive` is O_EXCL: anything at the name is EEXIST.
    public func openOrCreate(_ path: [UInt8], from base: Inode, permissions: UInt32, exclusive: Bool,
                             followFinal: Bool) -> Result<(inode: Inode, created: Bool), Errno> {
        var links = 0
        return openOrCreate(path, from: base, permissions: permissions, exclusive: exclusive,
                            followFinal: followFinal, links: &links)
    }

    func openOrCreate(_ path: [UInt8], from base: Inode, permissions: UInt32, exclusive: Bool,
                      followFinal: Bool, links: inout Int) -> Result<(inode: Inode, created: Bool), Errno> {
        let p: ParentLookup
        switch parentWalk(path, from: base, links: &links) {
        case .failure(let e): return .failure(e)
        case .success(let v): p = v
        }
        if let existing = p.existing {
            if exclusive { return .failure(.EEXIST) }
            if existing.isSymlink {
                guard followFinal else { return .failure(.ELOOP) }
                links += 1
                guard links <= FileSystem.symlinkLimit else { return .failure(.ELOOP) }
                // A dangling link is created through (open(2): O_CREAT follows the link).
                return openOrCreate(existing.linkTarget, from: p.directory, permissions: permissions,
                                    exclusive: false, followFinal: true, links: &links)
            }
            if p.trailingSlash && !existing.isDirectory { return .failure(.ENOTDIR) }
            if existing.isDirectory { return .failure(.EISDIR) }   // O_CREAT on a directory
            return .success((existing, false))
        }
        if p.trailingSlash { return .failure(.EISDIR) }
        if p.directory.readOnly { return .failure(p.directory.readOnlyError()) }
        if let e = createDenied(in: p.directory) { return .failure(e) }
        guard canMakeInode else { return .failure(.ENOSPC) }
        let inode = makeInode(.regular, permissions: permissions, in: p.directory)
        p.directory.link(p.name, inode, now: clock())
        return .success((inode, true))
    }

    /// mkdir(2): `permissions` already has the umask applied.
    @discardableResult
    public func makeDirectory(_ path: [UInt8], from base: Inode, permissions: UInt32) -> Result<Inode, Errno> {
        makeNode(path, from: base, kind: .directory, permissions: permissions, allowTrailingSlash: true)
    }

    /// mknod-like creation of any kind of node (directories, devices, fifos, files).
    @discardableResult
    public func makeNode(_ path: [UInt8], from base: Inode, kind: Inode.Kind, permissions: UInt32,
                         allowTrailingSlash: Bool = false) -> Result<Inode, Errno> {
        let p: ParentLookup
        switch resolveParent(path, from: base) {
        case .failure(let e): return .failure(e)
        case .success(let v): p = v
        }
        if p.existing != nil { return .failure(.EEXIST) }
        if p.trailingSlash && !allowTrailingSlash { return .failure(.ENOENT) }
        if p.directory.readOnly { return .failure(p.directory.readOnlyError()) }
        if let e = createDenied(in: p.directory) { return .failure(e) }
        guard canMakeInode else { return .failure(.ENOSPC) }
        let inode = makeInode(kind, permissions: permissions, in: p.directory)
        p.directory.link(p.name, inode, now: clock())
        return .success(inode)
    }

    /// symlink(2): `target` is stored as given (it may dangle).
    @discardableResult
    public func makeSymlink(_ path: [UInt8], target: [UInt8], from base: Inode) -> Result<Inode, Errno> {
        guard !target.isEmpty else { return .failure(.ENOENT) }
        let p: ParentLookup
        switch resolveParent(path, from: base) {
        case .failure(let e): return .failure(e)
        case .success(let v): p = v
        }
        if p.existing != nil { return .failure(.EEXIST) }
        if p.trailingSlash { return .failure(.ENOENT) }
        if p.directory.readOnly { return .failure(p.directory.readOnlyError()) }
        if let e = createDenied(in: p.directory) { return .failure(e) }
        guard canMakeInode else { return .failure(.ENOSPC) }
        let inode = makeInode(.symlink, permissions: 0o777, in: p.directory)
        inode.linkTarget = target
        p.directory.link(p.name, inode, now: clock())
        return .success(inode)
    }

    /// link(2): a new name for a non-directory.
    public func makeHardLink(_ oldPath: [UInt8], from oldBase: Inode, to newPath: [UInt8], from newBase: Inode,
                             followFinal: Bool) -> Result<Void, Errno> {
        let old: Inode
        switch resolve(oldPath, from: oldBase, followFinal: followFinal) {
        case .failure(let e): return .failure(e)
        case .success(let v): old = v
        }
        return link(old, to: newPath, from: newBase)
    }

    /// A new name for `inode` (link(2), and linkat(2) AT_EMPTY_PATH for an open file). A file
    /// whose last name is gone is ENOENT unless it is a linkable O_TMPFILE file (vfs_link's
    /// I_LINKABLE rule), which then stops being linkable that way.
    public func link(_ inode: Inode, to newPath: [UInt8], from newBase: Inode) -> Result<Void, Errno> {
        if inode.isDirectory { return .failure(.EPERM) }
        let p: ParentLookup
        switch resolveParent(newPath, from: newBase) {
        case .failure(let e): return .failure(e)
        case .success(let v): p = v
        }
        if p.existing != nil { return .failure(.EEXIST) }
        if p.trailingSlash { return .failure(.ENOENT) }
        // do_linkat: both names on one mount (EXDEV), checked before permissions.
        if inode.mount != p.directory.mount { return .failure(.EXDEV) }
        if p.directory.readOnly { return .failure(p.directory.readOnlyError()) }
        if let e = createDenied(in: p.directory) { return .failure(e) }
        if inode.linkCount <= 0 && !inode.linkable { return .failure(.ENOENT) }
        p.directory.link(p.name, inode, now: clock())
        inode.linkCount = max(0, inode.linkCount) + 1
        inode.linkable = false
        inode.changeTime = clock()
        return .success(())
    }

    /// unlink(2): removes a name of a non-directory.
    public func unlink(_ path: [UInt8], from base: Inode) -> Result<Void, Errno> {
        let p: ParentLookup
        switch resolveParent(path, from: base) {
        case .failure(let e): return .failure(e)
        case .success(let v): p = v
        }
        if p.isSpecial { return .failure(.EISDIR) }
        guard let victim = p.existing else { return .failure(.ENOENT) }
        if victim.isDirectory { return .failure(.EISDIR) }
        if p.trailingSlash { return .failure(.ENOTDIR) }
        if p.directory.readOnly { return .failure(p.directory.readOnlyError()) }
        if let e = deleteDenied(victim, from: p.directory) { return .failure(e) }
        p.directory.unlink(p.name, now: clock())
        victim.linkCount -= 1
        victim.changeTime = clock()
        return .success(())
    }

    /// rmdir(2): removes an empty directory.
    public func removeDirectory(_ path: [UInt8], from base: Inode) -> Result<Void, Errno> {
        let p: ParentLookup
        switch resolveParent(path, from: base) {
        case .failure(let e): return .failure(e)
        case .success(let v): p = v
        }
        if p.name.isEmpty { return .failure(.EBUSY) }
        if p.isDot { return .failure(.EINVAL) }
        if p.isDotDot { return .failure(.ENOTEMPTY) }
        guard let victim = p.existing else { return .failure(.ENOENT) }
        guard victim.isDirectory else { return .failure(.ENOTDIR) }
        if victim === root || victim === lookupRoot || FileSystem.isMountPoint(victim) { return .failure(.EBUSY) }
        if p.directory.readOnly { return .failure(p.directory.readOnlyError()) }
        if let e = deleteDenied(victim, from: p.directory) { return .failure(e) }
        guard victim.entries.isEmpty else { return .failure(.ENOTEMPTY) }
        p.directory.unlink(p.name, now: clock())
        detach(victim)
        return .success(())
    }

    func detach(_ inode: Inode) {
        if inode.isDirectory {
            inode.linkCount = 0
            inode.parent = nil
        } else {
            inode.linkCount -= 1
        }
        inode.changeTime = clock()
    }

    public static let renameNoReplace: UInt32 = 1, renameExchange: UInt32 = 2, renameWhiteout: UInt32 = 4

    /// rename(2)/renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE.
    public func rename(_ oldPath: [UInt8], from oldBase: Inode, to newPath: [UInt8], from newBase: Inode,
                       flags: UInt32 = 0) -> Result<Void, Errno> {
        guard flags & ~(FileSystem.renameNoReplace | FileSystem.renameExchange | FileSystem.renameWhiteout) == 0,
              flags & FileSystem.renameExchange == 0 || flags & (FileSystem.renameNoReplace | FileSystem.renameWhiteout) == 0
        else { return .failure(.EINVAL) }
        // RENAME_WHITEOUT makes a device node: CAP_MKNOD (do_renameat2).
        if flags & FileSystem.renameWhiteout != 0 && !caller().capable(FileSystem.capMknod) { return .failure(.EPERM) }
        let o: ParentLookup, n: ParentLookup
        switch resolveParent(oldPath, from: oldBase) {
        case .failure(let e): return .failure(e)
        case .success(let v): o = v
        }
        switch resolveParent(newPath, from: newBase) {
        case .failure(let e): return .failure(e)
        case .success(let v): n = v
        }
        if o.isSpecial || n.isSpecial { return .failure(.EBUSY) }
        // do_renameat2: both parents on one mount, else EXDEV (before the names are looked at).
        if o.directory.mount != n.directory.mount { return .failure(.EXDEV) }
        guard let source = o.existing else { return .failure(.ENOENT) }
        if FileSystem.isMountPoint(source) || (n.existing.map { FileSystem.isMountPoint($0) } ?? false) { return .failure(.EBUSY) }
        if (o.trailingSlash || n.trailingSlash) && !source.isDirectory { return .failure(.ENOTDIR) }
        if o.directory.readOnly || n.directory.readOnly { return .failure((o.directory.readOnly ? o.directory : n.directory).readOnlyError()) }
        if source !== n.existing, let e = renameDenied(source, from: o.directory, to: n.directory, replacing: n.existing) {
            return .failure(e)
        }
        let now = clock()
        if flags & FileSystem.renameExchange != 0 {
            guard let target = n.existing else { return .failure(.ENOENT) }
            if source === target { return .success(()) }
            if source.isDirectory && source.isAncestor(of: n.directory) { return .failure(.EINVAL) }
            if target.isDirectory && target.isAncestor(of: o.directory) { return .failure(.EINVAL) }
            o.directory.unlink(o.name, now: now)
            n.directory.unlink(n.name, now: now)
            o.directory.link(o.name, target, now: now)
            n.directory.link(n.name, source, now: now)
            source.changeTime = now
            target.changeTime = now
            return .success(())
        }
        if let target = n.existing {
            if flags & FileSystem.renameNoReplace != 0 { return .failure(.EEXIST) }
            if source === target { return .success(()) }   // same file: nothing happens
            if source.isDirectory {
                guard target.isDirectory else { return .failure(.ENOTDIR) }
                guard target.entries.isEmpty else { return .failure(.ENOTEMPTY) }
            } else if target.isDirectory {
                return .failure(.EISDIR)
            }
        }
        if source.isDirectory && source.isAncestor(of: n.directory) { return .failure(.EINVAL) }
        if let target = n.existing {
            n.directory.unlink(n.name, now: now)
            detach(target)
        }
        o.directory.unlink(o.name, now: now)
        n.directory.link(n.name, source, now: now)
        source.changeTime = now
        if flags & FileSystem.renameWhiteout != 0 {
            // shmem_whiteout: a character device 0/0 with mode 0 at the old name.
            let whiteout = makeInode(.device(.other(major: 0, minor: 0)), permissions: 0, in: o.directory)
            o.directory.link(o.name, whiteout, now: now)
        }
        return .success(())
    }

    /// CAP_MKNOD (capabilities(7)).
    static let capMknod = 27

    /// The root directory of a mount other than the root file system's (/dev, /dev/shm,
    /// /proc, /sys): its mount differs from its parent's. rmdir and rename give EBUSY.
    static func isMountPoint(_ i: Inode) -> Bool {
        guard i.isDirectory, let parent = i.parent, parent !== i else { return false }
        return parent.mount != i.mount
    }

    /// The absolute path of a directory (getcwd(2)); ENOENT once it has been removed.
    public func path(of directory: Inode) -> Result<[UInt8], Errno> {
        let top = lookupRoot
        if directory === top { return .success([FileSystem.slash]) }
        var names: [[UInt8]] = []
        var node = directory
        var unreachable = false
        while node !== top {
            // Outside a chroot: getcwd(2) prefixes "(unreachable)" (d_path's prepend_path).
            if node === root { unreachable = true; break }
            guard let parent = node.parent, let entry = parent.entries.first(where: { $0.inode === node }) else {
                return .failure(.ENOENT)
            }
            names.append(entry.name)
            node = parent
            if names.count > FileSystem.pathMax { return .failure(.ENAMETOOLONG) }
        }
        var out: [UInt8] = unreachable ? Array("(unreachable)".utf8) : []
        for name in names.reversed() {
            out.append(FileSystem.slash)
            out.append(contentsOf: name)
        }
        return .success(out)
    }

    // MARK: conveniences for building the tree (boot, tests)

    /// Creates every missing directory along `path` (mkdir -p), returning the last.
    @discardableResult
    public func makeDirectories(_ path: [UInt8], permissions: UInt32 = 0o755) -> Inode {
        var current = root
        for c in FileSystem.components(path) {
            if FileSystem.isDot(c) { continue }
            if FileSystem.isDotDot(c) { current = current.parent ?? root; continue }
            if let existing = current.lookup(c), existing.isDirectory {
                current = existing
            } else if current.lookup(c) == nil {
                let d = makeInode(.directory, permissions: permissions, in: current)
                current.link(c, d, now: clock())
                current = d
            } else {
                break
            }
        }
        return current
    }

    /// Creates or replaces the regular file `path` with `contents` (parents made as needed).
    /// The bytes go into blocks: past the size limit the file keeps what fitted.
    @discardableResult
    public func writeFile(_ path: [UInt8], contents: [UInt8], permissions: UInt32 = 0o644) -> Inode {
        let inode = makeFile(path, permissions: permissions)
        inode.contents.write(contents, at: 0)
        return inode
    }

    /// Creates or replaces the regular file `path`, empty, or backed by bytes in physical
    /// memory (the --files archive, read where it lies: FileData.swift).
    @discardableResult
    public func makeFile(_ path: [UInt8], backing: FileBacking? = nil, permissions: UInt32 = 0o644) -> Inode {
        var parts = FileSystem.components(path)
        let name = parts.removeLast()
        var dirPath: [UInt8] = []
        for p in parts { dirPath.append(FileSystem.slash); dirPath.append(contentsOf: p) }
        let directory = makeDirectories(dirPath)
        if let old = directory.lookup(name) {
            directory.unlink(name, now: clock())
            detach(old)
        }
        let inode: Inode
        if let backing {
            nextInodeNumber += 1
            inode = Inode(kind: .regular, number: nextInodeNumber, permissions: permissions, now: clock(),
                          store: blocks, backing: backing)
        } else {
            inode = makeInode(.regular, permissions: permissions)
        }
        inode.mount = directory.mount
        directory.link(name, inode, now: clock())
        return inode
    }

    /// Adds `inode` at `path` if the name is free (parents made as needed).
    public func place(_ inode: Inode, at path: [UInt8]) {
        var parts = FileSystem.components(path)
        guard let name = parts.popLast() else { return }
        var dirPath: [UInt8] = []
        for p in parts { dirPath.append(FileSystem.slash); dirPath.append(contentsOf: p) }
        let directory = makeDirectories(dirPath)
        if directory.lookup(name) == nil { directory.link(name, inode, now: clock()) }
    }
}
