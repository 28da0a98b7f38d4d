// FileSyscalls — system calls on file descriptors (KernelCore layer): read(2), write(2),
// pread64/pwrite64(2), readv/writev(2), lseek(2), fstat(2), getdents64(2), close(2),
// dup/dup2/dup3(2), fcntl(2), ftruncate(2), sendfile(2), ioctl_tty(2) on the console, and
// mmap of character devices with a driver (mmap of files is MemorySyscalls.mapFile).
//
// Counts: each call moves at most MAX_RW_COUNT bytes (INT_MAX & PAGE_MASK, fs/read_write.c),
// the guest range is checked as access_ok does before anything moves (EFAULT), and regular
// files copy straight between guest pages and the file's blocks (VFS/FileDataTransfer.swift):
// no kernel buffer is ever sized by a guest's count; the others use 64 KiB chunks or less.
//
// Descriptors and open file descriptions are Sources/KernelCore/VFS/FileTable.swift; the
// objects behind them are VFS inodes (Inode.swift), the console (Devices/ConsoleTerminal.swift), /proc
// snapshots, or PollableObjects (pipes, eventfd, timerfd, epoll: Sources/KernelCore/Events).
// Calls that take paths are PathSyscalls.swift; poll/select are PollSyscalls.swift.
import LinuxABI

enum FileSyscalls {
    static let ioChunk = 65536
    /// MAX_RW_COUNT: the most one read/write/sendfile moves (fs/read_write.c).
    static let maxTransfer = 0x7fff_f000

    /// access_ok(): the range [address, address+count) lies in the user half. Linux checks
    /// this before anything else in vfs_read/vfs_write and for each iovec (EFAULT).
    static func isUserRange(_ k: KernelState, _ address: UserAddress, _ count: Int) -> Bool {
        guard count >= 0 else { return false }
        let (end, overflow) = address.value.addingReportingOverflow(UInt64(count))
        return !overflow && end <= k.memory.map.layout.userTop
    }
    static let oAppend: UInt64 = 0o2000, oLargefile: UInt64 = 0o100000

    /// The open file behind descriptor `fd`, or EBADF.
    static func file(_ k: KernelState, _ fd: Int) throws(Errno) -> OpenFile {
        guard let f = k.files[fd] else { throw .EBADF }
        return f
    }

    /// The open file behind descriptor argument `i`, or EBADF.
    static func file(_ k: KernelState, _ a: SyscallArguments, _ i: Int) throws(Errno) -> OpenFile {
        try file(k, try a.fd(i))
    }

    // MARK: write

    static func write(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        return try k.countingWrite { () throws(Errno) -> Int in try writeBytes(k, f, a.address(1), a.size(2)) }
    }

    /// write(2) at the description's offset (or `position` for pwrite64).
    static func writeBytes(_ k: KernelState, _ f: OpenFile, _ address: UserAddress, _ requested: Int, at position: Int? = nil) throws(Errno) -> Int {
        if f.isPathOnly { throw .EBADF }
        guard isUserRange(k, address, requested) else { throw .EFAULT }
        let count = min(requested, maxTransfer)
        if let o = f.object { return try o.write(k, from: address, count: count, nonblocking: f.statusFlags & nonblockFlag != 0) }
        switch f.kind {
        case .snapshot, .object:
            // The few writable /proc files (comm, sys/kernel/hostname: VFS/ProcFSText.swift).
            if f.kind == .snapshot, f.canWrite, let content = f.inode?.synthetic {
                return try k.writeSynthetic(content, from: address, count: count)
            }
            throw .EBADF  // /proc snapshots are read-only
        case .console:
            guard f.canWrite else { throw .EBADF }
            // n_tty_write → tty_check_change: with TOSTOP set, a background group's write gets
            // SIGTTOU (Signals/JobControl.swift).
            if k.terminal.settings.localFlags & TermiosBits.TOSTOP != 0 { try k.checkConsoleForeground(signal: 22) }
            var buffer = [UInt8](repeating: 0, count: min(count, 4096))
            var done = 0
            while done < count {
                let n = min(4096, count - done)
                if let e = k.memory.copyIn(address.advanced(by: done), count: n, into: &buffer) {
                    if done > 0 { return done } else { throw e }
                }
                k.platform.consoleWrite(buffer, count: n)
                done += n
            }
            return done
        case .inode:
            guard f.canWrite, let inode = f.inode else { throw .EBADF }
            if let driver = inode.characterDevice {   // /dev/fb0 (Sources/KernelCore/VFS/CharacterDevice.swift)
                let start = position ?? f.offset
                let n = try driver.write(k, from: address, count: count, offset: start)
                if position == nil { f.offset = start + n }
                return n
            }
            switch inode.kind {
            case .device(let d):
                switch d {
                case .null, .zero, .random, .urandom: return count
                default: throw .ENXIO
                }
            case .regular:
                if count == 0 { return 0 }
                let requestedStart = position ?? f.offset
                // rw_verify_area: the end must not overflow loff_t (EINVAL).
                guard requestedStart <= Int.max - count else { throw .EINVAL }
                let data = inode.contents
                _ = k.fileBlocks
                let start = f.statusFlags & oAppend != 0 ? data.size : requestedStart
                // generic_write_check_limits: at s_maxbytes EFBIG, short of it the count is cut.
                guard start < FileBlockStore.maximumFileSize else { throw .EFBIG }
                // RLIMIT_FSIZE: SIGXFSZ and EFBIG at the limit, a short write below it.
                let n = try k.fileSizeAllowance(offset: start, count: min(count, FileBlockStore.maximumFileSize - start))
                if let e = MemFD.checkWrite(data, start: start, count: n) { throw e }   // seals
                let done = try data.copyIn(from: k.memory, address, at: start, count: n).get()
                touch(inode, k)
                if position == nil { f.offset = start + done }
                return done
            default:
                throw .EBADF
            }
        }
    }

