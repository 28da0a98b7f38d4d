// NetworkStack — one host's TCP/IP stack: an Ethernet interface (ARP, DHCP) and a loopback
// interface, IPv4 routing, and the socket table the kernel's socket syscalls use (Net layer).
//
// It has no threads, no clock and no blocking. The kernel drives it:
//   - `receive(frame:now:)` for every Ethernet frame the NIC delivers,
//   - `poll(now:)` after any call (and when `nextDeadline()` passes) to run timers, move
//     loopback traffic and collect the Ethernet frames to transmit,
//   - socket calls (`openTCP`, `bind`, `tcpListen`, `tcpConnect`, `accept`, `send`,
//     `receive`, `sendTo`, `receiveFrom`, `shutdown`, `close`) that return errno values and
//     never wait: EAGAIN / EINPROGRESS mean "block on the socket's wait queue and retry",
//   - `readiness(_:)` (epoll bits) and `takeReadinessChanges()` (which sockets to wake).
// Protocol logic lives in Ethernet.swift, IPv4.swift, TCPConnection.swift, DHCPClient.swift.

import LinuxABI

public struct NetworkStatistics: Sendable {
    public var framesReceived = 0
    public var framesSent = 0
    public var malformedDropped = 0
    public var notForUsDropped = 0
    public var tcpResetsSent = 0
    public var udpNoPortDropped = 0
    public var echoRepliesSent = 0
    /// SYNs dropped because a listener's queue was full (the peer retries them).
    public var listenOverflowDropped = 0
}

public final class NetworkStack {
    /// The Ethernet interface's address; nil for a loopback-only stack.
    public let mac: MACAddress?
    public private(set) var configuration: IPv4Configuration? = nil
    public var parameters: TCPParameters
    public var mtu = 1500
    public let loopbackMTU = 65_535
    public var statistics = NetworkStatistics()
    public private(set) var arp = ARPCache()
    public private(set) var reassembler = IPv4Reassembler()
    public private(set) var dhcp: DHCPClient? = nil

    var sockets: [SocketEntry?] = []
    /// Every live TCP control block the demultiplexer can reach: application sockets,
    /// unaccepted children, and closed-by-the-application (orphaned) connections finishing.
    var connections: [TCPConnection] = []
    /// The demultiplexer's hash index: (local, remote) → the connection a segment for that
    /// 4-tuple goes to, so a segment finds its connection in O(1) however many are open
    /// (Linux's established hash, inet_lookup_established). Filled on first lookup and
    /// checked on every use against the same rule as the linear search (not listening, not
    /// closed, same addresses), so an entry gone stale can never misdirect a segment; reap
    /// drops the closed ones.
    var established: [DemuxKey: TCPConnection] = [:]

    struct DemuxKey: Hashable {
        let local: SocketAddress
        let remote: SocketAddress
    }
    var outgoing: [[UInt8]] = []
    var loopbackQueue: [IPv4Packet] = []
    var changed: [SocketID] = []
    var random: UInt64
    var ipIdentification: UInt16 = 1
    /// Echo replies received (identifier, sequence, from), for ping-style callers and tests.
    public private(set) var echoReplies: [(identifier: UInt16, sequence: UInt16, from: IPv4Address)] = []

    public init(mac: MACAddress?, randomSeed: UInt64, parameters: TCPParameters = TCPParameters()) {
        self.mac = mac
        self.parameters = parameters
        random = randomSeed | 1
    }

    // MARK: Interface configuration

    /// A static configuration (or the result of DHCP).
    public func configure(_ configuration: IPv4Configuration) {
        self.configuration = configuration
    }

    /// Starts DHCP; the stack configures itself on an ACK, or with `dhcp.fallback` after
    /// `fallbackAfter` nanoseconds without one.
    public func startDHCP(now: UInt64, fallbackAfter: UInt64 = 4_000_000_000) {
        guard let mac else { return }
        var client = DHCPClient(mac: mac, transactionID: UInt32(truncatingIfNeeded: nextRandom()))
        client.fallbackAfter = fallbackAfter
        client.start(now: now)
        dhcp = client
        runDHCP(now: now)
    }

    func nextRandom() -> UInt64 {
        // xorshift64*: ISNs and ephemeral ports only need to be unpredictable-ish and spread.
        random ^= random >> 12
        random ^= random << 25
        random ^= random >> 27
        return random &* 2_685_821_657_736_338_717
    }

    // MARK: Driving the stack

    /// Handles one received Ethernet frame (without FCS). Malformed frames are counted and
    /// dropped.
    public func receive(frame: [UInt8], now: UInt64) {
        statistics.framesReceived += 1
        guard let mac, let header = EthernetFrame(parsing: frame) else {
            statistics.malformedDropped += 1
            return
        }
        guard header.destination == mac || header.destination.isBroadcast else {
            statistics.notForUsDropped += 1
            return
        }
        switch header.etherType {
        case EtherType.arp:
            guard let packet = ARPPacket(parsing: frame, at: EthernetFrame.headerLength) else {
                statistics.malformedDropped += 1
                return
            }
            handleARP(packet, now: now)
        case EtherType.ipv4:
            guard let packet = IPv4Packet(parsing: frame, at: EthernetFrame.headerLength) else {
                statistics.malformedDropped += 1
                return
            }
            handleIPv4(packet, now: now, fromLoopback: false)
        default:
            statistics.notForUsDropped += 1
        }
        drainLoopback(now: now)
    }

