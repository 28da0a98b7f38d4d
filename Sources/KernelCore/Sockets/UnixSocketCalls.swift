// UnixSocketCalls — AF_UNIX's side of the socket calls (KernelCore/Sockets), per unix(7):
// socket(AF_UNIX), bind to a path, an abstract name or by autobind, listen, accept, connect,
// datagram destinations, SO_PEERCRED, and ancillary data (SCM_RIGHTS, SCM_CREDENTIALS) for
// sendmsg/recvmsg (cmsg(3)).
//
// SocketSyscalls.swift decodes the arguments and hands AF_UNIX sockets here; the socket state
// is UnixSocketEnd.swift, the names UnixSocketNames.swift, the blocking send/receive loops
// KernelSocket.swift. Linux source followed: net/unix/af_unix.c, net/core/scm.c
// (__scm_send, scm_detach_fds, put_cmsg), net/socket.c (____sys_sendmsg, ___sys_recvmsg).
import LinuxABI

extension KernelState {
    /// The credentials AF_UNIX records for the calling process (SO_PEERCRED, SCM_CREDENTIALS
    /// and the check on credentials a sender claims). The one place to read real uids and gids
    /// from once processes carry them; today every process runs as root.
    func localCredentials() -> LocalCredentials {
        let c = currentThread.credentials
        return LocalCredentials(pid: Int32(truncatingIfNeeded: process.pid), uid: c.uid, gid: c.gid)
    }

    /// Drop the references that descriptions in flight held (a queue discarded, descriptors
    /// that did not fit in the receiver's control buffer): the last one closes the object.
    func releaseInFlight(_ files: [OpenFile]) {
        for f in files {
            f.references -= 1
            if f.references == 0, let o = f.object { o.closed(self) }
        }
    }
}

extension SocketSyscalls {
    static let scmRights: Int32 = 1, scmCredentials: Int32 = 2
    static let soPassCred: Int32 = 16, soPeerCred: Int32 = 17
    /// SCM_MAX_FD: the most descriptors one message may carry (include/net/scm.h).
    static let maximumRights = 253
    /// sizeof(struct cmsghdr) on x86-64: cmsg_len (size_t), cmsg_level, cmsg_type (int).
    static let controlHeaderSize = 16
    /// The most ancillary data a sendmsg copies in (net.core.optmem_max; more is ENOBUFS).
    static let maximumControl = 131_072

    static func controlAlign(_ n: Int) -> Int { (n + 7) & ~7 }

    // MARK: socket

    /// socket(AF_UNIX, type, protocol): unix_create. SOCK_RAW is taken as SOCK_DGRAM.
    static func localSocket(_ k: KernelState, base: UInt32, protocolNumber: Int32, flags: UInt64) throws(Errno) -> Int {
        guard protocolNumber == 0 || protocolNumber == Int32(AddressFamily.AF_UNIX) else { throw .EPROTONOSUPPORT }
        var type = base
        if type == SocketType.SOCK_RAW { type = SocketType.SOCK_DGRAM }
        guard type == SocketType.SOCK_STREAM || type == SocketType.SOCK_DGRAM || type == SocketType.SOCK_SEQPACKET else {
            throw .ESOCKTNOSUPPORT
        }
        let end = LocalSocketEnd(type: type, credentials: k.localCredentials())
        return try install(k, KernelSocket(.local(end), domain: AddressFamily.AF_UNIX, type: type, protocolNumber: 0), flags: flags)
    }

    // MARK: names

    /// The socket a name refers to, for connect(2) and sendto(2): ENOENT (and the other
    /// path errors) for a missing path, ECONNREFUSED when nothing is bound there or the name
    /// is not a socket, EPROTOTYPE for a socket of another type (unix_find_other).
    static func lookUpLocal(_ k: KernelState, _ address: LocalAddress, type: UInt32) -> Result<LocalSocketEnd, Errno> {
        let end: LocalSocketEnd
        switch address {
        case .unnamed:
            return .failure(.EINVAL)
        case .abstract(let name):
            guard let found = k.localSocketNames.socket(abstract: name) else { return .failure(.ECONNREFUSED) }
            end = found
        case .path(let path):
            let inode: Inode
            switch k.files.fileSystem.resolve(path, from: k.files.workingDirectory) {
            case .failure(let e): return .failure(e)
            case .success(let i): inode = i
            }
            guard inode.kind == .socket, let found = k.localSocketNames.socket(boundTo: inode) else {
                return .failure(.ECONNREFUSED)
            }
            end = found
        }
        guard end.type == type else { return .failure(.EPROTOTYPE) }
        return .success(end)
    }

