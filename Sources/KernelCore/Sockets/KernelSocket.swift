// KernelSocket — the open file description behind a socket descriptor (KernelCore/Sockets).
//
// A PollableObject (Sources/KernelCore/Events/PollableObject.swift), so read(2), write(2),
// close(2), poll/select/epoll and fcntl(O_NONBLOCK) work on sockets through the same paths as
// pipes. It wraps either a SocketID in Net's NetworkStack (AF_INET TCP and UDP) or an AF_UNIX
// socket (UnixSocketEnd.swift; its own calls are UnixSocketCalls.swift). The byte-moving loops that send(2), recv(2),
// sendmsg(2) and recvmsg(2) share are here; argument decoding and the other socket calls are
// SocketSyscalls.swift; moving frames and waking waiters is NetworkPump.swift.
//
// Blocking follows socket(7): a call blocks unless O_NONBLOCK or MSG_DONTWAIT; SO_RCVTIMEO /
// SO_SNDTIMEO bound the wait and end it with EAGAIN (or the partial count); a signal ends it
// with EINTR (or the partial count). A stream send blocks until all bytes are queued.
import LinuxABI
import Net

public final class KernelSocket: PollableObject {
    public enum Backing {
        case internet(SocketID)
        case local(LocalSocketEnd)
    }
    public let backing: Backing
    /// AF_INET or AF_UNIX; SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET; the protocol number.
    public let domain: UInt16
    public let type: UInt32
    public let protocolNumber: Int32
    /// SO_RCVTIMEO / SO_SNDTIMEO in nanoseconds; 0 waits for ever.
    var receiveTimeout: UInt64 = 0
    var sendTimeout: UInt64 = 0
    /// SO_SNDBUF / SO_RCVBUF as getsockopt reports them (already doubled).
    var sendBufferOption: Int
    var receiveBufferOption: Int
    /// Options accepted and remembered but without effect here: (level, name, value).
    var otherOptions: [(level: Int32, name: Int32, value: Int32)] = []

    init(_ backing: Backing, domain: UInt16, type: UInt32, protocolNumber: Int32) {
        self.backing = backing
        self.domain = domain
        self.type = type
        self.protocolNumber = protocolNumber
        // Linux's defaults: tcp_wmem[1] 16384 and tcp_rmem[1] 131072 for TCP,
        // net.core.wmem_default/rmem_default 212992 for the others.
        let isTCP = domain == AddressFamily.AF_INET && type == SocketType.SOCK_STREAM
        sendBufferOption = isTCP ? 16384 : SocketBufferLimits.defaultSize
        receiveBufferOption = isTCP ? 131_072 : SocketBufferLimits.defaultSize
    }

    public var fileMode: UInt32 { 0o140777 }   // S_IFSOCK | 0777, as Linux's sockfs reports

    /// Message semantics (one datagram per call) rather than a byte stream.
    public var keepsBoundaries: Bool { type != SocketType.SOCK_STREAM }

    var socketID: SocketID? {
        if case .internet(let id) = backing { return id }
        return nil
    }

    // MARK: PollableObject

    public func pollEvents(_ k: KernelState) -> UInt32 {
        switch backing {
        case .internet(let id):
            if k.networkTimerDue(now: k.platform.monotonicNanoseconds()) { k.pumpNetwork() }
            return k.networkStack().readiness(id).rawValue
        case .local(let end):
            return end.readiness()
        }
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        let got = try receive(k, [(address, count)], flags: 0, nonblocking: nonblocking).get()
        // read(2) has nowhere to put descriptors in flight: they are closed (scm_destroy).
        if let d = got.local, !d.peeked { k.releaseInFlight(d.rights) }
        return got.count
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        try send(k, [(address, count)], flags: 0, nonblocking: nonblocking, to: nil)
    }

    public func closed(_ k: KernelState) {
        switch backing {
        case .internet(let id):
            k.networkStack().close(id, now: k.platform.monotonicNanoseconds())
            k.pumpNetwork()
        case .local(let end):
            k.localSocketNames.forget(end)
            k.releaseInFlight(end.close())
        }
        k.notifyPollers()
    }

