// SyscallTraceFormatter — one strace-style line per system call (KernelCore/Trace).
//
// Pure: it reads guest memory only through AddressSpace's checked copyIn/readCString (a bad
// pointer prints as its address, never faults) and returns text. The tracer that decides
// when to format and where the text goes is SerialSyscallTracer.swift; quoting and struct
// summaries are in TraceText.swift; flag and constant names come from LinuxABI's strace
// renderers (FlagRendering.swift and the *Constants.swift tables).
//
// Output follows strace 6.1 with its defaults (-s 32, -a 40), checked against the real
// strace on Linux: `write(1, "hi\n", 3)                     = 3`,
// `openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)`,
// `exit_group(0)                           = ?`. Output arguments (read's buffer, fstat's
// struct) are decoded after the call, and print as their address when the call failed.
import LinuxABI

/// How one argument register is shown.
enum TraceArgument {
    case int            // int (fd, count): signed 32-bit decimal
    case long           // long / off_t: signed 64-bit decimal
    case ulong          // size_t: unsigned decimal
    case hex            // an address or opaque word: 0x... (0 as "0")
    case pointer        // a user pointer: NULL or 0x...
    case mode           // 0644
    case dirfd          // AT_FDCWD or a number
    case path           // NUL-terminated string, printed whole
    case inBuffer(Int)  // bytes to the kernel, length in argument N (write)
    case outBuffer      // bytes from the kernel, as many as the result (read)
    case outString      // NUL-terminated string the kernel wrote (getcwd)
    case randomOut      // getrandom's buffer: result bytes, every byte in hex
    case openFlags, prot, mmapFlags, cloneFlags, whence, atFlags, statxMask, signal, sigprocmaskHow,
         clockId, rlimitResource, madvise, getrandomFlags, accessMode, mremapFlags, waitOptions
    case sigsetIn, sigsetOut
    case timespecIn, timespecOut
    case statOut
    case statfsOut   // struct statfs (LinuxABI/StatfsStruct.swift), as strace prints it
    case iovecIn(Int)   // count in argument N
    case iovecOut(Int)  // readv: filled after the call, `result` bytes in all
    case utsnameOut
    case rlimitIn, rlimitOut
    case sigactionIn, sigactionOut
    case fdPairOut      // pipe/pipe2: [3, 4]
    case sockaddrIn(Int) // length in argument N
    case socket(SocketTraceArgument)  // the socket calls' kinds (SocketTraceText.swift)
}

/// How the return value is shown.
enum TraceReturn {
    case decimal
    case hex            // mmap, brk: addresses
    case never          // exit, exit_group: "= ?"
}

public struct SyscallTraceFormatter {
    /// strace -s: the longest string (buffer) shown before "...".
    public var stringLimit: Int
    /// strace -a: the column " = result" is aligned to.
    public var alignColumn: Int

    public init(stringLimit: Int = 32, alignColumn: Int = 40) {
        self.stringLimit = stringLimit
        self.alignColumn = alignColumn
    }

    /// The whole line, without the trailing newline: `prefix` (pid, time), the call, padded to
    /// `alignColumn`, then "= result". `result` nil means the call does not return.
    public func line(_ arguments: SyscallArguments, result: SyscallResult?, memory: AddressSpace,
                     prefix: String = "") -> String {
        var text = prefix + call(arguments, result: result, memory: memory)
        let width = text.utf8.count
        if width < alignColumn {
            text += String(repeating: " ", count: alignColumn - width)
        } else {
            text += " "
        }
        return text + "= " + returnText(arguments, result: result)
            + resultSuffix(arguments, result: result, memory: memory)
    }