    /// Runs due timers, delivers loopback traffic and returns the frames to transmit.
    public func poll(now: UInt64) -> [[UInt8]] {
        runDHCP(now: now)
        for address in arp.poll(now: now) { sendARPRequest(for: address) }
        reassembler.expire(now: now)
        var i = 0
        while i < connections.count {
            let c = connections[i]
            if let d = c.nextDeadline(), d <= now {
                c.tick(now: now)
                flush(c, now: now)
                noteChanged(c)
            }
            i += 1
        }
        drainLoopback(now: now)
        reap()
        let frames = outgoing
        outgoing = []
        statistics.framesSent += frames.count
        return frames
    }

    /// When `poll` next has timer work (nil: nothing scheduled).
    public func nextDeadline() -> UInt64? {
        var best: UInt64? = nil
        func consider(_ d: UInt64?) { if let d { best = min(best ?? d, d) } }
        consider(arp.nextDeadline())
        consider(reassembler.nextDeadline())
        consider(dhcp?.nextDeadline)
        for c in connections { consider(c.nextDeadline()) }
        if !loopbackQueue.isEmpty || !outgoing.isEmpty { consider(0) }
        return best
    }

    /// Sockets whose readiness changed since the last call: wake their waiters.
    public func takeReadinessChanges() -> [SocketID] {
        for (id, entry) in sockets.enumerated() {
            guard let entry else { continue }
            let now = readiness(id).rawValue
            switch entry {
            case .tcp(let c):
                if c.reportedReadiness != now { c.reportedReadiness = now; changed.append(id) }
            case .udp(let u):
                if u.reportedReadiness != now { u.reportedReadiness = now; changed.append(id) }
            }
        }
        var out: [SocketID] = []
        for id in changed where !out.contains(id) { out.append(id) }
        changed = []
        return out
    }

    // MARK: Sockets: creation, addresses, options

    public func openTCP() -> SocketID {
        let c = TCPConnection(local: .unspecified, remote: .unspecified, parameters: parameters,
                              localMSS: mtu - 40)
        return insert(.tcp(c))
    }

    public func openUDP() -> SocketID {
        insert(.udp(UDPSocket(receiveCapacity: parameters.receiveBufferSize)))
    }

    func insert(_ entry: SocketEntry) -> SocketID {
        if let free = sockets.firstIndex(where: { $0 == nil }) {
            sockets[free] = entry
            return free
        }
        sockets.append(entry)
        return sockets.count - 1
    }

    func tcp(_ id: SocketID) -> TCPConnection? {
        guard id >= 0, id < sockets.count, let entry = sockets[id], case .tcp(let c) = entry else { return nil }
        return c
    }

    func udp(_ id: SocketID) -> UDPSocket? {
        guard id >= 0, id < sockets.count, let entry = sockets[id], case .udp(let u) = entry else { return nil }
        return u
    }

    public func isTCP(_ id: SocketID) -> Bool { tcp(id) != nil }
    public func exists(_ id: SocketID) -> Bool { tcp(id) != nil || udp(id) != nil }

    /// Whether `address` may be bound here: any, loopback, or the interface's address.
    func isLocal(_ address: IPv4Address) -> Bool {
        address.isAny || address.isLoopback || address == configuration?.address
    }

    public func bind(_ id: SocketID, to address: SocketAddress) -> Result<Void, Errno> {
        guard isLocal(address.address) else { return .failure(.EADDRNOTAVAIL) }
        if let c = tcp(id) {
            guard c.state == .closed, c.local.port == 0 else { return .failure(.EINVAL) }
            var port = address.port
            if port == 0 {
                guard let p = ephemeralPort(tcp: true) else { return .failure(.EADDRINUSE) }
                port = p
            } else if tcpPortConflict(port, address.address, for: c) {
                return .failure(.EADDRINUSE)
            }
            c.local = SocketAddress(address.address, port)
            return .success(())
        }
        if let u = udp(id) {
            guard !u.isBound else { return .failure(.EINVAL) }
            var port = address.port
            if port == 0 {
                guard let p = ephemeralPort(tcp: false) else { return .failure(.EADDRINUSE) }
                port = p
            } else if udpPortConflict(port, address.address, for: u) {
                return .failure(.EADDRINUSE)
            }
            u.local = SocketAddress(address.address, port)
            return .success(())
        }
        return .failure(.EBADF)
    }

    func overlaps(_ a: IPv4Address, _ b: IPv4Address) -> Bool { a.isAny || b.isAny || a == b }

    func tcpPortConflict(_ port: UInt16, _ address: IPv4Address, for c: TCPConnection) -> Bool {
        var holders: [TCPConnection] = connections
        for case .tcp(let other)? in sockets where !holders.contains(where: { $0 === other }) {
            holders.append(other)
        }
        for other in holders where other !== c && other.local.port == port
            && overlaps(other.local.address, address) {
            if c.reusePort && other.reusePort { continue }
            // SO_REUSEADDR lets a new socket share a port with connections that are not
            // listening (e.g. TIME_WAIT), like Linux's inet_csk_bind_conflict.
            if c.reuseAddress && other.reuseAddress && other.state != .listen { continue }
            if c.reuseAddress && other.orphaned { continue }
            if other.state == .closed && other.socketID == nil && !other.orphaned { continue }
            return true
        }
        return false
    }

