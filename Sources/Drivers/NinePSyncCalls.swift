// NinePSyncCalls — fsync(2), fdatasync(2), syncfs(2) and sync(2) when volumes are mounted
// (Drivers layer, pure logic over KernelCore; host-tested in NinePTests.swift).
//
// Volumes are write-back caches (NinePVolume.swift): these calls are where the guest's
// changes reach the host before exit. The handlers wrap whatever the table had before
// (another family may implement these for the in-memory file system), running it first
// and keeping its errors; an unregistered call keeps Linux's answers for tmpfs (fsync of a
// valid descriptor is 0, of a bad one EBADF: fs/sync.c do_fsync). A write-back failure is
// reported as the server's errno (EIO when it gave none), as fsync reports a writeback error.
import KernelCore
import LinuxABI

public enum NinePSyncCalls {
    public static func install(on state: KernelState, volumes: [NinePVolume]) {
        func writeBack() throws(Errno) {
            var first: Errno? = nil
            for v in volumes { if let e = v.synchronize(), first == nil { first = e } }
            if let first { throw first }
        }
        func wrap(_ number: SyscallNumber, usesDescriptor: Bool) {
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
        wrap(.fsync, usesDescriptor: true)
        wrap(.fdatasync, usesDescriptor: true)
        wrap(.syncfs, usesDescriptor: true)
        // sync(2) always succeeds (it has no way to report).
        var previousSync: SyscallHandler? = nil
        let syncHandler: SyscallHandler = { k, a throws(Errno) -> Int in
            if let previousSync { _ = try? previousSync(k, a) }
            try? writeBack()
            return 0
        }
        previousSync = state.syscalls.register(.sync, syncHandler)
    }
}
