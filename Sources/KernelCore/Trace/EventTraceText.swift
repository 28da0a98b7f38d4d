// EventTraceText — strace's decoding of epoll_create1/epoll_ctl/epoll_wait/epoll_pwait,
// eventfd2, timerfd_create, pipe2/dup3 flags, poll/ppoll, statx and the termios ioctls
// (KernelCore/Trace).
//
// An extension of SyscallTraceFormatter (SyscallTraceFormatter.swift beside this file, which
// dispatches here); quoting helpers are in TraceText.swift, the flag tables of epoll, poll and
// statx in LinuxABI (IOStructs.swift, FileConstants.swift). The termios tables below are in
// strace 6.1's print order (its xlat/term_*.in and decode_oflag/decode_cflag in src/term.c),
// checked against the real strace on this machine:
//   epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=4, u64=4}}) = 0
//   epoll_pwait(5, [{events=EPOLLIN, data={u32=4, u64=4}}], 8, -1, NULL, 8) = 1
//   poll([{fd=3, events=POLLIN}], 1, 0)     = 1 ([{fd=3, revents=POLLIN}])
//   statx(AT_FDCWD, "/x", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=..., stx_attributes=0,
//         stx_mode=S_IFREG|0644, stx_size=1221, ...}) = 0
//   ioctl(0, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR,
//         c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|..., ...}) = 0
// Output structs (epoll_wait's events, statx's buffer, TCGETS's termios, poll's revents) are
// read after the call and print as their address when the call failed.
import LinuxABI

extension SyscallTraceFormatter {
    // MARK: dispatch

