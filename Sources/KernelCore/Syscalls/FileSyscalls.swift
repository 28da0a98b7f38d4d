// FileSyscalls — file descriptors before the VFS: the console on 0-2 and read-only
// snapshot files for the /proc entries language runtimes read at start-up (KernelCore).
//
// read(2), write(2), readv/writev(2), ioctl_tty(2) (TCGETS/TCSETS/TIOCGWINSZ), fstat(2),
// newfstatat with AT_EMPTY_PATH, close, lseek, fcntl, openat, readlink(2) of
// /proc/self/exe. Paths that name nothing return ENOENT: there is no file system yet.
import LinuxABI

/// An open file description.
public final class OpenFile {
    public enum Kind { case console, snapshot, object }
    public let kind: Kind
    /// For .object: the pipe, eventfd, timerfd or epoll instance (Sources/KernelCore/Events).
    public var object: (any PollableObject)? = nil
    public var bytes: [UInt8]
    public var offset = 0
    public var closeOnExec = false
    public var statusFlags: UInt64

    init(kind: Kind, bytes: [UInt8] = [], statusFlags: UInt64) {
        self.kind = kind
        self.bytes = bytes
        self.statusFlags = statusFlags
    }
}

enum FileSyscalls {
    static let ioChunk = 4096

    static func file(_ k: KernelState, _ fd: Int) -> Result<OpenFile, Errno> {
        guard fd >= 0 && fd < k.files.count, let f = k.files[fd] else { return .failure(.EBADF) }
        return .success(f)
    }

    static func write(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        return writeBytes(k, f, a.address(1), a.size(2))
    }

    static func writeBytes(_ k: KernelState, _ f: OpenFile, _ address: UserAddress, _ count: Int) -> SyscallResult {
        guard count >= 0 else { return .failure(.EINVAL) }
        if let o = f.object { return o.write(k, from: address, count: count, nonblocking: f.statusFlags & nonblockFlag != 0) }
        guard f.kind == .console else { return .failure(.EBADF) }  // snapshots are read-only
        var buffer = [UInt8](repeating: 0, count: min(count, ioChunk))
        var done = 0
        while done < count {
            let n = min(ioChunk, count - done)
            if let e = k.memory.copyIn(address.advanced(by: done), count: n, into: &buffer) {
                return done > 0 ? .success(done) : .failure(e)
            }
            k.platform.consoleWrite(buffer, count: n)
            done += n
        }
        return .success(done)
    }

    static func read(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        return readBytes(k, f, a.address(1), a.size(2))
    }

    static func readBytes(_ k: KernelState, _ f: OpenFile, _ address: UserAddress, _ count: Int) -> SyscallResult {
        guard count >= 0 else { return .failure(.EINVAL) }
        if count == 0 { return .success(0) }
        switch f.kind {
        case .object:
            return f.object!.read(k, into: address, count: count, nonblocking: f.statusFlags & nonblockFlag != 0)
        case .console:
            var buffer = [UInt8](repeating: 0, count: min(count, ioChunk))
            let n = k.platform.consoleRead(into: &buffer, maximum: buffer.count)
            if n > 0, let e = k.memory.copyOut(address, from: buffer, count: n) { return .failure(e) }
            return .success(n)
        case .snapshot:
            let n = max(0, min(count, f.bytes.count - f.offset))
            if n > 0, let e = k.memory.copyOut(address, from: f.bytes, offset: f.offset, count: n) { return .failure(e) }
            f.offset += n
            return .success(n)
        }
    }

    /// struct iovec { void *base; size_t len; } — 16 bytes each, at most IOV_MAX (1024).
    static func iovecs(_ k: KernelState, _ address: UserAddress, _ count: Int) -> Result<[(UserAddress, Int)], Errno> {
        guard count >= 0 && count <= 1024 else { return .failure(.EINVAL) }
        switch k.memory.copyIn(address, count: count * 16) {
        case .failure(let e): return .failure(e)
        case .success(let bytes):
            let r = LittleEndianReader(bytes)
            var out: [(UserAddress, Int)] = []
            var total = 0
            for i in 0..<count {
                let len = r.i64(i * 16 + 8)
                guard len >= 0, Int(len) <= Int.max - total else { return .failure(.EINVAL) }  // readv(2): sum overflows ssize_t
                total += Int(len)
                out.append((UserAddress(r.u64(i * 16)), Int(len)))
            }
            return total < 0 ? .failure(.EINVAL) : .success(out)
        }
    }

