// Ioctl — ioctl(2) request numbers and the _IOC encoding, plus the termios flag bits the
// terminal ioctls use (LinuxABI layer).
// Terminal requests from include/uapi/asm-generic/ioctls.h (x86-64 uses the generic ones);
// _IOC layout from include/uapi/asm-generic/ioctl.h; termios bits from
// include/uapi/asm-generic/termbits.h and termbits-common.h. The struct layouts (Winsize,
// Termios) are in TerminalStructs.swift; the tty itself is in KernelCore.

public struct IoctlRequest: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let TCGETS = IoctlRequest(0x5401)
    public static let TCSETS = IoctlRequest(0x5402)
    public static let TCSETSW = IoctlRequest(0x5403)
    public static let TCSETSF = IoctlRequest(0x5404)
    public static let TCGETA = IoctlRequest(0x5405)
    public static let TCSETA = IoctlRequest(0x5406)
    public static let TCSETAW = IoctlRequest(0x5407)
    public static let TCSETAF = IoctlRequest(0x5408)
    public static let TCSBRK = IoctlRequest(0x5409)
    public static let TCXONC = IoctlRequest(0x540A)
    public static let TCFLSH = IoctlRequest(0x540B)
    public static let TIOCEXCL = IoctlRequest(0x540C)
    public static let TIOCNXCL = IoctlRequest(0x540D)
    public static let TIOCSCTTY = IoctlRequest(0x540E)
    public static let TIOCGPGRP = IoctlRequest(0x540F)
    public static let TIOCSPGRP = IoctlRequest(0x5410)
    public static let TIOCOUTQ = IoctlRequest(0x5411)
    public static let TIOCSTI = IoctlRequest(0x5412)
    public static let TIOCGWINSZ = IoctlRequest(0x5413)
    public static let TIOCSWINSZ = IoctlRequest(0x5414)
    public static let TIOCMGET = IoctlRequest(0x5415)
    public static let TIOCMBIS = IoctlRequest(0x5416)
    public static let TIOCMBIC = IoctlRequest(0x5417)
    public static let TIOCMSET = IoctlRequest(0x5418)
    public static let FIONREAD = IoctlRequest(0x541B)
    public static let TIOCINQ = FIONREAD
    public static let TIOCLINUX = IoctlRequest(0x541C)
    public static let TIOCCONS = IoctlRequest(0x541D)
    public static let TIOCPKT = IoctlRequest(0x5420)
    public static let FIONBIO = IoctlRequest(0x5421)
    public static let TIOCNOTTY = IoctlRequest(0x5422)
    public static let TIOCSETD = IoctlRequest(0x5423)
    public static let TIOCGETD = IoctlRequest(0x5424)
    public static let TCSBRKP = IoctlRequest(0x5425)
    public static let TIOCSBRK = IoctlRequest(0x5427)
    public static let TIOCCBRK = IoctlRequest(0x5428)
    public static let TIOCGSID = IoctlRequest(0x5429)
    /// _IOR('T', 0x2A, struct termios2) with the 44-byte termios2.
    public static let TCGETS2 = IoctlRequest(0x802C_542A)
    public static let TCSETS2 = IoctlRequest(0x402C_542B)
    public static let TIOCGPTN = IoctlRequest(0x8004_5430)
    public static let TIOCSPTLCK = IoctlRequest(0x4004_5431)
    public static let TIOCGPTPEER = IoctlRequest(0x5441)
    public static let FIONCLEX = IoctlRequest(0x5450)
    public static let FIOCLEX = IoctlRequest(0x5451)
    public static let FIOASYNC = IoctlRequest(0x5452)
    public static let FIOQSIZE = IoctlRequest(0x5460)
    /// include/uapi/linux/fs.h: _IOR('f', 1, long); not a terminal ioctl, but file tools probe it.
    public static let FS_IOC_GETFLAGS = IoctlRequest(0x8008_6601)

    public static let names: [NamedValue] = [
        NamedValue(0x5401, "TCGETS"), NamedValue(0x5402, "TCSETS"), NamedValue(0x5403, "TCSETSW"),
        NamedValue(0x5404, "TCSETSF"), NamedValue(0x5405, "TCGETA"), NamedValue(0x5406, "TCSETA"),
        NamedValue(0x5407, "TCSETAW"), NamedValue(0x5408, "TCSETAF"), NamedValue(0x5409, "TCSBRK"),
        NamedValue(0x540A, "TCXONC"), NamedValue(0x540B, "TCFLSH"), NamedValue(0x540C, "TIOCEXCL"),
        NamedValue(0x540D, "TIOCNXCL"), NamedValue(0x540E, "TIOCSCTTY"), NamedValue(0x540F, "TIOCGPGRP"),
        NamedValue(0x5410, "TIOCSPGRP"), NamedValue(0x5411, "TIOCOUTQ"), NamedValue(0x5412, "TIOCSTI"),
        NamedValue(0x5413, "TIOCGWINSZ"), NamedValue(0x5414, "TIOCSWINSZ"), NamedValue(0x5415, "TIOCMGET"),
        NamedValue(0x5416, "TIOCMBIS"), NamedValue(0x5417, "TIOCMBIC"), NamedValue(0x5418, "TIOCMSET"),
        NamedValue(0x541B, "FIONREAD"), NamedValue(0x541C, "TIOCLINUX"), NamedValue(0x541D, "TIOCCONS"),
        NamedValue(0x5420, "TIOCPKT"), NamedValue(0x5421, "FIONBIO"), NamedValue(0x5422, "TIOCNOTTY"),
        NamedValue(0x5423, "TIOCSETD"), NamedValue(0x5424, "TIOCGETD"), NamedValue(0x5425, "TCSBRKP"),
        NamedValue(0x5427, "TIOCSBRK"), NamedValue(0x5428, "TIOCCBRK"), NamedValue(0x5429, "TIOCGSID"),
        NamedValue(0x802C_542A, "TCGETS2"), NamedValue(0x402C_542B, "TCSETS2"),
        NamedValue(0x8004_5430, "TIOCGPTN"), NamedValue(0x4004_5431, "TIOCSPTLCK"),
        NamedValue(0x5441, "TIOCGPTPEER"), NamedValue(0x5450, "FIONCLEX"), NamedValue(0x5451, "FIOCLEX"),
        NamedValue(0x5452, "FIOASYNC"), NamedValue(0x5460, "FIOQSIZE"),
        NamedValue(0x8008_6601, "FS_IOC_GETFLAGS"),
    ]
    public static let unknownComment: StaticString = "???"

    // _IOC fields (asm-generic/ioctl.h): nr 8 bits, type 8 bits, size 14 bits, dir 2 bits.
    public static let _IOC_NONE: UInt32 = 0
    public static let _IOC_WRITE: UInt32 = 1
    public static let _IOC_READ: UInt32 = 2

    public static func encode(direction: UInt32, type: UInt8, number: UInt8, size: UInt32) -> IoctlRequest {
        IoctlRequest(direction << 30 | (size & 0x3fff) << 16 | UInt32(type) << 8 | UInt32(number))
    }
    public var direction: UInt32 { rawValue >> 30 }
    public var type: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var number: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    public var size: UInt32 { (rawValue >> 16) & 0x3fff }

    /// The name ("TCGETS"), or strace's _IOC decoding for an unknown request:
    /// "_IOC(_IOC_NONE, 0x56, 0x78, 0x1234)". (strace also names sound-driver ioctls that
    /// share numbers with the terminal ones, "SNDCTL_TMR_START or TCSETS"; only the terminal
    /// name is given here.)
    public var straceDescription: String {
        if let known = name { return stringFromStatic(known) }
        let directions = ["_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE"]
        return "_IOC(" + directions[Int(direction)] + ", " + hexString(UInt64(type)) + ", "
            + hexString(UInt64(number)) + ", " + hexString(UInt64(size)) + ")"
    }
}

