// Errno — Linux error numbers, their names and messages (LinuxABI layer; shared by the
// kernel's syscall results, the trace formatter and tests).
//
// Values from include/uapi/asm-generic/errno-base.h and errno.h (x86-64 uses the generic
// numbering; 41 and 58 are unassigned there). Messages are glibc's strerror(3) texts, which
// is what strace prints after the name: "-1 ENOENT (No such file or directory)".
// The kernel-internal restart codes 512...516 come from include/linux/errno.h; they never
// reach user space but the signal code and strace-like traces need to name them.

public struct Errno: Error, Equatable, Hashable, Sendable {
    public let rawValue: Int32
    @inline(__always) public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = Errno(1)
    public static let ENOENT = Errno(2)
    public static let ESRCH = Errno(3)
    public static let EINTR = Errno(4)
    public static let EIO = Errno(5)
    public static let ENXIO = Errno(6)
    public static let E2BIG = Errno(7)
    public static let ENOEXEC = Errno(8)
    public static let EBADF = Errno(9)
    public static let ECHILD = Errno(10)
    public static let EAGAIN = Errno(11)
    public static let ENOMEM = Errno(12)
    public static let EACCES = Errno(13)
    public static let EFAULT = Errno(14)
    public static let ENOTBLK = Errno(15)
    public static let EBUSY = Errno(16)
    public static let EEXIST = Errno(17)
    public static let EXDEV = Errno(18)
    public static let ENODEV = Errno(19)
    public static let ENOTDIR = Errno(20)
    public static let EISDIR = Errno(21)
    public static let EINVAL = Errno(22)
    public static let ENFILE = Errno(23)
    public static let EMFILE = Errno(24)
    public static let ENOTTY = Errno(25)
    public static let ETXTBSY = Errno(26)
    public static let EFBIG = Errno(27)
    public static let ENOSPC = Errno(28)
    public static let ESPIPE = Errno(29)
    public static let EROFS = Errno(30)
    public static let EMLINK = Errno(31)
    public static let EPIPE = Errno(32)
    public static let EDOM = Errno(33)
    public static let ERANGE = Errno(34)
    public static let EDEADLK = Errno(35)
    public static let ENAMETOOLONG = Errno(36)
    public static let ENOLCK = Errno(37)
    public static let ENOSYS = Errno(38)
    public static let ENOTEMPTY = Errno(39)
    public static let ELOOP = Errno(40)
    public static let ENOMSG = Errno(42)
    public static let EIDRM = Errno(43)
    public static let ECHRNG = Errno(44)
    public static let EL2NSYNC = Errno(45)
    public static let EL3HLT = Errno(46)
    public static let EL3RST = Errno(47)
    public static let ELNRNG = Errno(48)
    public static let EUNATCH = Errno(49)
    public static let ENOCSI = Errno(50)
    public static let EL2HLT = Errno(51)
    public static let EBADE = Errno(52)
    public static let EBADR = Errno(53)
    public static let EXFULL = Errno(54)
    public static let ENOANO = Errno(55)
    public static let EBADRQC = Errno(56)
    public static let EBADSLT = Errno(57)
    public static let EBFONT = Errno(59)
    public static let ENOSTR = Errno(60)
    public static let ENODATA = Errno(61)
    public static let ETIME = Errno(62)
    public static let ENOSR = Errno(63)
    public static let ENONET = Errno(64)
    public static let ENOPKG = Errno(65)
    public static let EREMOTE = Errno(66)
    public static let ENOLINK = Errno(67)
    public static let EADV = Errno(68)
    public static let ESRMNT = Errno(69)
    public static let ECOMM = Errno(70)
    public static let EPROTO = Errno(71)
    public static let EMULTIHOP = Errno(72)
    public static let EDOTDOT = Errno(73)
    public static let EBADMSG = Errno(74)
    public static let EOVERFLOW = Errno(75)
    public static let ENOTUNIQ = Errno(76)
    public static let EBADFD = Errno(77)
    public static let EREMCHG = Errno(78)
    public static let ELIBACC = Errno(79)
    public static let ELIBBAD = Errno(80)
    public static let ELIBSCN = Errno(81)
    public static let ELIBMAX = Errno(82)
    public static let ELIBEXEC = Errno(83)
    public static let EILSEQ = Errno(84)
    public static let ERESTART = Errno(85)
    public static let ESTRPIPE = Errno(86)
    public static let EUSERS = Errno(87)
    public static let ENOTSOCK = Errno(88)
    public static let EDESTADDRREQ = Errno(89)
    public static let EMSGSIZE = Errno(90)
    public static let EPROTOTYPE = Errno(91)
    public static let ENOPROTOOPT = Errno(92)
    public static let EPROTONOSUPPORT = Errno(93)
    public static let ESOCKTNOSUPPORT = Errno(94)
    public static let EOPNOTSUPP = Errno(95)
    public static let EPFNOSUPPORT = Errno(96)
    public static let EAFNOSUPPORT = Errno(97)
    public static let EADDRINUSE = Errno(98)
    public static let EADDRNOTAVAIL = Errno(99)
    public static let ENETDOWN = Errno(100)
    public static let ENETUNREACH = Errno(101)
    public static let ENETRESET = Errno(102)
    public static let ECONNABORTED = Errno(103)
    public static let ECONNRESET = Errno(104)
    public static let ENOBUFS = Errno(105)
    public static let EISCONN = Errno(106)
    public static let ENOTCONN = Errno(107)
    public static let ESHUTDOWN = Errno(108)
    public static let ETOOMANYREFS = Errno(109)
    public static let ETIMEDOUT = Errno(110)
    public static let ECONNREFUSED = Errno(111)
    public static let EHOSTDOWN = Errno(112)
    public static let EHOSTUNREACH = Errno(113)
    public static let EALREADY = Errno(114)
    public static let EINPROGRESS = Errno(115)
    public static let ESTALE = Errno(116)
    public static let EUCLEAN = Errno(117)
    public static let ENOTNAM = Errno(118)
    public static let ENAVAIL = Errno(119)
    public static let EISNAM = Errno(120)
    public static let EREMOTEIO = Errno(121)
    public static let EDQUOT = Errno(122)
    public static let ENOMEDIUM = Errno(123)
    public static let EMEDIUMTYPE = Errno(124)
    public static let ECANCELED = Errno(125)
    public static let ENOKEY = Errno(126)
    public static let EKEYEXPIRED = Errno(127)
    public static let EKEYREVOKED = Errno(128)
    public static let EKEYREJECTED = Errno(129)
    public static let EOWNERDEAD = Errno(130)
    public static let ENOTRECOVERABLE = Errno(131)
    public static let ERFKILL = Errno(132)
    public static let EHWPOISON = Errno(133)