    /// A write or truncate changed the file: mtime and ctime.
    static func touch(_ inode: Inode, _ k: KernelState) {
        let now = k.platform.realtimeNanoseconds()
        inode.modifyTime = now
        inode.changeTime = now
    }

    // MARK: read

    static func read(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        return try k.countingRead { () throws(Errno) -> Int in try readBytes(k, f, a.address(1), a.size(2)) }
    }

    static func readBytes(_ k: KernelState, _ f: OpenFile, _ address: UserAddress, _ requested: Int, at position: Int? = nil) throws(Errno) -> Int {
        if f.isPathOnly { throw .EBADF }
        guard isUserRange(k, address, requested) else { throw .EFAULT }
        let count = min(requested, maxTransfer)
        switch f.kind {
        case .object:
            return try f.object!.read(k, into: address, count: count, nonblocking: f.statusFlags & nonblockFlag != 0)
        case .console:
            return try ConsoleTerminal.read(k, f, address, count)  // Sources/KernelCore/Devices/ConsoleTerminal.swift
        case .snapshot:
            guard f.canRead else { throw .EBADF }
            let from = position ?? f.offset
            let n = from >= f.bytes.count ? 0 : min(count, f.bytes.count - from)
            if n > 0, let e = k.memory.copyOut(address, from: f.bytes, offset: from, count: n) { throw e }
            if position == nil { f.offset = from + n }
            return n
        case .inode:
            guard f.canRead, let inode = f.inode else { throw .EBADF }
            if let driver = inode.characterDevice {
                let start = position ?? f.offset
                let n = try driver.read(k, into: address, count: count, offset: start)
                if position == nil { f.offset = start + n }
                return n
            }
            switch inode.kind {
            case .directory:
                throw .EISDIR
            case .regular:
                let from = position ?? f.offset
                let data = inode.contents
                guard from < data.size, count > 0 else { return 0 }
                let n = try data.copyOut(to: k.memory, address, from: from, count: min(count, data.size - from)).get()
                if position == nil { f.offset = from + n }
                return n
            case .device(let d):
                switch d {
                case .null: return 0
                case .zero, .random, .urandom:
                    var done = 0
                    var buffer = [UInt8](repeating: 0, count: min(count, ioChunk))
                    while done < count {
                        let n = min(buffer.count, count - done)
                        if d != .zero { k.platform.fillRandom(&buffer, count: n) }
                        if let e = k.memory.copyOut(address.advanced(by: done), from: buffer, count: n) {
                            if done > 0 { return done } else { throw e }
                        }
                        done += n
                    }
                    return done
                default:
                    throw .ENXIO
                }
            default:
                throw .EINVAL
            }
        }
    }

    static func pread64(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        guard a.int(3) >= 0 else { throw .EINVAL }
        guard isSeekable(f) else { throw .ESPIPE }
        return try k.countingRead { () throws(Errno) -> Int in try readBytes(k, f, a.address(1), a.size(2), at: a.int(3)) }
    }

    static func pwrite64(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        guard a.int(3) >= 0 else { throw .EINVAL }
        guard isSeekable(f) else { throw .ESPIPE }
        return try k.countingWrite { () throws(Errno) -> Int in try writeBytes(k, f, a.address(1), a.size(2), at: a.int(3)) }
    }

    static func isSeekable(_ f: OpenFile) -> Bool {
        switch f.kind {
        case .console, .object: return false
        case .snapshot, .inode: return true
        }
    }

