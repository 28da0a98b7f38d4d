// PortRelay — egg's own host listener for a TCP `-p HOST:GUEST` (EggHost layer, host only).
//
// Why (issue 12): QEMU's user networking listens for a `hostfwd` rule with a backlog of 1
// (libslirp socket.c tcp_listen), so a burst of connections to a published port overflows
// that accept queue: the host kernel drops the SYN or the final ACK (Linux
// net/ipv4/tcp_input.c tcp_conn_request and tcp_ipv4.c tcp_v4_syn_recv_sock, counted as
// ListenOverflows) and clients stall or are reset before QEMU ever sees them. So egg binds
// HOST_ADDR:HOST_PORT itself with a large backlog and gives QEMU `hostfwd` on a private
// 127.0.0.1 port (`openPortRelays`, used by EggRun.swift; the rule itself is
// PortForward.hostfwd in NetworkOptions.swift). Each accepted host connection waits in egg
// until its turn, then egg connects to QEMU's port and copies bytes both ways.
//
// Pacing: at most `pacingLimit` connections may sit in slirp's accept queue or be
// connecting to it at once (a backlog of 1 holds 2: Linux sk_acceptq_is_full is
// `ack_backlog > max_ack_backlog`). The queue length of slirp's listener is read from
// /proc/net/tcp (for a LISTEN socket the rx_queue column is sk_ack_backlog: Linux
// net/ipv4/tcp_ipv4.c get_tcp4_sock); elsewhere a short pause after each connect stands in.
// Retry: slirp accepts on the host before it connects to the guest, and when the guest
// refuses (nothing listening yet) it just closes the host socket. So an inner connection
// that is refused, reset, or ended before the guest sent any byte (and before egg passed
// on the client's end of file) is retried, with the client's bytes sent so far replayed,
// for `retryWindow` seconds after the client connected; then the client sees the end.
// Copying: one thread per published port, poll(2) over every connection; end of file is
// passed on as shutdown(SHUT_WR) (half-close, tcp(7)), a reset by closing the other side
// with SO_LINGER 0 (which sends RST: socket(7)).

import Foundation

/// Tunables of a relay (defaults for `egg run`; the tests shrink some).
public struct RelaySettings: Sendable {
    /// listen(2) backlog of the host socket (the kernel caps it at net.core.somaxconn).
    public var backlog: Int32 = 4096
    /// Connections connecting to, or queued unaccepted on, QEMU's listener at once.
    public var pacingLimit: Int = 2
    /// Seconds after the client connected during which a failed inner connection is retried.
    public var retryWindow: Double = 30
    /// Client bytes kept for replay until the guest's first byte; beyond it, no retry.
    public var replayLimit: Int = 256 << 10
    /// Bytes read per read(2) and held per direction before reading stops (back-pressure).
    public var bufferSize: Int = 64 << 10

    public init() {}
}

/// Counters, for tests and --verbose.
public struct RelayStatistics: Equatable, Sendable {
    public var accepted = 0
    public var innerConnects = 0
    public var retries = 0
    public var closed = 0
}

public final class PortRelay: @unchecked Sendable {
    /// The rule as the user wrote it.
    public let forward: PortForward
    /// Where the relay connects: QEMU's hostfwd port on 127.0.0.1.
    public let innerPort: Int
    /// The host port actually bound (the forward's, or the kernel's pick for port 0 in tests).
    public let boundPort: Int
    private let listener: Int32
    private let settings: RelaySettings
    private var wake: [Int32] = [-1, -1]
    private let lock = NSLock()
    private var stopping = false
    private var stats = RelayStatistics()
    private var thread: Thread? = nil
    private let done = DispatchSemaphore(value: 0)

