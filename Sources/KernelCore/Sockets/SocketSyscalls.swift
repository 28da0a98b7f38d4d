// SocketSyscalls — the socket family of system calls (KernelCore/Sockets): socket(2),
// socketpair(2), bind(2), listen(2), accept(2)/accept4(2), connect(2), sendto/sendmsg
// (send(2)), recvfrom/recvmsg (recv(2)), shutdown(2), getsockname(2), getpeername(2),
// setsockopt/getsockopt (socket(7), tcp(7), ip(7)).
//
// Registered from Sources/KernelCore/Syscalls/BuiltinSyscalls.swift. The descriptor's object
// is a KernelSocket (KernelSocket.swift); the protocols are Net's NetworkStack, driven by
// NetworkPump.swift. Error order follows net/socket.c: the descriptor is looked up first
// (EBADF, ENOTSOCK) except in connect(2), which copies the address in first; addresses
// longer than sockaddr_storage (128) are EINVAL, unreadable ones EFAULT (move_addr_to_kernel);
// addresses are written back truncated to the caller's length, which then receives the
// real length (move_addr_to_user).
//
// Not supported (documented divergences): socket(AF_UNIX) (no named unix sockets: only
// socketpair), AF_INET6, AF_NETLINK, AF_PACKET (EAFNOSUPPORT), SOCK_RAW (EPROTONOSUPPORT),
// ancillary data (msg_controllen comes back 0).
import LinuxABI
import Net

enum SocketSyscalls {
    static let addressStorageSize = 128   // sizeof(struct sockaddr_storage)
    static let socketFlags = UInt64(SocketType.SOCK_NONBLOCK | SocketType.SOCK_CLOEXEC)

    // MARK: argument decoding

    /// The socket behind descriptor argument `i`: EBADF, or ENOTSOCK for any other file.
    static func socket(_ k: KernelState, _ a: SyscallArguments, _ i: Int) -> Result<(KernelSocket, OpenFile), Errno> {
        guard case .success(let fd) = a.fd(i), let f = k.files[fd] else { return .failure(.EBADF) }
        guard let s = f.object as? KernelSocket else { return .failure(.ENOTSOCK) }
        return .success((s, f))
    }

    /// A socket address from the guest: EINVAL beyond sockaddr_storage, EFAULT if unreadable.
    static func addressBytes(_ k: KernelState, _ address: UserAddress, _ length: Int) -> Result<[UInt8], Errno> {
        guard length >= 0 && length <= addressStorageSize else { return .failure(.EINVAL) }
        if length == 0 { return .success([]) }
        return k.memory.copyIn(address, count: length)
    }

    static func family(_ bytes: [UInt8]) -> UInt16? {
        bytes.count >= 2 ? UInt16(bytes[0]) | UInt16(bytes[1]) << 8 : nil
    }

    /// sockaddr_in → SocketAddress (ip(7)): shorter than 16 bytes is EINVAL, another family
    /// EAFNOSUPPORT (AF_UNSPEC is accepted where `allowUnspecified`, as inet_bind does for
    /// INADDR_ANY).
    static func internetAddress(_ bytes: [UInt8], allowUnspecified: Bool = false) -> Result<SocketAddress, Errno> {
        guard bytes.count >= SockaddrIn.byteSize else { return .failure(.EINVAL) }
        let decoded: SockaddrIn
        do { decoded = try SockaddrIn.decode(from: bytes) } catch { return .failure(.EINVAL) }
        if decoded.family != AddressFamily.AF_INET
            && !(allowUnspecified && decoded.family == AddressFamily.AF_UNSPEC) {
            return .failure(.EAFNOSUPPORT)
        }
        return .success(SocketAddress(IPv4Address(decoded.address), decoded.port))
    }

    static func encode(_ address: SocketAddress) -> [UInt8] {
        SockaddrIn(port: address.port, address: address.address.value).encode()
    }

    /// An unnamed AF_UNIX address: the family alone (unix_getname of an unbound socket).
    static let unnamedLocalAddress: [UInt8] = [UInt8(AddressFamily.AF_UNIX), 0]

    /// move_addr_to_user: copy min(*length, real) bytes to `address`, then store the real
    /// length in *length.
    static func writeAddress(_ k: KernelState, _ bytes: [UInt8], to address: UserAddress,
                             length lengthAddress: UserAddress) -> Errno? {
        let given: Int32
        switch k.memory.copyIn(lengthAddress, count: 4) {
        case .failure(let e): return e
        case .success(let b): given = Int32(bitPattern: ByteReader(b).u32(0))
        }
        guard given >= 0 else { return .EINVAL }
        let n = min(Int(given), bytes.count)
        if n > 0, let e = k.memory.copyOut(address, from: bytes, count: n) { return e }
        return k.memory.writeUInt32(lengthAddress, UInt32(bytes.count))
    }