    static func writev(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        switch iovecs(k, a.address(1), a.int(2)) {
        case .failure(let e): return .failure(e)
        case .success(let vectors):
            var total = 0
            for (base, len) in vectors where len > 0 {
                switch writeBytes(k, f, base, len) {
                case .failure(let e): return total > 0 ? .success(total) : .failure(e)
                case .success(let n): total += n
                }
            }
            return .success(total)
        }
    }

    static func readv(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        switch iovecs(k, a.address(1), a.int(2)) {
        case .failure(let e): return .failure(e)
        case .success(let vectors):
            var total = 0
            for (base, len) in vectors where len > 0 {
                switch readBytes(k, f, base, len) {
                case .failure(let e): return total > 0 ? .success(total) : .failure(e)
                case .success(let n):
                    total += n
                    if n < len { return .success(total) }   // short read: stop like Linux
                }
            }
            return .success(total)
        }
    }

    // termios for the serial console: what Linux's tty layer reports for a fresh ttyS0 in
    // cooked mode (include/uapi/asm-generic/termbits.h).
    static func consoleTermios(_ k: KernelState) -> [UInt8] {
        if let saved = k.consoleTermios { return saved }
        var w = LittleEndianBytes()
        w.u32(0x0500)          // c_iflag: ICRNL | IXON
        w.u32(0x0005)          // c_oflag: OPOST | ONLCR
        w.u32(0x00BF)          // c_cflag: B38400 | CS8 | CREAD
        w.u32(0x8A3B)          // c_lflag: ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN
        w.u8(0)                // c_line
        let cc: [UInt8] = [3, 0x1C, 0x7F, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1A, 0, 0x12, 0x0F, 0x17, 0x16, 0, 0, 0]
        for c in cc { w.u8(c) }
        return w.bytes
    }

    static func ioctl(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        let request = a.uint32(1)
        guard f.kind == .console else { return .failure(.ENOTTY) }
        switch request {
        case 0x5401:  // TCGETS
            if let e = k.memory.copyOut(a.address(2), from: consoleTermios(k)) { return .failure(e) }
            return .success(0)
        case 0x5402, 0x5403, 0x5404:  // TCSETS, TCSETSW, TCSETSF
            switch k.memory.copyIn(a.address(2), count: 36) {
            case .failure(let e): return .failure(e)
            case .success(let t): k.consoleTermios = t; return .success(0)
            }
        case 0x5413:  // TIOCGWINSZ
            var w = LittleEndianBytes()
            w.u16(k.consoleRows); w.u16(k.consoleColumns); w.u16(0); w.u16(0)
            if let e = k.memory.copyOut(a.address(2), from: w.bytes) { return .failure(e) }
            return .success(0)
        case 0x5414:  // TIOCSWINSZ
            switch k.memory.copyIn(a.address(2), count: 8) {
            case .failure(let e): return .failure(e)
            case .success(let b):
                k.consoleRows = UInt16(b[0]) | UInt16(b[1]) << 8
                k.consoleColumns = UInt16(b[2]) | UInt16(b[3]) << 8
                return .success(0)
            }
        case 0x540F:  // TIOCGPGRP
            if let e = k.memory.writeUInt32(a.address(2), UInt32(k.process.pid)) { return .failure(e) }
            return .success(0)
        case 0x5410:  // TIOCSPGRP
            return .success(0)
        case 0x5421:  // FIONBIO
            return .success(0)
        default:
            return .failure(.ENOTTY)
        }
    }

