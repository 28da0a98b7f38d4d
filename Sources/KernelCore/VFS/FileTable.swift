// FileTable — the process's descriptor table, its working directory and umask-free file
// system view, and the open file descriptions descriptors point to (KernelCore/VFS).
//
// As in Linux, a descriptor is a small index with its own flag (FD_CLOEXEC) pointing to an
// open file description (struct file: offset, status flags, the object); dup shares the
// description, open makes a new one. Descriptions are OpenFile: the console, an inode of
// the VFS (regular file, directory, device), a snapshot (bytes made at open: /proc files),
// or a PollableObject (pipes, eventfd, timerfd, epoll — Sources/KernelCore/Events/).
// The syscalls on these are Sources/KernelCore/Syscalls/FileSyscalls.swift and neighbours.
import LinuxABI

/// An open file description.
public final class OpenFile {
    public enum Kind { case console, snapshot, object, inode }
    public let kind: Kind
    /// For .object: the pipe, eventfd, timerfd or epoll instance (Sources/KernelCore/Events).
    public var object: (any PollableObject)? = nil
    /// For .inode (and snapshots of /proc files, for fstat): the file system object.
    public var inode: Inode? = nil
    /// For .snapshot: the bytes made at open.
    public var bytes: [UInt8]
    public var offset = 0
    /// The FD_CLOEXEC wanted for the descriptor this description is next installed at
    /// through `FileTable`'s subscript (installObject sets it); the flag itself lives in
    /// the table, per descriptor.
    public var closeOnExec = false
    public var statusFlags: UInt64
    /// How many descriptors refer to this description.
    var references = 0

    init(kind: Kind, bytes: [UInt8] = [], statusFlags: UInt64) {
        self.kind = kind
        self.bytes = bytes
        self.statusFlags = statusFlags
    }

    init(inode: Inode, statusFlags: UInt64) {
        self.kind = .inode
        self.inode = inode
        self.bytes = []
        self.statusFlags = statusFlags
    }

    public var accessMode: UInt64 { statusFlags & 3 }
    public var canRead: Bool { accessMode == 0 || accessMode == 2 }
    public var canWrite: Bool { accessMode == 1 || accessMode == 2 }
    public var isPathOnly: Bool { statusFlags & 0o10000000 != 0 }  // O_PATH
}

public final class FileTable {
    public static let limit = 1024   // RLIMIT_NOFILE's soft limit on Linux

    var descriptors: [OpenFile?] = []
    var closeOnExecFlags: [Bool] = []
    public let fileSystem: FileSystem
    public var workingDirectory: Inode
    /// The root set by chroot(2) (nil: the file system's root); Syscalls/RootAndResolveSyscalls.swift.
    public var root: Inode? = nil
    /// RLIMIT_NOFILE's soft limit: new descriptors are below it (EMFILE otherwise);
    /// setrlimit changes it (Syscalls/ProcessControlSyscalls.swift).
    public var openLimit = FileTable.limit

    public init(fileSystem: FileSystem) {
        self.fileSystem = fileSystem
        workingDirectory = fileSystem.root
    }

    public var count: Int { descriptors.count }

    /// Reading gives the description at `fd`; assigning installs one (FD_CLOEXEC from the
    /// description's `closeOnExec`) or, with nil, forgets the descriptor without closing it.
    public subscript(_ fd: Int) -> OpenFile? {
        get { fd >= 0 && fd < descriptors.count ? descriptors[fd] : nil }
        set {
            guard fd >= 0 && fd < max(FileTable.limit, openLimit) else { return }
            grow(to: fd)
            if let old = descriptors[fd] { old.references -= 1 }
            descriptors[fd] = newValue
            closeOnExecFlags[fd] = newValue?.closeOnExec ?? false
            if let f = newValue { f.references += 1; f.closeOnExec = false }
        }
    }

    func grow(to fd: Int) {
        while descriptors.count <= fd {
            descriptors.append(nil)
            closeOnExecFlags.append(false)
        }
    }

    public func closeOnExec(_ fd: Int) -> Bool { fd >= 0 && fd < closeOnExecFlags.count && closeOnExecFlags[fd] }

    public func setCloseOnExec(_ fd: Int, _ value: Bool) {
        if fd >= 0 && fd < closeOnExecFlags.count { closeOnExecFlags[fd] = value }
    }

    /// The lowest free descriptor at or above `minimum` (EMFILE past the limit).
    public func lowestFree(from minimum: Int) -> Int? {
        var fd = minimum
        while fd < descriptors.count && descriptors[fd] != nil { fd += 1 }
        guard fd < openLimit else { return nil }
        grow(to: fd)
        return fd
    }

    /// Installs `file` at the lowest free descriptor ≥ `minimum`.
    public func install(_ file: OpenFile, closeOnExec: Bool, minimum: Int = 0) -> Result<Int, Errno> {
        guard let fd = lowestFree(from: minimum) else { return .failure(.EMFILE) }
        install(file, at: fd, closeOnExec: closeOnExec)
        return .success(fd)
    }

    public func install(_ file: OpenFile, at fd: Int, closeOnExec: Bool) {
        self[fd] = file
        closeOnExecFlags[fd] = closeOnExec
    }

    /// Removes descriptor `fd`; returns the description when this was its last descriptor
    /// (the caller then releases what it holds: a pipe end, an epoll instance).
    public func remove(_ fd: Int) -> (file: OpenFile, wasLast: Bool)? {
        guard let f = self[fd] else { return nil }
        self[fd] = nil
        return (f, f.references == 0)
    }
}
