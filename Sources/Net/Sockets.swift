// Sockets — socket-level types shared by the stack and the kernel's socket syscalls:
// identifiers, readiness bits (epoll's values), shutdown modes, the UDP socket (Net layer).
//
// NetworkStack.swift owns the socket table; the kernel's socket and epoll syscalls (in
// KernelCore, wired by the lead) hold `SocketID`s and translate `SocketReadiness` straight
// into EPOLL* bits.

import LinuxABI

/// A slot in the stack's socket table.
public typealias SocketID = Int

/// Readiness in epoll's own bit values (include/uapi/linux/eventpoll.h), so the kernel can
/// pass `rawValue` through: EPOLLIN 0x1, EPOLLOUT 0x4, EPOLLERR 0x8, EPOLLHUP 0x10,
/// EPOLLRDHUP 0x2000.
public struct SocketReadiness: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = SocketReadiness(rawValue: 0x001)
    public static let writable = SocketReadiness(rawValue: 0x004)
    public static let error = SocketReadiness(rawValue: 0x008)
    public static let hangup = SocketReadiness(rawValue: 0x010)
    public static let readHangup = SocketReadiness(rawValue: 0x2000)
}

/// shutdown(2)'s `how`.
public enum ShutdownMode: Sendable {
    case read, write, both
}

/// A datagram socket: bound address, optional default peer, a bounded receive queue.
final class UDPSocket {
    var local = SocketAddress.unspecified
    var remote: SocketAddress? = nil
    var queue: [(from: SocketAddress, data: [UInt8])] = []
    var queuedBytes = 0
    var receiveCapacity: Int
    var pendingError: Errno? = nil
    var reuseAddress = false
    var reusePort = false
    var reportedReadiness: UInt32 = 0
    var droppedDatagrams = 0

    init(receiveCapacity: Int) { self.receiveCapacity = receiveCapacity }

    var isBound: Bool { local.port != 0 }
}

enum SocketEntry {
    case tcp(TCPConnection)
    case udp(UDPSocket)
}