    /// struct iovec { void *base; size_t len; } — 16 bytes each, at most IOV_MAX (1024).
    static func iovecs(_ k: KernelState, _ address: UserAddress, _ count: Int) -> Result<[(UserAddress, Int)], Errno> {
        guard count >= 0 && count <= 1024 else { return .failure(.EINVAL) }
        switch k.memory.copyIn(address, count: count * 16) {
        case .failure(let e): return .failure(e)
        case .success(let bytes):
            let r = ByteReader(bytes)
            var out: [(UserAddress, Int)] = []
            var total = 0
            for i in 0..<count {
                let len = r.i64(i * 16 + 8)
                guard len >= 0 else { return .failure(.EINVAL) }  // readv(2): negative as ssize_t
                let base = UserAddress(r.u64(i * 16))
                // __import_iovec: each segment must be user memory (EFAULT); the total is
                // cut at MAX_RW_COUNT by shortening the segment that crosses it.
                guard isUserRange(k, base, Int(len)) else { return .failure(.EFAULT) }
                let kept = min(Int(len), maxTransfer - total)
                total += kept
                out.append((base, kept))
            }
            return .success(out)
        }
    }

    /// readv/writev: move each iovec in turn; a short transfer or an error after some bytes
    /// ends the call with the count so far, as Linux does.
    static func transferVectors(_ k: KernelState, _ a: SyscallArguments,
                                _ move: (OpenFile, UserAddress, Int) throws(Errno) -> Int) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        let vectors = try iovecs(k, a.address(1), a.int(2)).get()
        var total = 0
        for (base, len) in vectors where len > 0 {
            let n: Int
            do { n = try move(f, base, len) } catch { if total > 0 { return total } else { throw error } }
            total += n
            if n < len { return total }
        }
        return total
    }

    static func writev(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        _ = try file(k, a, 0)   // EBADF is not counted (fdget fails before vfs_writev)
        return try k.countingWrite { () throws(Errno) -> Int in
            try transferVectors(k, a) { f, base, len throws(Errno) -> Int in try writeBytes(k, f, base, len) }
        }
    }

    static func readv(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        _ = try file(k, a, 0)
        return try k.countingRead { () throws(Errno) -> Int in
            try transferVectors(k, a) { f, base, len throws(Errno) -> Int in try readBytes(k, f, base, len) }
        }
    }

    // MARK: the console's ioctls

    static func ioctl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        if f.isPathOnly { throw .EBADF }   // ioctl uses fdget, which refuses O_PATH files
        let request = a.uint32(1)
        if request == 0x5421 {  // FIONBIO: any descriptor
            guard case .success(let v) = k.memory.copyIn(a.address(2), count: 4) else { throw .EFAULT }
            if v != [0, 0, 0, 0] { f.statusFlags |= nonblockFlag } else { f.statusFlags &= ~nonblockFlag }
            return 0
        }
        if request == 0x5451 { k.files.setCloseOnExec(Int(a.int32(0)), true); return 0 }   // FIOCLEX
        if request == 0x5450 { k.files.setCloseOnExec(Int(a.int32(0)), false); return 0 }  // FIONCLEX
        if request == 0x541B {  // FIONREAD
            var n = 0
            if f.kind == .inode, let inode = f.inode, inode.isRegular { n = max(0, inode.contents.size - f.offset) }
            else if f.kind == .object, let p = f.object as? PipeEnd { n = p.buffer.available }
            else if f.kind == .object, let p = f.object as? FifoEnd { n = p.buffer.available }  // VFS/Fifo.swift
            else if f.kind == .object, let s = f.object as? KernelSocket {  // Sockets/KernelSocket.swift
                n = try s.inputQueueLength(k).get()
            }
            else if f.kind == .object, let h = f.object as? HostStream {  // Devices/HostStream.swift
                // Descriptors 0-2 over virtio behave as pipes: the bytes waiting to be read
                // (0 on the output ends, as on a pipe's write end with nothing queued).
                h.channel.refresh()
                n = h.isInput ? h.channel.inputAvailable(port: h.port) : 0
            }
            else if f.kind == .console { k.pullConsoleInput(); n = k.terminal.readableByteCount }
            else { throw .ENOTTY }
            if let e = k.memory.writeUInt32(a.address(2), UInt32(truncatingIfNeeded: n)) { throw e }
            return 0
        }
        if f.kind == .inode, let driver = f.inode?.characterDevice, !f.isPathOnly {
            return try driver.ioctl(k, request: a[1], argument: a[2])   // /dev/fb0's FBIOGET_* ...
        }
        guard f.kind == .console else { throw .ENOTTY }
        return try ConsoleTerminal.ioctl(k, request, a)  // termios, window size, process group, flush
    }

    // MARK: stat

    static let deviceNumber = encodeDeviceNumber(major: 0, minor: 0x15)

    static func stat(of inode: Inode) -> Stat {
        var s = Stat()
        s.dev = inode.mount.deviceNumber   // each mount its own device (VFS/ProcFSText.swift)
        s.ino = inode.number
        s.nlink = UInt64(max(0, inode.linkCount))
        s.mode = FileMode(inode.mode)
        s.uid = inode.uid
        s.gid = inode.gid
        if let d = inode.device { s.rdev = encodeDeviceNumber(major: d.number.major, minor: d.number.minor) }
        s.size = inode.synthetic == nil ? Int64(inode.size) : 0
        s.blksize = 4096
        // 512-byte units: a file's blocks and the archive pages it still reads in place
        // (holes cost nothing, as on tmpfs); a directory one page.
        if inode.isRegular { s.blocks = Int64(inode.contents.residentPages * 8) }
        else if inode.isDirectory { s.blocks = 8 }
        if inode.synthetic != nil { s.blocks = 0; s.blksize = 1024 }
        s.atime = Timespec(seconds: inode.accessTime / 1_000_000_000, nanoseconds: inode.accessTime % 1_000_000_000)
        s.mtime = Timespec(seconds: inode.modifyTime / 1_000_000_000, nanoseconds: inode.modifyTime % 1_000_000_000)
        s.ctime = Timespec(seconds: inode.changeTime / 1_000_000_000, nanoseconds: inode.changeTime % 1_000_000_000)
        return s
    }

    static func stat(of f: OpenFile, fd: Int, _ k: KernelState) -> Stat {
        if let inode = f.inode { return stat(of: inode) }
        var s = Stat()
        let now = k.platform.realtimeNanoseconds()
        let t = Timespec(seconds: now / 1_000_000_000, nanoseconds: now % 1_000_000_000)
        s.atime = t; s.mtime = t; s.ctime = t
        switch f.kind {
        case .console:
            // A character device like /dev/ttyS0: major 4, minor 64, crw--w----.
            s.dev = deviceNumber
            s.mode = FileMode(0o020620)
            s.rdev = encodeDeviceNumber(major: 4, minor: 64)
            s.ino = 3
            s.blksize = 1024
        case .snapshot, .inode:
            s.mode = FileMode(0o100444)
            s.ino = 100 + UInt64(fd)
            s.blksize = 1024
        case .object:
            // Pipes live on pipefs, eventfd/epoll on anon_inodefs (st_dev 0:14 / 0:15 on Linux).
            s.dev = encodeDeviceNumber(major: 0, minor: 0x0E)
            s.mode = FileMode(f.object!.fileMode)
            s.ino = 200 + UInt64(fd)
        }
        return s
    }

    /// poll/epoll readiness of an open file description.
    static func readiness(_ k: KernelState, _ f: OpenFile) -> UInt32 {
        switch f.kind {
        case .object: return f.object!.pollEvents(k)
        case .snapshot, .inode: return PollEvents.input | PollEvents.output
        case .console: return ConsoleTerminal.readiness(k)
        }
    }

    static func fstat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        let f = try file(k, fd)
        if let e = k.memory.copyOut(a.address(1), from: stat(of: f, fd: fd, k).encode()) { throw e }
        return 0
    }

    // MARK: descriptors

    static func close(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try closeDescriptor(k, try a.fd(0))
    }

    static func closeDescriptor(_ k: KernelState, _ fd: Int) throws(Errno) -> Int {
        guard let (f, wasLast) = k.files.remove(fd) else { throw .EBADF }
        k.releaseLocks(closing: f, wasLast: wasLast)   // VFS/FileLocks.swift
        if wasLast, let o = f.object { o.closed(k) }
        return 0
    }

    static func lowestFreeDescriptor(_ k: KernelState, from minimum: Int) -> Int? {
        k.files.lowestFree(from: minimum)
    }

    static func dup(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        return try k.files.install(f, closeOnExec: false).get()
    }

    static func dupTo(_ k: KernelState, old: Int32, new: Int32, closeOnExec: Bool) throws(Errno) -> Int {
        guard old >= 0, let f = k.files[Int(old)] else { throw .EBADF }
        guard new >= 0 && Int(new) < FileTable.limit else { throw .EBADF }
        if k.files[Int(new)] != nil { _ = try closeDescriptor(k, Int(new)) }
        k.files.install(f, at: Int(new), closeOnExec: closeOnExec)
        return Int(new)
    }

    static func dup2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        if a.int32(0) == a.int32(1) {
            guard a.int32(0) >= 0, k.files[Int(a.int32(0))] != nil else { throw .EBADF }
            return Int(a.int32(1))
        }
        return try dupTo(k, old: a.int32(0), new: a.int32(1), closeOnExec: false)
    }

    static func dup3(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[2] & ~cloexecFlag == 0 else { throw .EINVAL }
        if a.int32(0) == a.int32(1) { throw .EINVAL }
        return try dupTo(k, old: a.int32(0), new: a.int32(1), closeOnExec: a[2] != 0)
    }

    static func fcntl(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let fd = try a.fd(0)
        let f = try file(k, fd)
        switch a.int32(1) {
        case 0, 1030:  // F_DUPFD, F_DUPFD_CLOEXEC
            let minimum = a.int32(2)
            guard minimum >= 0 && Int(minimum) < FileTable.limit else { throw .EINVAL }
            return try k.files.install(f, closeOnExec: a.int32(1) == 1030, minimum: Int(minimum)).get()
        case 1:  // F_GETFD
            return k.files.closeOnExec(fd) ? 1 : 0
        case 2:  // F_SETFD
            k.files.setCloseOnExec(fd, a[2] & 1 != 0)
            return 0
        case 3:  // F_GETFL
            return Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: f.statusFlags))
        case 4:  // F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change
            let changeable: UInt64 = 0o2000 | 0o4000 | 0o20000 | 0o40000 | 0o1000000
            f.statusFlags = (f.statusFlags & ~changeable) | (a[2] & changeable)
            k.notifyPollers()
            return 0
        case 5, 6, 7, 36, 37, 38:  // F_GETLK, F_SETLK, F_SETLKW and the F_OFD_ forms
            return try recordLock(k, f, command: a.int32(1), a.address(2))
        case 8, 9, 10, 11:  // F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG
            return 0
        case 1033, 1034:  // F_ADD_SEALS, F_GET_SEALS (VFS/MemFD.swift)
            return try MemFDSyscalls.fcntlSeals(k, f, command: a.int32(1), argument: a[2])
        case 1031, 1032:  // F_SETPIPE_SZ, F_GETPIPE_SZ
            guard f.object is PipeEnd else { throw .EBADF }
            return PipeBuffer.capacity
        default:
            throw .EINVAL
        }
    }

    // MARK: offsets, directories, sizes

    static func lseek(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        let offset = a.int(1), whence = a.int32(2)
        var size: Int
        switch f.kind {
        case .console, .object: throw .ESPIPE
        case .snapshot:
            guard whence >= 0 && whence <= 2 else { throw .EINVAL }  // seq_lseek
            size = f.bytes.count
        case .inode:
            guard let inode = f.inode else { throw .EBADF }
            switch inode.kind {
            case .device where inode.characterDevice == nil: return 0   // /dev/null, /dev/zero: lseek succeeds, position 0
            case .device: size = 0   // /dev/fb0: default_llseek, SEEK_END from i_size 0
            case .directory:
                guard whence == 0 || whence == 1, offset >= 0 || whence == 1 else { throw .EINVAL }
                let p = whence == 0 ? offset : f.offset &+ offset
                guard p >= 0 else { throw .EINVAL }
                f.offset = p
                return p
            case .regular: size = inode.contents.size
            default: size = 0
            }
        }
        var position: Int
        switch whence {
        case 0: position = offset
        case 1: position = f.offset &+ offset  // offset and size are >= 0: an overflow wraps negative (EINVAL)
        case 2: position = size &+ offset
        case 3, 4:  // SEEK_DATA, SEEK_HOLE: holes are pages never written (shmem_file_llseek)
            guard offset >= 0 && offset < size else { throw .ENXIO }
            if f.kind == .inode, let inode = f.inode, inode.isRegular {
                guard let p = inode.contents.seek(offset, data: whence == 3) else { throw .ENXIO }
                position = p
            } else {
                position = whence == 3 ? offset : size   // a snapshot is all data
            }
        default: throw .EINVAL
        }
        guard position >= 0 else { throw .EINVAL }
        f.offset = position
        return position
    }

    /// getdents64(2): "." and ".." then the entries; the file offset is the last entry's
    /// d_off (a cookie, so entries removed meanwhile do not shift the others).
    static func getdents64(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        guard !f.isPathOnly else { throw .EBADF }
        guard f.kind == .inode, let directory = f.inode, directory.isDirectory else { throw .ENOTDIR }
        if directory.linkCount == 0 { return 0 }   // removed: reads as empty
        let capacity = a.size(2)
        var entries: [Dirent64] = []
        var budget = 0
        if f.offset < 1 { entries.append(Dirent64(inode: directory.number, offset: 1, type: DirentType.DT_DIR, name: ".")) }
        if f.offset < 2 {
            let parent = directory.parent ?? directory
            entries.append(Dirent64(inode: parent.number, offset: 2, type: DirentType.DT_DIR, name: ".."))
        }
        for e in directory.entries where Int64(f.offset) < e.cookie {
            entries.append(Dirent64(inode: e.inode.number, offset: e.cookie, type: e.inode.direntType,
                                    name: String(decoding: e.name, as: UTF8.self)))
            budget += entries.last!.recordLength
            if budget > capacity { break }
        }
        if entries.isEmpty { return 0 }
        let packed = Dirent64.pack(entries, capacity: max(0, capacity))
        if packed.count == 0 { throw .EINVAL }
        if let e = k.memory.copyOut(a.address(1), from: packed.bytes) { throw e }
        f.offset = Int(entries[packed.count - 1].offset)
        directory.accessTime = k.platform.realtimeNanoseconds()
        return packed.bytes.count
    }

    static func resize(_ inode: Inode, to length: Int, _ k: KernelState) throws(Errno) -> Int {
        guard length >= 0 else { throw .EINVAL }
        if inode.isDirectory { throw .EISDIR }
        if inode.readOnly && inode.isOnVolume { throw .EROFS }   // volume hook: a read-only mount
        guard inode.isRegular, !inode.readOnly else { throw .EINVAL }
        // inode_newsize_ok: past s_maxbytes is EFBIG (unreachable with off_t, kept for clarity).
        guard length <= FileBlockStore.maximumFileSize else { throw .EFBIG }
        if let e = MemFD.checkResize(inode.contents, to: length) { throw e }   // seals
        if length > inode.size { _ = try k.fileSizeAllowance(offset: length - 1, count: 1) }   // RLIMIT_FSIZE
        _ = k.fileBlocks
        inode.contents.resize(to: length)   // growing makes a hole; shrinking frees blocks
        touch(inode, k)
        return 0
    }

    static func ftruncate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        guard !f.isPathOnly else { throw .EBADF }
        guard a.int(1) >= 0 else { throw .EINVAL }
        guard f.kind == .inode, let inode = f.inode, inode.isRegular else { throw .EINVAL }
        guard f.canWrite else { throw .EINVAL }
        return try resize(inode, to: a.int(1), k)
    }

    /// sendfile(2): from a regular file (at *offset, or its file offset) to a regular file,
    /// the console, /dev/null, a pipe or a socket, through a kernel buffer. A socket keeps
    /// taking chunks while each goes in whole (a blocking socket sends everything asked, as
    /// Linux's splice loop does); a short or failed chunk after progress ends the call with
    /// the count moved so far.
    static func sendfile(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let out = try file(k, a, 0), input = try file(k, a, 1)
        guard input.canRead, out.canWrite, !input.isPathOnly, !out.isPathOnly else { throw .EBADF }
        guard input.kind == .inode, let source = input.inode, source.isRegular else { throw .EINVAL }
        if out.statusFlags & oAppend != 0 { throw .EINVAL }
        var position = input.offset
        let offsetAddress = a.address(2)
        if !offsetAddress.isNull {
            let v = try k.memory.readUInt64(offsetAddress).get()
            guard Int64(bitPattern: v) >= 0 else { throw .EINVAL }
            position = Int(v)
        }
        guard a.int(3) >= 0 else { throw .EINVAL }
        let count = min(a.size(3), maxTransfer)
        let data = source.contents
        let total = position >= data.size ? 0 : min(count, data.size - position)
        // Through a 64 KiB kernel buffer at a time; a pipe or FIFO takes one chunk per call
        // (splice's rule: a short count is a result, the caller loops).
        var n = 0
        var socketOut = false
        while n < total {
            let chunk = data.bytes(at: position + n, count: min(ioChunk, total - n))
            var moved = chunk.count
            switch out.kind {
            case .console:
                k.platform.consoleWrite(chunk, count: chunk.count)
            case .inode:
                guard let target = out.inode else { throw .EBADF }
                switch target.kind {
                case .regular:
                    _ = k.fileBlocks
                    let at = out.offset
                    guard at <= FileBlockStore.maximumFileSize - chunk.count else { if n > 0 { return n } else { throw .EFBIG } }
                    moved = target.contents.write(chunk, at: at)   // short on ENOSPC
                    if moved == 0 && n == 0 { throw .ENOSPC }
                    touch(target, k)
                    out.offset = at + moved
                case .device(let d) where d == .null || d == .zero: break
                default: throw .EINVAL
                }
            case .object:
                // Into a pipe or FIFO (Linux does this through splice): write(2)'s rules for
                // blocking, EAGAIN, EPIPE; a short write moves the offset only that far.
                let nonblocking = out.statusFlags & nonblockFlag != 0
                do throws(Errno) {
                    if let pipe = out.object as? PipeEnd { moved = try pipe.write(k, bytes: chunk, nonblocking: nonblocking) }
                    else if let fifo = out.object as? FifoEnd { moved = try fifo.write(k, bytes: chunk, nonblocking: nonblocking) }
                    else if let socket = out.object as? KernelSocket {
                        // A socket (TCP, AF_UNIX): send(2)'s rules. A blocking stream takes the
                        // whole chunk; a non-blocking one what fits (EAGAIN when nothing does).
                        // A datagram socket takes each chunk as one datagram, as splice does.
                        moved = try socket.send(k, .kernel(chunk), flags: 0, nonblocking: nonblocking, to: nil)
                        socketOut = true
                    }
                    else { throw Errno.EINVAL }   // eventfd, epoll...
                } catch {
                    if n == 0 { throw error }
                    moved = 0
                }
            default:
                throw .EINVAL
            }
            n += moved
            if moved < chunk.count || (out.kind == .object && !socketOut) { break }
        }
        if offsetAddress.isNull {
            input.offset = position + n
        } else if let e = k.memory.writeUInt64(offsetAddress, UInt64(position + n)) {
            throw e
        }
        return n
    }

    // MARK: mmap of files

    /// mmap of a character device with a driver (/dev/fb0): mmap(2)'s checks on the mapping
    /// type, then the driver maps its own pages (shared whatever the type, like fb_mmap).
    static func mapDevice(_ k: KernelState, _ a: SyscallArguments, _ f: OpenFile, _ driver: any CharacterDevice) throws(Errno) -> Int {
        let flags = a[3]
        guard case .success(let protection) = MemorySyscalls.protection(a[2]) else { throw .EINVAL }
        let type = flags & 0x03
        guard type == MemorySyscalls.mapShared || type == MemorySyscalls.mapPrivate
                || type == MemorySyscalls.mapSharedValidate else { throw .EINVAL }
        if type == MemorySyscalls.mapSharedValidate && flags & ~MemorySyscalls.mapKnown != 0 { throw .EOPNOTSUPP }
        guard f.canRead else { throw .EACCES }
        if type != MemorySyscalls.mapPrivate && protection.contains(.write) && !f.canWrite { throw .EACCES }
        let placement: MappingPlacement = flags & MemorySyscalls.mapFixedNoReplace != 0 ? .fixedNoReplace
            : (flags & MemorySyscalls.mapFixed != 0 ? .fixed : .hint)
        return try driver.mmap(k, address: a[0], length: a[1], protection: protection, placement: placement,
                           offset: a[5], handle: 0xC400_0000 | (f.inode?.number ?? 0))
    }
}