    /// FIONREAD (SIOCINQ): bytes a read would return, or the next datagram's size; EINVAL
    /// on a listening socket (tcp_ioctl).
    public func inputQueueLength(_ k: KernelState) -> Result<Int, Errno> {
        switch backing {
        case .internet(let id):
            let stack = k.networkStack()
            if stack.tcpState(id) == .listen { return .failure(.EINVAL) }
            return .success(stack.bytesAvailable(id))
        case .local(let end):
            return .success(end.available)
        }
    }

    // MARK: one attempt, never blocking

    func attemptSend(_ k: KernelState, _ data: [UInt8], to destination: SocketAddress?,
                     local: LocalSendExtras? = nil) -> Result<Int, Errno> {
        let now = k.platform.monotonicNanoseconds()
        let result: Result<Int, Errno>
        switch backing {
        case .internet(let id):
            let stack = k.networkStack()
            if let destination, keepsBoundaries {
                result = stack.sendTo(id, data, to: destination, now: now)
            } else {
                result = stack.send(id, data, now: now)
            }
            k.pumpNetwork()
        case .local(let end):
            let rights = local?.rights ?? []
            let message = LocalMessage(data: data, rights: rights, credentials: local?.credentials ?? k.localCredentials(),
                                       sourceName: end.name ?? [])
            result = end.send(message, to: local?.destination)
            // The queue now holds the descriptions (scm_fp_list's references).
            if case .success(let n) = result, n > 0 || keepsBoundaries { for f in rights { f.references += 1 } }
            // Linux's sk_data_ready on every send: an edge-triggered epoll on the receiving end
            // reports again (Events/Epoll.swift pollWakeup).
            if case .success = result, let target = local?.destination ?? end.peer {
                k.pollWakeup(source: target, events: PollEvents.input)
            }
            k.notifyPollers()
        }
        return result
    }

    /// Bytes (empty at end of stream), the datagram's full length, its sender, and for
    /// AF_UNIX what came with it.
    func attemptReceive(_ k: KernelState, maximum: Int, peek: Bool)
        -> Result<(data: [UInt8], fullLength: Int, from: SocketAddress?, local: LocalDelivery?), Errno> {
        let now = k.platform.monotonicNanoseconds()
        switch backing {
        case .internet(let id):
            let stack = k.networkStack()
            let result: Result<(data: [UInt8], fullLength: Int, from: SocketAddress?, local: LocalDelivery?), Errno>
            if keepsBoundaries {
                result = stack.receiveFrom(id, maximum: maximum, peek: peek, now: now).map { ($0.data, $0.fullLength, $0.from, nil) }
            } else {
                result = stack.receive(id, maximum: maximum, peek: peek, now: now).map { ($0, $0.count, nil, nil) }
            }
            k.pumpNetwork()
            return result
        case .local(let end):
            if let got = end.receive(maximum: maximum, peek: peek) {
                var delivery = got.delivery
                if !keepsBoundaries { delivery.sourceName = end.peer?.name ?? [] }
                k.notifyPollers()
                return .success((got.data, got.fullLength, nil, delivery))
            }
            // sock_error: a reset is reported once, when nothing is left to read.
            if let e = end.pendingError {
                end.pendingError = nil
                return .failure(e)
            }
            if end.listening { return .failure(.EINVAL) }   // unix_stream_read_generic
            return end.atEndOfFile ? .success(([], 0, nil, nil)) : .failure(.EAGAIN)
        }
    }

    /// A socket call found nothing to read, no room, or drained the queue: let edge-triggered
    /// epoll interests see the fall (KernelState.readinessFell, Events/Epoll.swift).
    func readinessFell(_ k: KernelState) { k.readinessFell(of: self) }

    /// The largest datagram a send may carry: a unix datagram at most SO_SNDBUF - 32 bytes
    /// (unix_dgram_sendmsg: `len > sk->sk_sndbuf - 32` is EMSGSIZE), a UDP one an IPv4
    /// packet (65535 - 20 - 8, udp_sendmsg).
    var maximumDatagram: Int {
        switch backing {
        case .internet: return 65_507
        case .local: return sendBufferOption - 32
        }
    }

    // MARK: the loops behind send/recv/sendmsg/recvmsg/read/write