    // Aliases that share a number on x86-64 (errno.h); `name` reports the first spelling.
    public static let EWOULDBLOCK = EAGAIN
    public static let EDEADLOCK = EDEADLK
    public static let ENOTSUP = EOPNOTSUPP

    // Kernel-internal (include/linux/errno.h): used for syscall restart after a signal.
    public static let ERESTARTSYS = Errno(512)
    public static let ERESTARTNOINTR = Errno(513)
    public static let ERESTARTNOHAND = Errno(514)
    public static let ENOIOCTLCMD = Errno(515)
    public static let ERESTART_RESTARTBLOCK = Errno(516)

    /// The highest errno value user space can see (asm-generic/errno.h); a raw syscall return
    /// in -4095...-1 is an error (MAX_ERRNO in include/linux/err.h).
    public static let lastUserValue: Int32 = 133
    public static let maxErrno: Int64 = 4095

    /// The symbolic name ("ENOENT"), or nil for a number Linux does not assign.
    public var name: StaticString? { errnoNameAndMessage(rawValue)?.name }

    /// glibc's strerror text ("No such file or directory"), or nil for an unassigned number.
    public var message: StaticString? { errnoNameAndMessage(rawValue)?.message }

    /// Looks up an errno by its name ("ENOENT"); accepts the aliases EWOULDBLOCK, EDEADLOCK
    /// and ENOTSUP as well.
    public init?(name: String) {
        if staticStringEquals("EWOULDBLOCK", name) { self = .EAGAIN; return }
        if staticStringEquals("EDEADLOCK", name) { self = .EDEADLK; return }
        if staticStringEquals("ENOTSUP", name) { self = .EOPNOTSUPP; return }
        for value in Int32(1)...Errno.ERESTART_RESTARTBLOCK.rawValue {
            if let known = errnoNameAndMessage(value), staticStringEquals(known.name, name) {
                self.init(value)
                return
            }
        }
        return nil
    }

    /// The value a syscall returns in rax for this error: -errno.
    public var syscallReturnValue: Int64 { -Int64(rawValue) }

    /// The error encoded in a raw syscall return value, or nil for a success value.
    /// Linux treats -4095...-1 as errors (IS_ERR_VALUE); anything else is a result.
    public init?(syscallReturn value: Int64) {
        guard value < 0, value >= -Errno.maxErrno else { return nil }
        self.init(Int32(-value))
    }