    /// struct stat on x86-64 (arch/x86/include/uapi/asm/stat.h), 144 bytes.
    static func statBytes(mode: UInt32, size: Int64, rdev: UInt64, inode: UInt64, blockSize: Int64, k: KernelState) -> [UInt8] {
        var w = LittleEndianBytes()
        w.u64(0x15)                   // st_dev
        w.u64(inode)                  // st_ino
        w.u64(1)                      // st_nlink
        w.u32(mode)                   // st_mode
        w.u32(0); w.u32(0); w.u32(0)  // st_uid, st_gid, pad
        w.u64(rdev)                   // st_rdev
        w.i64(size)                   // st_size
        w.i64(blockSize)              // st_blksize
        w.i64((size + 511) / 512)     // st_blocks
        let now = k.platform.realtimeNanoseconds()
        for _ in 0..<3 { w.i64(now / 1_000_000_000); w.i64(now % 1_000_000_000) }
        w.zeros(24)
        return w.bytes
    }

    static func stat(of f: OpenFile, fd: Int, _ k: KernelState) -> [UInt8] {
        switch f.kind {
        case .console:
            // A character device like /dev/ttyS0: major 4, minor 64, crw--w----.
            return statBytes(mode: 0o020620, size: 0, rdev: (4 << 8) | 64, inode: 3, blockSize: 1024, k: k)
        case .snapshot:
            return statBytes(mode: 0o100444, size: 0, rdev: 0, inode: 100 + UInt64(fd), blockSize: 1024, k: k)
        case .object:
            return statBytes(mode: f.object!.fileMode, size: 0, rdev: 0, inode: 200 + UInt64(fd), blockSize: 4096, k: k)
        }
    }

    /// poll/epoll readiness of an open file description.
    static func readiness(_ k: KernelState, _ f: OpenFile) -> UInt32 {
        switch f.kind {
        case .object: return f.object!.pollEvents(k)
        case .snapshot: return PollEvents.input | PollEvents.output
        case .console: return PollEvents.output | (k.platform.consoleHasInput() ? PollEvents.input : 0)
        }
    }

    static func fstat(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        if let e = k.memory.copyOut(a.address(1), from: stat(of: f, fd: fd, k)) { return .failure(e) }
        return .success(0)
    }

    static let atFDCWD: Int32 = -100
    static let atEmptyPath: UInt64 = 0x1000

    static func newfstatat(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard a[3] & ~UInt64(0x1000 | 0x100 | 0x800 | 0x6000) == 0 else { return .failure(.EINVAL) }
        switch k.memory.readCString(a.address(1)) {
        case .failure(let e): return .failure(e)
        case .success(let path):
            if path.isEmpty {
                guard a[3] & atEmptyPath != 0 else { return .failure(.ENOENT) }
                return fstat(k, SyscallArguments(number: 5, a[0], a[2]))
            }
            return .failure(.ENOENT)
        }
    }

    static func close(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        k.files[fd] = nil
        if let o = f.object, !k.files.contains(where: { $0 === f }) { o.closed(k) }
        return .success(0)
    }

    static func lseek(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        guard f.kind == .snapshot else { return .failure(.ESPIPE) }
        let offset = a.int(1)
        var position: Int
        switch a.int(2) {
        case 0: position = offset
        case 1: position = f.offset &+ offset  // offset and size are >= 0: an overflow wraps negative (EINVAL)
        case 2: position = f.bytes.count &+ offset
        default: return .failure(.EINVAL)
        }
        guard position >= 0 else { return .failure(.EINVAL) }
        f.offset = position
        return .success(position)
    }

    static func lowestFreeDescriptor(_ k: KernelState, from minimum: Int) -> Int? {
        var fd = minimum
        while fd < k.files.count && k.files[fd] != nil { fd += 1 }
        guard fd < 1024 else { return nil }
        while k.files.count <= fd { k.files.append(nil) }
        return fd
    }