    /// Binds and listens on the forward's host address and port (SO_REUSEADDR, as slirp and
    /// checkHostPortFree do); the errors are the ones `-p` reports for a port QEMU could not bind.
    public static func open(_ forward: PortForward, innerPort: Int,
                            settings: RelaySettings = RelaySettings()) -> Result<PortRelay, NetworkOptionError> {
        let fd = makeSocket()
        guard fd >= 0 else { return .failure(.hostPortInUse(forward.text)) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = socketAddress(forward.hostAddress ?? "0.0.0.0", forward.hostPort)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 || listen(fd, settings.backlog) != 0 {
            let code = errno
            close(fd)
            switch code {
            case EACCES, EPERM: return .failure(.hostPortDenied(forward.text))
            case EADDRNOTAVAIL: return .failure(.hostAddressUnavailable(forward.text, forward.hostAddress ?? "0.0.0.0"))
            default: return .failure(.hostPortInUse(forward.text))
            }
        }
        return .success(PortRelay(forward: forward, innerPort: innerPort, listener: fd, settings: settings))
    }

    private init(forward: PortForward, innerPort: Int, listener: Int32, settings: RelaySettings) {
        self.forward = forward
        self.innerPort = innerPort
        self.listener = listener
        self.settings = settings
        self.boundPort = localPort(listener) ?? forward.hostPort
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
        if pipe(&wake) == 0 {
            for fd in wake {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        }
    }

    public var statistics: RelayStatistics {
        lock.lock(); defer { lock.unlock() }
        return stats
    }

    /// Starts the relay's thread (connections queue in the backlog until then).
    public func start() {
        let t = Thread { [self] in run(); done.signal() }
        t.stackSize = 1 << 20
        thread = t
        t.start()
    }

    /// Stops the thread and closes the listener and every connection.
    public func stop() {
        lock.lock(); stopping = true; lock.unlock()
        var byte: UInt8 = 1
        _ = write(wake[1], &byte, 1)
        if thread != nil { done.wait(); thread = nil }
        close(listener)
        for fd in wake where fd >= 0 { close(fd) }
        wake = [-1, -1]
    }

    private var isStopping: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopping
    }

    private func count(_ change: (inout RelayStatistics) -> Void) {
        lock.lock(); change(&stats); lock.unlock()
    }

    // MARK: the event loop

    private func run() {
        var links: [RelayLink] = []
        var lastConnect = 0.0
        var buffer = [UInt8](repeating: 0, count: settings.bufferSize)
        while !isStopping {
            var now = monotonicNow()
            // Start inner connections for waiting links, oldest first, as pacing allows.
            var connecting = links.reduce(0) { $0 + ($1.state == .connecting ? 1 : 0) }
            var queued: Int? = nil
            var paced = false
            for link in links where link.state == .waiting && link.retryAt <= now {
                if queued == nil { queued = acceptQueueLength(port: innerPort) ?? -1 }
                let waitingInQueue = queued! >= 0 ? queued! : (now - lastConnect < 0.005 ? settings.pacingLimit : 0)
                guard pacingAllows(connecting: connecting, queued: waitingInQueue, limit: settings.pacingLimit) else {
                    paced = true
                    break
                }
                connectInner(link)
                lastConnect = now
                if link.state == .connecting { connecting += 1 }
                if queued! >= 0 { queued! += link.state == .open ? 1 : 0 }
            }
            links.removeAll { $0.state == .closed }

            var fds = [pollfd(fd: wake[0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            var owners: [(RelayLink, Bool)] = []  // (link, isClient) per fds entry from index 2
            var nextRetry = Double.infinity
            for link in links {
                switch link.state {
                case .waiting:
                    nextRetry = min(nextRetry, link.retryAt)
                case .connecting:
                    fds.append(pollfd(fd: link.inner, events: Int16(POLLOUT), revents: 0)); owners.append((link, false))
                case .open:
                    var c: Int16 = 0, i: Int16 = 0
                    if !link.clientEOF && link.toInner.isEmpty { c |= Int16(POLLIN) }
                    if !link.toClient.isEmpty { c |= Int16(POLLOUT) }
                    if !link.innerEOF && link.toClient.isEmpty { i |= Int16(POLLIN) }
                    if !link.toInner.isEmpty { i |= Int16(POLLOUT) }
                    fds.append(pollfd(fd: link.client, events: c, revents: 0)); owners.append((link, true))
                    fds.append(pollfd(fd: link.inner, events: i, revents: 0)); owners.append((link, false))
                case .closed: break
                }
            }
            var timeout: Int32 = -1
            if paced { timeout = 1 }
            if nextRetry < .infinity { timeout = min(timeout < 0 ? Int32.max : timeout, Int32(max(1, (nextRetry - now) * 1000))) }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno != EINTR { return }
            if n <= 0 { continue }
            now = monotonicNow()
            if fds[0].revents != 0 { continue }  // stop() was called
            if fds[1].revents != 0 { acceptAll(&links, now: now) }
            for (index, entry) in fds.enumerated().dropFirst(2) where entry.revents != 0 {
                let (link, isClient) = owners[index - 2]
                if link.state == .closed { continue }
                if link.state == .connecting {
                    var code: Int32 = 0
                    var size = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(link.inner, SOL_SOCKET, SO_ERROR, &code, &size)
                    if code == 0 && entry.revents & Int16(POLLERR | POLLHUP) == 0 {
                        link.state = .open
                    } else {
                        innerFailed(link, reset: true, now: now)
                    }
                    continue
                }
                if isClient { serviceClient(link, entry.revents, &buffer) } else { serviceInner(link, entry.revents, &buffer, now: now) }
                if link.state == .open { advanceHalfClose(link) }
            }
        }
        for link in links { link.closeAll(reset: false) }
    }

    private func acceptAll(_ links: inout [RelayLink], now: Double) {
        while true {
            // accept4 with SOCK_CLOEXEC where there is one (Glibc's module does not export
            // it): a descriptor accepted while QEMU forks must not leak into QEMU.
            var fd: Int32
            if let accept4 = acceptWithFlags {
                fd = accept4(listener, nil, nil, relaySocketFlags)
            } else {
                fd = accept(listener, nil, nil)
                if fd >= 0 {
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                }
            }
            if fd < 0 { return }  // EAGAIN, or EMFILE: the rest stay in the backlog
            links.append(RelayLink(client: fd, acceptedAt: now))
            count { $0.accepted += 1 }
        }
    }

    private func connectInner(_ link: RelayLink) {
        let fd = PortRelay.makeSocket()
        guard fd >= 0 else { link.retryAt = monotonicNow() + 0.05; return }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = socketAddress("127.0.0.1", innerPort)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        link.inner = fd
        link.attempts += 1
        count { $0.innerConnects += 1 }
        if result == 0 {
            link.state = .open
        } else if errno == EINPROGRESS {
            link.state = .connecting
        } else {
            innerFailed(link, reset: true, now: monotonicNow())
        }
    }

    /// The inner connection failed or ended: retry it when nothing of the guest's reached the
    /// client yet (see the header), else end the client's side the same way.
    private func innerFailed(_ link: RelayLink, reset: Bool, now: Double) {
        if link.mayRetry && now - link.acceptedAt < settings.retryWindow {
            close(link.inner)
            link.inner = -1
            link.state = .waiting
            link.retryAt = now + min(0.2, 0.005 * Double(1 << min(link.attempts, 6)))
            link.toInner = link.replay
            link.innerShut = false
            count { $0.retries += 1 }
            return
        }
        if reset {
            link.closeAll(reset: true)
            count { $0.closed += 1 }
        } else {
            link.innerEOF = true
        }
    }

    private func serviceClient(_ link: RelayLink, _ events: Int16, _ buffer: inout [UInt8]) {
        if events & Int16(POLLOUT) != 0 || (events & Int16(POLLERR | POLLHUP) != 0 && !link.toClient.isEmpty) {
            if !flush(&link.toClient, to: link.client) { abort(link); return }
        }
        if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !link.clientEOF && link.toInner.isEmpty {
            let n = buffer.withUnsafeMutableBytes { read(link.client, $0.baseAddress, $0.count) }
            if n > 0 {
                let bytes = Array(buffer[0..<n])
                link.toInner = bytes
                if link.mayRetry {
                    link.replay += bytes
                    if link.replay.count > settings.replayLimit { link.replayable = false; link.replay = [] }
                }
                if !flush(&link.toInner, to: link.inner) { innerFailed(link, reset: true, now: monotonicNow()) }
            } else if n == 0 {
                link.clientEOF = true
            } else if errno != EAGAIN && errno != EINTR {
                abort(link)
            }
        }
    }

    private func serviceInner(_ link: RelayLink, _ events: Int16, _ buffer: inout [UInt8], now: Double) {
        if events & Int16(POLLOUT) != 0 && !link.toInner.isEmpty {
            if !flush(&link.toInner, to: link.inner) { innerFailed(link, reset: true, now: now); return }
        }
        if events & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !link.innerEOF && link.toClient.isEmpty {
            let n = buffer.withUnsafeMutableBytes { read(link.inner, $0.baseAddress, $0.count) }
            if n > 0 {
                link.guestSpoke = true
                link.replay = []
                link.toClient = Array(buffer[0..<n])
                if !flush(&link.toClient, to: link.client) { abort(link) }
            } else if n == 0 {
                innerFailed(link, reset: false, now: now)
            } else if errno != EAGAIN && errno != EINTR {
                innerFailed(link, reset: true, now: now)
            }
        }
    }

    /// Passes on each side's end of file once its bytes are through; closes when both are.
    private func advanceHalfClose(_ link: RelayLink) {
        if link.clientEOF && link.toInner.isEmpty && !link.innerShut && link.inner >= 0 {
            shutdown(link.inner, Int32(SHUT_WR))
            link.innerShut = true
        }
        if link.innerEOF && link.toClient.isEmpty && !link.clientShut {
            shutdown(link.client, Int32(SHUT_WR))
            link.clientShut = true
        }
        if link.innerShut && link.clientShut {
            link.closeAll(reset: false)
            count { $0.closed += 1 }
        }
    }

    /// The client reset or a write to it failed: reset the inner side too.
    private func abort(_ link: RelayLink) {
        link.closeAll(reset: true)
        count { $0.closed += 1 }
    }

    /// Writes what it can of `pending` (MSG_NOSIGNAL: no SIGPIPE); false on an error.
    private func flush(_ pending: inout [UInt8], to fd: Int32) -> Bool {
        var written = 0
        while written < pending.count {
            let n = pending.withUnsafeBytes { send(fd, $0.baseAddress! + written, pending.count - written, Int32(MSG_NOSIGNAL)) }
            if n > 0 { written += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
            return false
        }
        pending.removeFirst(written)
        return true
    }

    private static func makeSocket() -> Int32 {
        #if os(Linux)
        return socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
        #endif
    }
}

private typealias Accept4Function = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?, Int32) -> Int32
private let acceptWithFlags: Accept4Function? = dlsym(nil, "accept4").map { unsafeBitCast($0, to: Accept4Function.self) }
#if os(Linux)
private let relaySocketFlags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
#else
private let relaySocketFlags: Int32 = 0
#endif

enum RelayLinkState { case waiting, connecting, open, closed }

/// One host connection and its connection to QEMU's port.
final class RelayLink {
    let client: Int32
    var inner: Int32 = -1
    var state = RelayLinkState.waiting
    let acceptedAt: Double
    var retryAt = 0.0
    var attempts = 0
    var guestSpoke = false
    var replay: [UInt8] = []
    var replayable = true
    var toInner: [UInt8] = []
    var toClient: [UInt8] = []
    var clientEOF = false
    var innerEOF = false
    var innerShut = false
    var clientShut = false

    init(client: Int32, acceptedAt: Double) {
        self.client = client
        self.acceptedAt = acceptedAt
    }

    /// Nothing of the guest's passed yet, the replay is whole, and the client's end of file
    /// was not passed on (after it, a guest closing without a word is an answer).
    var mayRetry: Bool { !guestSpoke && replayable && !innerShut }

    func closeAll(reset: Bool) {
        if reset {
            var abortive = linger(l_onoff: 1, l_linger: 0)
            for fd in [client, inner] where fd >= 0 {
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, socklen_t(MemoryLayout<linger>.size))
            }
        }
        close(client)
        if inner >= 0 { close(inner) }
        inner = -1
        state = .closed
    }
}

/// Whether another inner connect may start: connecting plus queued-unaccepted stays below
/// `limit` (the capacity of slirp's accept queue, 2 for its backlog of 1).
public func pacingAllows(connecting: Int, queued: Int, limit: Int) -> Bool {
    connecting + queued < limit
}

/// The accept-queue length of the IPv4 TCP socket listening on 127.0.0.1:`port` (or on
/// 0.0.0.0), from /proc/net/tcp text; nil when there is none.
public func parseAcceptQueueLength(procNetTCP text: String, port: Int) -> Int? {
    let portHex = String(format: "%04X", port)
    for line in text.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count > 4, fields[3] == "0A" else { continue }  // 0A: TCP_LISTEN
        let local = fields[1].split(separator: ":")
        guard local.count == 2, local[1] == Substring(portHex),
              local[0] == "0100007F" || local[0] == "00000000" else { continue }
        let queues = fields[4].split(separator: ":")
        guard queues.count == 2, let rx = Int(queues[1], radix: 16) else { continue }
        return rx
    }
    return nil
}

private func acceptQueueLength(port: Int) -> Int? {
    #if os(Linux)
    guard let text = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return nil }
    return parseAcceptQueueLength(procNetTCP: text, port: port)
    #else
    return nil
    #endif
}

private func socketAddress(_ host: String, _ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, host, &address.sin_addr)
    return address
}

