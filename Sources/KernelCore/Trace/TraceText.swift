// TraceText — strace's quoting of guest bytes and its small struct summaries (KernelCore/Trace).
//
// Pure text helpers for the syscall formatter (SyscallTraceFormatter.swift beside this file):
// strings quoted as strace 6.1's string_quote (src/util.c) does — printable ASCII as is, \" \\
// \f \n \r \t \v, other bytes in octal with the fewest digits unless an octal digit follows
// (then three), or every byte as \xNN where strace forces hex (getrandom) — and the
// summaries strace prints for struct stat, timespec, rlimit, winsize and utsname.
import LinuxABI

enum TraceText {
    /// `"bytes"` quoted; `truncated` adds strace's `...` after the closing quote.
    static func quoted(_ bytes: [UInt8], truncated: Bool = false, forceHex: Bool = false) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(bytes.count + 8)
        for i in 0..<bytes.count {
            let c = bytes[i]
            if forceHex {
                appendHexEscape(c, to: &out)
                continue
            }
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(c)
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x0B: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "v"))
            case 0x20...0x7E:
                out.append(c)
            default:
                let nextIsOctalDigit = i + 1 < bytes.count
                    && bytes[i + 1] >= UInt8(ascii: "0") && bytes[i + 1] <= UInt8(ascii: "7")
                out.append(UInt8(ascii: "\\"))
                if nextIsOctalDigit || c >= 0o100 { out.append(UInt8(ascii: "0") + (c >> 6)) }
                if nextIsOctalDigit || c >= 0o10 { out.append(UInt8(ascii: "0") + ((c >> 3) & 7)) }
                out.append(UInt8(ascii: "0") + (c & 7))
            }
        }
        out.append(UInt8(ascii: "\""))
        if truncated {
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "."))
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func appendHexEscape(_ c: UInt8, to out: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\\"))
        out.append(UInt8(ascii: "x"))
        out.append(digits[Int(c >> 4)])
        out.append(digits[Int(c & 15)])
    }

    /// NULL, or the address as "0x7ffd1234" (strace's printaddr).
    static func pointer(_ value: UInt64) -> String {
        value == 0 ? "NULL" : hexString(value)
    }

    static func littleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        var v: UInt64 = 0
        var i = count - 1
        while i >= 0 {
            v = (v << 8) | UInt64(bytes[offset + i])
            i -= 1
        }
        return v
    }

    /// `{tv_sec=1, tv_nsec=500}` from the 16 bytes of a struct timespec.
    static func timespec(_ bytes: [UInt8]) -> String {
        let seconds = Int64(bitPattern: littleEndian(bytes, at: 0, count: 8))
        let nanoseconds = Int64(bitPattern: littleEndian(bytes, at: 8, count: 8))
        return "{tv_sec=" + decimalString(seconds) + ", tv_nsec=" + decimalString(nanoseconds) + "}"
    }

    /// strace's abbreviated struct stat (print_struct_stat without -v): the mode, then st_rdev
    /// for device files or st_size for the rest, then "...".
    static func stat(_ bytes: [UInt8]) -> String {
        let mode = FileMode(UInt32(truncatingIfNeeded: littleEndian(bytes, at: 24, count: 4)))
        var text = "{st_mode=" + mode.straceDescription + ", "
        if mode.fileType == FileMode.S_IFCHR || mode.fileType == FileMode.S_IFBLK {
            let device = decodeDeviceNumber(littleEndian(bytes, at: 40, count: 8))
            text += "st_rdev=makedev(" + hexString(UInt64(device.major)) + ", " + hexString(UInt64(device.minor)) + ")"
        } else {
            text += "st_size=" + decimalString(Int64(bitPattern: littleEndian(bytes, at: 48, count: 8)))
        }
        return text + ", ...}"
    }

    /// One rlimit value as strace's sprint_rlim64: RLIM64_INFINITY, "8192*1024", or decimal.
    static func rlimitValue(_ v: UInt64) -> String {
        if v == UInt64.max { return "RLIM64_INFINITY" }
        if v > 0 && v % 1024 == 0 { return unsignedDecimalString(v / 1024) + "*1024" }
        return unsignedDecimalString(v)
    }

    static func rlimit(_ bytes: [UInt8]) -> String {
        "{rlim_cur=" + rlimitValue(littleEndian(bytes, at: 0, count: 8))
            + ", rlim_max=" + rlimitValue(littleEndian(bytes, at: 8, count: 8)) + "}"
    }

    static func winsize(_ bytes: [UInt8]) -> String {
        "{ws_row=" + unsignedDecimalString(littleEndian(bytes, at: 0, count: 2))
            + ", ws_col=" + unsignedDecimalString(littleEndian(bytes, at: 2, count: 2))
            + ", ws_xpixel=" + unsignedDecimalString(littleEndian(bytes, at: 4, count: 2))
            + ", ws_ypixel=" + unsignedDecimalString(littleEndian(bytes, at: 6, count: 2)) + "}"
    }

    /// `{sysname="Linux", nodename="vm", ...}` from struct utsname's 65-byte fields.
    static func utsname(_ bytes: [UInt8]) -> String {
        func field(_ index: Int) -> String {
            var value: [UInt8] = []
            var i = index * 65
            while i < (index + 1) * 65 && i < bytes.count && bytes[i] != 0 {
                value.append(bytes[i])
                i += 1
            }
            return quoted(value)
        }
        return "{sysname=" + field(0) + ", nodename=" + field(1) + ", ...}"
    }

    /// `{sa_handler=0x401136, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x401000}`
    /// from the kernel's struct sigaction (handler, flags, restorer, mask).
    static func sigaction(_ bytes: [UInt8]) -> String {
        let handler = littleEndian(bytes, at: 0, count: 8)
        let flags = littleEndian(bytes, at: 8, count: 8)
        let restorer = littleEndian(bytes, at: 16, count: 8)
        let mask = littleEndian(bytes, at: 24, count: 8)
        var text = "{sa_handler="
        switch handler {
        case 0: text += "SIG_DFL"
        case 1: text += "SIG_IGN"
        default: text += hexString(handler)
        }
        text += ", sa_mask=" + SignalSet(rawValue: mask).straceDescription
        text += ", sa_flags=" + SigactionFlags(rawValue: flags).straceDescription
        if flags & 0x0400_0000 != 0 {  // SA_RESTORER
            text += ", sa_restorer=" + hexString(restorer)
        }
        return text + "}"
    }
}
