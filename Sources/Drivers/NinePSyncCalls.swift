// NinePSyncCalls — the system calls through which volumes (egg run -v) stay live: changes
// reach the host when the guest makes them, host changes are seen at the next open or
// lookup (Drivers layer, pure logic over KernelCore; host-tested in NinePTests.swift).
//
// Volumes are write-through caches of the host tree (NinePVolume.swift). Each handler here
// wraps whatever the table had before, runs it, then:
//  - after a namespace call (open with O_CREAT, creat, mkdir, unlink, rmdir, rename, link,
//    symlink, chmod, truncate) and after close, munmap, msync, ftruncate, fallocate, fchmod
//    of a volume's file, every writable volume is synchronized, so the host has the change
//    when the call returns (Linux's 9p client sends Tlcreate/Tmkdir/Tunlinkat/Trenameat at
//    the call, and flushes a file's dirty pages at close: fs/9p/vfs_file.c v9fs_file_flush);
//  - fsync, fdatasync, syncfs and sync do the same; an unregistered call keeps Linux's
//    answers for tmpfs (fsync of a valid descriptor is 0, of a bad one EBADF: fs/sync.c);
//  - opening a volume's file reloads it if the host changed it; opening a volume's
//    directory, or a lookup that found nothing in one (open, stat, access, readlink),
//    brings the directory up to date with the host and, for the lookup, tries again.
// A write-back failure is the server's errno (EIO when it gave none), as fsync reports a
// writeback error; a file that could not be written stays in the guest and is tried again
// at the next pass, so nothing is lost silently.
import KernelCore
import LinuxABI

public enum NinePSyncCalls {
    /// The volume an inode belongs to (MountKind.volume's index is the volume's position).
    static func volume(of inode: Inode, in volumes: [NinePVolume]) -> NinePVolume? {
        guard case .volume(let index, _) = inode.mount, index >= 0, index < volumes.count else { return nil }
        return volumes[index]
    }

    public static func install(on state: KernelState, volumes: [NinePVolume]) {
        func writeBack() throws(Errno) {
            var first: Errno? = nil
            for v in volumes { if let e = v.synchronize(), first == nil { first = e } }
            if let first { throw first }
        }
        func onVolume(_ k: KernelState, fdArgument: Int, _ a: SyscallArguments) -> Bool {
            let fd = Int(a.int32(fdArgument))
            guard fd >= 0, let inode = k.files[fd]?.inode else { return false }
            return inode.isOnVolume
        }

        // fsync and friends.
        func wrapSync(_ number: SyscallNumber, usesDescriptor: Bool) {
            var previous: SyscallHandler? = nil
            let handler: SyscallHandler = { k, a throws(Errno) -> Int in
                if let previous {
                    _ = try previous(k, a)
                } else if usesDescriptor {
                    let fd = try a.fd(0)
                    guard k.files[fd] != nil else { throw .EBADF }
                }
                try writeBack()
                return 0
            }
            previous = state.syscalls.register(number, handler)
        }
        wrapSync(.fsync, usesDescriptor: true)
        wrapSync(.fdatasync, usesDescriptor: true)
        wrapSync(.syncfs, usesDescriptor: true)
        // sync(2) always succeeds (it has no way to report).
        var previousSync: SyscallHandler? = nil
        let syncHandler: SyscallHandler = { k, a throws(Errno) -> Int in
            if let previousSync { _ = try? previousSync(k, a) }
            try? writeBack()
            return 0
        }
        previousSync = state.syscalls.register(.sync, syncHandler)

        // Calls after which the host must have the guest's change. `fdArgument`: the call
        // names a descriptor, and only one on a volume needs the pass.
        func wrapAfter(_ number: SyscallNumber, fdArgument: Int? = nil) {
            // A call egg does not implement stays unregistered (-ENOSYS).
            guard let previous = state.syscalls.handler(for: number.rawValue) else { return }
            let handler: SyscallHandler = { k, a throws(Errno) -> Int in
                var needed = true
                if let fdArgument { needed = onVolume(k, fdArgument: fdArgument, a) }
                let result: Int
                do throws(Errno) { result = try previous(k, a) } catch {
                    if needed { try? writeBack() }   // a partial change (rename over...) still goes out
                    throw error
                }
                if needed { try writeBack() }
                return result
            }
            state.syscalls.register(number, handler)
        }
        for n in [SyscallNumber.unlink, .unlinkat, .rmdir, .rename, .renameat, .renameat2, .mkdir, .mkdirat,
                  .symlink, .symlinkat, .link, .linkat, .truncate, .chmod, .fchmodat, .fchmodat2, .munmap, .msync] {
            wrapAfter(n)
        }
        wrapAfter(.close, fdArgument: 0)
        wrapAfter(.ftruncate, fdArgument: 0)
        wrapAfter(.fallocate, fdArgument: 0)
        wrapAfter(.fchmod, fdArgument: 0)

        // Lookups: a name not found in a volume's directory is looked for on the host.
        // `dirfd`: the argument holding the directory descriptor (nil: AT_FDCWD).
        func wrapLookup(_ number: SyscallNumber, dirfd: Int?, path: Int, opens: Bool) {
            guard let previous = state.syscalls.handler(for: number.rawValue) else { return }
            let handler: SyscallHandler = { k, a throws(Errno) -> Int in
                var result: Int
                do throws(Errno) {
                    result = try previous(k, a)
                } catch {
                    guard error == .ENOENT else { throw error }
                    var at: Int32 = -100   // AT_FDCWD
                    if let dirfd { at = a.int32(dirfd) }
                    guard let directory = VolumeLookup.parentDirectory(k, at, a.address(path)),
                          let v = volume(of: directory, in: volumes) else { throw error }
                    v.refreshDirectory(directory)
                    result = try previous(k, a)
                }
                if opens, result >= 0, let inode = k.files[result]?.inode, let v = volume(of: inode, in: volumes) {
                    if inode.isDirectory { v.refreshDirectory(inode) }
                    else if let e = v.refreshFile(inode) { _ = k.files.remove(result); throw e }
                    try writeBack()   // O_CREAT made a file, O_TRUNC emptied one
                }
                return result
            }
            state.syscalls.register(number, handler)
        }
        wrapLookup(.open, dirfd: nil, path: 0, opens: true)
        wrapLookup(.creat, dirfd: nil, path: 0, opens: true)
        wrapLookup(.openat, dirfd: 0, path: 1, opens: true)
        wrapLookup(.openat2, dirfd: 0, path: 1, opens: true)
        wrapLookup(.stat, dirfd: nil, path: 0, opens: false)
        wrapLookup(.lstat, dirfd: nil, path: 0, opens: false)
        wrapLookup(.newfstatat, dirfd: 0, path: 1, opens: false)
        wrapLookup(.statx, dirfd: 0, path: 1, opens: false)
        wrapLookup(.access, dirfd: nil, path: 0, opens: false)
        wrapLookup(.faccessat, dirfd: 0, path: 1, opens: false)
        wrapLookup(.faccessat2, dirfd: 0, path: 1, opens: false)
        wrapLookup(.readlink, dirfd: nil, path: 0, opens: false)
        wrapLookup(.readlinkat, dirfd: 0, path: 1, opens: false)
    }
}