    func deadline(_ k: KernelState, _ timeout: UInt64) -> UInt64? {
        timeout == 0 ? nil : Deadline.after(Int64(min(timeout, UInt64(Int64.max))), now: k.platform.monotonicNanoseconds()).monotonic
    }

    /// send(2): every byte of `vectors` (a stream may take them in pieces and block between
    /// them), or one datagram. EPIPE raises SIGPIPE unless MSG_NOSIGNAL (send(2)).
    func send(_ k: KernelState, _ vectors: [(UserAddress, Int)], flags: UInt32, nonblocking: Bool,
              to destination: SocketAddress?) throws(Errno) -> Int {
        try send(k, .guest(vectors), flags: flags, nonblocking: nonblocking, to: destination)
    }

    /// Where the bytes of a send come from: guest iovecs (send, write) or a kernel buffer
    /// (sendfile(2), which Linux runs through splice into the socket).
    enum SendSource {
        case guest([(UserAddress, Int)])
        case kernel([UInt8])

        func bytes(_ k: KernelState, from offset: Int, count: Int) -> Result<[UInt8], Errno> {
            switch self {
            case .guest(let vectors): return SocketIO.gather(k, vectors, from: offset, count: count)
            case .kernel(let data):
                return .success(offset == 0 && count == data.count ? data : Array(data[offset..<(offset + count)]))
            }
        }
        var total: Int {
            switch self {
            case .guest(let vectors): return SocketIO.totalLength(vectors)
            case .kernel(let data): return data.count
            }
        }
    }

    func send(_ k: KernelState, _ source: SendSource, flags: UInt32, nonblocking: Bool,
              to destination: SocketAddress?, local: LocalSendExtras? = nil) throws(Errno) -> Int {
        let dontWait = nonblocking || flags & MessageFlags.MSG_DONTWAIT.rawValue != 0
        let total = source.total
        // A datagram is copied whole: refuse one larger than the socket can ever queue before
        // a kernel buffer of the guest's size exists (unix(7), udp(7): EMSGSIZE).
        if keepsBoundaries && total > maximumDatagram { throw .EMSGSIZE }
        let until = deadline(k, sendTimeout)
        var done = 0
        while true {
            let chunk = keepsBoundaries ? total : min(total - done, 65536)
            let data: [UInt8]
            switch source.bytes(k, from: done, count: chunk) {
            case .failure(let e): if done > 0 { return done } else { throw e }
            case .success(let d): data = d
            }
            // Ancillary data goes with the first piece only (unix_stream_sendmsg).
            var extras = local
            if done > 0 { extras?.rights = [] }
            switch attemptSend(k, data, to: destination, local: extras) {
            case .success(let n):
                done += n
                if keepsBoundaries || done >= total { return done }
            case .failure(.EAGAIN):
                readinessFell(k)
                if dontWait { if done > 0 { return done } else { throw .EAGAIN } }
                if let until, k.platform.monotonicNanoseconds() >= until {
                    if done > 0 { return done } else { throw .EAGAIN }
                }
                guard k.waitForNetwork(until: until) else { if done > 0 { return done } else { throw .EINTR } }
            case .failure(let e):
                if e == .EPIPE && flags & MessageFlags.MSG_NOSIGNAL.rawValue == 0 {
                    k.postThreadSignal(13, to: k.currentThread)   // SIGPIPE
                }
                if done > 0 { return done } else { throw e }
            }
        }
    }

