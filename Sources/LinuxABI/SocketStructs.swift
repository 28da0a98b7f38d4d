// SocketStructs — socket option levels and names, MSG_* flags, shutdown modes, IP protocol
// numbers, struct msghdr and struct sockaddr_un (LinuxABI layer).
//
// The address families, socket types and struct sockaddr_in are in IOStructs.swift; the
// kernel's socket syscalls (Sources/KernelCore/Sockets/) and the trace formatter
// (Sources/KernelCore/Trace/) use both. Values from include/uapi/asm-generic/socket.h,
// include/linux/socket.h, include/uapi/linux/in.h, include/uapi/linux/tcp.h and
// include/uapi/linux/net.h (Linux 6.10); names as strace 6.1 prints them.

/// setsockopt/getsockopt levels (include/linux/socket.h, in.h).
public enum SocketLevel {
    public static let SOL_SOCKET: Int32 = 1
    public static let IPPROTO_IP: Int32 = 0
    public static let IPPROTO_TCP: Int32 = 6
    public static let IPPROTO_UDP: Int32 = 17

    public static let names: [NamedValue] = [
        NamedValue(1, "SOL_SOCKET"), NamedValue(0, "SOL_IP"), NamedValue(6, "SOL_TCP"),
        NamedValue(17, "SOL_UDP"),
    ]
}

/// socket(2)'s protocol argument, as strace names it.
public enum IPProtocolNumber {
    public static let names: [NamedValue] = [
        NamedValue(0, "IPPROTO_IP"), NamedValue(1, "IPPROTO_ICMP"), NamedValue(6, "IPPROTO_TCP"),
        NamedValue(17, "IPPROTO_UDP"),
    ]
}

/// SOL_SOCKET option names (include/uapi/asm-generic/socket.h; x86-64 uses the generic ones).
public enum SocketOption {
    public static let SO_DEBUG: Int32 = 1
    public static let SO_REUSEADDR: Int32 = 2
    public static let SO_TYPE: Int32 = 3
    public static let SO_ERROR: Int32 = 4
    public static let SO_DONTROUTE: Int32 = 5
    public static let SO_BROADCAST: Int32 = 6
    public static let SO_SNDBUF: Int32 = 7
    public static let SO_RCVBUF: Int32 = 8
    public static let SO_KEEPALIVE: Int32 = 9
    public static let SO_OOBINLINE: Int32 = 10
    public static let SO_LINGER: Int32 = 13
    public static let SO_REUSEPORT: Int32 = 15
    public static let SO_RCVLOWAT: Int32 = 18
    public static let SO_SNDLOWAT: Int32 = 19
    public static let SO_RCVTIMEO: Int32 = 20     // SO_RCVTIMEO_OLD: struct timeval
    public static let SO_SNDTIMEO: Int32 = 21     // SO_SNDTIMEO_OLD
    public static let SO_ACCEPTCONN: Int32 = 30
    public static let SO_SNDBUFFORCE: Int32 = 32
    public static let SO_RCVBUFFORCE: Int32 = 33
    public static let SO_PROTOCOL: Int32 = 38
    public static let SO_DOMAIN: Int32 = 39

    public static let names: [NamedValue] = [
        NamedValue(1, "SO_DEBUG"), NamedValue(2, "SO_REUSEADDR"), NamedValue(3, "SO_TYPE"),
        NamedValue(4, "SO_ERROR"), NamedValue(5, "SO_DONTROUTE"), NamedValue(6, "SO_BROADCAST"),
        NamedValue(7, "SO_SNDBUF"), NamedValue(8, "SO_RCVBUF"), NamedValue(9, "SO_KEEPALIVE"),
        NamedValue(10, "SO_OOBINLINE"), NamedValue(13, "SO_LINGER"), NamedValue(15, "SO_REUSEPORT"),
        NamedValue(18, "SO_RCVLOWAT"), NamedValue(19, "SO_SNDLOWAT"), NamedValue(20, "SO_RCVTIMEO_OLD"),
        NamedValue(21, "SO_SNDTIMEO_OLD"), NamedValue(30, "SO_ACCEPTCONN"), NamedValue(32, "SO_SNDBUFFORCE"),
        NamedValue(33, "SO_RCVBUFFORCE"), NamedValue(38, "SO_PROTOCOL"), NamedValue(39, "SO_DOMAIN"),
    ]
}

/// IPPROTO_TCP option names (include/uapi/linux/tcp.h).
public enum TCPOption {
    public static let TCP_NODELAY: Int32 = 1
    public static let TCP_MAXSEG: Int32 = 2
    public static let TCP_CORK: Int32 = 3
    public static let TCP_KEEPIDLE: Int32 = 4
    public static let TCP_KEEPINTVL: Int32 = 5
    public static let TCP_KEEPCNT: Int32 = 6
    public static let TCP_QUICKACK: Int32 = 12

    public static let names: [NamedValue] = [
        NamedValue(1, "TCP_NODELAY"), NamedValue(2, "TCP_MAXSEG"), NamedValue(3, "TCP_CORK"),
        NamedValue(4, "TCP_KEEPIDLE"), NamedValue(5, "TCP_KEEPINTVL"), NamedValue(6, "TCP_KEEPCNT"),
        NamedValue(12, "TCP_QUICKACK"),
    ]
}