// MARK: advisory locks (fcntl F_*LK, flock) — the table is VFS/FileLocks.swift

extension FileSyscalls {
    static let readLock: Int16 = 0, writeLock: Int16 = 1, unlock: Int16 = 2   // F_RDLCK, F_WRLCK, F_UNLCK

    /// struct flock (x86-64): l_type, l_whence (short), l_start, l_len (off_t), l_pid (int);
    /// 32 bytes with padding.
    static func decodeFlock(_ b: [UInt8]) -> (type: Int16, whence: Int16, start: Int64, length: Int64, pid: Int32) {
        let r = ByteReader(b)
        let typeAndWhence = r.u32(0)
        return (Int16(bitPattern: UInt16(truncatingIfNeeded: typeAndWhence)), Int16(bitPattern: UInt16(truncatingIfNeeded: typeAndWhence >> 16)),
                r.i64(8), r.i64(16), Int32(bitPattern: r.u32(24)))
    }

    /// flock_to_posix_lock: the byte range [start, end] a struct flock names, relative to
    /// SEEK_SET/SEEK_CUR/SEEK_END; EINVAL for a negative start or bad whence, EOVERFLOW past
    /// OFFSET_MAX. l_len 0 reaches end of file for ever; a negative l_len covers the bytes
    /// before l_start.
    static func lockRange(_ f: OpenFile, whence: Int16, start: Int64, length: Int64) -> Result<(Int64, Int64), Errno> {
        let base: Int64
        switch whence {
        case 0: base = 0
        case 1: base = Int64(f.offset)
        case 2: base = Int64(f.inode?.size ?? 0)
        default: return .failure(.EINVAL)
        }
        var (first, overflow) = base.addingReportingOverflow(start)
        if overflow { return .failure(.EOVERFLOW) }
        if first < 0 { return .failure(.EINVAL) }   // before `first - 1` below can overflow
        var last = Int64.max
        if length > 0 {
            let (e, o) = first.addingReportingOverflow(length - 1)
            if o { return .failure(.EOVERFLOW) }
            last = e
        } else if length < 0 {
            last = first - 1
            (first, overflow) = first.addingReportingOverflow(length)
            if overflow { return .failure(.EINVAL) }
        }
        if first < 0 { return .failure(.EINVAL) }
        return .success((first, last))
    }