    /// recv(2): what is there (at least one byte, or end of stream), all of it with
    /// MSG_WAITALL on a stream, or one datagram (`fullLength` is its real size).
    func receive(_ k: KernelState, _ vectors: [(UserAddress, Int)], flags: UInt32, nonblocking: Bool)
        -> Result<(count: Int, fullLength: Int, from: SocketAddress?, local: LocalDelivery?), Errno> {
        let dontWait = nonblocking || flags & MessageFlags.MSG_DONTWAIT.rawValue != 0
        let peek = flags & MessageFlags.MSG_PEEK.rawValue != 0
        let waitAll = flags & MessageFlags.MSG_WAITALL.rawValue != 0 && !keepsBoundaries && !peek
        let total = SocketIO.totalLength(vectors)
        if total == 0 && !keepsBoundaries { return .success((0, 0, nil, nil)) }
        let until = deadline(k, receiveTimeout)
        var done = 0
        var delivery: LocalDelivery? = nil
        while true {
            switch attemptReceive(k, maximum: total - done, peek: peek) {
            case .success(let got):
                // Keep the piece that carried descriptors (a stream read stops after it).
                if delivery == nil || !(got.local?.rights.isEmpty ?? true) { delivery = got.local }
                if got.data.isEmpty && !keepsBoundaries { return .success((done, done, nil, delivery)) }   // end of stream
                if let e = SocketIO.scatter(k, vectors, at: done, got.data) {
                    return done > 0 ? .success((done, done, nil, delivery)) : .failure(e)
                }
                done += got.data.count
                if !peek, pollEvents(k) & PollEvents.input == 0 { readinessFell(k) }
                if keepsBoundaries { return .success((done, got.fullLength, got.from, delivery)) }
                if let d = got.local, !d.rights.isEmpty { return .success((done, done, nil, delivery)) }
                if !waitAll || done >= total || dontWait { return .success((done, done, nil, delivery)) }
            case .failure(.EAGAIN):
                readinessFell(k)
                if done > 0 && (dontWait || !waitAll) { return .success((done, done, nil, delivery)) }
                if dontWait { return .failure(.EAGAIN) }
                if let until, k.platform.monotonicNanoseconds() >= until {
                    return done > 0 ? .success((done, done, nil, delivery)) : .failure(.EAGAIN)
                }
                guard k.waitForNetwork(until: until) else {
                    return done > 0 ? .success((done, done, nil, delivery)) : .failure(.EINTR)
                }
            case .failure(let e):
                return done > 0 ? .success((done, done, nil, delivery)) : .failure(e)
            }
        }
    }
}

/// What an AF_UNIX send carries besides bytes: SCM_RIGHTS descriptions, the credentials
/// (SCM_CREDENTIALS or the sender's own), and a datagram's destination.
struct LocalSendExtras {
    var rights: [OpenFile] = []
    var credentials: LocalCredentials? = nil
    var destination: LocalSocketEnd? = nil
}

/// Moving bytes between iovec lists in guest memory and kernel arrays, through the checked
/// copy path (AddressSpace.copyIn/copyOut: EFAULT on a bad address).
enum SocketIO {
    /// Linux's MAX_RW_COUNT (INT_MAX rounded down to a page, include/linux/fs.h): no single
    /// read or write moves more; import_iovec trims the iovec total to it.
    static let maximumTransfer = 0x7fff_f000

    /// The bytes `vectors` describe, at most `maximumTransfer` (never overflowing).
    static func totalLength(_ vectors: [(UserAddress, Int)]) -> Int {
        var total = 0
        for (_, length) in vectors {
            total += min(max(0, length), maximumTransfer - total)
            if total == maximumTransfer { break }
        }
        return total
    }

    /// `count` bytes starting `offset` bytes into the concatenation of `vectors`.
    static func gather(_ k: KernelState, _ vectors: [(UserAddress, Int)], from offset: Int, count: Int) -> Result<[UInt8], Errno> {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var skip = offset, need = count
        for (base, length) in vectors where need > 0 {
            if skip >= length { skip -= length; continue }
            let n = min(length - skip, need)
            var piece: [UInt8] = []
            if let e = k.memory.copyIn(base.advanced(by: skip), count: n, into: &piece) { return .failure(e) }
            out.append(contentsOf: piece)
            need -= n
            skip = 0
        }
        return .success(out)
    }

    /// Write `data` starting `offset` bytes into the concatenation of `vectors`.
    static func scatter(_ k: KernelState, _ vectors: [(UserAddress, Int)], at offset: Int, _ data: [UInt8]) -> Errno? {
        var skip = offset, written = 0
        for (base, length) in vectors where written < data.count {
            if skip >= length { skip -= length; continue }
            let n = min(length - skip, data.count - written)
            if let e = k.memory.copyOut(base.advanced(by: skip), from: data, offset: written, count: n) { return e }
            written += n
            skip = 0
        }
        return nil
    }
}