    /// The arguments of the calls this file decodes, or nil for the others.
    func eventArguments(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String? {
        switch SyscallNumber(a.number) {
        case .epoll_ctl:
            let op = a.int32(1)
            var text = decimalString(Int64(a.int32(0))) + ", " + epollOperation(op) + ", "
                + decimalString(Int64(a.int32(2))) + ", "
            if op == EpollEvents.EPOLL_CTL_DEL {
                text += TraceText.pointer(a[3])  // the kernel ignores the event for DEL
            } else {
                text += inputValue(a[3], count: EpollEvent.byteSize, memory: memory) { TraceText.epollEvent($0, at: 0) }
            }
            return text
        case .epoll_wait, .epoll_pwait:
            var text = decimalString(Int64(a.int32(0))) + ", " + epollEvents(a[1], result: result, memory: memory)
                + ", " + decimalString(Int64(a.int32(2))) + ", " + decimalString(Int64(a.int32(3)))
            if a.number == SyscallNumber.epoll_pwait.rawValue {
                text += ", " + argument(.sigsetIn, a, index: 4, result: result, memory: memory)
                    + ", " + unsignedDecimalString(a[5])
            }
            return text
        case .poll:
            return pollFds(a[0], count: a.int(1), memory: memory) + ", " + unsignedDecimalString(UInt64(a.uint32(1)))
                + ", " + decimalString(Int64(a.int32(2)))
        case .ppoll:
            return pollFds(a[0], count: a.int(1), memory: memory) + ", " + unsignedDecimalString(UInt64(a.uint32(1)))
                + ", " + argument(.timespecIn, a, index: 2, result: result, memory: memory)
                + ", " + argument(.sigsetIn, a, index: 3, result: result, memory: memory)
                + ", " + unsignedDecimalString(a[4])
        case .statx:
            return renderDirfd(a.int32(0)) + ", " + path(a[1], memory: memory) + ", "
                + TraceText.statxFlags(a.uint32(2)) + ", " + StatxMask(rawValue: a.uint32(3)).straceDescription
                + ", " + outputValue(a[4], count: 48, result: result, memory: memory) { TraceText.statx($0) }
        case .pipe2:
            return argument(.fdPairOut, a, index: 0, result: result, memory: memory) + ", " + TraceText.fileModeFlags(a.uint32(1))
        case .dup3:
            return decimalString(Int64(a.int32(0))) + ", " + decimalString(Int64(a.int32(1))) + ", "
                + TraceText.fileModeFlags(a.uint32(2))
        case .epoll_create1:
            return renderFlags(UInt64(a.uint32(0)), table: TraceText.epollCreateFlags, unknownComment: "EPOLL_???")
        case .eventfd2:
            return unsignedDecimalString(UInt64(a.uint32(0))) + ", "
                + renderFlags(UInt64(a.uint32(1)), table: TraceText.eventfdFlags, unknownComment: "EFD_???")
        case .timerfd_create:
            return ClockId(a.uint32(0)).straceDescription + ", "
                + renderFlags(UInt64(a.uint32(1)), table: TraceText.timerfdFlags, unknownComment: "TFD_???")
        default:
            return nil
        }
    }

    /// What strace adds after the return value: poll's " ([{fd=3, revents=POLLIN}])" or
    /// " (Timeout)"; "" for every other call and for failures.
    func resultSuffix(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String {
        let n = SyscallNumber(a.number)
        guard n == .poll || n == .ppoll, let ready = succeeded(result) else { return "" }
        if ready == 0 { return " (Timeout)" }
        let count = a.int(1)
        guard count > 0, count <= 4096,
              case .success(let raw) = memory.copyIn(UserAddress(a[0]), count: count * PollFd.byteSize) else { return "" }
        var text = " (["
        var shown = 0
        for i in 0..<count {
            let revents = TraceText.littleEndian(raw, at: i * 8 + 6, count: 2)
            if revents == 0 { continue }
            if shown > 0 { text += ", " }
            if shown == stringLimit { text += "..."; break }
            let fd = Int32(truncatingIfNeeded: TraceText.littleEndian(raw, at: i * 8, count: 4))
            text += "{fd=" + decimalString(Int64(fd)) + ", revents="
                + LinuxABI.PollEvents(rawValue: UInt32(revents)).straceDescription + "}"
            shown += 1
        }
        text += "]"
        if n == .ppoll && a[2] != 0 {
            text += ", left " + inputValue(a[2], count: 16, memory: memory) { TraceText.timespec($0) }
        }
        return text + ")"
    }

    // MARK: pieces

    func epollOperation(_ op: Int32) -> String {
        switch op {
        case EpollEvents.EPOLL_CTL_ADD: return "EPOLL_CTL_ADD"
        case EpollEvents.EPOLL_CTL_DEL: return "EPOLL_CTL_DEL"
        case EpollEvents.EPOLL_CTL_MOD: return "EPOLL_CTL_MOD"
        default: return hexString(UInt64(UInt32(bitPattern: op))) + " /* EPOLL_CTL_??? */"
        }
    }

    /// epoll_wait's ready list: `result` events, filled by the kernel.
    func epollEvents(_ address: UInt64, result: SyscallResult?, memory: AddressSpace) -> String {
        guard let ready = succeeded(result) else { return TraceText.pointer(address) }
        if ready == 0 { return "[]" }
        let shown = min(ready, stringLimit)
        guard case .success(let raw) = memory.copyIn(UserAddress(address), count: shown * EpollEvent.byteSize) else {
            return hexString(address)
        }
        var text = "["
        for i in 0..<shown {
            if i > 0 { text += ", " }
            text += TraceText.epollEvent(raw, at: i * EpollEvent.byteSize)
        }
        if shown < ready { text += ", ..." }
        return text + "]"
    }

    /// poll's array as passed in: `[{fd=3, events=POLLIN}, {fd=-1}]`.
    func pollFds(_ address: UInt64, count: Int, memory: AddressSpace) -> String {
        guard address != 0 else { return "NULL" }
        if count == 0 { return "[]" }
        guard count > 0, count <= 4096 else { return hexString(address) }
        let shown = min(count, stringLimit)
        guard case .success(let raw) = memory.copyIn(UserAddress(address), count: shown * PollFd.byteSize) else {
            return hexString(address)
        }
        var text = "["
        for i in 0..<shown {
            if i > 0 { text += ", " }
            let fd = Int32(truncatingIfNeeded: TraceText.littleEndian(raw, at: i * 8, count: 4))
            text += "{fd=" + decimalString(Int64(fd))
            if fd >= 0 {
                let events = TraceText.littleEndian(raw, at: i * 8 + 4, count: 2)
                text += ", events=" + LinuxABI.PollEvents(rawValue: UInt32(events)).straceDescription
            }
            text += "}"
        }
        if shown < count { text += ", ..." }
        return text + "]"
    }

    /// The termios ioctls: TCGETS fills the struct (after the call), the TCSETS family reads it.
    /// nil for other requests.
    func termiosArgument(_ a: SyscallArguments, result: SyscallResult?, memory: AddressSpace) -> String? {
        switch a.uint32(1) {
        case IoctlRequest.TCGETS.rawValue:
            return outputValue(a[2], count: 16, result: result, memory: memory) { TraceText.termios($0) }
        case IoctlRequest.TCSETS.rawValue, IoctlRequest.TCSETSW.rawValue, IoctlRequest.TCSETSF.rawValue:
            return inputValue(a[2], count: 16, memory: memory) { TraceText.termios($0) }
        default:
            return nil
        }
    }

    /// strace names the request numbers the OSS sequencer shares with the terminal:
    /// "SNDCTL_TMR_START or TCSETS" (its ioctlent table has both).
    func ioctlRequestText(_ request: IoctlRequest) -> String {
        switch request.rawValue {
        case IoctlRequest.TCSETS.rawValue: return "SNDCTL_TMR_START or TCSETS"
        case IoctlRequest.TCSETSW.rawValue: return "SNDCTL_TMR_STOP or TCSETSW"
        case IoctlRequest.TCSETSF.rawValue: return "SNDCTL_TMR_CONTINUE or TCSETSF"
        default: return request.straceDescription
        }
    }
}

extension TraceText {
    /// `{events=EPOLLIN|EPOLLET, data={u32=4, u64=4}}` from the packed 12-byte epoll_event.
    static func epollEvent(_ bytes: [UInt8], at offset: Int) -> String {
        let events = UInt32(truncatingIfNeeded: littleEndian(bytes, at: offset, count: 4))
        let data = littleEndian(bytes, at: offset + 4, count: 8)
        return "{events=" + EpollEvents(rawValue: events).straceDescription
            + ", data={u32=" + unsignedDecimalString(data & 0xffff_ffff)
            + ", u64=" + unsignedDecimalString(data) + "}}"
    }

    /// statx's flags: the sync type first (AT_STATX_SYNC_AS_STAT is 0), then the AT_* flags.
    static func statxFlags(_ flags: UInt32) -> String {
        var text: String
        switch flags & 0x6000 {
        case 0: text = "AT_STATX_SYNC_AS_STAT"
        case 0x2000: text = "AT_STATX_FORCE_SYNC"
        case 0x4000: text = "AT_STATX_DONT_SYNC"
        default: text = "0x6000 /* AT_STATX_??? */"
        }
        let rest = flags & ~0x6000
        if rest != 0 { text += "|" + AtFlags(rawValue: rest).straceDescription }
        return text
    }

    // The flags of epoll_create1, eventfd2 and timerfd_create (strace's xlat/epollflags.in,
    // efd_flags.in, timerfdflags.in; the values are O_CLOEXEC and O_NONBLOCK).
    static let epollCreateFlags: [NamedValue] = [NamedValue(0o2000000, "EPOLL_CLOEXEC")]
    static let eventfdFlags: [NamedValue] = [
        NamedValue(1, "EFD_SEMAPHORE"), NamedValue(0o2000000, "EFD_CLOEXEC"), NamedValue(0o4000, "EFD_NONBLOCK"),
    ]
    static let timerfdFlags: [NamedValue] = [NamedValue(0o2000000, "TFD_CLOEXEC"), NamedValue(0o4000, "TFD_NONBLOCK")]

    /// pipe2's and dup3's flags: strace prints them from its open_mode_flags table, which has
    /// no access mode, so 0 is "0" and O_CLOEXEC is "O_CLOEXEC" (not "O_RDONLY|O_CLOEXEC").
    static func fileModeFlags(_ flags: UInt32) -> String {
        if flags == 0 { return "0" }
        let text = OpenFlags(rawValue: flags).straceDescription
        let prefix = "O_RDONLY|"
        if flags & 3 == 0 && text.hasPrefix(prefix) { return String(text.dropFirst(prefix.count)) }
        return text
    }

    static let statxAttributes: [NamedValue] = [
        NamedValue(0x4, "STATX_ATTR_COMPRESSED"), NamedValue(0x10, "STATX_ATTR_IMMUTABLE"),
        NamedValue(0x20, "STATX_ATTR_APPEND"), NamedValue(0x40, "STATX_ATTR_NODUMP"),
        NamedValue(0x800, "STATX_ATTR_ENCRYPTED"), NamedValue(0x1000, "STATX_ATTR_AUTOMOUNT"),
        NamedValue(0x2000, "STATX_ATTR_MOUNT_ROOT"), NamedValue(0x100000, "STATX_ATTR_VERITY"),
        NamedValue(0x200000, "STATX_ATTR_DAX"),
    ]

    /// strace's abbreviated struct statx (include/uapi/linux/stat.h layout: stx_mask at 0,
    /// stx_attributes at 8, stx_mode at 28, stx_size at 40).
    static func statx(_ bytes: [UInt8]) -> String {
        let mask = UInt32(truncatingIfNeeded: littleEndian(bytes, at: 0, count: 4))
        let attributes = littleEndian(bytes, at: 8, count: 8)
        let mode = FileMode(UInt32(truncatingIfNeeded: littleEndian(bytes, at: 28, count: 2)))
        return "{stx_mask=" + StatxMask(rawValue: mask).straceDescription
            + ", stx_attributes=" + renderFlags(attributes, table: statxAttributes, unknownComment: "STATX_ATTR_???")
            + ", stx_mode=" + mode.straceDescription
            + ", stx_size=" + unsignedDecimalString(littleEndian(bytes, at: 40, count: 8)) + ", ...}"
    }

    // termios tables (asm-generic/termbits.h values, strace's order).
    static let termiosInputFlags: [NamedValue] = [
        NamedValue(0o1, "IGNBRK"), NamedValue(0o2, "BRKINT"), NamedValue(0o4, "IGNPAR"),
        NamedValue(0o10, "PARMRK"), NamedValue(0o20, "INPCK"), NamedValue(0o40, "ISTRIP"),
        NamedValue(0o100, "INLCR"), NamedValue(0o200, "IGNCR"), NamedValue(0o400, "ICRNL"),
        NamedValue(0o1000, "IUCLC"), NamedValue(0o2000, "IXON"), NamedValue(0o4000, "IXANY"),
        NamedValue(0o10000, "IXOFF"), NamedValue(0o20000, "IMAXBEL"), NamedValue(0o40000, "IUTF8"),
    ]
    static let termiosOutputFlags: [NamedValue] = [
        NamedValue(0o1, "OPOST"), NamedValue(0o2, "OLCUC"), NamedValue(0o4, "ONLCR"),
        NamedValue(0o10, "OCRNL"), NamedValue(0o20, "ONOCR"), NamedValue(0o40, "ONLRET"),
        NamedValue(0o100, "OFILL"), NamedValue(0o200, "OFDEL"),
    ]
    /// The delay fields of c_oflag: mask and the name of each value.
    static let termiosOutputDelays: [(mask: UInt64, names: [NamedValue])] = [
        (0o400, [NamedValue(0, "NL0"), NamedValue(0o400, "NL1")]),
        (0o3000, [NamedValue(0, "CR0"), NamedValue(0o1000, "CR1"), NamedValue(0o2000, "CR2"), NamedValue(0o3000, "CR3")]),
        (0o14000, [NamedValue(0, "TAB0"), NamedValue(0o4000, "TAB1"), NamedValue(0o10000, "TAB2"), NamedValue(0o14000, "XTABS")]),
        (0o20000, [NamedValue(0, "BS0"), NamedValue(0o20000, "BS1")]),
        (0o40000, [NamedValue(0, "VT0"), NamedValue(0o40000, "VT1")]),
        (0o100000, [NamedValue(0, "FF0"), NamedValue(0o100000, "FF1")]),
    ]
    static let termiosBaudRates: [NamedValue] = [
        NamedValue(0, "B0"), NamedValue(0o1, "B50"), NamedValue(0o2, "B75"), NamedValue(0o3, "B110"),
        NamedValue(0o4, "B134"), NamedValue(0o5, "B150"), NamedValue(0o6, "B200"), NamedValue(0o7, "B300"),
        NamedValue(0o10, "B600"), NamedValue(0o11, "B1200"), NamedValue(0o12, "B1800"), NamedValue(0o13, "B2400"),
        NamedValue(0o14, "B4800"), NamedValue(0o15, "B9600"), NamedValue(0o16, "B19200"), NamedValue(0o17, "B38400"),
        NamedValue(0o10000, "BOTHER"), NamedValue(0o10001, "B57600"), NamedValue(0o10002, "B115200"),
        NamedValue(0o10003, "B230400"), NamedValue(0o10004, "B460800"), NamedValue(0o10005, "B500000"),
        NamedValue(0o10006, "B576000"), NamedValue(0o10007, "B921600"), NamedValue(0o10010, "B1000000"),
        NamedValue(0o10011, "B1152000"), NamedValue(0o10012, "B1500000"), NamedValue(0o10013, "B2000000"),
        NamedValue(0o10014, "B2500000"), NamedValue(0o10015, "B3000000"), NamedValue(0o10016, "B3500000"),
        NamedValue(0o10017, "B4000000"),
    ]
    static let termiosCharacterSizes: [NamedValue] = [
        NamedValue(0, "CS5"), NamedValue(0o20, "CS6"), NamedValue(0o40, "CS7"), NamedValue(0o60, "CS8"),
    ]
    static let termiosControlFlags: [NamedValue] = [
        NamedValue(0o100, "CSTOPB"), NamedValue(0o200, "CREAD"), NamedValue(0o400, "PARENB"),
        NamedValue(0o1000, "PARODD"), NamedValue(0o2000, "HUPCL"), NamedValue(0o4000, "CLOCAL"),
        NamedValue(0o10000000000, "CMSPAR"), NamedValue(0o20000000000, "CRTSCTS"),
    ]
    static let termiosLocalFlags: [NamedValue] = [
        NamedValue(0o1, "ISIG"), NamedValue(0o2, "ICANON"), NamedValue(0o4, "XCASE"), NamedValue(0o10, "ECHO"),
        NamedValue(0o20, "ECHOE"), NamedValue(0o40, "ECHOK"), NamedValue(0o100, "ECHONL"),
        NamedValue(0o200, "NOFLSH"), NamedValue(0o100000, "IEXTEN"), NamedValue(0o1000, "ECHOCTL"),
        NamedValue(0o2000, "ECHOPRT"), NamedValue(0o4000, "ECHOKE"), NamedValue(0o10000, "FLUSHO"),
        NamedValue(0o40000, "PENDIN"), NamedValue(0o400, "TOSTOP"), NamedValue(0o200000, "EXTPROC"),
    ]

    /// strace 6.1 prints a zero flag word of a termios field as nothing at all ("c_lflag=").
    static func termiosFlags(_ value: UInt64, _ table: [NamedValue]) -> String {
        value == 0 ? "" : renderFlags(value, table: table, unknownComment: nil)
    }

    /// `{c_iflag=..., c_oflag=..., c_cflag=..., c_lflag=..., ...}` from the first 16 bytes of
    /// the kernel's struct termios (strace's abbreviated decode_termios).
    static func termios(_ bytes: [UInt8]) -> String {
        let iflag = littleEndian(bytes, at: 0, count: 4)
        var oflag = littleEndian(bytes, at: 4, count: 4)
        var cflag = littleEndian(bytes, at: 8, count: 4)
        let lflag = littleEndian(bytes, at: 12, count: 4)
        var text = "{c_iflag=" + termiosFlags(iflag, termiosInputFlags) + ", c_oflag="
        for field in termiosOutputDelays {
            text += renderValue(oflag & field.mask, table: field.names, unknownComment: "?") + "|"
            oflag &= ~field.mask
        }
        text += termiosFlags(oflag, termiosOutputFlags)
        text += ", c_cflag=" + renderValue(cflag & 0o10017, table: termiosBaudRates, unknownComment: "B???") + "|"
        cflag &= ~UInt64(0o10017)
        let inputBaud = (cflag & 0o2003600000) >> 16  // CIBAUD, IBSHIFT
        if inputBaud != 0 {
            text += renderValue(inputBaud, table: termiosBaudRates, unknownComment: "B???") + "<<IBSHIFT|"
        }
        cflag &= ~UInt64(0o2003600000)
        text += renderValue(cflag & 0o60, table: termiosCharacterSizes, unknownComment: "CS?") + "|"
        cflag &= ~UInt64(0o60)
        text += termiosFlags(cflag, termiosControlFlags)
        text += ", c_lflag=" + termiosFlags(lflag, termiosLocalFlags)
        return text + ", ...}"
    }
}