    /// fcntl F_GETLK / F_SETLK / F_SETLKW and their OFD forms (fcntl(2)).
    static func recordLock(_ k: KernelState, _ f: OpenFile, command: Int32, _ address: UserAddress) throws(Errno) -> Int {
        let isOFD = command >= 36
        let bytes = try k.memory.copyIn(address, count: 32).get()
        let d = decodeFlock(bytes)
        guard d.type == readLock || d.type == writeLock || d.type == unlock else { throw .EINVAL }
        if isOFD && d.pid != 0 { throw .EINVAL }   // fcntl(2): l_pid must be 0 for OFD locks
        // egg: pipes, sockets and other inode-less objects have nothing to lock (Linux
        // would lock their anonymous inodes).
        guard let inode = f.inode else { throw .EINVAL }
        let (start, end) = try lockRange(f, whence: d.whence, start: d.start, length: d.length).get()
        let owner: LockOwner = isOFD ? .description(ObjectIdentifier(f)) : k.lockOwnerProcess
        let pid: Int32 = isOFD ? -1 : Int32(truncatingIfNeeded: k.process.pid)
        let wanted = RecordLock(owner: owner, exclusive: d.type == writeLock, start: start, end: end, pid: pid)
        let table = k.fileLocks
        if command == 5 || command == 36 {   // F_GETLK, F_OFD_GETLK
            guard d.type != unlock else { throw .EINVAL }
            var w = ByteWriter()
            if let c = table.records(inode).conflict(with: wanted) {
                w.u16(UInt16(bitPattern: c.exclusive ? writeLock : readLock)); w.u16(0); w.zeros(4)
                w.u64(UInt64(c.start)); w.u64(c.end == Int64.max ? 0 : UInt64(c.end - c.start + 1))
                w.u32(UInt32(bitPattern: c.pid)); w.zeros(4)
            } else {
                w.u16(UInt16(bitPattern: unlock)); w.u16(UInt16(bitPattern: d.whence)); w.zeros(4)
                w.u64(UInt64(bitPattern: d.start)); w.u64(UInt64(bitPattern: d.length))
                w.u32(UInt32(bitPattern: d.pid)); w.zeros(4)
            }
            if let e = k.memory.copyOut(address, from: w.bytes) { throw e }
            return 0
        }
        // A read lock needs the file open for reading, a write lock for writing (EBADF).
        if d.type == readLock && !f.canRead { throw .EBADF }
        if d.type == writeLock && !f.canWrite { throw .EBADF }
        if d.type == unlock {
            table.update(inode) { $0.records.remove(owner: owner, start: start, end: end) }
            k.wake(table.waiters)
            return 0
        }
        let waits = command == 7 || command == 38
        while true {
            guard let c = table.records(inode).conflict(with: wanted) else { break }
            if !waits { throw .EAGAIN }
            if !isOFD && table.wouldDeadlock(owner, on: c.owner) { throw .EDEADLK }
            table.waitingFor.append((owner, c.owner))
            let woken = k.wait(on: table.waiters)
            if let i = table.waitingFor.firstIndex(where: { $0.waiter == owner && $0.holder == c.owner }) {
                table.waitingFor.remove(at: i)
            }
            guard woken else { throw .EINTR }
        }
        table.update(inode) { $0.records.set(wanted) }
        k.wake(table.waiters)   // a downgrade or split may let a waiter in
        return 0
    }