    func udpPortConflict(_ port: UInt16, _ address: IPv4Address, for u: UDPSocket) -> Bool {
        for case .udp(let other)? in sockets where other !== u && other.local.port == port
            && overlaps(other.local.address, address) {
            if (u.reuseAddress && other.reuseAddress) || (u.reusePort && other.reusePort) { continue }
            return true
        }
        return false
    }

    func ephemeralPort(tcp: Bool) -> UInt16? {
        // Linux's default ip_local_port_range is 32768-60999.
        let low = 32_768, span = 60_999 - 32_768 + 1
        let start = Int(nextRandom() % UInt64(span))
        for k in 0..<span {
            let port = UInt16(low + (start + k) % span)
            if tcp {
                if !connections.contains(where: { $0.local.port == port })
                    && !sockets.contains(where: { entry in
                        if case .tcp(let c)? = entry { return c.local.port == port }
                        return false
                    }) { return port }
            } else if !sockets.contains(where: { entry in
                if case .udp(let u)? = entry { return u.local.port == port }
                return false
            }) { return port }
        }
        return nil
    }

    public func localAddress(_ id: SocketID) -> SocketAddress? {
        if let c = tcp(id) { return c.local }
        if let u = udp(id) { return u.local }
        return nil
    }

    public func peerAddress(_ id: SocketID) -> Result<SocketAddress, Errno> {
        if let c = tcp(id) {
            switch c.state {
            case .closed, .listen, .synSent: return .failure(.ENOTCONN)
            default: return .success(c.remote)
            }
        }
        if let u = udp(id) {
            guard let r = u.remote else { return .failure(.ENOTCONN) }
            return .success(r)
        }
        return .failure(.EBADF)
    }

    public func tcpState(_ id: SocketID) -> TCPState? { tcp(id)?.state }

    public func setNoDelay(_ id: SocketID, _ on: Bool, now: UInt64) {
        guard let c = tcp(id) else { return }
        c.noDelay = on
        if on { c.output(now: now); flush(c, now: now); drainLoopback(now: now) }
    }
    public func noDelay(_ id: SocketID) -> Bool { tcp(id)?.noDelay ?? false }

    public func setReuseAddress(_ id: SocketID, _ on: Bool) {
        tcp(id)?.reuseAddress = on
        udp(id)?.reuseAddress = on
    }
    public func reuseAddress(_ id: SocketID) -> Bool { tcp(id)?.reuseAddress ?? udp(id)?.reuseAddress ?? false }

    public func setReusePort(_ id: SocketID, _ on: Bool) {
        tcp(id)?.reusePort = on
        udp(id)?.reusePort = on
    }
    public func reusePort(_ id: SocketID) -> Bool { tcp(id)?.reusePort ?? udp(id)?.reusePort ?? false }

    public func setKeepAlive(_ id: SocketID, _ on: Bool) { tcp(id)?.keepAlive = on }
    public func keepAlive(_ id: SocketID) -> Bool { tcp(id)?.keepAlive ?? false }

    /// SO_SNDBUF / SO_RCVBUF: takes effect while the buffers are still empty.
    public func setBufferSizes(_ id: SocketID, send: Int?, receive: Int?) {
        if let c = tcp(id) {
            if let send { c.sendBuffer.resize(max(send, 4096)) }
            if let receive, c.state == .closed || c.state == .listen {
                c.receiveBuffer.resize(max(receive, 4096))
            }
        }
        if let u = udp(id), let receive { u.receiveCapacity = max(receive, 4096) }
    }

    public func bufferSizes(_ id: SocketID) -> (send: Int, receive: Int) {
        if let c = tcp(id) { return (c.sendBuffer.capacity, c.receiveBuffer.capacity) }
        if let u = udp(id) { return (65_536, u.receiveCapacity) }
        return (0, 0)
    }

    /// SO_ERROR: returns and clears the pending error.
    public func takeError(_ id: SocketID) -> Errno? {
        if let c = tcp(id) {
            let e = c.pendingError
            c.pendingError = nil
            return e
        }
        if let u = udp(id) {
            let e = u.pendingError
            u.pendingError = nil
            return e
        }
        return nil
    }

    /// FIONREAD: bytes a read would return now (TCP) or the next datagram's size (UDP).
    public func bytesAvailable(_ id: SocketID) -> Int {
        if let c = tcp(id) { return c.receiveBuffer.count }
        if let u = udp(id) { return u.queue.first?.data.count ?? 0 }
        return 0
    }

    // MARK: Sockets: TCP connection set-up

    public func tcpListen(_ id: SocketID, backlog: Int) -> Result<Void, Errno> {
        guard let c = tcp(id) else { return .failure(.EOPNOTSUPP) }
        switch c.state {
        case .listen:
            c.backlog = max(1, min(backlog, 4096))
            return .success(())
        case .closed:
            break
        default:
            return .failure(.EINVAL)
        }
        if c.local.port == 0 {
            guard let p = ephemeralPort(tcp: true) else { return .failure(.EADDRINUSE) }
            c.local.port = p
        } else if tcpPortConflict(c.local.port, c.local.address, for: c)
                    && !(c.reusePort) {
            return .failure(.EADDRINUSE)
        }
        c.state = .listen
        c.backlog = max(1, min(backlog, 4096))
        connections.append(c)
        return .success(())
    }

