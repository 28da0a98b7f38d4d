// FileTraceText — strace-style arguments for the file calls of issue 14 (KernelCore/Trace):
// the xattr family (names and values as strings, XATTR_CREATE/XATTR_REPLACE), preadv/
// pwritev and their v2 forms (iovecs, RWF_* flags), openat2's struct open_how, getdents,
// utime/utimes/futimesat, close_range, fchmodat2, chroot and sethostname.
//
// Shapes follow strace 6.1's printers (src/xattr.c, src/io.c, src/open.c print_open_how,
// src/utimes.c, src/close_range.c); SyscallTraceFormatter.argumentsText calls in here.
// Pure: guest memory is read only through the checked copies (a bad pointer prints as its
// address).
import LinuxABI

extension SyscallTraceFormatter {
    /// The text between the parentheses for the calls above, or nil for any other call.
    func fileArguments(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String? {
        let n = SyscallNumber(a.number)
        func target(_ i: Int) -> String {
            switch n {
            case .fsetxattr, .fgetxattr, .flistxattr, .fremovexattr: return decimalString(Int64(a.int32(i)))
            default: return path(a[i], memory: memory)
            }
        }
        switch n {
        case .setxattr, .lsetxattr, .fsetxattr:
            return joined([target(0), path(a[1], memory: memory), buffer(a[2], count: a.size(3), memory: memory),
                           unsignedDecimalString(a[3]), xattrFlags(a[4])])
        case .getxattr, .lgetxattr, .fgetxattr:
            let value: String
            if let got = succeeded(result), a[3] != 0 { value = buffer(a[2], count: got, memory: memory) }
            else { value = TraceText.pointer(a[2]) }
            return joined([target(0), path(a[1], memory: memory), value, unsignedDecimalString(a[3])])
        case .listxattr, .llistxattr, .flistxattr:
            let list: String
            if let got = succeeded(result), a[2] != 0 { list = buffer(a[1], count: got, memory: memory) }
            else { list = TraceText.pointer(a[1]) }
            return joined([target(0), list, unsignedDecimalString(a[2])])
        case .removexattr, .lremovexattr, .fremovexattr:
            return joined([target(0), path(a[1], memory: memory)])
        case .preadv, .pwritev, .preadv2, .pwritev2:
            let write = n == .pwritev || n == .pwritev2
            let vectors: String
            if write { vectors = iovec(a[1], count: a.int(2), bytesAvailable: nil, memory: memory) }
            else if let got = succeeded(result) { vectors = iovec(a[1], count: a.int(2), bytesAvailable: got, memory: memory) }
            else { vectors = TraceText.pointer(a[1]) }
            var parts = [decimalString(Int64(a.int32(0))), vectors, decimalString(Int64(a.int32(2))), decimalString(Int64(a.int(3)))]
            if n == .preadv2 || n == .pwritev2 { parts.append(rwfFlags(a[5])) }
            return joined(parts)
        case .openat2:
            let how = inputValue(a[2], count: 24, memory: memory) { b in
                let flags = TraceText.littleEndian(b, at: 0, count: 8)
                let mode = TraceText.littleEndian(b, at: 8, count: 8)
                let resolve = TraceText.littleEndian(b, at: 16, count: 8)
                var text = "{flags=" + OpenFlags(rawValue: UInt32(truncatingIfNeeded: flags)).straceDescription
                if flags >> 32 != 0 { text += "|" + hexString(flags & ~0xFFFF_FFFF) }
                if mode != 0 || flags & UInt64(OpenFlags.O_CREAT.rawValue | OpenFlags.__O_TMPFILE.rawValue) != 0 {
                    text += ", mode=" + octalModeString(mode)
                }
                if resolve != 0 { text += ", resolve=" + resolveFlags(resolve) }
                return text + "}"
            }
            return joined([renderDirfd(a.int32(0)), path(a[1], memory: memory), how, unsignedDecimalString(a[3])])
        case .getdents:
            return joined([decimalString(Int64(a.int32(0))), TraceText.pointer(a[1]), unsignedDecimalString(a[2])])
        case .utime:
            let times = inputValue(a[1], count: 16, memory: memory) { b in
                "{actime=" + decimalString(Int64(bitPattern: TraceText.littleEndian(b, at: 0, count: 8)))
                    + ", modtime=" + decimalString(Int64(bitPattern: TraceText.littleEndian(b, at: 8, count: 8))) + "}"
            }
            return joined([path(a[0], memory: memory), times])
        case .utimes:
            return joined([path(a[0], memory: memory), timevalPair(a[1], memory: memory)])
        case .futimesat:
            return joined([renderDirfd(a.int32(0)), path(a[1], memory: memory), timevalPair(a[2], memory: memory)])
        case .close_range:
            var flags: [String] = []
            if a[2] & 2 != 0 { flags.append("CLOSE_RANGE_UNSHARE") }
            if a[2] & 4 != 0 { flags.append("CLOSE_RANGE_CLOEXEC") }
            if a[2] & ~6 != 0 { flags.append(hexString(a[2] & ~6)) }
            return joined([unsignedDecimalString(UInt64(a.uint32(0))), unsignedDecimalString(UInt64(a.uint32(1))),
                           flags.isEmpty ? "0" : flags.joined(separator: "|")])
        case .fchmodat2:
            return joined([renderDirfd(a.int32(0)), path(a[1], memory: memory), octalModeString(a[2] & 0o7777),
                           AtFlags(rawValue: a.uint32(3)).straceDescription])
        case .chroot:
            return path(a[0], memory: memory)
        case .sethostname:
            return joined([buffer(a[0], count: a.size(1), memory: memory), decimalString(Int64(a.int(1)))])
        default:
            return nil
        }
    }

    func xattrFlags(_ v: UInt64) -> String {
        var names: [String] = []
        if v & 1 != 0 { names.append("XATTR_CREATE") }
        if v & 2 != 0 { names.append("XATTR_REPLACE") }
        if v & ~3 != 0 { names.append(hexString(v & ~3)) }
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }

    func rwfFlags(_ v: UInt64) -> String {
        var names: [String] = []
        for (bit, name) in [(UInt64(1), "RWF_HIPRI"), (2, "RWF_DSYNC"), (4, "RWF_SYNC"), (8, "RWF_NOWAIT"), (0x10, "RWF_APPEND")]
        where v & bit != 0 { names.append(name) }
        if v & ~0x1F != 0 { names.append(hexString(v & ~0x1F)) }
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }

    func resolveFlags(_ v: UInt64) -> String {
        var names: [String] = []
        for (bit, name) in [(UInt64(1), "RESOLVE_NO_XDEV"), (2, "RESOLVE_NO_MAGICLINKS"), (4, "RESOLVE_NO_SYMLINKS"),
                            (8, "RESOLVE_BENEATH"), (0x10, "RESOLVE_IN_ROOT"), (0x20, "RESOLVE_CACHED")] where v & bit != 0 {
            names.append(name)
        }
        if v & ~0x3F != 0 { names.append(hexString(v & ~0x3F)) }
        return names.joined(separator: "|")
    }

    /// `[{tv_sec=3000, tv_usec=500000}, {tv_sec=4000, tv_usec=250000}]`, or NULL.
    func timevalPair(_ address: UInt64, memory: AddressSpace) -> String {
        inputValue(address, count: 32, memory: memory) { b in
            var text = "["
            for i in 0..<2 {
                if i > 0 { text += ", " }
                text += "{tv_sec=" + decimalString(Int64(bitPattern: TraceText.littleEndian(b, at: i * 16, count: 8)))
                text += ", tv_usec=" + decimalString(Int64(bitPattern: TraceText.littleEndian(b, at: i * 16 + 8, count: 8))) + "}"
            }
            return text + "]"
        }
    }
}