    static func fcntl(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let fd) = a.fd(0), case .success(let f) = file(k, fd) else { return .failure(.EBADF) }
        switch a.int(1) {
        case 0, 1030:  // F_DUPFD, F_DUPFD_CLOEXEC
            guard a.int(2) >= 0 && a.int(2) < 1024 else { return .failure(.EINVAL) }
            guard let new = lowestFreeDescriptor(k, from: a.int(2)) else { return .failure(.EMFILE) }
            k.files[new] = f
            return .success(new)
        case 1:  // F_GETFD
            return .success(f.closeOnExec ? 1 : 0)
        case 2:  // F_SETFD
            f.closeOnExec = a[2] & 1 != 0
            return .success(0)
        case 3:  // F_GETFL
            return .success(Int(f.statusFlags))
        case 4:  // F_SETFL: only O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME change
            let changeable: UInt64 = 0o2000 | 0o4000 | 0o20000 | 0o40000 | 0o1000000
            f.statusFlags = (f.statusFlags & ~changeable) | (a[2] & changeable)
            return .success(0)
        default:
            return .failure(.EINVAL)
        }
    }

    static func isProcSelfExe(_ path: [UInt8], _ k: KernelState) -> Bool {
        let s = String(decoding: path, as: UTF8.self)
        return s == "/proc/self/exe" || s == "/proc/\(k.process.pid)/exe"
    }

    static func readlinkCommon(_ k: KernelState, _ pathAddress: UserAddress, _ buffer: UserAddress, _ size: Int) -> SyscallResult {
        guard size > 0 else { return .failure(.EINVAL) }
        switch k.memory.readCString(pathAddress) {
        case .failure(let e): return .failure(e)
        case .success(let path):
            guard isProcSelfExe(path, k) else { return .failure(path.isEmpty ? .ENOENT : .ENOENT) }
            let target = k.process.executablePath
            let n = min(size, target.count)
            if let e = k.memory.copyOut(buffer, from: target, count: n) { return .failure(e) }
            return .success(n)
        }
    }

    static func readlink(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        readlinkCommon(k, a.address(0), a.address(1), a.size(2))
    }

    static func readlinkat(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        readlinkCommon(k, a.address(1), a.address(2), a.size(3))
    }

    /// The synthetic files that exist before the VFS: /proc/self/maps (a snapshot of the
    /// real mappings) and /dev/null. Everything else is ENOENT.
    static func openPath(_ k: KernelState, _ pathAddress: UserAddress, _ flags: UInt64) -> SyscallResult {
        switch k.memory.readCString(pathAddress) {
        case .failure(let e): return .failure(e)
        case .success(let path):
            let s = String(decoding: path, as: UTF8.self)
            let accessMode = flags & 3
            var file: OpenFile
            if s == "/proc/self/maps" || s == "/proc/\(k.process.pid)/maps" {
                guard accessMode == 0 else { return .failure(.EACCES) }
                file = OpenFile(kind: .snapshot, bytes: Array(k.memory.map.renderMaps().utf8), statusFlags: flags)
            } else if s == "/dev/null" {
                file = OpenFile(kind: .snapshot, bytes: [], statusFlags: flags)
            } else {
                return .failure(.ENOENT)
            }
            file.closeOnExec = flags & 0o2000000 != 0
            guard let fd = lowestFreeDescriptor(k, from: 0) else { return .failure(.EMFILE) }
            k.files[fd] = file
            return .success(fd)
        }
    }

    static func open(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        openPath(k, a.address(0), a[1])
    }

    static func openat(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        openPath(k, a.address(1), a[2])
    }

    /// mmap of a file descriptor (MemorySyscalls.mmap hands non-anonymous mappings here).
    /// File mappings need the VFS; the console cannot be mapped.
    static func mapFile(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let fd = a.int32(4)
        if fd >= 0 && Int(fd) < k.files.count && k.files[Int(fd)] != nil { return .failure(.ENODEV) }
        return .failure(.EBADF)
    }

    static func getcwd(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let cwd: [UInt8] = [0x2F, 0]
        guard a.size(1) >= cwd.count else { return .failure(.ERANGE) }
        if let e = k.memory.copyOut(a.address(0), from: cwd) { return .failure(e) }
        return .success(cwd.count)
    }
}