    /// Starts connecting. TCP: `.failure(.EINPROGRESS)` while the handshake runs (the kernel
    /// returns that for O_NONBLOCK, or blocks until `readiness` shows writable/error and then
    /// asks `connectResult`); UDP: sets the default peer and succeeds.
    public func tcpConnect(_ id: SocketID, to remote: SocketAddress, now: UInt64) -> Result<Void, Errno> {
        if let u = udp(id) {
            if remote.address.isAny && remote.port == 0 { u.remote = nil; return .success(()) }
            if !u.isBound {
                guard let p = ephemeralPort(tcp: false) else { return .failure(.EAGAIN) }
                u.local.port = p
            }
            u.remote = remote
            // Like Linux (ip4_datagram_connect), connecting fixes the source address.
            if u.local.address.isAny, let source = sourceAddress(for: remote.address) {
                u.local.address = source
            }
            return .success(())
        }
        guard let c = tcp(id) else { return .failure(.EBADF) }
        switch c.state {
        case .synSent, .synReceived: return .failure(.EALREADY)
        case .listen: return .failure(.EINVAL)
        case .closed:
            if c.wasConnected || c.aborted { return .failure(.EISCONN) }
        default: return .failure(.EISCONN)
        }
        guard remote.port != 0 else { return .failure(.ECONNREFUSED) }
        var destination = remote.address
        if destination.isAny { destination = .loopback }   // Linux connects 0.0.0.0 to itself
        guard let source = sourceAddress(for: destination) else { return .failure(.ENETUNREACH) }
        if c.local.port == 0 {
            guard let p = ephemeralPort(tcp: true) else { return .failure(.EAGAIN) }
            c.local.port = p
        }
        if c.local.address.isAny { c.local.address = source }
        c.remote = SocketAddress(destination, remote.port)
        if connections.contains(where: { $0 !== c && $0.state != .closed && $0.state != .listen
                                          && $0.local == c.local && $0.remote == c.remote }) {
            return .failure(.EADDRNOTAVAIL)
        }
        c.localMSS = mtuFor(destination) - 40
        connections.append(c)
        c.openActive(iss: UInt32(truncatingIfNeeded: nextRandom()), now: now)
        flush(c, now: now)
        drainLoopback(now: now)
        return .failure(.EINPROGRESS)
    }

    /// The outcome of a connect in progress: success once established, EINPROGRESS while
    /// the handshake runs, or the error that ended it (ECONNREFUSED, ETIMEDOUT, ...).
    public func connectResult(_ id: SocketID) -> Result<Void, Errno> {
        guard let c = tcp(id) else { return udp(id) != nil ? .success(()) : .failure(.EBADF) }
        if let e = c.pendingError { c.pendingError = nil; return .failure(e) }
        switch c.state {
        case .synSent, .synReceived: return .failure(.EINPROGRESS)
        case .closed: return c.wasConnected ? .success(()) : .failure(.ECONNREFUSED)
        case .listen: return .failure(.EINVAL)
        default: return .success(())
        }
    }

    /// Takes the next established connection off a listener's queue (EAGAIN when empty).
    public func accept(_ id: SocketID, now: UInt64) -> Result<(SocketID, SocketAddress), Errno> {
        guard let l = tcp(id) else { return .failure(udp(id) != nil ? .EOPNOTSUPP : .EBADF) }
        guard l.state == .listen else { return .failure(.EINVAL) }
        guard !l.acceptQueue.isEmpty else { return .failure(.EAGAIN) }
        let child = l.acceptQueue.removeFirst()
        child.listener = nil
        let newID = insert(.tcp(child))
        child.socketID = newID
        return .success((newID, child.remote))
    }

    func sourceAddress(for destination: IPv4Address) -> IPv4Address? {
        if destination.isLoopback { return .loopback }
        guard let configuration else { return nil }
        return configuration.address
    }

    func mtuFor(_ destination: IPv4Address) -> Int {
        if destination.isLoopback || destination == configuration?.address { return loopbackMTU }
        return mtu
    }

    // MARK: Sockets: data

    /// TCP send (or UDP send to the connected peer). EAGAIN when the buffer is full or the
    /// handshake is still running; EPIPE after shutdown(SHUT_WR)/close by the peer reset.
    public func send(_ id: SocketID, _ bytes: [UInt8], now: UInt64) -> Result<Int, Errno> {
        if let u = udp(id) {
            guard let r = u.remote else { return .failure(.EDESTADDRREQ) }
            return sendTo(id, bytes, to: r, now: now)
        }
        guard let c = tcp(id) else { return .failure(.EBADF) }
        if let e = c.pendingError { c.pendingError = nil; return .failure(e) }
        if c.writeShutdown { return .failure(.EPIPE) }
        switch c.state {
        case .established, .closeWait:
            break
        case .synSent, .synReceived:
            return .failure(.EAGAIN)
        case .closed:
            // tcp_sendmsg → sk_stream_wait_connect: any state but SYN_SENT/SYN_RECV is EPIPE,
            // also on a socket that never connected or is listening (checked on Linux 6.x).
            return .failure(.EPIPE)
        default:
            return .failure(.EPIPE)
        }
        if bytes.isEmpty { return .success(0) }
        let n = c.write(bytes, now: now)
        flush(c, now: now)
        drainLoopback(now: now)
        return n == 0 ? .failure(.EAGAIN) : .success(n)
    }

