// UnixSocketEnd — one AF_UNIX socket's state (KernelCore/Sockets): its receive queue, its
// connection, its name, and for a listener the connections waiting for accept(2) (unix(7)).
// SOCK_STREAM carries bytes; SOCK_DGRAM and SOCK_SEQPACKET keep message boundaries.
//
// Neighbours: KernelSocket.swift wraps an end as a descriptor (case .local) and runs the
// blocking loops; UnixSocketNames.swift holds the names (socket inodes, abstract names);
// UnixSocketCalls.swift is bind/listen/accept/connect and ancillary data for AF_UNIX.
//
// Behaviour follows net/unix/af_unix.c:
// - shutdown(SHUT_WR) on one end is SEND_SHUTDOWN there and RCV_SHUTDOWN at the peer;
//   closing an end shuts the peer down both ways (unix_release_sock), and if it still had
//   unread data the peer's next empty read reports ECONNRESET (sk_err).
// - unix_poll reports EPOLLHUP when both directions are shut or when a connection-based
//   socket is not connected, EPOLLRDHUP|EPOLLIN when receiving is shut, EPOLLIN on a listener
//   with a connection waiting; a listener is never writable.
// - A stream connect completes at once: the server-side end is made, connected, and queued
//   on the listener (unix_stream_connect); the listener's queue is full when it holds more
//   than `backlog` (unix_recvq_full).
// - Descriptors in flight (SCM_RIGHTS) hold a reference to their open file description
//   until received or dropped, as struct scm_fp_list does. A socket sent over itself keeps
//   itself alive (Linux's unix_gc collects such cycles; egg does not).
import LinuxABI

/// struct ucred: what SO_PEERCRED and SCM_CREDENTIALS carry (unix(7)).
public struct LocalCredentials: Equatable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// SO_PEERCRED of a socket with no peer: pid 0, the overflow ids (cred_to_ucred with no
    /// credentials).
    static let nobody = LocalCredentials(pid: 0, uid: 65534, gid: 65534)
}

/// One datagram or seqpacket record, or the ancillary data attached to a stretch of a stream.
struct LocalMessage {
    var data: [UInt8]
    /// SCM_RIGHTS descriptions in flight (each holds one reference).
    var rights: [OpenFile]
    var credentials: LocalCredentials
    /// The sender's address bytes as getsockname would give them; empty when unbound.
    var sourceName: [UInt8]
}

/// What a receive took besides the bytes.
struct LocalDelivery {
    var rights: [OpenFile] = []
    var credentials: LocalCredentials? = nil
    var sourceName: [UInt8] = []
    /// The rights were peeked (still queued): installing them must not drop the queue's
    /// references.
    var peeked = false
}

public final class LocalSocketEnd {
    static let receiveShutdown = 1, sendShutdown = 2
    /// SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
    let type: UInt32
    let keepsBoundaries: Bool
    /// Stream bytes waiting: bytes[start...]; `readPosition` counts every byte ever taken,
    /// so that `streamRecords` can name stretches of the stream by absolute position.
    var bytes: [UInt8] = []
    var start = 0
    var readPosition = 0
    /// Ancillary data sent with a stretch [position, end) of the stream (unix_stream_sendmsg
    /// puts it on the first skb; a read stops after such a stretch, unix_stream_read_generic).
    var streamRecords: [(position: Int, end: Int, message: LocalMessage)] = []
    /// Datagrams or seqpacket records waiting.
    var messages: [LocalMessage] = []
    var queued = 0
    var capacity = SocketBufferLimits.defaultSize
    /// RCV_SHUTDOWN / SEND_SHUTDOWN bits of this end.
    var shutdownMask = 0
    /// The connected peer. Streams and seqpacket: both ways. Datagrams: the default
    /// destination set by connect(2) (one way) or the other end of a socketpair.
    var peer: LocalSocketEnd? = nil
    /// Whether this end was ever connected (ENOTCONN versus EPIPE, unix_poll's EPOLLHUP).
    var wasConnected = false
    /// The address getsockname reports (sockaddr_un bytes, unix_bind's length); nil: unbound.
    var name: [UInt8]? = nil
    /// Registered in KernelState.localSocketNames (an accepted end shares its listener's
    /// name but does not own it).
    var ownsName = false
    /// Listening: the connections not yet accepted, and how many may wait.
    var listening = false
    var backlog = 0
    var pending: [LocalSocketEnd] = []
    /// SO_PEERCRED: the peer's credentials when the connection was made.
    var peerCredentials: LocalCredentials? = nil
    /// Credentials of the process that made this end (for its peer's SO_PEERCRED).
    var ownCredentials: LocalCredentials
    /// sk_err: ECONNRESET when the peer closed with data unread.
    var pendingError: Errno? = nil
    var isClosed = false