    /// bind(2) for AF_UNIX (unix_bind): EINVAL when already bound, EADDRINUSE when the name
    /// is taken (a path that exists, whatever it is), autobind for a bare family.
    static func localBind(_ k: KernelState, _ end: LocalSocketEnd, _ bytes: [UInt8]) throws(Errno) -> Int {
        let address = try LocalAddress.decode(bytes).get()
        let names = k.localSocketNames
        // unix_bind_bsd makes the node before it looks at the socket: an existing path is
        // EADDRINUSE even for a bound socket, a new one is made and removed again (EINVAL).
        if end.name != nil, case .path(let path) = address {
            let fs = k.files.fileSystem
            switch fs.makeNode(path, from: k.files.workingDirectory, kind: .socket, permissions: 0) {
            case .failure(.EEXIST): throw .EADDRINUSE
            case .failure(let e): throw e
            case .success: _ = fs.unlink(path, from: k.files.workingDirectory)
            }
        }
        if end.name != nil { throw .EINVAL }
        switch address {
        case .unnamed:
            guard let name = names.autobindName() else { throw .ENOSPC }
            names.abstractNames.append((name, end))
            end.name = LocalAddress.abstract(name).encoded
        case .abstract(let name):
            if names.socket(abstract: name) != nil { throw .EADDRINUSE }
            names.abstractNames.append((name, end))
            end.name = address.encoded
        case .path(let path):
            // unix_bind_bsd: mknod S_IFSOCK with the umask applied; an existing name is
            // EADDRINUSE.
            let permissions = 0o777 & ~k.process.umask
            switch k.files.fileSystem.makeNode(path, from: k.files.workingDirectory, kind: .socket, permissions: permissions) {
            case .failure(.EEXIST): throw .EADDRINUSE
            case .failure(let e): throw e
            case .success(let inode): names.boundInodes.append((inode, end))
            }
            end.name = address.encoded
        }
        end.ownsName = true
        return 0
    }

    /// listen(2) for AF_UNIX (unix_listen).
    static func localListen(_ k: KernelState, _ end: LocalSocketEnd, backlog: Int) throws(Errno) -> Int {
        guard end.isConnectionBased else { throw .EOPNOTSUPP }
        guard end.name != nil, !end.wasConnected else { throw .EINVAL }
        end.listening = true
        end.backlog = backlog
        end.ownCredentials = k.localCredentials()   // init_peercred at listen
        k.notifyPollers()
        return 0
    }

    /// connect(2) for AF_UNIX. Datagram: sets (or with AF_UNSPEC clears) the default
    /// destination. Stream and seqpacket: queues a new connection on the listener and returns
    /// at once; waits (or EAGAIN when non-blocking) while the listener's queue is full.
    static func localConnect(_ k: KernelState, _ s: KernelSocket, _ f: OpenFile, _ end: LocalSocketEnd, _ bytes: [UInt8]) throws(Errno) -> Int {
        if !end.isConnectionBased {
            if family(bytes) == AddressFamily.AF_UNSPEC {
                end.peer = nil   // unix_dgram_connect: AF_UNSPEC dissolves the association
                k.notifyPollers()
                return 0
            }
            let target = try lookUpLocal(k, try LocalAddress.decode(bytes).get(), type: end.type).get()
            end.peer = target
            end.peerCredentials = target.ownCredentials
            k.notifyPollers()
            return 0
        }
        let address = try LocalAddress.decode(bytes).get()
        if address == .unnamed { throw .EINVAL }
        if end.listening { throw .EINVAL }
        if end.wasConnected { throw .EISCONN }
        let until = s.deadline(k, s.sendTimeout)
        while true {
            let target = try lookUpLocal(k, address, type: end.type).get()
            guard target.listening, !target.isClosed else { throw .ECONNREFUSED }
            if target.pending.count <= target.backlog {
                end.ownCredentials = k.localCredentials()
                let server = LocalSocketEnd(type: end.type, credentials: target.ownCredentials)
                server.name = target.name
                server.capacity = target.capacity
                end.connect(to: server)
                server.connect(to: end)
                target.pending.append(server)
                k.notifyPollers()
                return 0
            }
            if f.statusFlags & nonblockFlag != 0 { throw .EAGAIN }
            if let until, k.platform.monotonicNanoseconds() >= until { throw .EAGAIN }
            guard k.waitForNetwork(until: until) else { throw .EINTR }
        }
    }