    /// TCP receive: bytes, or empty at end of stream; EAGAIN when nothing is there yet.
    public func receive(_ id: SocketID, maximum: Int, peek: Bool = false, now: UInt64) -> Result<[UInt8], Errno> {
        if udp(id) != nil {
            return receiveFrom(id, maximum: maximum, peek: peek, now: now).map { $0.data }
        }
        guard let c = tcp(id) else { return .failure(.EBADF) }
        if c.state == .listen { return .failure(.ENOTCONN) }
        if c.receiveBuffer.count > 0 && maximum > 0 {
            let data = c.read(maximum: maximum, peek: peek, now: now)
            flush(c, now: now)
            drainLoopback(now: now)
            return .success(data)
        }
        if let e = c.pendingError { c.pendingError = nil; return .failure(e) }
        if c.finReceived || c.readShutdown { return .success([]) }
        switch c.state {
        case .closed:
            return c.wasConnected || c.aborted ? .success([]) : .failure(.ENOTCONN)
        case .synSent, .synReceived:
            return .failure(.EAGAIN)
        default:
            return maximum == 0 ? .success([]) : .failure(.EAGAIN)
        }
    }

    /// UDP sendto (TCP: `to` is ignored, like Linux for a connected stream).
    public func sendTo(_ id: SocketID, _ bytes: [UInt8], to remote: SocketAddress, now: UInt64) -> Result<Int, Errno> {
        if tcp(id) != nil { return send(id, bytes, now: now) }
        guard let u = udp(id) else { return .failure(.EBADF) }
        guard bytes.count <= 65_507 else { return .failure(.EMSGSIZE) }
        guard remote.port != 0 else { return .failure(.EINVAL) }
        if !u.isBound {
            guard let p = ephemeralPort(tcp: false) else { return .failure(.EAGAIN) }
            u.local.port = p
        }
        var source = u.local.address
        if source.isAny {
            if remote.address == .broadcast, let c = configuration { source = c.address }
            else {
                guard let s = sourceAddress(for: remote.address) else { return .failure(.ENETUNREACH) }
                source = s
            }
        }
        let datagram = UDPDatagram(sourcePort: u.local.port, destinationPort: remote.port, payload: bytes)
        sendIPv4(IPv4Packet(source: source, destination: remote.address, protocolNumber: IPProtocol.udp,
                            payload: datagram.build(source: source, destination: remote.address)),
                 now: now)
        drainLoopback(now: now)
        return .success(bytes.count)
    }

    /// UDP recvfrom: one datagram (cut to `maximum`; `fullLength` says how long it was, for
    /// MSG_TRUNC) and its sender. TCP: stream bytes and the peer.
    public func receiveFrom(_ id: SocketID, maximum: Int, peek: Bool = false, now: UInt64)
        -> Result<(data: [UInt8], fullLength: Int, from: SocketAddress), Errno> {
        if let c = tcp(id) {
            return receive(id, maximum: maximum, peek: peek, now: now).map { ($0, $0.count, c.remote) }
        }
        guard let u = udp(id) else { return .failure(.EBADF) }
        if let e = u.pendingError { u.pendingError = nil; return .failure(e) }
        guard let first = u.queue.first else { return .failure(.EAGAIN) }
        if !peek {
            u.queue.removeFirst()
            u.queuedBytes -= first.data.count
        }
        let data = first.data.count > maximum ? Array(first.data[0..<max(0, maximum)]) : first.data
        return .success((data, first.data.count, first.from))
    }

    public func shutdown(_ id: SocketID, _ how: ShutdownMode, now: UInt64) -> Result<Void, Errno> {
        if let u = udp(id) {
            return u.remote == nil ? .failure(.ENOTCONN) : .success(())
        }
        guard let c = tcp(id) else { return .failure(.EBADF) }
        switch c.state {
        case .closed, .synSent:
            if !c.wasConnected { return .failure(.ENOTCONN) }
        case .listen:
            // Linux: shutting a listener down closes it (wakes accept with EINVAL).
            closeListener(c, now: now)
            c.state = .closed
            return .success(())
        default:
            break
        }
        if how != .write { c.readShutdown = true; c.receiveBuffer.discard(c.receiveBuffer.count) }
        if how != .read { c.shutdownWrite(now: now) }
        flush(c, now: now)
        drainLoopback(now: now)
        return .success(())
    }

    /// close(2) of the last reference. Unread data turns the close into a reset (RFC 2525
    /// §2.17, as Linux does); otherwise the FIN handshake finishes in the background.
    public func close(_ id: SocketID, now: UInt64) {
        guard id >= 0, id < sockets.count, let entry = sockets[id] else { return }
        sockets[id] = nil
        changed.removeAll { $0 == id }
        guard case .tcp(let c) = entry else { return }
        c.socketID = nil
        c.orphaned = true
        switch c.state {
        case .listen:
            closeListener(c, now: now)
            c.state = .closed
        case .closed, .timeWait:
            break
        case .synSent:
            c.enterClosed()
        default:
            if c.receiveBuffer.count > 0 {
                c.abort(now: now)
            } else {
                c.shutdownWrite(now: now)
                if c.state == .finWait2 { c.finWait2Deadline = now &+ parameters.finWait2Timeout }
            }
        }
        flush(c, now: now)
        drainLoopback(now: now)
        reap()
    }