    init(type: UInt32, credentials: LocalCredentials) {
        self.type = type
        keepsBoundaries = type != SocketType.SOCK_STREAM
        ownCredentials = credentials
    }

    /// Two connected ends (socketpair(2)).
    static func pair(type: UInt32, credentials: LocalCredentials) -> (LocalSocketEnd, LocalSocketEnd) {
        let a = LocalSocketEnd(type: type, credentials: credentials)
        let b = LocalSocketEnd(type: type, credentials: credentials)
        a.connect(to: b)
        b.connect(to: a)
        return (a, b)
    }

    func connect(to other: LocalSocketEnd) {
        peer = other
        wasConnected = true
        peerCredentials = other.ownCredentials
    }

    var isConnectionBased: Bool { type != SocketType.SOCK_DGRAM }

    var available: Int {
        if keepsBoundaries { return messages.first?.data.count ?? 0 }
        return bytes.count - start   // SIOCINQ on a stream: every byte queued (unix_inq_len)
    }
    var hasData: Bool { keepsBoundaries ? !messages.isEmpty : bytes.count > start }

    /// PollEvents bits (unix_poll / unix_dgram_poll).
    func readiness() -> UInt32 {
        var r: UInt32 = 0
        if pendingError != nil { r |= PollEvents.error }
        if shutdownMask == 3 { r |= PollEvents.hangUp }
        if shutdownMask & LocalSocketEnd.receiveShutdown != 0 { r |= PollEvents.readHangUp | PollEvents.input }
        if hasData || (listening && !pending.isEmpty) { r |= PollEvents.input }
        if listening { return r }
        if isConnectionBased && !wasConnected { r |= PollEvents.hangUp }
        if let p = peer, shutdownMask & LocalSocketEnd.sendShutdown == 0, !p.isClosed {
            if p.queued < p.capacity { r |= PollEvents.output }
        } else {
            r |= PollEvents.output   // a send would not block: it fails at once, or goes elsewhere
        }
        return r
    }

    /// Queue `message` at `target` (the peer, or a datagram's destination): how many bytes
    /// were taken; EAGAIN with no room, EPIPE when the connection is shut, ECONNREFUSED when
    /// a datagram's destination is gone, EPERM when it is connected to another socket.
    func send(_ message: LocalMessage, to destination: LocalSocketEnd?) -> Result<Int, Errno> {
        if shutdownMask & LocalSocketEnd.sendShutdown != 0 { return .failure(.EPIPE) }
        let target: LocalSocketEnd
        if let destination, !isConnectionBased {
            target = destination
        } else if let p = peer {
            target = p
        } else {
            return .failure(isConnectionBased && wasConnected ? .EPIPE : .ENOTCONN)
        }
        if !isConnectionBased {
            if target.isClosed { return .failure(.ECONNREFUSED) }
            // unix_may_send: a datagram socket connected elsewhere takes nothing from us.
            if let back = target.peer, back !== self { return .failure(.EPERM) }
        }
        if target.isClosed || target.shutdownMask & LocalSocketEnd.receiveShutdown != 0 {
            return .failure(isConnectionBased ? .EPIPE : .ECONNREFUSED)
        }
        let data = message.data
        if keepsBoundaries {
            guard data.count <= target.capacity else { return .failure(.EMSGSIZE) }
            guard target.queued + data.count <= target.capacity || target.messages.isEmpty else { return .failure(.EAGAIN) }
            target.messages.append(message)
            target.queued += data.count
            return .success(data.count)
        }
        // A zero-length stream send queues nothing, ancillary data included (the loop in
        // unix_stream_sendmsg never runs).
        if data.isEmpty { return .success(0) }
        let n = min(data.count, target.capacity - target.queued)
        if n <= 0 { return .failure(.EAGAIN) }
        if target.start > 0 && target.start == target.bytes.count {
            target.bytes.removeAll(keepingCapacity: true)
            target.start = 0
        }
        let position = target.readPosition + target.bytes.count - target.start
        if !message.rights.isEmpty {
            var record = message
            record.data = []
            target.streamRecords.append((position, position + n, record))
        }
        target.bytes.append(contentsOf: data[0..<n])
        target.queued += n
        return .success(n)
    }

