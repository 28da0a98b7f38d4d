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
// AF_UNIX sockets are handed to UnixSocketCalls.swift (names, connections, ancillary data).
// Not supported (documented divergences): AF_INET6, AF_NETLINK, AF_PACKET (EAFNOSUPPORT),
// SOCK_RAW for AF_INET (EPROTONOSUPPORT), ancillary data on AF_INET sockets (ignored on
// send, msg_controllen comes back 0).
import LinuxABI
import Net

enum SocketSyscalls {
    static let addressStorageSize = 128   // sizeof(struct sockaddr_storage)
    static let socketFlags = UInt64(SocketType.SOCK_NONBLOCK | SocketType.SOCK_CLOEXEC)

    // MARK: argument decoding

    /// The socket behind descriptor argument `i`: EBADF, or ENOTSOCK for any other file.
    static func socket(_ k: KernelState, _ a: SyscallArguments, _ i: Int) throws(Errno) -> (KernelSocket, OpenFile) {
        let f = try FileSyscalls.file(k, a, i)
        guard let s = f.object as? KernelSocket else { throw .ENOTSOCK }
        return (s, f)
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
        case .local(let end): return end.name ?? unnamedLocalAddress
        }
    }

    static func peerAddressBytes(_ k: KernelState, _ s: KernelSocket) -> Result<[UInt8], Errno> {
        switch s.backing {
        case .internet(let id): return k.networkStack().peerAddress(id).map { encode($0) }
        case .local(let end):
            guard let p = end.peer else { return .failure(.ENOTCONN) }
            return .success(p.name ?? unnamedLocalAddress)
        }
    }

    static func install(_ k: KernelState, _ s: KernelSocket, flags: UInt64) throws(Errno) -> Int {
        try k.installObject(s, flags: 2 | (flags & nonblockFlag), closeOnExec: flags & cloexecFlag != 0)
    }

    // MARK: socket, socketpair

    /// socket(domain, type, protocol) (socket(2), ip(7)).
    static func socket(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let domain = a.int32(0), typeWord = a.uint32(1), protocolNumber = a.int32(2)
        let base = typeWord & 0xf, flags = UInt64(typeWord & ~0xf)
        guard flags & ~socketFlags == 0 else { throw .EINVAL }
        guard domain >= 0 && domain < 46 else { throw .EAFNOSUPPORT }   // AF_MAX
        guard base < 11 else { throw .EINVAL }                         // SOCK_MAX
        if domain == Int32(AddressFamily.AF_UNIX) {
            return try localSocket(k, base: base, protocolNumber: protocolNumber, flags: flags)
        }
        guard domain == Int32(AddressFamily.AF_INET) else { throw .EAFNOSUPPORT }
        let stack = k.networkStack()
        let id: SocketID
        switch base {
        case SocketType.SOCK_STREAM:
            guard protocolNumber == 0 || protocolNumber == SocketLevel.IPPROTO_TCP else { throw .EPROTONOSUPPORT }
            id = stack.openTCP()
        case SocketType.SOCK_DGRAM:
            guard protocolNumber == 0 || protocolNumber == SocketLevel.IPPROTO_UDP else { throw .EPROTONOSUPPORT }
            id = stack.openUDP()
        case SocketType.SOCK_RAW:
            throw .EPROTONOSUPPORT
        default:
            throw .ESOCKTNOSUPPORT   // inet_create: no protocol of that type
        }
        let s = KernelSocket(.internet(id), domain: AddressFamily.AF_INET, type: base,
                             protocolNumber: base == SocketType.SOCK_STREAM ? SocketLevel.IPPROTO_TCP : SocketLevel.IPPROTO_UDP)
        do {
            return try install(k, s, flags: flags)
        } catch {
            stack.close(id, now: k.platform.monotonicNanoseconds())
            throw error
        }
    }

    /// socketpair(AF_UNIX, type, 0, sv[2]): two connected ends (unix(7)).
    static func socketpair(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let domain = a.int32(0), typeWord = a.uint32(1), protocolNumber = a.int32(2)
        let base = typeWord & 0xf, flags = UInt64(typeWord & ~0xf)
        guard flags & ~socketFlags == 0 else { throw .EINVAL }
        guard domain >= 0 && domain < 46 else { throw .EAFNOSUPPORT }
        guard base < 11 else { throw .EINVAL }
        if domain == Int32(AddressFamily.AF_INET) { throw .EOPNOTSUPP }   // inet has no socketpair
        guard domain == Int32(AddressFamily.AF_UNIX) else { throw .EAFNOSUPPORT }
        guard protocolNumber == 0 || protocolNumber == Int32(AddressFamily.AF_UNIX) else { throw .EPROTONOSUPPORT }
        guard base == SocketType.SOCK_STREAM || base == SocketType.SOCK_DGRAM || base == SocketType.SOCK_SEQPACKET else {
            throw .ESOCKTNOSUPPORT
        }
        // The result array is checked before anything is made, as Linux's copy_to_user of sv
        // would fail after creating (and then dropping) both.
        guard case .success = k.memory.copyIn(a.address(3), count: 8) else { throw .EFAULT }
        let (x, y) = LocalSocketEnd.pair(type: base, credentials: k.localCredentials())
        let first = KernelSocket(.local(x), domain: AddressFamily.AF_UNIX, type: base, protocolNumber: 0)
        let second = KernelSocket(.local(y), domain: AddressFamily.AF_UNIX, type: base, protocolNumber: 0)
        guard let fd0 = try? install(k, first, flags: flags) else { throw .EMFILE }
        guard let fd1 = try? install(k, second, flags: flags) else {
            _ = try FileSyscalls.closeDescriptor(k, fd0)
            throw .EMFILE
        }
        var w = ByteWriter()
        w.u32(UInt32(fd0)); w.u32(UInt32(fd1))
        if let e = k.memory.copyOut(a.address(3), from: w.bytes) {
            _ = try FileSyscalls.closeDescriptor(k, fd0)
            _ = try FileSyscalls.closeDescriptor(k, fd1)
            throw e
        }
        return 0
    }

    // MARK: bind, listen, accept, connect

    static func bind(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        let bytes: [UInt8]
        bytes = try addressBytes(k, a.address(1), a.int(2)).get()
        guard let id = s.socketID else {
            guard case .local(let end) = s.backing else { throw .EINVAL }
            return try localBind(k, end, bytes)
        }
        let address = try internetAddress(bytes, allowUnspecified: true).get()
        _ = try k.networkStack().bind(id, to: address).get()
        return 0
    }

    static func listen(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        var backlog = Int(a.int32(1))
        if backlog < 0 || backlog > 4096 { backlog = 4096 }   // (unsigned)backlog > somaxconn
        if case .local(let end) = s.backing { return try localListen(k, end, backlog: backlog) }
        guard let id = s.socketID else { throw .EINVAL }
        if s.type != SocketType.SOCK_STREAM { throw .EOPNOTSUPP }
        let result = k.networkStack().tcpListen(id, backlog: backlog)
        k.pumpNetwork()
        _ = try result.get()
        return 0
    }

    static func accept(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try acceptConnection(k, a, flags: 0)
    }

    static func accept4(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[3] & ~socketFlags == 0 else { throw .EINVAL }
        return try acceptConnection(k, a, flags: a[3])
    }

    /// accept(2): the next connection on a listener, waiting for one unless non-blocking.
    static func acceptConnection(_ k: KernelState, _ a: SyscallArguments, flags: UInt64) throws(Errno) -> Int {
        let s: KernelSocket, f: OpenFile
        let found = try socket(k, a, 0)
        (s, f) = found
        if case .local(let end) = s.backing { return try localAccept(k, a, s, f, end, flags: flags) }
        guard let id = s.socketID else { throw .EINVAL }
        let stack = k.networkStack()
        let until = s.deadline(k, s.receiveTimeout)
        var accepted: (SocketID, SocketAddress)
        while true {
            switch stack.accept(id, now: k.platform.monotonicNanoseconds()) {
            case .success(let pair):
                accepted = pair
            case .failure(.EAGAIN):
                s.readinessFell(k)
                if f.statusFlags & nonblockFlag != 0 { throw .EAGAIN }
                if let until, k.platform.monotonicNanoseconds() >= until { throw .EAGAIN }
                guard k.waitForNetwork(until: until) else { throw .EINTR }
                continue
            case .failure(let e):
                throw e
            }
            break
        }
        k.pumpNetwork()
        let child = KernelSocket(.internet(accepted.0), domain: s.domain, type: s.type, protocolNumber: s.protocolNumber)
        child.sendBufferOption = s.sendBufferOption
        child.receiveBufferOption = s.receiveBufferOption
        let fd: Int
        do {
            fd = try install(k, child, flags: flags)
        } catch {
            child.closed(k)
            throw error
        }
        if !a.address(1).isNull {
            if let e = writeAddress(k, encode(accepted.1), to: a.address(1), length: a.address(2)) {
                _ = try FileSyscalls.closeDescriptor(k, fd)
                throw e
            }
        }
        return fd
    }

    /// connect(2): blocking waits for the handshake; non-blocking answers EINPROGRESS and the
    /// outcome comes later through writability and SO_ERROR.
    static func connect(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let bytes: [UInt8]
        bytes = try addressBytes(k, a.address(1), a.int(2)).get()
        let s: KernelSocket, f: OpenFile
        let found = try socket(k, a, 0)
        (s, f) = found
        if case .local(let end) = s.backing { return try localConnect(k, s, f, end, bytes) }
        guard let id = s.socketID else { throw .EINVAL }
        guard bytes.count >= 2 else { throw .EINVAL }
        let stack = k.networkStack()
        let now = k.platform.monotonicNanoseconds()
        if family(bytes) == AddressFamily.AF_UNSPEC && s.keepsBoundaries {
            // inet_dgram_connect: AF_UNSPEC dissolves the association.
            _ = try stack.tcpConnect(id, to: .unspecified, now: now).get()
            return 0
        }
        let remote: SocketAddress
        remote = try internetAddress(bytes).get()
        let started = stack.tcpConnect(id, to: remote, now: now)
        k.pumpNetwork()
        switch started {
        case .success: return 0
        case .failure(.EINPROGRESS): break
        case .failure(let e): throw e
        }
        if f.statusFlags & nonblockFlag != 0 { throw .EINPROGRESS }
        let until = s.deadline(k, s.sendTimeout)
        while true {
            switch stack.connectResult(id) {
            case .success: return 0
            case .failure(.EINPROGRESS):
                if let until, k.platform.monotonicNanoseconds() >= until { throw .EINPROGRESS }
                guard k.waitForNetwork(until: until) else { throw .EINTR }
            case .failure(let e): throw e
            }
        }
    }

    // MARK: sending and receiving

    /// sendto(fd, buf, len, flags, dest_addr, addrlen).
    static func sendto(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket, f: OpenFile
        let found = try socket(k, a, 0)
        (s, f) = found
        let length = a.size(2)
        guard length >= 0 else { throw .EINVAL }
        var destination: SocketAddress? = nil
        var extras: LocalSendExtras? = nil
        if case .local(let end) = s.backing {
            var e = LocalSendExtras()
            if !a.address(4).isNull {
                let bytes = try addressBytes(k, a.address(4), a.int(5)).get()
                e.destination = try localDestination(k, end, bytes).get()
            }
            extras = e
        } else if !a.address(4).isNull {
            destination = try destinationAddress(k, s, a.address(4), a.int(5)).get()
        }
        return try s.send(k, .guest([(a.address(1), min(length, 0x7fff_f000))]), flags: a.uint32(3),
                          nonblocking: f.statusFlags & nonblockFlag != 0, to: destination, local: extras)
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
    static func recvfrom(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket, f: OpenFile
        let found = try socket(k, a, 0)
        (s, f) = found
        let length = a.size(2)
        guard length >= 0 else { throw .EINVAL }
        let flags = a.uint32(3)
        switch s.receive(k, [(a.address(1), min(length, 0x7fff_f000))], flags: flags,
                         nonblocking: f.statusFlags & nonblockFlag != 0) {
        case .failure(let e): throw e
        case .success(let got):
            if !a.address(4).isNull {
                // Streams and unnamed unix peers have no address: *addrlen becomes 0.
                let from = got.from.map { encode($0) } ?? (got.local?.sourceName ?? [])
                if let e = writeAddress(k, from, to: a.address(4), length: a.address(5)) { throw e }
            }
            // recvfrom has no control buffer: descriptors in flight are closed.
            if let d = got.local, !d.peeked { k.releaseInFlight(d.rights) }
            if s.keepsBoundaries && flags & MessageFlags.MSG_TRUNC.rawValue != 0 { return got.fullLength }
            return got.count
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

    static func sendmsg(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let found = try socket(k, a, 0)
        return try sendMessage(k, found.0, found.1, a.address(1), flags: a.uint32(2))
    }

    /// One sendmsg: the struct msghdr at `headerAddress` (sendmsg, and each of sendmmsg's).
    static func sendMessage(_ k: KernelState, _ s: KernelSocket, _ f: OpenFile, _ headerAddress: UserAddress,
                            flags: UInt32) throws(Errno) -> Int {
        let header: MessageHeader, vectors: [(UserAddress, Int)]
        (header, vectors) = try messageHeader(k, headerAddress).get()
        var destination: SocketAddress? = nil
        var extras: LocalSendExtras? = nil
        if case .local(let end) = s.backing {
            var e = try localControl(k, header).get()
            if header.name != 0 {
                let bytes = try addressBytes(k, UserAddress(header.name), Int(Int32(bitPattern: header.nameLength))).get()
                e.destination = try localDestination(k, end, bytes).get()
            }
            extras = e
        } else if header.name != 0 {
            destination = try destinationAddress(k, s, UserAddress(header.name), Int(Int32(bitPattern: header.nameLength))).get()
        }
        return try s.send(k, .guest(vectors), flags: flags, nonblocking: f.statusFlags & nonblockFlag != 0,
                          to: destination, local: extras)
    }

    static func recvmsg(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let found = try socket(k, a, 0)
        return try receiveMessage(k, found.0, found.1, a.address(1), flags: a.uint32(2))
    }

    /// One recvmsg into the struct msghdr at `base` (recvmsg, and each of recvmmsg's).
    static func receiveMessage(_ k: KernelState, _ s: KernelSocket, _ f: OpenFile, _ base: UserAddress,
                               flags: UInt32) throws(Errno) -> Int {
        let header: MessageHeader, vectors: [(UserAddress, Int)]
        (header, vectors) = try messageHeader(k, base).get()
        let got = try s.receive(k, vectors, flags: flags, nonblocking: f.statusFlags & nonblockFlag != 0).get()
        if header.name != 0 {
            // Streams report no address: msg_namelen becomes 0 (___sys_recvmsg).
            let from = got.from.map { encode($0) } ?? (got.local?.sourceName ?? [])
            let n = min(Int(header.nameLength), from.count)
            if n > 0, let e = k.memory.copyOut(UserAddress(header.name), from: from, count: n) { throw e }
            if let e = k.memory.writeUInt32(base.advanced(by: MessageHeader.nameLengthOffset), UInt32(from.count)) {
                throw e
            }
        }
        var controlUsed = 0
        var outFlags: UInt32 = 0
        if s.domain == AddressFamily.AF_UNIX {
            let passCredentials = storedOption(s, SocketLevel.SOL_SOCKET, soPassCred, initial: 0) != 0
            let delivered = deliverLocalControl(k, header, got.local, passCredentials: passCredentials,
                                                closeOnExec: flags & MessageFlags.MSG_CMSG_CLOEXEC.rawValue != 0)
            controlUsed = delivered.used
            if delivered.truncated { outFlags |= MessageFlags.MSG_CTRUNC.rawValue }
        }
        if let e = k.memory.writeUInt64(base.advanced(by: MessageHeader.controlLengthOffset), UInt64(controlUsed)) { throw e }
        if got.fullLength > got.count { outFlags |= MessageFlags.MSG_TRUNC.rawValue }
        if let e = k.memory.writeUInt32(base.advanced(by: MessageHeader.flagsOffset), outFlags) { throw e }
        if s.keepsBoundaries && flags & MessageFlags.MSG_TRUNC.rawValue != 0 { return got.fullLength }
        return got.count
    }

    static func shutdown(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        let how = a.int32(1)
        guard how >= ShutdownHow.SHUT_RD && how <= ShutdownHow.SHUT_RDWR else { throw .EINVAL }
        switch s.backing {
        case .internet(let id):
            let mode: ShutdownMode = how == ShutdownHow.SHUT_RD ? .read : (how == ShutdownHow.SHUT_WR ? .write : .both)
            let result = k.networkStack().shutdown(id, mode, now: k.platform.monotonicNanoseconds())
            k.pumpNetwork()
            k.notifyPollers()
            _ = try result.get()
            return 0
        case .local(let end):
            // unix_shutdown: no ENOTCONN; an unconnected socket just records the mask.
            end.shutdown(read: how != ShutdownHow.SHUT_WR, write: how != ShutdownHow.SHUT_RD)
            k.notifyPollers()
            return 0
        }
    }

    // MARK: names

    static func getsockname(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        if let e = writeAddress(k, localAddressBytes(k, s), to: a.address(1), length: a.address(2)) { throw e }
        return 0
    }

    static func getpeername(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        let bytes = try peerAddressBytes(k, s).get()
        if let e = writeAddress(k, bytes, to: a.address(1), length: a.address(2)) { throw e }
        return 0
    }
}