/// send(2)/recv(2) flags (include/linux/socket.h).
public struct MessageFlags: LinuxFlagSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let MSG_OOB = MessageFlags(rawValue: 0x1)
    public static let MSG_PEEK = MessageFlags(rawValue: 0x2)
    public static let MSG_DONTROUTE = MessageFlags(rawValue: 0x4)
    public static let MSG_CTRUNC = MessageFlags(rawValue: 0x8)
    public static let MSG_TRUNC = MessageFlags(rawValue: 0x20)
    public static let MSG_DONTWAIT = MessageFlags(rawValue: 0x40)
    public static let MSG_EOR = MessageFlags(rawValue: 0x80)
    public static let MSG_WAITALL = MessageFlags(rawValue: 0x100)
    public static let MSG_NOSIGNAL = MessageFlags(rawValue: 0x4000)
    public static let MSG_MORE = MessageFlags(rawValue: 0x8000)
    public static let MSG_CMSG_CLOEXEC = MessageFlags(rawValue: 0x4000_0000)
    public static let names: [NamedValue] = [
        NamedValue(0x1, "MSG_OOB"), NamedValue(0x2, "MSG_PEEK"), NamedValue(0x4, "MSG_DONTROUTE"),
        NamedValue(0x8, "MSG_CTRUNC"), NamedValue(0x10, "MSG_PROBE"), NamedValue(0x20, "MSG_TRUNC"),
        NamedValue(0x40, "MSG_DONTWAIT"), NamedValue(0x80, "MSG_EOR"), NamedValue(0x100, "MSG_WAITALL"),
        NamedValue(0x200, "MSG_FIN"), NamedValue(0x400, "MSG_SYN"), NamedValue(0x800, "MSG_CONFIRM"),
        NamedValue(0x1000, "MSG_RST"), NamedValue(0x2000, "MSG_ERRQUEUE"), NamedValue(0x4000, "MSG_NOSIGNAL"),
        NamedValue(0x8000, "MSG_MORE"), NamedValue(0x10000, "MSG_WAITFORONE"),
        NamedValue(0x4000_0000, "MSG_CMSG_CLOEXEC"),
    ]
    public static let unknownComment: StaticString = "MSG_???"
}

/// shutdown(2)'s `how`.
public enum ShutdownHow {
    public static let SHUT_RD: Int32 = 0
    public static let SHUT_WR: Int32 = 1
    public static let SHUT_RDWR: Int32 = 2
    public static let names: [NamedValue] = [
        NamedValue(0, "SHUT_RD"), NamedValue(1, "SHUT_WR"), NamedValue(2, "SHUT_RDWR"),
    ]
}

/// The address family names strace prints in sockaddr and socket(2) arguments.
public enum AddressFamilyName {
    public static let names: [NamedValue] = [
        NamedValue(0, "AF_UNSPEC"), NamedValue(1, "AF_UNIX"), NamedValue(2, "AF_INET"),
        NamedValue(10, "AF_INET6"), NamedValue(16, "AF_NETLINK"), NamedValue(17, "AF_PACKET"),
    ]
}

/// struct msghdr on x86-64 (include/linux/socket.h), 56 bytes:
/// name 0, namelen 8 (int), iov 16, iovlen 24 (size_t), control 32, controllen 40,
/// flags 48 (int), 4 bytes of padding.
public struct MessageHeader: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var name: UInt64
    public var nameLength: UInt32
    public var iov: UInt64
    public var iovLength: UInt64
    public var control: UInt64
    public var controlLength: UInt64
    public var flags: UInt32

    public init(name: UInt64 = 0, nameLength: UInt32 = 0, iov: UInt64 = 0, iovLength: UInt64 = 0,
                control: UInt64 = 0, controlLength: UInt64 = 0, flags: UInt32 = 0) {
        self.name = name
        self.nameLength = nameLength
        self.iov = iov
        self.iovLength = iovLength
        self.control = control
        self.controlLength = controlLength
        self.flags = flags
    }

    public static let byteSize = 56
    /// Offsets of the fields recvmsg writes back.
    public static let nameLengthOffset = 8
    public static let controlLengthOffset = 40
    public static let flagsOffset = 48

    public func encode(into writer: inout ByteWriter) {
        writer.u64(name)
        writer.u32(nameLength)
        writer.zeros(4)
        writer.u64(iov)
        writer.u64(iovLength)
        writer.u64(control)
        writer.u64(controlLength)
        writer.u32(flags)
        writer.zeros(4)
    }

    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> MessageHeader {
        let name = try reader.u64()
        let nameLength = try reader.u32()
        try reader.skip(4)
        let iov = try reader.u64()
        let iovLength = try reader.u64()
        let control = try reader.u64()
        let controlLength = try reader.u64()
        let flags = try reader.u32()
        try reader.skip(4)
        return MessageHeader(name: name, nameLength: nameLength, iov: iov, iovLength: iovLength,
                             control: control, controlLength: controlLength, flags: flags)
    }
}

/// struct sockaddr_un: sa_family_t then a 108-byte path (include/uapi/linux/un.h).
public enum SockaddrUn {
    public static let byteSize = 110
    public static let pathOffset = 2
}

/// Linux's socket buffer defaults and bounds (net.core.*mem_default/_max, socket(7)):
/// setsockopt(SO_SNDBUF/SO_RCVBUF) doubles the value, clamped to twice the maximum, and at
/// least SOCK_MIN_SNDBUF 4608 / SOCK_MIN_RCVBUF 2304.
public enum SocketBufferLimits {
    public static let defaultSize = 212_992
    public static let maximumSize = 212_992
    public static let minimumSend = 4608
    public static let minimumReceive = 2304
}