    func closeListener(_ l: TCPConnection, now: UInt64) {
        for child in l.acceptQueue {
            child.abort(now: now)
            flush(child, now: now)
            child.listener = nil
        }
        l.acceptQueue = []
        for child in connections where child.listener === l {
            if child.state == .synReceived {
                child.abort(now: now)
                flush(child, now: now)
            }
            child.listener = nil
        }
    }

    /// epoll/poll readiness, mirroring Linux's tcp_poll and datagram_poll.
    public func readiness(_ id: SocketID) -> SocketReadiness {
        if let u = udp(id) {
            var r: SocketReadiness = [.writable]
            if !u.queue.isEmpty { r.insert(.readable) }
            if u.pendingError != nil { r.insert(.error) }
            return r
        }
        guard let c = tcp(id) else { return [] }
        if c.state == .listen { return c.acceptQueue.isEmpty ? [] : [.readable] }
        var r: SocketReadiness = []
        if c.pendingError != nil { r.insert(.error) }
        let readClosed = c.finReceived || c.readShutdown || (c.state == .closed && c.aborted)
        if c.state == .closed || (c.writeShutdown && readClosed) { r.insert(.hangup) }
        if readClosed { r.insert([.readable, .readHangup]) }
        if c.state != .synSent && c.state != .synReceived {
            if c.receiveBuffer.count > 0 { r.insert(.readable) }
            let open = c.state == .established || c.state == .closeWait
            if !open || c.writeShutdown || c.sendBuffer.free >= max(1, c.sendBuffer.capacity / 4) {
                r.insert(.writable)
            }
        }
        return r
    }

    // MARK: ICMP echo (ping)

    public func sendEchoRequest(to destination: IPv4Address, identifier: UInt16, sequence: UInt16,
                                data: [UInt8], now: UInt64) -> Result<Void, Errno> {
        guard let source = sourceAddress(for: destination) else { return .failure(.ENETUNREACH) }
        sendIPv4(IPv4Packet(source: source, destination: destination, protocolNumber: IPProtocol.icmp,
                            payload: ICMP.echoRequest(identifier: identifier, sequence: sequence, data: data)),
                 now: now)
        drainLoopback(now: now)
        return .success(())
    }

    // MARK: Internals: output

    func flush(_ c: TCPConnection, now: UInt64) {
        guard !c.outbox.isEmpty else { return }
        let segments = c.outbox
        c.outbox = []
        for s in segments {
            if s.flags.contains(.rst) { statistics.tcpResetsSent += 1 }
            sendIPv4(IPv4Packet(source: c.local.address, destination: c.remote.address,
                                protocolNumber: IPProtocol.tcp,
                                payload: s.build(source: c.local.address, destination: c.remote.address)),
                     now: now)
        }
    }

    func sendIPv4(_ packet: IPv4Packet, now: UInt64) {
        var packet = packet
        packet.identification = ipIdentification
        ipIdentification &+= 1
        if packet.destination.isLoopback || packet.destination == configuration?.address {
            loopbackQueue.append(packet)
            return
        }
        guard let mac else { return }
        if packet.destination == .broadcast || packet.destination == configuration?.broadcast {
            for fragment in packet.fragments(mtu: mtu) {
                outgoing.append(EthernetFrame(destination: .broadcast, source: mac,
                                              etherType: EtherType.ipv4).build(payload: fragment.build()))
            }
            return
        }
        guard let configuration else { return }
        let hop = configuration.isOnLink(packet.destination) ? packet.destination : configuration.gateway
        for fragment in packet.fragments(mtu: mtu) {
            let bytes = fragment.build()
            if let target = arp.lookup(hop, now: now) {
                outgoing.append(EthernetFrame(destination: target, source: mac,
                                              etherType: EtherType.ipv4).build(payload: bytes))
            } else if arp.enqueue(bytes, for: hop, now: now) {
                sendARPRequest(for: hop)
            }
        }
    }

    func sendARPRequest(for address: IPv4Address) {
        guard let mac, let configuration else { return }
        let request = ARPPacket(operation: ARPPacket.request, senderMAC: mac,
                                senderIP: configuration.address, targetMAC: .zero, targetIP: address)
        outgoing.append(EthernetFrame(destination: .broadcast, source: mac,
                                      etherType: EtherType.arp).build(payload: request.bytes))
    }

    func drainLoopback(now: UInt64) {
        var budget = 100_000
        while !loopbackQueue.isEmpty && budget > 0 {
            let batch = loopbackQueue
            loopbackQueue = []
            for packet in batch {
                handleIPv4(packet, now: now, fromLoopback: true)
                budget -= 1
            }
        }
    }

    /// Takes closed connections out of the demultiplexer (a socket may still hold one).
    func reap() {
        connections.removeAll { $0.state == .closed }
        if !established.isEmpty {
            var stale: [DemuxKey] = []
            for (key, c) in established where c.state == .closed { stale.append(key) }
            for key in stale { established[key] = nil }
        }
    }