    static func localAddressBytes(_ k: KernelState, _ s: KernelSocket) -> [UInt8] {
        switch s.backing {
        case .internet(let id): return encode(k.networkStack().localAddress(id) ?? .unspecified)
        case .local: return unnamedLocalAddress
        }
    }

    static func peerAddressBytes(_ k: KernelState, _ s: KernelSocket) -> Result<[UInt8], Errno> {
        switch s.backing {
        case .internet(let id): return k.networkStack().peerAddress(id).map { encode($0) }
        case .local(let end): return end.peer == nil ? .failure(.ENOTCONN) : .success(unnamedLocalAddress)
        }
    }

    static func install(_ k: KernelState, _ s: KernelSocket, flags: UInt64) -> SyscallResult {
        k.installObject(s, flags: 2 | (flags & nonblockFlag), closeOnExec: flags & cloexecFlag != 0)
    }

    // MARK: socket, socketpair

    /// socket(domain, type, protocol) (socket(2), ip(7)).
    static func socket(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let domain = a.int32(0), typeWord = a.uint32(1), protocolNumber = a.int32(2)
        let base = typeWord & 0xf, flags = UInt64(typeWord & ~0xf)
        guard flags & ~socketFlags == 0 else { return .failure(.EINVAL) }
        guard domain >= 0 && domain < 46 else { return .failure(.EAFNOSUPPORT) }   // AF_MAX
        guard base < 11 else { return .failure(.EINVAL) }                         // SOCK_MAX
        guard domain == Int32(AddressFamily.AF_INET) else { return .failure(.EAFNOSUPPORT) }
        let stack = k.networkStack()
        let id: SocketID
        switch base {
        case SocketType.SOCK_STREAM:
            guard protocolNumber == 0 || protocolNumber == SocketLevel.IPPROTO_TCP else { return .failure(.EPROTONOSUPPORT) }
            id = stack.openTCP()
        case SocketType.SOCK_DGRAM:
            guard protocolNumber == 0 || protocolNumber == SocketLevel.IPPROTO_UDP else { return .failure(.EPROTONOSUPPORT) }
            id = stack.openUDP()
        case SocketType.SOCK_RAW:
            return .failure(.EPROTONOSUPPORT)
        default:
            return .failure(.ESOCKTNOSUPPORT)   // inet_create: no protocol of that type
        }
        let s = KernelSocket(.internet(id), domain: AddressFamily.AF_INET, type: base,
                             protocolNumber: base == SocketType.SOCK_STREAM ? SocketLevel.IPPROTO_TCP : SocketLevel.IPPROTO_UDP)
        let result = install(k, s, flags: flags)
        if case .failure = result { stack.close(id, now: k.platform.monotonicNanoseconds()) }
        return result
    }

    /// socketpair(AF_UNIX, type, 0, sv[2]): two connected ends (unix(7)).
    static func socketpair(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let domain = a.int32(0), typeWord = a.uint32(1), protocolNumber = a.int32(2)
        let base = typeWord & 0xf, flags = UInt64(typeWord & ~0xf)
        guard flags & ~socketFlags == 0 else { return .failure(.EINVAL) }
        guard domain >= 0 && domain < 46 else { return .failure(.EAFNOSUPPORT) }
        guard base < 11 else { return .failure(.EINVAL) }
        if domain == Int32(AddressFamily.AF_INET) { return .failure(.EOPNOTSUPP) }   // inet has no socketpair
        guard domain == Int32(AddressFamily.AF_UNIX) else { return .failure(.EAFNOSUPPORT) }
        guard protocolNumber == 0 || protocolNumber == Int32(AddressFamily.AF_UNIX) else { return .failure(.EPROTONOSUPPORT) }
        guard base == SocketType.SOCK_STREAM || base == SocketType.SOCK_DGRAM || base == SocketType.SOCK_SEQPACKET else {
            return .failure(.ESOCKTNOSUPPORT)
        }
        // The result array is checked before anything is made, as Linux's copy_to_user of sv
        // would fail after creating (and then dropping) both.
        guard case .success = k.memory.copyIn(a.address(3), count: 8) else { return .failure(.EFAULT) }
        let (x, y) = LocalSocketEnd.pair(keepsBoundaries: base != SocketType.SOCK_STREAM)
        let first = KernelSocket(.local(x), domain: AddressFamily.AF_UNIX, type: base, protocolNumber: 0)
        let second = KernelSocket(.local(y), domain: AddressFamily.AF_UNIX, type: base, protocolNumber: 0)
        guard case .success(let fd0) = install(k, first, flags: flags) else { return .failure(.EMFILE) }
        guard case .success(let fd1) = install(k, second, flags: flags) else {
            _ = FileSyscalls.closeDescriptor(k, fd0)
            return .failure(.EMFILE)
        }
        var w = ByteWriter()
        w.u32(UInt32(fd0)); w.u32(UInt32(fd1))
        if let e = k.memory.copyOut(a.address(3), from: w.bytes) {
            _ = FileSyscalls.closeDescriptor(k, fd0)
            _ = FileSyscalls.closeDescriptor(k, fd1)
            return .failure(e)
        }
        return .success(0)
    }