    /// flock(fd, operation) (flock(2)): LOCK_SH 1, LOCK_EX 2, LOCK_UN 8, with LOCK_NB 4.
    /// Per open file description; a conversion drops the old lock first (not atomic, as
    /// flock(2) says); EWOULDBLOCK under LOCK_NB, EINTR when a signal ends the wait.
    static func flock(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try file(k, a, 0)
        let operation = a.int32(1)
        let nonblocking = operation & 4 != 0
        let kind = operation & ~4
        guard kind == 1 || kind == 2 || kind == 8 else { throw .EINVAL }
        if f.isPathOnly { throw .EBADF }
        guard let inode = f.inode else { return 0 }   // pipes, sockets: nothing to share
        let me = ObjectIdentifier(f)
        let table = k.fileLocks
        let had = table.index(inode).map { table.entries[$0].whole.contains { $0.description == me } } ?? false
        if had {
            table.update(inode) { $0.whole.removeAll { $0.description == me } }
            k.wake(table.waiters)
        }
        if kind == 8 { return 0 }
        let exclusive = kind == 2
        while true {
            let blocked = table.index(inode).map { i in
                table.entries[i].whole.contains { $0.description != me && ($0.exclusive || exclusive) }
            } ?? false
            if !blocked { break }
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: table.waiters) else { throw .EINTR }
        }
        table.update(inode) { $0.whole.append(WholeFileLock(description: me, exclusive: exclusive)) }
        return 0
    }
}

// MARK: /proc/PID/io accounting (VFS/ProcessIOAccounting.swift)

extension KernelState {
    /// Runs a read-like call and counts it (syscr, rchar), failed or not, as vfs_read does.
    func countingRead(_ body: () throws(Errno) -> Int) throws(Errno) -> Int {
        do {
            let n = try body()
            process.ioAccounting.countRead(n)
            return n
        } catch {
            process.ioAccounting.countRead(nil)
            throw error
        }
    }

    /// Runs a write-like call and counts it (syscw, wchar).
    func countingWrite(_ body: () throws(Errno) -> Int) throws(Errno) -> Int {
        do {
            let n = try body()
            process.ioAccounting.countWrite(n)
            return n
        } catch {
            process.ioAccounting.countWrite(nil)
            throw error
        }
    }
}