    /// The connection (not listening, not closed) with this 4-tuple, if any.
    func demux(local: SocketAddress, remote: SocketAddress) -> TCPConnection? {
        let key = DemuxKey(local: local, remote: remote)
        if let c = established[key], c.state != .listen && c.state != .closed && c.local == local && c.remote == remote {
            return c
        }
        guard let c = connections.first(where: { $0.state != .listen && $0.state != .closed
                                                 && $0.local == local && $0.remote == remote }) else {
            established[key] = nil
            return nil
        }
        established[key] = c
        return c
    }

    func noteChanged(_ c: TCPConnection) {
        if let id = c.socketID { changed.append(id) }
        if let l = c.listener, let id = l.socketID { changed.append(id) }
    }

    func runDHCP(now: UInt64) {
        guard var client = dhcp else { return }
        let before = client.phase
        let messages = client.poll(now: now)
        dhcp = client
        for m in messages { sendDHCP(m) }
        if before != client.phase, let c = client.configuration { configure(c) }
    }

    func sendDHCP(_ payload: [UInt8]) {
        guard let mac else { return }
        let udp = UDPDatagram(sourcePort: DHCPClient.clientPort, destinationPort: DHCPClient.serverPort,
                              payload: payload)
        var ip = IPv4Packet(source: .any, destination: .broadcast, protocolNumber: IPProtocol.udp,
                            payload: udp.build(source: .any, destination: .broadcast))
        ip.identification = ipIdentification
        ipIdentification &+= 1
        outgoing.append(EthernetFrame(destination: .broadcast, source: mac,
                                      etherType: EtherType.ipv4).build(payload: ip.build()))
    }

    // MARK: Internals: input

    func handleARP(_ packet: ARPPacket, now: UInt64) {
        guard let mac, let configuration else { return }
        let forUs = packet.targetIP == configuration.address
        let waiting = arp.update(packet.senderIP, mac: packet.senderMAC, now: now, createIfMissing: forUs)
        for bytes in waiting {
            outgoing.append(EthernetFrame(destination: packet.senderMAC, source: mac,
                                          etherType: EtherType.ipv4).build(payload: bytes))
        }
        if forUs && packet.operation == ARPPacket.request {
            let reply = ARPPacket(operation: ARPPacket.reply, senderMAC: mac, senderIP: configuration.address,
                                  targetMAC: packet.senderMAC, targetIP: packet.senderIP)
            outgoing.append(EthernetFrame(destination: packet.senderMAC, source: mac,
                                          etherType: EtherType.arp).build(payload: reply.bytes))
        }
    }

    func handleIPv4(_ packet: IPv4Packet, now: UInt64, fromLoopback: Bool) {
        var packet = packet
        let address = configuration?.address
        let forUs = fromLoopback || packet.destination == address || packet.destination == .broadcast
            || packet.destination == configuration?.broadcast
            || (packet.protocolNumber == IPProtocol.udp && dhcp != nil && configuration == nil)
        guard forUs else { statistics.notForUsDropped += 1; return }
        if packet.isFragment {
            guard let whole = reassembler.add(packet, now: now) else { return }
            packet = whole
        }
        switch packet.protocolNumber {
        case IPProtocol.icmp:
            handleICMP(packet, now: now)
        case IPProtocol.tcp:
            guard let segment = TCPSegment(parsing: packet.payload, source: packet.source,
                                           destination: packet.destination) else {
                statistics.malformedDropped += 1
                return
            }
            handleTCP(segment, packet: packet, now: now, fromLoopback: fromLoopback)
        case IPProtocol.udp:
            guard let datagram = UDPDatagram(parsing: packet.payload, source: packet.source,
                                             destination: packet.destination) else {
                statistics.malformedDropped += 1
                return
            }
            handleUDP(datagram, packet: packet, now: now)
        default:
            statistics.notForUsDropped += 1
        }
    }

    func handleICMP(_ packet: IPv4Packet, now: UInt64) {
        guard packet.payload.count >= 8 else { statistics.malformedDropped += 1; return }
        if packet.payload[0] == ICMP.echoRequest {
            guard packet.destination != .broadcast, let reply = ICMP.reply(toEcho: packet.payload) else { return }
            statistics.echoRepliesSent += 1
            sendIPv4(IPv4Packet(source: packet.destination, destination: packet.source,
                                protocolNumber: IPProtocol.icmp, payload: reply), now: now)
        } else if packet.payload[0] == ICMP.echoReply, InternetChecksum.of(packet.payload) == 0 {
            echoReplies.append((readBE16(packet.payload, 4), readBE16(packet.payload, 6), packet.source))
            if echoReplies.count > 64 { echoReplies.removeFirst() }
        }
    }

    func handleUDP(_ datagram: UDPDatagram, packet: IPv4Packet, now: UInt64) {
        if datagram.destinationPort == DHCPClient.clientPort, var client = dhcp,
           client.phase == .selecting || client.phase == .requesting {
            let replies = client.receive(datagram.payload, now: now)
            dhcp = client
            for r in replies { sendDHCP(r) }
            if let c = client.configuration, client.phase == .bound { configure(c) }
            return
        }
        let from = SocketAddress(packet.source, datagram.sourcePort)
        var target: (id: SocketID, socket: UDPSocket)? = nil
        for (id, entry) in sockets.enumerated() {
            guard case .udp(let u)? = entry, u.local.port == datagram.destinationPort,
                  u.local.address.isAny || u.local.address == packet.destination else { continue }
            if let r = u.remote, r != from { continue }
            // Prefer a connected socket over a wildcard one.
            if target == nil || u.remote != nil { target = (id, u) }
        }
        guard let target else {
            statistics.udpNoPortDropped += 1
            if packet.destination != .broadcast && packet.destination != configuration?.broadcast {
                let original = IPv4Packet(source: packet.source, destination: packet.destination,
                                          protocolNumber: IPProtocol.udp, payload: packet.payload).build()
                sendIPv4(IPv4Packet(source: packet.destination, destination: packet.source,
                                    protocolNumber: IPProtocol.icmp,
                                    payload: ICMP.unreachable(code: ICMP.portUnreachable, original: original)),
                         now: now)
            }
            return
        }
        let u = target.socket
        guard u.queuedBytes + datagram.payload.count <= u.receiveCapacity else {
            u.droppedDatagrams += 1
            return
        }
        u.queue.append((from, datagram.payload))
        u.queuedBytes += datagram.payload.count
        changed.append(target.id)
    }