    // MARK: bind, listen, accept, connect

    static func bind(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): s = found.0
        }
        let bytes: [UInt8]
        switch addressBytes(k, a.address(1), a.int(2)) {
        case .failure(let e): return .failure(e)
        case .success(let b): bytes = b
        }
        guard let id = s.socketID else {
            return .failure(.EINVAL)   // a socketpair end is already connected (unix_bind: EINVAL)
        }
        switch internetAddress(bytes, allowUnspecified: true) {
        case .failure(let e): return .failure(e)
        case .success(let address):
            return k.networkStack().bind(id, to: address).map { 0 }
        }
    }

    static func listen(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): s = found.0
        }
        guard let id = s.socketID else { return .failure(.EINVAL) }   // unix_listen: not bound
        if s.type != SocketType.SOCK_STREAM { return .failure(.EOPNOTSUPP) }
        var backlog = Int(a.int32(1))
        if backlog < 0 || backlog > 4096 { backlog = 4096 }   // (unsigned)backlog > somaxconn
        let result = k.networkStack().tcpListen(id, backlog: backlog).map { 0 }
        k.pumpNetwork()
        return result
    }

    static func accept(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        acceptConnection(k, a, flags: 0)
    }

    static func accept4(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard a[3] & ~socketFlags == 0 else { return .failure(.EINVAL) }
        return acceptConnection(k, a, flags: a[3])
    }

    /// accept(2): the next connection on a listener, waiting for one unless non-blocking.
    static func acceptConnection(_ k: KernelState, _ a: SyscallArguments, flags: UInt64) -> SyscallResult {
        let s: KernelSocket, f: OpenFile
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): (s, f) = found
        }
        guard let id = s.socketID else {
            return .failure(s.type == SocketType.SOCK_DGRAM ? .EOPNOTSUPP : .EINVAL)
        }
        let stack = k.networkStack()
        let until = s.deadline(k, s.receiveTimeout)
        var accepted: (SocketID, SocketAddress)
        while true {
            switch stack.accept(id, now: k.platform.monotonicNanoseconds()) {
            case .success(let pair):
                accepted = pair
            case .failure(.EAGAIN):
                s.readinessFell(k)
                if f.statusFlags & nonblockFlag != 0 { return .failure(.EAGAIN) }
                if let until, k.platform.monotonicNanoseconds() >= until { return .failure(.EAGAIN) }
                guard k.waitForNetwork(until: until) else { return .failure(.EINTR) }
                continue
            case .failure(let e):
                return .failure(e)
            }
            break
        }
        k.pumpNetwork()
        let child = KernelSocket(.internet(accepted.0), domain: s.domain, type: s.type, protocolNumber: s.protocolNumber)
        child.sendBufferOption = s.sendBufferOption
        child.receiveBufferOption = s.receiveBufferOption
        let fd: Int
        switch install(k, child, flags: flags) {
        case .failure(let e):
            child.closed(k)
            return .failure(e)
        case .success(let n): fd = n
        }
        if !a.address(1).isNull {
            if let e = writeAddress(k, encode(accepted.1), to: a.address(1), length: a.address(2)) {
                _ = FileSyscalls.closeDescriptor(k, fd)
                return .failure(e)
            }
        }
        return .success(fd)
    }

    /// connect(2): blocking waits for the handshake; non-blocking answers EINPROGRESS and the
    /// outcome comes later through writability and SO_ERROR.
    static func connect(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let bytes: [UInt8]
        switch addressBytes(k, a.address(1), a.int(2)) {
        case .failure(let e): return .failure(e)
        case .success(let b): bytes = b
        }
        let s: KernelSocket, f: OpenFile
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): (s, f) = found
        }
        guard let id = s.socketID else {
            // A socketpair end: unix_stream_connect refuses another family with EINVAL.
            return .failure(family(bytes) == AddressFamily.AF_UNIX ? .EISCONN : .EINVAL)
        }
        guard bytes.count >= 2 else { return .failure(.EINVAL) }
        let stack = k.networkStack()
        let now = k.platform.monotonicNanoseconds()
        if family(bytes) == AddressFamily.AF_UNSPEC && s.keepsBoundaries {
            // inet_dgram_connect: AF_UNSPEC dissolves the association.
            return stack.tcpConnect(id, to: .unspecified, now: now).map { 0 }
        }
        let remote: SocketAddress
        switch internetAddress(bytes) {
        case .failure(let e): return .failure(e)
        case .success(let r): remote = r
        }
        let started = stack.tcpConnect(id, to: remote, now: now)
        k.pumpNetwork()
        switch started {
        case .success: return .success(0)
        case .failure(.EINPROGRESS): break
        case .failure(let e): return .failure(e)
        }
        if f.statusFlags & nonblockFlag != 0 { return .failure(.EINPROGRESS) }
        let until = s.deadline(k, s.sendTimeout)
        while true {
            switch stack.connectResult(id) {
            case .success: return .success(0)
            case .failure(.EINPROGRESS):
                if let until, k.platform.monotonicNanoseconds() >= until { return .failure(.EINPROGRESS) }
                guard k.waitForNetwork(until: until) else { return .failure(.EINTR) }
            case .failure(let e): return .failure(e)
            }
        }
    }

    // MARK: sending and receiving

    /// sendto(fd, buf, len, flags, dest_addr, addrlen).
    static func sendto(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket, f: OpenFile
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): (s, f) = found
        }
        let length = a.size(2)
        guard length >= 0 else { return .failure(.EINVAL) }
        var destination: SocketAddress? = nil
        if !a.address(4).isNull {
            switch destinationAddress(k, s, a.address(4), a.int(5)) {
            case .failure(let e): return .failure(e)
            case .success(let d): destination = d
            }
        }
        return s.send(k, [(a.address(1), min(length, 0x7fff_f000))], flags: a.uint32(3),
                      nonblocking: f.statusFlags & nonblockFlag != 0, to: destination)
    }

    /// A destination for sendto/sendmsg; ignored on streams (tcp_sendmsg ignores msg_name).
    static func destinationAddress(_ k: KernelState, _ s: KernelSocket, _ address: UserAddress, _ length: Int) -> Result<SocketAddress?, Errno> {
        let bytes: [UInt8]
        switch addressBytes(k, address, length) {
        case .failure(let e): return .failure(e)
        case .success(let b): bytes = b
        }
        guard s.keepsBoundaries, s.socketID != nil else { return .success(nil) }
        if bytes.isEmpty { return .success(nil) }
        return internetAddress(bytes).map { Optional($0) }
    }

    /// recvfrom(fd, buf, len, flags, src_addr, addrlen). MSG_TRUNC returns a datagram's real
    /// length (recv(2)).
    static func recvfrom(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket, f: OpenFile
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): (s, f) = found
        }
        let length = a.size(2)
        guard length >= 0 else { return .failure(.EINVAL) }
        let flags = a.uint32(3)
        switch s.receive(k, [(a.address(1), min(length, 0x7fff_f000))], flags: flags,
                         nonblocking: f.statusFlags & nonblockFlag != 0) {
        case .failure(let e): return .failure(e)
        case .success(let got):
            if !a.address(4).isNull {
                // Streams and unnamed unix peers have no address: *addrlen becomes 0.
                let from = got.from.map { encode($0) } ?? []
                if let e = writeAddress(k, from, to: a.address(4), length: a.address(5)) { return .failure(e) }
            }
            if s.keepsBoundaries && flags & MessageFlags.MSG_TRUNC.rawValue != 0 { return .success(got.fullLength) }
            return .success(got.count)
        }
    }

    /// The struct msghdr at argument 1 and its iovecs (EMSGSIZE beyond UIO_MAXIOV).
    static func messageHeader(_ k: KernelState, _ address: UserAddress) -> Result<(MessageHeader, [(UserAddress, Int)]), Errno> {
        let header: MessageHeader
        switch k.memory.copyIn(address, count: MessageHeader.byteSize) {
        case .failure(let e): return .failure(e)
        case .success(let b):
            do { header = try MessageHeader.decode(from: b) } catch { return .failure(.EFAULT) }
        }
        guard header.iovLength <= 1024 else { return .failure(.EMSGSIZE) }
        switch FileSyscalls.iovecs(k, UserAddress(header.iov), Int(header.iovLength)) {
        case .failure(let e): return .failure(e)
        case .success(let v): return .success((header, v))
        }
    }

    static func sendmsg(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket, f: OpenFile
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): (s, f) = found
        }
        let header: MessageHeader, vectors: [(UserAddress, Int)]
        switch messageHeader(k, a.address(1)) {
        case .failure(let e): return .failure(e)
        case .success(let m): (header, vectors) = m
        }
        var destination: SocketAddress? = nil
        if header.name != 0 {
            switch destinationAddress(k, s, UserAddress(header.name), Int(Int32(bitPattern: header.nameLength))) {
            case .failure(let e): return .failure(e)
            case .success(let d): destination = d
            }
        }
        return s.send(k, vectors, flags: a.uint32(2), nonblocking: f.statusFlags & nonblockFlag != 0, to: destination)
    }

    static func recvmsg(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket, f: OpenFile
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): (s, f) = found
        }
        let header: MessageHeader, vectors: [(UserAddress, Int)]
        switch messageHeader(k, a.address(1)) {
        case .failure(let e): return .failure(e)
        case .success(let m): (header, vectors) = m
        }
        let flags = a.uint32(2)
        switch s.receive(k, vectors, flags: flags, nonblocking: f.statusFlags & nonblockFlag != 0) {
        case .failure(let e): return .failure(e)
        case .success(let got):
            let base = a.address(1)
            if header.name != 0 {
                // Streams report no address: msg_namelen becomes 0 (___sys_recvmsg).
                let from = got.from.map { encode($0) } ?? []
                let n = min(Int(header.nameLength), from.count)
                if n > 0, let e = k.memory.copyOut(UserAddress(header.name), from: from, count: n) { return .failure(e) }
                if let e = k.memory.writeUInt32(base.advanced(by: MessageHeader.nameLengthOffset), UInt32(from.count)) {
                    return .failure(e)
                }
            }
            if let e = k.memory.writeUInt64(base.advanced(by: MessageHeader.controlLengthOffset), 0) { return .failure(e) }
            var outFlags: UInt32 = 0
            if got.fullLength > got.count { outFlags |= MessageFlags.MSG_TRUNC.rawValue }
            if let e = k.memory.writeUInt32(base.advanced(by: MessageHeader.flagsOffset), outFlags) { return .failure(e) }
            if s.keepsBoundaries && flags & MessageFlags.MSG_TRUNC.rawValue != 0 { return .success(got.fullLength) }
            return .success(got.count)
        }
    }

    static func shutdown(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): s = found.0
        }
        let how = a.int32(1)
        guard how >= ShutdownHow.SHUT_RD && how <= ShutdownHow.SHUT_RDWR else { return .failure(.EINVAL) }
        switch s.backing {
        case .internet(let id):
            let mode: ShutdownMode = how == ShutdownHow.SHUT_RD ? .read : (how == ShutdownHow.SHUT_WR ? .write : .both)
            let result = k.networkStack().shutdown(id, mode, now: k.platform.monotonicNanoseconds()).map { 0 }
            k.pumpNetwork()
            k.notifyPollers()
            return result
        case .local(let end):
            if end.peer == nil { return .failure(.ENOTCONN) }
            end.shutdown(read: how != ShutdownHow.SHUT_WR, write: how != ShutdownHow.SHUT_RD)
            k.notifyPollers()
            return .success(0)
        }
    }

    // MARK: names

    static func getsockname(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): s = found.0
        }
        if let e = writeAddress(k, localAddressBytes(k, s), to: a.address(1), length: a.address(2)) { return .failure(e) }
        return .success(0)
    }

    static func getpeername(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let s: KernelSocket
        switch socket(k, a, 0) {
        case .failure(let e): return .failure(e)
        case .success(let found): s = found.0
        }
        switch peerAddressBytes(k, s) {
        case .failure(let e): return .failure(e)
        case .success(let bytes):
            if let e = writeAddress(k, bytes, to: a.address(1), length: a.address(2)) { return .failure(e) }
            return .success(0)
        }
    }
}