    /// accept(2) for AF_UNIX: the oldest queued connection.
    static func localAccept(_ k: KernelState, _ a: SyscallArguments, _ s: KernelSocket, _ f: OpenFile,
                            _ end: LocalSocketEnd, flags: UInt64) throws(Errno) -> Int {
        guard end.isConnectionBased else { throw .EOPNOTSUPP }
        guard end.listening else { throw .EINVAL }
        let until = s.deadline(k, s.receiveTimeout)
        while end.pending.isEmpty {
            s.readinessFell(k)
            if f.statusFlags & nonblockFlag != 0 { throw .EAGAIN }
            if let until, k.platform.monotonicNanoseconds() >= until { throw .EAGAIN }
            guard k.waitForNetwork(until: until) else { throw .EINTR }
        }
        let server = end.pending.removeFirst()
        let child = KernelSocket(.local(server), domain: AddressFamily.AF_UNIX, type: s.type, protocolNumber: 0)
        child.sendBufferOption = s.sendBufferOption
        child.receiveBufferOption = s.receiveBufferOption
        let fd: Int
        do {
            fd = try install(k, child, flags: flags)
        } catch {
            end.pending.insert(server, at: 0)
            throw error
        }
        k.notifyPollers()
        if !a.address(1).isNull {
            let peerName = server.peer?.name ?? unnamedLocalAddress
            if let e = writeAddress(k, peerName, to: a.address(1), length: a.address(2)) {
                _ = try FileSyscalls.closeDescriptor(k, fd)
                throw e
            }
        }
        return fd
    }

    /// A datagram's destination for sendto/sendmsg on an AF_UNIX socket (nil: none given).
    /// A connection-based socket takes no address: EISCONN when connected, EOPNOTSUPP
    /// otherwise (unix_stream_sendmsg, unix_seqpacket_sendmsg).
    static func localDestination(_ k: KernelState, _ end: LocalSocketEnd, _ bytes: [UInt8]) -> Result<LocalSocketEnd?, Errno> {
        if bytes.isEmpty { return .success(nil) }
        if end.isConnectionBased {
            return end.wasConnected ? .failure(.EISCONN) : .failure(.EOPNOTSUPP)
        }
        switch LocalAddress.decode(bytes) {
        case .failure(let e): return .failure(e)
        case .success(let address): return lookUpLocal(k, address, type: end.type).map { Optional($0) }
        }
    }

    // MARK: ancillary data

    /// The SCM_RIGHTS and SCM_CREDENTIALS a sendmsg carries (__scm_send): each cmsghdr must
    /// fit (EINVAL), descriptors must be open (EBADF), at most SCM_MAX_FD of them (EINVAL);
    /// claimed credentials must be the sender's unless it is root (EPERM). Other levels are
    /// skipped, as Linux skips them for AF_UNIX.
    static func localControl(_ k: KernelState, _ header: MessageHeader) -> Result<LocalSendExtras, Errno> {
        var extras = LocalSendExtras()
        guard header.control != 0, header.controlLength >= UInt64(controlHeaderSize) else { return .success(extras) }
        guard header.controlLength <= UInt64(maximumControl) else { return .failure(.ENOBUFS) }
        let bytes: [UInt8]
        switch k.memory.copyIn(UserAddress(header.control), count: Int(header.controlLength)) {
        case .failure(let e): return .failure(e)
        case .success(let b): bytes = b
        }
        let r = ByteReader(bytes)
        var offset = 0
        while offset + controlHeaderSize <= bytes.count {
            let length = r.u64(offset)
            guard length >= UInt64(controlHeaderSize), length <= UInt64(bytes.count - offset) else { return .failure(.EINVAL) }
            let level = Int32(bitPattern: r.u32(offset + 8)), type = Int32(bitPattern: r.u32(offset + 12))
            let dataLength = Int(length) - controlHeaderSize
            if level == SocketLevel.SOL_SOCKET {
                switch type {
                case scmRights:
                    let count = dataLength / 4
                    guard extras.rights.count + count <= maximumRights else { return .failure(.EINVAL) }
                    for i in 0..<count {
                        let fd = Int(Int32(bitPattern: r.u32(offset + controlHeaderSize + 4 * i)))
                        guard let file = k.files[fd] else { return .failure(.EBADF) }
                        extras.rights.append(file)
                    }
                case scmCredentials:
                    guard dataLength == 12 else { return .failure(.EINVAL) }
                    let claimed = LocalCredentials(pid: Int32(bitPattern: r.u32(offset + 16)), uid: r.u32(offset + 20),
                                                   gid: r.u32(offset + 24))
                    let own = k.localCredentials()
                    if own.uid != 0 && claimed != own { return .failure(.EPERM) }
                    extras.credentials = claimed
                default:
                    return .failure(.EINVAL)
                }
            }
            offset += controlAlign(Int(length))
        }
        return .success(extras)
    }

