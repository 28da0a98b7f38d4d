// IOStructs — x86-64 layouts and constants of vectored I/O, poll, epoll and IPv4 socket
// addresses (LinuxABI layer): struct iovec, struct pollfd and POLL*, struct epoll_event
// (packed on x86-64) and EPOLL*, struct sockaddr_in, AF_* and SOCK_*.
// Layouts from include/uapi/linux/uio.h, include/uapi/asm-generic/poll.h,
// include/uapi/linux/eventpoll.h (EPOLL_PACKED on x86-64), include/uapi/linux/in.h,
// include/linux/socket.h, include/linux/net.h. The protocol side is in Sources/Net.

/// struct iovec: 16 bytes.
public struct Iovec: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var base: UInt64
    public var length: UInt64

    public init(base: UInt64, length: UInt64) {
        self.base = base
        self.length = length
    }

    /// UIO_MAXIOV: readv/writev answer EINVAL above this many vectors.
    public static let UIO_MAXIOV = 1024

    public static let byteSize = 16
    public func encode(into writer: inout ByteWriter) {
        writer.u64(base)
        writer.u64(length)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Iovec {
        Iovec(base: try reader.u64(), length: try reader.u64())
    }
}

/// poll(2) event bits (short on the wire; 32-bit here so that epoll can share the values).
public struct PollEvents: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let POLLIN = PollEvents(rawValue: 0x001)
    public static let POLLPRI = PollEvents(rawValue: 0x002)
    public static let POLLOUT = PollEvents(rawValue: 0x004)
    public static let POLLERR = PollEvents(rawValue: 0x008)
    public static let POLLHUP = PollEvents(rawValue: 0x010)
    public static let POLLNVAL = PollEvents(rawValue: 0x020)
    public static let POLLRDNORM = PollEvents(rawValue: 0x040)
    public static let POLLRDBAND = PollEvents(rawValue: 0x080)
    public static let POLLWRNORM = PollEvents(rawValue: 0x100)
    public static let POLLWRBAND = PollEvents(rawValue: 0x200)
    public static let POLLMSG = PollEvents(rawValue: 0x400)
    public static let POLLREMOVE = PollEvents(rawValue: 0x1000)
    public static let POLLRDHUP = PollEvents(rawValue: 0x2000)
    public static let names: [NamedValue] = [
        NamedValue(0x001, "POLLIN"), NamedValue(0x002, "POLLPRI"), NamedValue(0x004, "POLLOUT"),
        NamedValue(0x008, "POLLERR"), NamedValue(0x010, "POLLHUP"), NamedValue(0x020, "POLLNVAL"),
        NamedValue(0x040, "POLLRDNORM"), NamedValue(0x080, "POLLRDBAND"), NamedValue(0x100, "POLLWRNORM"),
        NamedValue(0x200, "POLLWRBAND"), NamedValue(0x400, "POLLMSG"), NamedValue(0x1000, "POLLREMOVE"),
        NamedValue(0x2000, "POLLRDHUP"),
    ]
    public static let unknownComment: StaticString = "POLL???"
}

/// struct pollfd: 8 bytes.
public struct PollFd: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var fd: Int32
    public var events: UInt16
    public var revents: UInt16

    public init(fd: Int32, events: UInt16, revents: UInt16 = 0) {
        self.fd = fd
        self.events = events
        self.revents = revents
    }

    public static let byteSize = 8
    public func encode(into writer: inout ByteWriter) {
        writer.i32(fd)
        writer.u16(events)
        writer.u16(revents)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> PollFd {
        PollFd(fd: try reader.i32(), events: try reader.u16(), revents: try reader.u16())
    }
}

/// epoll event bits.
public struct EpollEvents: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let EPOLLIN = EpollEvents(rawValue: 0x001)
    public static let EPOLLPRI = EpollEvents(rawValue: 0x002)
    public static let EPOLLOUT = EpollEvents(rawValue: 0x004)
    public static let EPOLLERR = EpollEvents(rawValue: 0x008)
    public static let EPOLLHUP = EpollEvents(rawValue: 0x010)
    public static let EPOLLNVAL = EpollEvents(rawValue: 0x020)
    public static let EPOLLRDNORM = EpollEvents(rawValue: 0x040)
    public static let EPOLLRDBAND = EpollEvents(rawValue: 0x080)
    public static let EPOLLWRNORM = EpollEvents(rawValue: 0x100)
    public static let EPOLLWRBAND = EpollEvents(rawValue: 0x200)
    public static let EPOLLMSG = EpollEvents(rawValue: 0x400)
    public static let EPOLLRDHUP = EpollEvents(rawValue: 0x2000)
    public static let EPOLLEXCLUSIVE = EpollEvents(rawValue: 1 << 28)
    public static let EPOLLWAKEUP = EpollEvents(rawValue: 1 << 29)
    public static let EPOLLONESHOT = EpollEvents(rawValue: 1 << 30)
    public static let EPOLLET = EpollEvents(rawValue: 1 << 31)
    public static let names: [NamedValue] = [
        NamedValue(0x001, "EPOLLIN"), NamedValue(0x002, "EPOLLPRI"), NamedValue(0x004, "EPOLLOUT"),
        NamedValue(0x008, "EPOLLERR"), NamedValue(0x010, "EPOLLHUP"), NamedValue(0x020, "EPOLLNVAL"),
        NamedValue(0x040, "EPOLLRDNORM"), NamedValue(0x080, "EPOLLRDBAND"),
        NamedValue(0x100, "EPOLLWRNORM"), NamedValue(0x200, "EPOLLWRBAND"), NamedValue(0x400, "EPOLLMSG"),
        NamedValue(0x2000, "EPOLLRDHUP"), NamedValue(1 << 28, "EPOLLEXCLUSIVE"),
        NamedValue(1 << 29, "EPOLLWAKEUP"), NamedValue(1 << 30, "EPOLLONESHOT"), NamedValue(1 << 31, "EPOLLET"),
    ]
    public static let unknownComment: StaticString = "EPOLL???"

    public static let EPOLL_CTL_ADD: Int32 = 1
    public static let EPOLL_CTL_DEL: Int32 = 2
    public static let EPOLL_CTL_MOD: Int32 = 3
    /// epoll_create1 flag; equals O_CLOEXEC.
    public static let EPOLL_CLOEXEC: UInt32 = 0o2000000
}