private func localPort(_ fd: Int32) -> Int? {
    var address = sockaddr_in()
    var size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
    }
    return ok == 0 ? Int(UInt16(bigEndian: address.sin_port)) : nil
}

private func monotonicNow() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// A free 127.0.0.1 TCP port for each of `count` forwards (the probe sockets stay bound
/// until all are chosen, so the ports differ). QEMU binds them a moment later; another
/// program taking one in between would make QEMU fail to start (a race egg cannot close
/// while QEMU binds its own hostfwd sockets).
func privateLoopbackPorts(_ count: Int) -> [Int]? {
    var probes: [Int32] = []
    defer { for fd in probes { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        probes.append(fd)
        var address = socketAddress("127.0.0.1", 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, let port = localPort(fd) else { return nil }
        ports.append(port)
    }
    return ports
}

/// Opens a relay for every TCP forward of `network` and returns the network QEMU gets: each
/// such forward becomes 127.0.0.1:PRIVATE-:GUEST. UDP forwards stay direct hostfwd rules.
/// The relays are not started yet (call start() just before QEMU, stop() after).
public func openPortRelays(_ network: GuestNetwork,
                           settings: RelaySettings = RelaySettings()) -> Result<(GuestNetwork, [PortRelay]), NetworkOptionError> {
    let tcp = network.forwards.indices.filter { network.forwards[$0].portProtocol == .tcp }
    if tcp.isEmpty { return .success((network, [])) }
    guard let ports = privateLoopbackPorts(tcp.count) else {
        return .failure(.hostPortInUse(network.forwards[tcp[0]].text))
    }
    var rewritten = network
    var relays: [PortRelay] = []
    for (index, port) in zip(tcp, ports) {
        let forward = network.forwards[index]
        switch PortRelay.open(forward, innerPort: port, settings: settings) {
        case .success(let relay): relays.append(relay)
        case .failure(let problem):
            for relay in relays { relay.stop() }
            return .failure(problem)
        }
        rewritten.forwards[index] = PortForward(portProtocol: .tcp, hostAddress: "127.0.0.1", hostPort: port,
                                                guestPort: forward.guestPort)
    }
    return .success((rewritten, relays))
}