    /// How much a stream read starting now may take: up to the end of the first stretch
    /// with ancillary data that it reaches (unix_stream_read_generic glues the bytes before
    /// such a stretch to it and stops after it: "if (scm.fp) break").
    func streamReadLimit(maximum: Int) -> Int {
        for record in streamRecords where record.end > readPosition {
            if record.position < readPosition + maximum { return min(maximum, record.end - readPosition) }
            break
        }
        return maximum
    }

    /// Take (or peek at) up to `maximum` bytes, or one message cut to `maximum` (its full
    /// length is returned too, for MSG_TRUNC), with what came along. nil when nothing is queued.
    func receive(maximum: Int, peek: Bool) -> (data: [UInt8], fullLength: Int, delivery: LocalDelivery)? {
        if keepsBoundaries {
            guard let first = messages.first else { return nil }
            if !peek {
                messages.removeFirst()
                queued -= first.data.count
            }
            let cut = first.data.count > maximum ? Array(first.data[0..<max(0, maximum)]) : first.data
            let delivery = LocalDelivery(rights: first.rights, credentials: first.credentials,
                                         sourceName: first.sourceName, peeked: peek)
            return (cut, first.data.count, delivery)
        }
        guard bytes.count > start else { return nil }
        let n = streamReadLimit(maximum: min(maximum, bytes.count - start))
        var delivery = LocalDelivery(credentials: peerCredentials, peeked: peek)
        if let record = streamRecords.first, record.position < readPosition + n {
            delivery.rights = record.message.rights
            delivery.credentials = record.message.credentials
            if !peek { streamRecords.removeFirst() }
        }
        let data = Array(bytes[start..<(start + n)])
        if !peek {
            start += n
            readPosition += n
            queued -= n
            if start == bytes.count { bytes.removeAll(keepingCapacity: true); start = 0 }
            else if start > 65536 { bytes.removeFirst(start); start = 0 }
        }
        return (data, n, delivery)
    }

    /// Whether a read finds end of file (nothing queued and no more can come).
    var atEndOfFile: Bool {
        !hasData && (shutdownMask & LocalSocketEnd.receiveShutdown != 0 || (isConnectionBased && peer == nil))
    }

    func shutdown(read: Bool, write: Bool) {
        if read { shutdownMask |= LocalSocketEnd.receiveShutdown }
        if write { shutdownMask |= LocalSocketEnd.sendShutdown }
        // unix_shutdown passes the mirror image to a connection-based peer.
        guard isConnectionBased, let p = peer else { return }
        if read { p.shutdownMask |= LocalSocketEnd.sendShutdown }
        if write { p.shutdownMask |= LocalSocketEnd.receiveShutdown }
    }

    /// The last descriptor closed. Returns the descriptions that were in flight to this end
    /// (and to its unaccepted connections), which the caller releases.
    /// `embryo`: a connection its listener closed before accept(2) took it; the client
    /// sees ECONNRESET.
    func close(embryo: Bool = false) -> [OpenFile] {
        var dropped: [OpenFile] = []
        // A datagram peer is not told: its next send to us finds us closed (ECONNREFUSED).
        if let p = peer, isConnectionBased {
            p.shutdownMask = 3
            if embryo || hasData || !streamRecords.isEmpty { p.pendingError = .ECONNRESET }
            p.peer = nil
        }
        peer = nil
        isClosed = true
        shutdownMask = 3
        for m in messages { dropped += m.rights }
        for r in streamRecords { dropped += r.message.rights }
        for connection in pending { dropped += connection.close(embryo: true) }
        pending = []
        bytes = []
        messages = []
        streamRecords = []
        queued = 0
        return dropped
    }
}