/// struct epoll_event, packed on x86-64: u32 events then u64 data at offset 4, 12 bytes.
public struct EpollEvent: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var events: UInt32
    public var data: UInt64

    public init(events: UInt32, data: UInt64) {
        self.events = events
        self.data = data
    }

    public static let byteSize = 12
    public func encode(into writer: inout ByteWriter) {
        writer.u32(events)
        writer.u64(data)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> EpollEvent {
        EpollEvent(events: try reader.u32(), data: try reader.u64())
    }
}

/// Address families (include/linux/socket.h).
public enum AddressFamily: Sendable {
    public static let AF_UNSPEC: UInt16 = 0
    public static let AF_UNIX: UInt16 = 1
    public static let AF_INET: UInt16 = 2
    public static let AF_INET6: UInt16 = 10
    public static let AF_NETLINK: UInt16 = 16
    public static let AF_PACKET: UInt16 = 17
}

/// socket(2) type with its flags (include/linux/net.h).
public struct SocketType: Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static let SOCK_STREAM: UInt32 = 1
    public static let SOCK_DGRAM: UInt32 = 2
    public static let SOCK_RAW: UInt32 = 3
    public static let SOCK_SEQPACKET: UInt32 = 5
    public static let SOCK_NONBLOCK: UInt32 = 0o4000
    public static let SOCK_CLOEXEC: UInt32 = 0o2000000
    /// SOCK_TYPE_MASK.
    public var baseType: UInt32 { rawValue & 0xf }

    public static let typeNames: [NamedValue] = [
        NamedValue(1, "SOCK_STREAM"), NamedValue(2, "SOCK_DGRAM"), NamedValue(3, "SOCK_RAW"),
        NamedValue(4, "SOCK_RDM"), NamedValue(5, "SOCK_SEQPACKET"), NamedValue(6, "SOCK_DCCP"),
        NamedValue(10, "SOCK_PACKET"),
    ]
    public static let flagNames: [NamedValue] = [
        NamedValue(0o2000000, "SOCK_CLOEXEC"), NamedValue(0o4000, "SOCK_NONBLOCK"),
    ]

    /// "SOCK_STREAM|SOCK_CLOEXEC" (strace's tprint_sock_type).
    public var straceDescription: String {
        var text = renderValue(UInt64(baseType), table: SocketType.typeNames, unknownComment: "SOCK_???")
        let rest = UInt64(rawValue & ~0xf)
        if rest != 0 {
            text += "|" + renderFlags(rest, table: SocketType.flagNames, unknownComment: nil)
        }
        return text
    }

    /// The flags of accept4(2) alone: "SOCK_CLOEXEC|SOCK_NONBLOCK".
    public static func renderFlagsOnly(_ flags: UInt32) -> String {
        renderFlags(UInt64(flags), table: flagNames, unknownComment: "SOCK_???")
    }
}

/// struct sockaddr_in: family (host order), port and address in network order, 8 zero bytes;
/// 16 bytes. `port` and `address` hold host-order values (127.0.0.1 is 0x7f00_0001).
public struct SockaddrIn: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var family: UInt16
    public var port: UInt16
    public var address: UInt32

    public init(port: UInt16, address: UInt32, family: UInt16 = AddressFamily.AF_INET) {
        self.family = family
        self.port = port
        self.address = address
    }

    public static let INADDR_ANY: UInt32 = 0
    public static let INADDR_LOOPBACK: UInt32 = 0x7f00_0001

    public static let byteSize = 16
    public func encode(into writer: inout ByteWriter) {
        writer.u16(family)
        writer.u16BigEndian(port)
        writer.u16BigEndian(UInt16(truncatingIfNeeded: address >> 16))
        writer.u16BigEndian(UInt16(truncatingIfNeeded: address))
        writer.zeros(8)
    }
    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> SockaddrIn {
        let family = try reader.u16()
        let port = try reader.u16BigEndian()
        let high = try reader.u16BigEndian()
        let low = try reader.u16BigEndian()
        try reader.skip(8)
        return SockaddrIn(port: port, address: UInt32(high) << 16 | UInt32(low), family: family)
    }

    /// strace's rendering: {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.2.2")}.
    public var straceDescription: String {
        var dotted = ""
        for shift in [UInt32(24), 16, 8, 0] {
            if !dotted.isEmpty { dotted += "." }
            dotted += unsignedDecimalString(UInt64((address >> shift) & 0xff))
        }
        let familyText = family == AddressFamily.AF_INET ? "AF_INET" : unsignedDecimalString(UInt64(family))
        return "{sa_family=" + familyText + ", sin_port=htons(" + unsignedDecimalString(UInt64(port))
            + "), sin_addr=inet_addr(\"" + dotted + "\")}"
    }
}