    /// Writes a recvmsg's ancillary data into the guest's control buffer as put_cmsg and
    /// scm_detach_fds do: credentials first (with SO_PASSCRED), then as many descriptors as
    /// fit, MSG_CTRUNC when something did not. Returns the bytes used and the flag.
    static func deliverLocalControl(_ k: KernelState, _ header: MessageHeader, _ delivery: LocalDelivery?,
                                    passCredentials: Bool, closeOnExec: Bool) -> (used: Int, truncated: Bool) {
        let base = UserAddress(header.control)
        var remaining = header.control == 0 ? 0 : Int(min(header.controlLength, UInt64(Int32.max)))
        var used = 0
        var truncated = false
        // put_cmsg: a header and the data, cut to what is left; the cursor moves by
        // CMSG_SPACE or what is left.
        func put(_ type: Int32, _ data: [UInt8]) {
            if remaining < controlHeaderSize { truncated = true; return }
            var length = controlHeaderSize + data.count
            if remaining < length { truncated = true; length = remaining }
            var w = ByteWriter()
            w.u64(UInt64(length))
            w.u32(UInt32(bitPattern: SocketLevel.SOL_SOCKET))
            w.u32(UInt32(bitPattern: type))
            var out = w.bytes
            out += data[0..<(length - controlHeaderSize)]
            if k.memory.copyOut(base.advanced(by: used), from: out) != nil { truncated = true; return }
            let step = min(controlAlign(controlHeaderSize + data.count), remaining)
            used += step
            remaining -= step
        }
        if passCredentials {
            let c = delivery?.credentials ?? LocalCredentials.nobody
            var w = ByteWriter()
            w.u32(UInt32(bitPattern: c.pid)); w.u32(c.uid); w.u32(c.gid)
            put(scmCredentials, w.bytes)
        }
        guard let delivery, !delivery.rights.isEmpty else { return (used, truncated) }
        let room = remaining > controlHeaderSize ? (remaining - controlHeaderSize) / 4 : 0
        var installed: [Int] = []
        for file in delivery.rights where installed.count < room {
            guard case .success(let fd) = k.files.install(file, closeOnExec: closeOnExec) else { break }
            installed.append(fd)
        }
        if !installed.isEmpty {
            var w = ByteWriter()
            for fd in installed { w.u32(UInt32(fd)) }
            put(scmRights, w.bytes)
        }
        if installed.count < delivery.rights.count { truncated = true }
        // The queue's references go with the message (a peek leaves them queued).
        if !delivery.peeked { k.releaseInFlight(delivery.rights) }
        return (used, truncated)
    }

    /// SO_PEERCRED: struct ucred of the peer when connected, the socket's own credentials
    /// when listening, else pid 0 and the overflow ids.
    static func peerCredentialBytes(_ s: KernelSocket) -> [UInt8] {
        var c = LocalCredentials.nobody
        if case .local(let end) = s.backing {
            if end.listening { c = end.ownCredentials } else if let p = end.peerCredentials { c = p }
        }
        var w = ByteWriter()
        w.u32(UInt32(bitPattern: c.pid)); w.u32(c.uid); w.u32(c.gid)
        return w.bytes
    }
}