    func handleTCP(_ segment: TCPSegment, packet: IPv4Packet, now: UInt64, fromLoopback: Bool = false) {
        let local = SocketAddress(packet.destination, segment.destinationPort)
        let remote = SocketAddress(packet.source, segment.sourcePort)
        if let c = demux(local: local, remote: remote) {
            c.input(segment, now: now)
            flush(c, now: now)
            noteChanged(c)
            if c.state == .closed { reap() }
            return
        }
        if let l = connections.first(where: { $0.state == .listen && $0.local.port == local.port
                                              && ($0.local.address.isAny || $0.local.address == local.address) }) {
            handleListen(l, segment, local: local, remote: remote, now: now, fromLoopback: fromLoopback)
            return
        }
        sendReset(for: segment, local: local, remote: remote, now: now)
    }

    /// A segment for a listener. A SYN is admitted only while the connections in hand —
    /// half-open children plus those waiting for accept(2) — are fewer than the queue limit,
    /// so the handshake's final ACK always finds its place in the accept queue: a connection
    /// the peer believes established is never dropped later, to be reset when its SYN-ACK
    /// retries run out. A SYN beyond the limit is dropped unanswered and the peer retries it,
    /// as Linux does when its queues are full (tcp_conn_request, "listen overflow").
    func handleListen(_ l: TCPConnection, _ segment: TCPSegment, local: SocketAddress,
                      remote: SocketAddress, now: UInt64, fromLoopback: Bool = false) {
        if segment.flags.contains(.rst) { return }
        if segment.flags.contains(.ack) {
            sendReset(for: segment, local: local, remote: remote, now: now)
            return
        }
        guard segment.flags.contains(.syn) else { return }
        let halfOpen = connections.reduce(0) { $0 + ($1.listener === l && $1.state == .synReceived ? 1 : 0) }
        guard halfOpen + l.acceptQueue.count < listenQueueLimit(l, fromLoopback: fromLoopback) else {
            statistics.listenOverflowDropped += 1
            return
        }
        let child = TCPConnection(local: local, remote: remote, parameters: parameters,
                                  localMSS: mtuFor(remote.address) - 40)
        child.sendBuffer.resize(l.sendBuffer.capacity)
        child.receiveBuffer.resize(l.receiveBuffer.capacity)
        child.noDelay = l.noDelay
        child.keepAlive = l.keepAlive
        child.reuseAddress = l.reuseAddress
        child.listener = l
        child.irs = segment.sequence
        child.rcvNxt = segment.sequence &+ 1
        child.offeredScale = child.scaleFor(child.receiveBuffer.capacity)
        child.state = .synReceived
        child.applySynOptions(segment)
        child.sndWnd = UInt32(segment.window)
        child.sndWl1 = segment.sequence
        let iss = UInt32(truncatingIfNeeded: nextRandom())
        child.iss = iss
        child.sndUna = iss
        child.sndNxt = iss
        child.sndMax = iss
        // Data on a SYN is rare; it is dropped here and the peer retransmits it.
        connections.append(child)
        child.output(now: now)
        flush(child, now: now)
    }

    /// How many connections `l` may hold before accept(2) takes them: its backlog, raised
    /// to `parameters.remoteListenQueueFloor` for peers that come through the card.
    func listenQueueLimit(_ l: TCPConnection, fromLoopback: Bool) -> Int {
        fromLoopback ? l.backlog : max(l.backlog, parameters.remoteListenQueueFloor)
    }

    /// RFC 9293 §3.10.7.1: the reply to a segment for no connection.
    func sendReset(for segment: TCPSegment, local: SocketAddress, remote: SocketAddress, now: UInt64) {
        guard !segment.flags.contains(.rst) else { return }
        var reply: TCPSegment
        if segment.flags.contains(.ack) {
            reply = TCPSegment(sourcePort: local.port, destinationPort: remote.port,
                               sequence: segment.acknowledgment, acknowledgment: 0, flags: [.rst], window: 0)
        } else {
            reply = TCPSegment(sourcePort: local.port, destinationPort: remote.port, sequence: 0,
                               acknowledgment: segment.sequence &+ segment.sequenceLength,
                               flags: [.rst, .ack], window: 0)
        }
        statistics.tcpResetsSent += 1
        sendIPv4(IPv4Packet(source: local.address, destination: remote.address, protocolNumber: IPProtocol.tcp,
                            payload: reply.build(source: local.address, destination: remote.address)),
                 now: now)
    }
}