/// termios flag bits (c_iflag, c_oflag, c_cflag, c_lflag) and c_cc indices.
public enum TermiosBits: Sendable {
    // c_iflag
    public static let IGNBRK: UInt32 = 0o1
    public static let BRKINT: UInt32 = 0o2
    public static let IGNPAR: UInt32 = 0o4
    public static let PARMRK: UInt32 = 0o10
    public static let INPCK: UInt32 = 0o20
    public static let ISTRIP: UInt32 = 0o40
    public static let INLCR: UInt32 = 0o100
    public static let IGNCR: UInt32 = 0o200
    public static let ICRNL: UInt32 = 0o400
    public static let IUCLC: UInt32 = 0o1000
    public static let IXON: UInt32 = 0o2000
    public static let IXANY: UInt32 = 0o4000
    public static let IXOFF: UInt32 = 0o10000
    public static let IMAXBEL: UInt32 = 0o20000
    public static let IUTF8: UInt32 = 0o40000
    // c_oflag
    public static let OPOST: UInt32 = 0o1
    public static let OLCUC: UInt32 = 0o2
    public static let ONLCR: UInt32 = 0o4
    public static let OCRNL: UInt32 = 0o10
    public static let ONOCR: UInt32 = 0o20
    public static let ONLRET: UInt32 = 0o40
    // c_cflag
    public static let CBAUD: UInt32 = 0o10017
    public static let B9600: UInt32 = 0o15
    public static let B38400: UInt32 = 0o17
    public static let B115200: UInt32 = 0o10002
    public static let CSIZE: UInt32 = 0o60
    public static let CS8: UInt32 = 0o60
    public static let CSTOPB: UInt32 = 0o100
    public static let CREAD: UInt32 = 0o200
    public static let PARENB: UInt32 = 0o400
    public static let HUPCL: UInt32 = 0o2000
    public static let CLOCAL: UInt32 = 0o4000
    // c_lflag
    public static let ISIG: UInt32 = 0o1
    public static let ICANON: UInt32 = 0o2
    public static let ECHO: UInt32 = 0o10
    public static let ECHOE: UInt32 = 0o20
    public static let ECHOK: UInt32 = 0o40
    public static let ECHONL: UInt32 = 0o100
    public static let NOFLSH: UInt32 = 0o200
    public static let TOSTOP: UInt32 = 0o400
    public static let ECHOCTL: UInt32 = 0o1000
    public static let ECHOPRT: UInt32 = 0o2000
    public static let ECHOKE: UInt32 = 0o4000
    public static let IEXTEN: UInt32 = 0o100000
    // c_cc indices
    public static let VINTR = 0
    public static let VQUIT = 1
    public static let VERASE = 2
    public static let VKILL = 3
    public static let VEOF = 4
    public static let VTIME = 5
    public static let VMIN = 6
    public static let VSWTC = 7
    public static let VSTART = 8
    public static let VSTOP = 9
    public static let VSUSP = 10
    public static let VEOL = 11
    public static let VREPRINT = 12
    public static let VDISCARD = 13
    public static let VWERASE = 14
    public static let VLNEXT = 15
    public static let VEOL2 = 16
    /// NCCS of the kernel struct termios (asm-generic/termbits.h).
    public static let NCCS = 19
    // tcflush(3) queue selectors (TCFLSH)
    public static let TCIFLUSH: UInt32 = 0
    public static let TCOFLUSH: UInt32 = 1
    public static let TCIOFLUSH: UInt32 = 2
}
