// LocalSocketPair — socketpair(AF_UNIX) ends: an in-kernel pair of connected sockets
// (KernelCore/Sockets). SOCK_STREAM carries bytes; SOCK_DGRAM and SOCK_SEQPACKET keep message
// boundaries. No file-system names: socket(AF_UNIX) itself is refused (SocketSyscalls.swift).
//
// Shutdown follows net/unix/af_unix.c: shutdown(SHUT_WR) on one end is SEND_SHUTDOWN there
// and RCV_SHUTDOWN at the peer; closing an end shuts the peer down both ways. unix_poll
// reports EPOLLHUP when both directions are shut, EPOLLRDHUP|EPOLLIN when receiving is.
// Socket.swift wraps an end as a descriptor; the network side is Net's NetworkStack.
import LinuxABI

public final class LocalSocketEnd {
    static let receiveShutdown = 1, sendShutdown = 2
    /// Bytes (stream) or messages (datagram) waiting to be read at this end.
    var bytes: [UInt8] = []
    var start = 0
    var messages: [[UInt8]] = []
    var queued = 0
    var capacity = SocketBufferLimits.defaultSize
    /// RCV_SHUTDOWN / SEND_SHUTDOWN bits of this end.
    var shutdownMask = 0
    var peer: LocalSocketEnd? = nil
    let keepsBoundaries: Bool

    init(keepsBoundaries: Bool) { self.keepsBoundaries = keepsBoundaries }

    /// Two connected ends.
    static func pair(keepsBoundaries: Bool) -> (LocalSocketEnd, LocalSocketEnd) {
        let a = LocalSocketEnd(keepsBoundaries: keepsBoundaries)
        let b = LocalSocketEnd(keepsBoundaries: keepsBoundaries)
        a.peer = b
        b.peer = a
        return (a, b)
    }

    var available: Int { keepsBoundaries ? (messages.first?.count ?? 0) : bytes.count - start }
    var hasData: Bool { keepsBoundaries ? !messages.isEmpty : bytes.count > start }

    /// PollEvents bits (unix_poll / unix_dgram_poll).
    func readiness() -> UInt32 {
        var r: UInt32 = 0
        if shutdownMask == 3 { r |= PollEvents.hangUp }
        if shutdownMask & LocalSocketEnd.receiveShutdown != 0 { r |= PollEvents.readHangUp | PollEvents.input }
        if hasData { r |= PollEvents.input }
        if let p = peer, shutdownMask & LocalSocketEnd.sendShutdown == 0, p.queued < p.capacity {
            r |= PollEvents.output
        } else if peer == nil || shutdownMask & LocalSocketEnd.sendShutdown != 0 {
            r |= PollEvents.output   // a write would fail at once with EPIPE: not blocking
        }
        return r
    }

    /// Queue `data` at the peer: how many bytes were taken; EAGAIN with no room, EPIPE when
    /// the peer is gone or either side shut this direction down.
    func send(_ data: [UInt8]) -> Result<Int, Errno> {
        guard shutdownMask & LocalSocketEnd.sendShutdown == 0, let p = peer,
              p.shutdownMask & LocalSocketEnd.receiveShutdown == 0 else { return .failure(.EPIPE) }
        if keepsBoundaries {
            guard data.count <= p.capacity else { return .failure(.EMSGSIZE) }
            guard p.queued + data.count <= p.capacity || p.messages.isEmpty else { return .failure(.EAGAIN) }
            p.messages.append(data)
            p.queued += data.count
            return .success(data.count)
        }
        if data.isEmpty { return .success(0) }
        let n = min(data.count, p.capacity - p.queued)
        if n <= 0 { return .failure(.EAGAIN) }
        if p.start > 0 && p.start == p.bytes.count { p.bytes.removeAll(keepingCapacity: true); p.start = 0 }
        p.bytes.append(contentsOf: data[0..<n])
        p.queued += n
        return .success(n)
    }

    /// Take (or peek at) up to `maximum` bytes, or one message cut to `maximum` (its full
    /// length is returned too, for MSG_TRUNC). nil when nothing is queued.
    func receive(maximum: Int, peek: Bool) -> (data: [UInt8], fullLength: Int)? {
        if keepsBoundaries {
            guard let first = messages.first else { return nil }
            if !peek {
                messages.removeFirst()
                queued -= first.count
            }
            let cut = first.count > maximum ? Array(first[0..<max(0, maximum)]) : first
            return (cut, first.count)
        }
        guard bytes.count > start else { return nil }
        let n = min(maximum, bytes.count - start)
        let data = Array(bytes[start..<(start + n)])
        if !peek {
            start += n
            queued -= n
            if start == bytes.count { bytes.removeAll(keepingCapacity: true); start = 0 }
            else if start > 65536 { bytes.removeFirst(start); start = 0 }
        }
        return (data, n)
    }

    /// Whether a read finds end of file (nothing queued and no more can come).
    var atEndOfFile: Bool {
        !hasData && (shutdownMask & LocalSocketEnd.receiveShutdown != 0 || peer == nil)
    }

    func shutdown(read: Bool, write: Bool) {
        if read {
            shutdownMask |= LocalSocketEnd.receiveShutdown
            peer?.shutdownMask |= LocalSocketEnd.sendShutdown
        }
        if write {
            shutdownMask |= LocalSocketEnd.sendShutdown
            peer?.shutdownMask |= LocalSocketEnd.receiveShutdown
        }
    }

    /// The last descriptor closed: the peer sees both directions shut.
    func close() {
        if let p = peer {
            p.shutdownMask = 3
            p.peer = nil
        }
        peer = nil
        shutdownMask = 3
        bytes = []
        messages = []
        queued = 0
    }
}