    /// strace's rendering of a failed call's result, as printed after "= ":
    /// "-1 ENOENT (No such file or directory)"; "? ERESTARTSYS (To be restarted if SA_RESTART
    /// is set)" for the kernel-internal restart codes (no value reaches user space);
    /// "-1 (errno 41)" for a number with no name (strace 6.1 output).
    public var straceDescription: String {
        guard let known = errnoNameAndMessage(rawValue) else {
            return "-1 (errno " + decimalString(Int64(rawValue)) + ")"
        }
        var text = rawValue >= Errno.ERESTARTSYS.rawValue ? "? " : "-1 "
        appendStaticString(known.name, to: &text)
        text += " ("
        appendStaticString(known.message, to: &text)
        text += ")"
        return text
    }
}

/// Name and strerror text of an errno value, nil when unassigned.
func errnoNameAndMessage(_ value: Int32) -> (name: StaticString, message: StaticString)? {
    switch value {
    case 1: return ("EPERM", "Operation not permitted")
    case 2: return ("ENOENT", "No such file or directory")
    case 3: return ("ESRCH", "No such process")
    case 4: return ("EINTR", "Interrupted system call")
    case 5: return ("EIO", "Input/output error")
    case 6: return ("ENXIO", "No such device or address")
    case 7: return ("E2BIG", "Argument list too long")
    case 8: return ("ENOEXEC", "Exec format error")
    case 9: return ("EBADF", "Bad file descriptor")
    case 10: return ("ECHILD", "No child processes")
    case 11: return ("EAGAIN", "Resource temporarily unavailable")
    case 12: return ("ENOMEM", "Cannot allocate memory")
    case 13: return ("EACCES", "Permission denied")
    case 14: return ("EFAULT", "Bad address")
    case 15: return ("ENOTBLK", "Block device required")
    case 16: return ("EBUSY", "Device or resource busy")
    case 17: return ("EEXIST", "File exists")
    case 18: return ("EXDEV", "Invalid cross-device link")
    case 19: return ("ENODEV", "No such device")
    case 20: return ("ENOTDIR", "Not a directory")
    case 21: return ("EISDIR", "Is a directory")
    case 22: return ("EINVAL", "Invalid argument")
    case 23: return ("ENFILE", "Too many open files in system")
    case 24: return ("EMFILE", "Too many open files")
    case 25: return ("ENOTTY", "Inappropriate ioctl for device")
    case 26: return ("ETXTBSY", "Text file busy")
    case 27: return ("EFBIG", "File too large")
    case 28: return ("ENOSPC", "No space left on device")
    case 29: return ("ESPIPE", "Illegal seek")
    case 30: return ("EROFS", "Read-only file system")
    case 31: return ("EMLINK", "Too many links")
    case 32: return ("EPIPE", "Broken pipe")
    case 33: return ("EDOM", "Numerical argument out of domain")
    case 34: return ("ERANGE", "Numerical result out of range")
    case 35: return ("EDEADLK", "Resource deadlock avoided")
    case 36: return ("ENAMETOOLONG", "File name too long")
    case 37: return ("ENOLCK", "No locks available")
    case 38: return ("ENOSYS", "Function not implemented")
    case 39: return ("ENOTEMPTY", "Directory not empty")
    case 40: return ("ELOOP", "Too many levels of symbolic links")
    case 42: return ("ENOMSG", "No message of desired type")
    case 43: return ("EIDRM", "Identifier removed")
    case 44: return ("ECHRNG", "Channel number out of range")
    case 45: return ("EL2NSYNC", "Level 2 not synchronized")
    case 46: return ("EL3HLT", "Level 3 halted")
    case 47: return ("EL3RST", "Level 3 reset")
    case 48: return ("ELNRNG", "Link number out of range")
    case 49: return ("EUNATCH", "Protocol driver not attached")
    case 50: return ("ENOCSI", "No CSI structure available")
    case 51: return ("EL2HLT", "Level 2 halted")
    case 52: return ("EBADE", "Invalid exchange")
    case 53: return ("EBADR", "Invalid request descriptor")
    case 54: return ("EXFULL", "Exchange full")
    case 55: return ("ENOANO", "No anode")
    case 56: return ("EBADRQC", "Invalid request code")
    case 57: return ("EBADSLT", "Invalid slot")
    case 59: return ("EBFONT", "Bad font file format")
    case 60: return ("ENOSTR", "Device not a stream")
    case 61: return ("ENODATA", "No data available")
    case 62: return ("ETIME", "Timer expired")
    case 63: return ("ENOSR", "Out of streams resources")
    case 64: return ("ENONET", "Machine is not on the network")
    case 65: return ("ENOPKG", "Package not installed")
    case 66: return ("EREMOTE", "Object is remote")
    case 67: return ("ENOLINK", "Link has been severed")
    case 68: return ("EADV", "Advertise error")
    case 69: return ("ESRMNT", "Srmount error")
    case 70: return ("ECOMM", "Communication error on send")
    case 71: return ("EPROTO", "Protocol error")
    case 72: return ("EMULTIHOP", "Multihop attempted")
    case 73: return ("EDOTDOT", "RFS specific error")
    case 74: return ("EBADMSG", "Bad message")
    case 75: return ("EOVERFLOW", "Value too large for defined data type")
    case 76: return ("ENOTUNIQ", "Name not unique on network")
    case 77: return ("EBADFD", "File descriptor in bad state")
    case 78: return ("EREMCHG", "Remote address changed")
    case 79: return ("ELIBACC", "Can not access a needed shared library")
    case 80: return ("ELIBBAD", "Accessing a corrupted shared library")
    case 81: return ("ELIBSCN", ".lib section in a.out corrupted")
    case 82: return ("ELIBMAX", "Attempting to link in too many shared libraries")
    case 83: return ("ELIBEXEC", "Cannot exec a shared library directly")
    case 84: return ("EILSEQ", "Invalid or incomplete multibyte or wide character")
    case 85: return ("ERESTART", "Interrupted system call should be restarted")
    case 86: return ("ESTRPIPE", "Streams pipe error")
    case 87: return ("EUSERS", "Too many users")
    case 88: return ("ENOTSOCK", "Socket operation on non-socket")
    case 89: return ("EDESTADDRREQ", "Destination address required")
    case 90: return ("EMSGSIZE", "Message too long")
    case 91: return ("EPROTOTYPE", "Protocol wrong type for socket")
    case 92: return ("ENOPROTOOPT", "Protocol not available")
    case 93: return ("EPROTONOSUPPORT", "Protocol not supported")
    case 94: return ("ESOCKTNOSUPPORT", "Socket type not supported")
    case 95: return ("EOPNOTSUPP", "Operation not supported")
    case 96: return ("EPFNOSUPPORT", "Protocol family not supported")
    case 97: return ("EAFNOSUPPORT", "Address family not supported by protocol")
    case 98: return ("EADDRINUSE", "Address already in use")
    case 99: return ("EADDRNOTAVAIL", "Cannot assign requested address")
    case 100: return ("ENETDOWN", "Network is down")
    case 101: return ("ENETUNREACH", "Network is unreachable")
    case 102: return ("ENETRESET", "Network dropped connection on reset")
    case 103: return ("ECONNABORTED", "Software caused connection abort")
    case 104: return ("ECONNRESET", "Connection reset by peer")
    case 105: return ("ENOBUFS", "No buffer space available")
    case 106: return ("EISCONN", "Transport endpoint is already connected")
    case 107: return ("ENOTCONN", "Transport endpoint is not connected")
    case 108: return ("ESHUTDOWN", "Cannot send after transport endpoint shutdown")
    case 109: return ("ETOOMANYREFS", "Too many references: cannot splice")
    case 110: return ("ETIMEDOUT", "Connection timed out")
    case 111: return ("ECONNREFUSED", "Connection refused")
    case 112: return ("EHOSTDOWN", "Host is down")
    case 113: return ("EHOSTUNREACH", "No route to host")
    case 114: return ("EALREADY", "Operation already in progress")
    case 115: return ("EINPROGRESS", "Operation now in progress")
    case 116: return ("ESTALE", "Stale file handle")
    case 117: return ("EUCLEAN", "Structure needs cleaning")
    case 118: return ("ENOTNAM", "Not a XENIX named type file")
    case 119: return ("ENAVAIL", "No XENIX semaphores available")
    case 120: return ("EISNAM", "Is a named type file")
    case 121: return ("EREMOTEIO", "Remote I/O error")
    case 122: return ("EDQUOT", "Disk quota exceeded")
    case 123: return ("ENOMEDIUM", "No medium found")
    case 124: return ("EMEDIUMTYPE", "Wrong medium type")
    case 125: return ("ECANCELED", "Operation canceled")
    case 126: return ("ENOKEY", "Required key not available")
    case 127: return ("EKEYEXPIRED", "Key has expired")
    case 128: return ("EKEYREVOKED", "Key has been revoked")
    case 129: return ("EKEYREJECTED", "Key was rejected by service")
    case 130: return ("EOWNERDEAD", "Owner died")
    case 131: return ("ENOTRECOVERABLE", "State not recoverable")
    case 132: return ("ERFKILL", "Operation not possible due to RF-kill")
    case 133: return ("EHWPOISON", "Memory page has hardware error")
    case 512: return ("ERESTARTSYS", "To be restarted if SA_RESTART is set")
    case 513: return ("ERESTARTNOINTR", "To be restarted")
    case 514: return ("ERESTARTNOHAND", "To be restarted if no handler")
    case 515: return ("ENOIOCTLCMD", "No ioctl command")
    case 516: return ("ERESTART_RESTARTBLOCK", "Interrupted by signal")
    default: return nil
    }
}