    /// `name(arguments)`. Calls with no name print as strace does: syscall_0x1f4(...).
    public func call(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String {
        var text: String
        if let name = syscallName(a.number) {
            text = stringFromStatic(name)
        } else {
            text = "syscall_" + hexString(UInt64(truncatingIfNeeded: a.number))
        }
        text += "("
        text += argumentsText(a, result: result, memory: memory)
        return text + ")"
    }

    /// The text after "= ": "3", "0x7f0000000000", "?", "-1 ENOENT (No such file or directory)".
    public func returnText(_ a: SyscallArguments, result: SyscallResult?) -> String {
        guard let result else { return "?" }
        switch result {
        case .failure(let e):
            return e.straceDescription
        case .success(let value):
            if SyscallTraceFormatter.returnStyle(a.number) == .hex { return hexString(UInt64(bitPattern: Int64(value))) }
            if a.number == SyscallNumber.fcntl.rawValue {
                let command = a.uint32(1)
                if command == FcntlCommand.F_GETFL.rawValue {
                    return hexString(UInt64(value)) + " (flags " + OpenFlags(rawValue: UInt32(truncatingIfNeeded: value)).straceDescription + ")"
                }
                if command == FcntlCommand.F_GETFD.rawValue && value != 0 {
                    return hexString(UInt64(value)) + " (flags " + FdFlags(rawValue: UInt32(truncatingIfNeeded: value)).straceDescription + ")"
                }
            }
            return decimalString(Int64(value))
        }
    }

    static func returnStyle(_ number: Int) -> TraceReturn {
        switch SyscallNumber(number) {
        case .mmap, .brk, .mremap, .shmat: return .hex
        case .exit, .exit_group: return .never
        default: return .decimal
        }
    }

    // MARK: arguments

    func argumentsText(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String {
        let n = SyscallNumber(a.number)
        // Calls whose arguments depend on another argument.
        switch n {
        case .futex: return futexArguments(a, memory: memory)
        case .futex_wake, .futex_wait, .futex_requeue:
            if let text = futex2Arguments(a, memory: memory) { return text }  // FutexTraceText.swift
        case .ioctl: return ioctlArguments(a, result: result, memory: memory)
        case .fcntl: return fcntlArguments(a)
        case .epoll_ctl, .epoll_wait, .epoll_pwait, .poll, .ppoll, .statx, .epoll_create1, .eventfd2, .timerfd_create,
             .pipe2, .dup3:
            // EventTraceText.swift
            if let text = eventArguments(a, result: result, memory: memory) { return text }
        case .signalfd, .signalfd4, .rt_sigtimedwait, .rt_sigqueueinfo, .rt_tgsigqueueinfo, .mq_open, .mq_unlink,
             .mq_timedsend, .mq_timedreceive, .mq_notify, .mq_getsetattr:
            // NotifyTraceText.swift
            if let text = notifyArguments(a, result: result, memory: memory) { return text }
        case .clone: return cloneArguments(a, result: result, memory: memory)
        case .execve, .execveat: return execArguments(a, result: result, memory: memory)
        case .clone3: return clone3Arguments(a, memory: memory)
        case .setxattr, .lsetxattr, .fsetxattr, .getxattr, .lgetxattr, .fgetxattr, .listxattr, .llistxattr,
             .flistxattr, .removexattr, .lremovexattr, .fremovexattr, .preadv, .pwritev, .preadv2, .pwritev2,
             .openat2, .getdents, .utime, .utimes, .futimesat, .close_range, .fchmodat2, .chroot, .sethostname:
            // FileTraceText.swift
            if let text = fileArguments(a, result: result, memory: memory) { return text }
        case .arch_prctl:
            let code = ArchPrctlCode(a.uint32(0))
            var text = code.straceDescription + ", "
            if code.rawValue & 1 == 1 && code.rawValue >= 0x1001 && code.rawValue <= 0x1004 {
                // ARCH_GET_FS / ARCH_GET_GS: the kernel stores the base at the pointer.
                text += outputValue(a[1], result: result, memory: memory) { bytes in
                    "[" + hexString(TraceText.littleEndian(bytes, at: 0, count: 8)) + "]"
                }
            } else {
                text += hexString(a[1])
            }
            return text
        default:
            break
        }
        guard let kinds = SyscallTraceFormatter.signature(n) else {
            // Unknown to the decoder: all six registers, as strace prints an unknown call.
            var parts: [String] = []
            for i in 0..<6 { parts.append(hexString(a[i])) }
            return joined(parts)
        }
        var count = kinds.count
        // open(2)'s mode exists only with O_CREAT or O_TMPFILE (strace prints it only then).
        if n == .open || n == .openat {
            let flags = a.uint32(count - 2)
            if flags & (OpenFlags.O_CREAT.rawValue | OpenFlags.__O_TMPFILE.rawValue) == 0 { count -= 1 }
        }
        var parts: [String] = []
        for i in 0..<count {
            parts.append(argument(kinds[i], a, index: i, result: result, memory: memory))
        }
        return joined(parts)
    }

    func joined(_ parts: [String]) -> String {
        var text = ""
        for i in 0..<parts.count {
            if i > 0 { text += ", " }
            text += parts[i]
        }
        return text
    }

    /// Bytes at `address` shown after the call by `render`, or the address when the call
    /// failed or the memory cannot be read.
    func outputValue(_ address: UInt64, count: Int = 8, result: SyscallResult?, memory: AddressSpace,
                     _ render: ([UInt8]) -> String) -> String {
        guard address != 0 else { return "NULL" }
        guard let result, case .success = result else { return hexString(address) }
        switch memory.copyIn(UserAddress(address), count: count) {
        case .success(let bytes): return render(bytes)
        case .failure: return hexString(address)
        }
    }

    /// Bytes at `address` read before use (input structs); the address if unreadable.
    func inputValue(_ address: UInt64, count: Int, memory: AddressSpace, _ render: ([UInt8]) -> String) -> String {
        guard address != 0 else { return "NULL" }
        switch memory.copyIn(UserAddress(address), count: count) {
        case .success(let bytes): return render(bytes)
        case .failure: return hexString(address)
        }
    }

    /// A buffer of `count` bytes, quoted and cut at stringLimit.
    func buffer(_ address: UInt64, count: Int, memory: AddressSpace, forceHex: Bool = false) -> String {
        if count <= 0 { return address == 0 ? "NULL" : "\"\"" }
        let shown = min(count, stringLimit)
        switch memory.copyIn(UserAddress(address), count: shown) {
        case .success(let bytes): return TraceText.quoted(bytes, truncated: count > shown, forceHex: forceHex)
        case .failure: return hexString(address)
        }
    }

    func path(_ address: UInt64, memory: AddressSpace) -> String {
        guard address != 0 else { return "NULL" }
        switch memory.readCString(UserAddress(address), maximum: 4096) {
        case .success(let bytes): return TraceText.quoted(bytes)
        case .failure: return hexString(address)
        }
    }

    func succeeded(_ result: SyscallResult?) -> Int? {
        guard let result, case .success(let v) = result else { return nil }
        return v
    }

    func argument(_ kind: TraceArgument, _ a: SyscallArguments, index i: Int, result: SyscallResult?,
                  memory: AddressSpace) -> String {
        let v = a[i]
        switch kind {
        case .int: return decimalString(Int64(a.int32(i)))
        case .long: return decimalString(Int64(bitPattern: v))
        case .ulong: return unsignedDecimalString(v)
        case .hex: return hexString(v)
        case .pointer: return TraceText.pointer(v)
        case .mode: return octalModeString(v & 0o7777)
        case .dirfd: return renderDirfd(a.int32(i))
        case .path: return path(v, memory: memory)
        case .inBuffer(let lengthIndex):
            return buffer(v, count: a.size(lengthIndex), memory: memory)
        case .outBuffer:
            guard let count = succeeded(result) else { return TraceText.pointer(v) }
            return buffer(v, count: count, memory: memory)
        case .randomOut:
            guard let count = succeeded(result) else { return TraceText.pointer(v) }
            return buffer(v, count: count, memory: memory, forceHex: true)
        case .outString:
            guard succeeded(result) != nil else { return TraceText.pointer(v) }
            return path(v, memory: memory)
        case .openFlags: return OpenFlags(rawValue: a.uint32(i)).straceDescription
        case .prot: return MmapProt(rawValue: a.uint32(i)).straceDescription
        case .mmapFlags: return MmapFlags(rawValue: a.uint32(i)).straceDescription
        case .cloneFlags: return CloneFlags(rawValue: v).straceDescription
        case .whence: return SeekWhence(a.uint32(i)).straceDescription
        case .atFlags: return AtFlags(rawValue: a.uint32(i)).straceDescription
        case .statxMask: return StatxMask(rawValue: a.uint32(i)).straceDescription
        case .signal: return Signal(a.int32(i)).straceName
        case .sigprocmaskHow: return SigprocmaskHow(a.uint32(i)).straceDescription
        case .clockId: return ClockId(a.uint32(i)).straceDescription
        case .rlimitResource: return RlimitResource(a.uint32(i)).straceDescription
        case .madvise: return MadviseAdvice(a.uint32(i)).straceDescription
        case .getrandomFlags: return GetrandomFlags(rawValue: a.uint32(i)).straceDescription
        case .accessMode:
            return a.uint32(i) == 0 ? "F_OK" : AccessMode(rawValue: a.uint32(i)).straceDescription
        case .mremapFlags: return MremapFlags(rawValue: a.uint32(i)).straceDescription
        case .waitOptions: return WaitOptions(rawValue: a.uint32(i)).straceDescription
        case .sigsetIn:
            return inputValue(v, count: 8, memory: memory) { SignalSet(rawValue: TraceText.littleEndian($0, at: 0, count: 8)).straceDescription }
        case .sigsetOut:
            return outputValue(v, result: result, memory: memory) { SignalSet(rawValue: TraceText.littleEndian($0, at: 0, count: 8)).straceDescription }
        case .timespecIn:
            return inputValue(v, count: 16, memory: memory) { TraceText.timespec($0) }
        case .timespecOut:
            return outputValue(v, count: 16, result: result, memory: memory) { TraceText.timespec($0) }
        case .statOut:
            return outputValue(v, count: Stat.byteSize, result: result, memory: memory) { TraceText.stat($0) }
        case .statfsOut:
            func fsidWord(_ w: Int32) -> String { w == 0 ? "0" : "0x" + String(UInt32(bitPattern: w), radix: 16) }
            return outputValue(v, count: Statfs.byteSize, result: result, memory: memory) { bytes in
                guard let s = try? Statfs.decode(from: bytes) else { return "{...}" }
                let type: String
                switch s.type {
                case Statfs.tmpfsMagic: type = "TMPFS_MAGIC"
                case Statfs.procMagic: type = "PROC_SUPER_MAGIC"
                case Statfs.pipefsMagic: type = "PIPEFS_MAGIC"
                case Statfs.sockfsMagic: type = "SOCKFS_MAGIC"
                case Statfs.anonInodeMagic: type = "ANON_INODE_FS_MAGIC"
                default: type = "0x" + String(UInt64(bitPattern: s.type), radix: 16)
                }
                var flags: [String] = []
                // strace's order: ST_VALID first, then the mount flags by bit.
                for (bit, name) in [(Statfs.flagValid, "ST_VALID"), (Statfs.flagNoSUID, "ST_NOSUID"), (Statfs.flagNoDev, "ST_NODEV"),
                                    (Statfs.flagNoExec, "ST_NOEXEC"), (Statfs.flagRelatime, "ST_RELATIME")] where s.flags & bit != 0 {
                    flags.append(name)
                }
                return "{f_type=" + type + ", f_bsize=" + String(s.blockSize) + ", f_blocks=" + String(s.blocks)
                    + ", f_bfree=" + String(s.freeBlocks) + ", f_bavail=" + String(s.availableBlocks)
                    + ", f_files=" + String(s.files) + ", f_ffree=" + String(s.freeFiles)
                    + ", f_fsid={val=[" + fsidWord(s.fsid.0) + ", " + fsidWord(s.fsid.1) + "]}, f_namelen=" + String(s.nameLength)
                    + ", f_frsize=" + String(s.fragmentSize) + ", f_flags=" + (flags.isEmpty ? "0" : flags.joined(separator: "|")) + "}"
            }
        case .utsnameOut:
            return outputValue(v, count: 6 * 65, result: result, memory: memory) { TraceText.utsname($0) }
        case .rlimitIn:
            return inputValue(v, count: 16, memory: memory) { TraceText.rlimit($0) }
        case .rlimitOut:
            return outputValue(v, count: 16, result: result, memory: memory) { TraceText.rlimit($0) }
        case .sigactionIn:
            return inputValue(v, count: 32, memory: memory) { TraceText.sigaction($0) }
        case .sigactionOut:
            return outputValue(v, count: 32, result: result, memory: memory) { TraceText.sigaction($0) }
        case .fdPairOut:
            return outputValue(v, count: 8, result: result, memory: memory) { bytes in
                "[" + decimalString(Int64(Int32(truncatingIfNeeded: TraceText.littleEndian(bytes, at: 0, count: 4))))
                    + ", " + decimalString(Int64(Int32(truncatingIfNeeded: TraceText.littleEndian(bytes, at: 4, count: 4)))) + "]"
            }
        case .iovecIn(let countIndex):
            return iovec(v, count: a.int(countIndex), bytesAvailable: nil, memory: memory)
        case .iovecOut(let countIndex):
            guard let total = succeeded(result) else { return TraceText.pointer(v) }
            return iovec(v, count: a.int(countIndex), bytesAvailable: total, memory: memory)
        case .socket(let kind):
            return socketArgument(kind, a, index: i, result: result, memory: memory)
        case .sockaddrIn(let lengthIndex):
            let length = a.int(lengthIndex)
            guard length >= 16 else { return TraceText.pointer(v) }
            return inputValue(v, count: 16, memory: memory) { bytes in
                let family = TraceText.littleEndian(bytes, at: 0, count: 2)
                guard family == UInt64(AddressFamily.AF_INET) else {
                    return "{sa_family=" + decimalString(Int64(family)) + ", ...}"
                }
                let port = TraceText.littleEndian(bytes, at: 2, count: 2)
                let address = TraceText.littleEndian(bytes, at: 4, count: 4)
                // sin_port and sin_addr are in network order: swap to read them.
                return SockaddrIn(port: UInt16(truncatingIfNeeded: port).byteSwapped,
                                  address: UInt32(truncatingIfNeeded: address).byteSwapped).straceDescription
            }
        }
    }

    /// `[{iov_base="hello", iov_len=5}, {iov_base="\n", iov_len=1}]`. For readv only the
    /// first `bytesAvailable` bytes were filled.
    func iovec(_ address: UInt64, count: Int, bytesAvailable: Int?, memory: AddressSpace) -> String {
        guard count > 0 && count <= Iovec.UIO_MAXIOV else { return TraceText.pointer(address) }
        let shown = min(count, stringLimit)
        guard case .success(let raw) = memory.copyIn(UserAddress(address), count: shown * 16) else {
            return hexString(address)
        }
        var remaining = bytesAvailable ?? Int.max
        var text = "["
        for i in 0..<shown {
            if i > 0 { text += ", " }
            let base = TraceText.littleEndian(raw, at: i * 16, count: 8)
            let length = TraceText.littleEndian(raw, at: i * 16 + 8, count: 8)
            let filled = min(Int(clamping: length), max(remaining, 0))
            remaining -= filled
            text += "{iov_base=" + buffer(base, count: filled, memory: memory)
            text += ", iov_len=" + unsignedDecimalString(length) + "}"
        }
        if shown < count { text += ", ..." }
        return text + "]"
    }

    // MARK: calls whose arguments depend on another argument

    func futexArguments(_ a: SyscallArguments, memory: AddressSpace) -> String {
        let op = FutexOperation(a.uint32(1))
        var text = hexString(a[0]) + ", " + op.straceDescription
        let value = decimalString(Int64(a.int32(2)))
        func timeout() -> String { a[3] == 0 ? "NULL" : inputValue(a[3], count: 16, memory: memory) { TraceText.timespec($0) } }
        func bitset() -> String {
            a.uint32(5) == FutexOperation.FUTEX_BITSET_MATCH_ANY ? "FUTEX_BITSET_MATCH_ANY" : hexString(UInt64(a.uint32(5)))
        }
        switch op.command {
        case FutexOperation.FUTEX_WAIT:
            text += ", " + value + ", " + timeout()
        case FutexOperation.FUTEX_WAKE:
            text += ", " + value
        case FutexOperation.FUTEX_WAIT_BITSET:
            text += ", " + value + ", " + timeout() + ", " + bitset()
        case FutexOperation.FUTEX_WAKE_BITSET:
            text += ", " + value + ", NULL, " + bitset()
        case FutexOperation.FUTEX_REQUEUE:
            text += ", " + value + ", " + decimalString(Int64(a.int32(3))) + ", " + hexString(a[4])
        case FutexOperation.FUTEX_CMP_REQUEUE:
            text += ", " + value + ", " + decimalString(Int64(a.int32(3))) + ", " + hexString(a[4])
                + ", " + decimalString(Int64(a.int32(5)))
        case FutexOperation.FUTEX_WAIT_REQUEUE_PI:
            // strace: futex(uaddr, FUTEX_WAIT_REQUEUE_PI_PRIVATE, val, timeout, uaddr2)
            text += ", " + value + ", " + timeout() + ", " + hexString(a[4])
        case FutexOperation.FUTEX_CMP_REQUEUE_PI:
            text += ", " + value + ", " + decimalString(Int64(a.int32(3))) + ", " + hexString(a[4])
                + ", " + decimalString(Int64(a.int32(5)))
        default:
            text += ", " + value + ", " + hexString(a[3]) + ", " + hexString(a[4]) + ", " + hexString(a[5])
        }
        return text
    }

    func ioctlArguments(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String {
        let request = IoctlRequest(a.uint32(1))
        var text = decimalString(Int64(a.int32(0))) + ", " + ioctlRequestText(request) + ", "
        if let termios = termiosArgument(a, result: result, memory: memory) {
            text += termios
        } else if request == .TIOCGWINSZ {
            text += outputValue(a[2], result: result, memory: memory) { TraceText.winsize($0) }
        } else if request == .TIOCSWINSZ {
            text += inputValue(a[2], count: 8, memory: memory) { TraceText.winsize($0) }
        } else if request == .FIONREAD {
            text += socketArgument(.lengthOut, a, index: 2, result: result, memory: memory)
        } else if request == .FIONBIO {
            text += socketArgument(.lengthIn, a, index: 2, result: result, memory: memory)
        } else {
            text += hexString(a[2])
        }
        return text
    }

    func fcntlArguments(_ a: SyscallArguments) -> String {
        let command = FcntlCommand(a.uint32(1))
        var text = decimalString(Int64(a.int32(0))) + ", " + command.straceDescription
        switch command.rawValue {
        case FcntlCommand.F_GETFD.rawValue, FcntlCommand.F_GETFL.rawValue, FcntlCommand.F_GETOWN.rawValue:
            break
        case FcntlCommand.F_SETFL.rawValue:
            text += ", " + OpenFlags(rawValue: a.uint32(2)).straceDescription
        case FcntlCommand.F_SETFD.rawValue:
            text += ", " + FdFlags(rawValue: a.uint32(2)).straceDescription
        case FcntlCommand.F_DUPFD.rawValue, FcntlCommand.F_DUPFD_CLOEXEC.rawValue, FcntlCommand.F_SETOWN.rawValue:
            text += ", " + decimalString(Int64(a.int32(2)))
        default:
            text += ", " + hexString(a[2])
        }
        return text
    }

    /// strace's x86-64 clone: only the fields the flags make meaningful.
    func cloneArguments(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String {
        let flags = a[0]
        var text = "child_stack=" + TraceText.pointer(a[1]) + ", flags=" + CloneFlags(rawValue: flags).straceDescription
        if flags & CloneFlags.CLONE_PARENT_SETTID.rawValue != 0 {
            text += ", parent_tid=" + outputValue(a[2], count: 4, result: result, memory: memory) { bytes in
                "[" + decimalString(Int64(Int32(truncatingIfNeeded: TraceText.littleEndian(bytes, at: 0, count: 4)))) + "]"
            }
        }
        if flags & CloneFlags.CLONE_SETTLS.rawValue != 0 { text += ", tls=" + hexString(a[4]) }
        if flags & (CloneFlags.CLONE_CHILD_SETTID.rawValue | CloneFlags.CLONE_CHILD_CLEARTID.rawValue) != 0 {
            text += ", child_tidptr=" + hexString(a[3])
        }
        return text
    }

    /// clone3(struct clone_args *, size): the fields egg's threads use.
    func clone3Arguments(_ a: SyscallArguments, memory: AddressSpace) -> String {
        let size = a.int(1)
        let structure = inputValue(a[0], count: 64, memory: memory) { b in
            let flags = TraceText.littleEndian(b, at: 0, count: 8)
            var text = "{flags=" + CloneFlags(rawValue: flags).straceDescription
            let exitSignal = TraceText.littleEndian(b, at: 32, count: 8)
            text += ", exit_signal=" + (exitSignal == 0 ? "0" : Signal(Int32(truncatingIfNeeded: exitSignal)).straceName)
            text += ", stack=" + hexString(TraceText.littleEndian(b, at: 40, count: 8))
            text += ", stack_size=" + hexString(TraceText.littleEndian(b, at: 48, count: 8))
            if flags & CloneFlags.CLONE_SETTLS.rawValue != 0 {
                text += ", tls=" + hexString(TraceText.littleEndian(b, at: 56, count: 8))
            }
            return text + "}"
        }
        return structure + ", " + decimalString(Int64(size))
    }

    // MARK: the table

    /// The decoded arguments of each call this formatter knows, in order (strace's printers
    /// for these calls, src/*.c); nil for the rest.
    static func signature(_ n: SyscallNumber) -> [TraceArgument]? {
        switch n {
        case .read: return [.int, .outBuffer, .ulong]
        case .write: return [.int, .inBuffer(2), .ulong]
        case .pread64: return [.int, .outBuffer, .ulong, .long]
        case .pwrite64: return [.int, .inBuffer(2), .ulong, .long]
        case .readv: return [.int, .iovecOut(2), .int]
        case .writev: return [.int, .iovecIn(2), .int]
        case .open: return [.path, .openFlags, .mode]
        case .openat: return [.dirfd, .path, .openFlags, .mode]
        case .creat: return [.path, .mode]
        case .close, .dup, .fsync, .fdatasync: return [.int]
        case .dup2: return [.int, .int]
        case .dup3: return [.int, .int, .openFlags]
        case .stat, .lstat: return [.path, .statOut]
        case .fstat: return [.int, .statOut]
        case .statfs: return [.path, .statfsOut]
        case .fstatfs: return [.int, .statfsOut]
        case .newfstatat: return [.dirfd, .path, .statOut, .atFlags]
        case .statx: return [.dirfd, .path, .atFlags, .statxMask, .pointer]
        case .lseek: return [.int, .long, .whence]
        case .access: return [.path, .accessMode]
        case .faccessat, .faccessat2: return [.dirfd, .path, .accessMode]
        case .readlink: return [.path, .outBuffer, .ulong]
        case .readlinkat: return [.dirfd, .path, .outBuffer, .ulong]
        case .getcwd: return [.outString, .ulong]
        case .chdir, .rmdir, .unlink: return [.path]
        case .mkdir: return [.path, .mode]
        case .mkdirat: return [.dirfd, .path, .mode]
        case .unlinkat: return [.dirfd, .path, .atFlags]
        case .getdents64: return [.int, .pointer, .ulong]
        case .pipe: return [.fdPairOut]
        case .pipe2: return [.fdPairOut, .openFlags]
        case .mmap: return [.pointer, .ulong, .prot, .mmapFlags, .int, .hex]
        case .mprotect: return [.pointer, .ulong, .prot]
        case .munmap: return [.pointer, .ulong]
        case .mremap: return [.pointer, .ulong, .ulong, .mremapFlags, .pointer]
        case .madvise: return [.pointer, .ulong, .madvise]
        case .brk: return [.pointer]
        case .exit, .exit_group: return [.int]
        case .getpid, .getppid, .gettid, .getuid, .geteuid, .getgid, .getegid, .getpgrp, .sched_yield,
             .setsid, .pause, .sync, .fork, .vfork:
            return []
        case .getpgid, .getsid: return [.int]
        case .set_tid_address: return [.pointer]
        case .set_robust_list: return [.pointer, .ulong]
        case .kill: return [.int, .signal]
        case .tkill: return [.int, .signal]
        case .tgkill: return [.int, .int, .signal]
        case .rt_sigaction: return [.signal, .sigactionIn, .sigactionOut, .ulong]
        case .rt_sigprocmask: return [.sigprocmaskHow, .sigsetIn, .sigsetOut, .ulong]
        case .rt_sigpending: return [.sigsetOut, .ulong]
        case .rt_sigsuspend: return [.sigsetIn, .ulong]
        case .rt_sigreturn: return []
        case .sigaltstack: return [.pointer, .pointer]
        case .clock_gettime, .clock_getres: return [.clockId, .timespecOut]
        case .nanosleep: return [.timespecIn, .pointer]
        case .clock_nanosleep: return [.clockId, .hex, .timespecIn, .pointer]
        case .gettimeofday: return [.pointer, .pointer]
        case .time: return [.pointer]
        case .uname: return [.utsnameOut]
        case .sysinfo: return [.pointer]
        case .getrandom: return [.randomOut, .ulong, .getrandomFlags]
        case .prlimit64: return [.int, .rlimitResource, .rlimitIn, .rlimitOut]
        case .getrlimit: return [.rlimitResource, .rlimitOut]
        case .setrlimit: return [.rlimitResource, .rlimitIn]
        case .getresuid, .getresgid: return [.pointer, .pointer, .pointer]
        case .setuid, .setgid, .setfsuid, .setfsgid: return [.int]
        case .setreuid, .setregid: return [.int, .int]
        case .setresuid, .setresgid: return [.int, .int, .int]
        case .getgroups, .setgroups: return [.int, .pointer]
        case .capget, .capset: return [.pointer, .pointer]
        case .msgget: return [.hex, .hex]
        case .msgsnd: return [.int, .pointer, .ulong, .hex]
        case .msgrcv: return [.int, .pointer, .ulong, .long, .hex]
        case .msgctl: return [.int, .int, .pointer]
        case .semget: return [.hex, .int, .hex]
        case .semop: return [.int, .pointer, .ulong]
        case .semtimedop: return [.int, .pointer, .ulong, .timespecIn]
        case .semctl: return [.int, .int, .int, .hex]
        case .sched_getaffinity: return [.int, .ulong, .pointer]
        case .sched_setaffinity: return [.int, .ulong, .pointer]
        case .sched_setscheduler: return [.int, .int, .pointer]
        case .sched_getscheduler: return [.int]
        case .sched_setparam, .sched_getparam: return [.int, .pointer]
        case .sched_get_priority_max, .sched_get_priority_min: return [.int]
        case .sched_rr_get_interval: return [.int, .pointer]
        case .sched_setattr: return [.int, .pointer, .hex]
        case .sched_getattr: return [.int, .pointer, .int, .hex]
        case .getpriority: return [.int, .int]
        case .setpriority: return [.int, .int, .int]
        case .getcpu: return [.pointer, .pointer, .pointer]
        case .ioprio_get: return [.int, .int]
        case .ioprio_set: return [.int, .int, .hex]
        case .process_vm_readv, .process_vm_writev: return [.int, .pointer, .ulong, .pointer, .ulong, .hex]
        case .kcmp: return [.int, .int, .int, .ulong, .ulong]
        case .wait4: return [.int, .pointer, .waitOptions, .pointer]
        case .poll: return [.pointer, .ulong, .int]
        case .ppoll: return [.pointer, .ulong, .timespecIn, .sigsetIn, .ulong]
        case .eventfd: return [.ulong]
        case .eventfd2: return [.ulong, .openFlags]
        case .epoll_create: return [.int]
        case .epoll_create1: return [.openFlags]
        case .epoll_ctl: return [.int, .int, .int, .pointer]
        case .epoll_wait: return [.int, .pointer, .int, .int]
        case .epoll_pwait: return [.int, .pointer, .int, .int, .sigsetIn, .ulong]
        case .timerfd_create: return [.clockId, .openFlags]
        case .timerfd_settime: return [.int, .hex, .pointer, .pointer]
        case .timerfd_gettime: return [.int, .pointer]
        // Sockets: strace's printers (SocketTraceText.swift)
        case .socket: return [.socket(.family), .socket(.type), .socket(.protocolNumber(0))]
        case .socketpair: return [.socket(.family), .socket(.type), .socket(.protocolNumber(0)), .fdPairOut]
        case .connect, .bind: return [.int, .socket(.addressIn(2)), .int]
        case .sendto: return [.int, .inBuffer(2), .ulong, .socket(.messageFlags), .socket(.addressIn(5)), .int]
        case .recvfrom:
            return [.int, .socket(.receivedBuffer(2)), .ulong, .socket(.messageFlags), .socket(.addressOut(5)), .socket(.lengthOut)]
        case .sendmsg: return [.int, .socket(.messageIn), .socket(.messageFlags)]
        case .recvmsg: return [.int, .socket(.messageOut), .socket(.messageFlags)]
        case .listen: return [.int, .int]
        case .accept, .getsockname, .getpeername: return [.int, .socket(.addressOut(2)), .socket(.lengthOut)]
        case .accept4: return [.int, .socket(.addressOut(2)), .socket(.lengthOut), .socket(.acceptFlags)]
        case .shutdown: return [.int, .socket(.shutdownHow)]
        case .setsockopt: return [.int, .socket(.level), .socket(.optionName(1)), .socket(.optionIn(2, 4)), .int]
        case .getsockopt: return [.int, .socket(.level), .socket(.optionName(1)), .socket(.optionOut(2, 4)), .socket(.lengthOut)]
        case .umask: return [.mode]
        case .chmod: return [.path, .mode]
        case .fchmod: return [.int, .mode]
        case .ftruncate: return [.int, .long]
        case .rseq: return [.pointer, .hex, .int, .hex]
        case .membarrier: return [.int, .int, .int]
        default: return nil
        }
    }
}

// MARK: execve (Syscalls/ExecSyscalls.swift)

extension SyscallTraceFormatter {
    /// The arguments of the execve in progress, decoded from the old program's memory before
    /// the point of no return: after a successful exec that memory is gone, and strace prints
    /// the call as it was made. Set by ExecSyscalls, taken by the next successful execve line
    /// (the kernel lock orders the two).
    nonisolated(unsafe) public static var execArgumentsBeforeExec: String? = nil

    /// `"/bin/sh", ["sh", "-c", "x"], 0x7ffd... /* 3 vars */` as strace prints execve: the path,
    /// argv's strings (at most stringLimit of them, each cut at stringLimit), envp's count.
    public static func execTraceArguments(dirfd: Int32, path: UserAddress, argv: UserAddress, envp: UserAddress,
                                          flags: UInt64, isExecveat: Bool, memory: AddressSpace) -> String {
        let f = SyscallTraceFormatter()
        var parts: [String] = []
        if isExecveat { parts.append(renderDirfd(dirfd)) }
        parts.append(f.path(path.value, memory: memory))
        parts.append(f.stringArray(argv.value, memory: memory, list: true))
        parts.append(f.stringArray(envp.value, memory: memory, list: false))
        if isExecveat { parts.append(AtFlags(rawValue: UInt32(truncatingIfNeeded: flags)).straceDescription) }
        return f.joined(parts)
    }

    func execArguments(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String {
        if case .success = result, let saved = SyscallTraceFormatter.execArgumentsBeforeExec {
            SyscallTraceFormatter.execArgumentsBeforeExec = nil
            return saved
        }
        if a.number == SyscallNumber.execveat.rawValue {
            return SyscallTraceFormatter.execTraceArguments(dirfd: a.int32(0), path: a.address(1), argv: a.address(2),
                                                            envp: a.address(3), flags: a[4], isExecveat: true, memory: memory)
        }
        return SyscallTraceFormatter.execTraceArguments(dirfd: -100, path: a.address(0), argv: a.address(1),
                                                        envp: a.address(2), flags: 0, isExecveat: false, memory: memory)
    }

    /// A NULL-terminated string-pointer array: the strings (`list`) or "0x... /* N vars */".
    func stringArray(_ address: UInt64, memory: AddressSpace, list: Bool) -> String {
        if address == 0 { return "NULL" }
        var strings: [String] = []
        var count = 0
        var at = address
        while count < 4096 {
            guard case .success(let pointer) = memory.readUInt64(UserAddress(at)) else {
                return count == 0 ? hexString(address) : (list ? "[" + joined(strings) + ", ...]" : hexString(address))
            }
            if pointer == 0 { break }
            if list && count < stringLimit {
                switch memory.readCString(UserAddress(pointer), maximum: stringLimit + 1) {
                case .success(let bytes):
                    let shown = Array(bytes.prefix(stringLimit))
                    strings.append(TraceText.quoted(shown, truncated: bytes.count > stringLimit))
                case .failure(.ENAMETOOLONG):
                    switch memory.copyIn(UserAddress(pointer), count: stringLimit) {
                    case .success(let bytes): strings.append(TraceText.quoted(bytes, truncated: true))
                    case .failure: strings.append(hexString(pointer))
                    }
                case .failure: strings.append(hexString(pointer))
                }
            }
            count += 1
            at &+= 8
        }
        if !list { return hexString(address) + " /* " + String(count) + (count == 1 ? " var" : " vars") + " */" }
        return "[" + joined(strings) + (count > stringLimit ? ", ..." : "") + "]"
    }
}
