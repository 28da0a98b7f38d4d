// SocketOptions — setsockopt(2) and getsockopt(2) (KernelCore/Sockets).
//
// SOL_SOCKET options follow net/core/sock.c (socket(7)): int options need optlen >= 4
// (EINVAL), SO_SNDBUF/SO_RCVBUF are clamped to wmem_max/rmem_max and doubled, SO_RCVTIMEO /
// SO_SNDTIMEO take a struct timeval (EDOM for tv_usec outside 0...999999), SO_ERROR returns
// and clears the pending error; read-only options (SO_TYPE, SO_ERROR, ...) are ENOPROTOOPT
// to set. IPPROTO_TCP (tcp(7)) and IPPROTO_IP (ip(7)) options apply to inet sockets; an
// unknown option or level is ENOPROTOOPT (a unix socket's non-socket level: EOPNOTSUPP).
// getsockopt writes min(*optlen, size) bytes and stores that count back in *optlen.
// The socket calls themselves are SocketSyscalls.swift; the object is KernelSocket.swift.
import LinuxABI
import Net

extension SocketSyscalls {
    /// Options with no effect here that are still accepted and read back, with defaults.
    static let rememberedSocketOptions: [(name: Int32, initial: Int32)] = [
        (SocketOption.SO_DEBUG, 0), (SocketOption.SO_DONTROUTE, 0), (SocketOption.SO_BROADCAST, 0),
        (SocketOption.SO_OOBINLINE, 0), (12, 0) /* SO_PRIORITY */, (14, 0) /* SO_BSDCOMPAT */,
        (16, 0) /* SO_PASSCRED */, (SocketOption.SO_RCVLOWAT, 1),
    ]
    static let rememberedTCPOptions: [(name: Int32, initial: Int32)] = [
        (TCPOption.TCP_MAXSEG, 536), (TCPOption.TCP_CORK, 0), (TCPOption.TCP_KEEPIDLE, 7200),
        (TCPOption.TCP_KEEPINTVL, 75), (TCPOption.TCP_KEEPCNT, 9), (TCPOption.TCP_QUICKACK, 1),
    ]
    static let rememberedIPOptions: [(name: Int32, initial: Int32)] = [
        (1, 0) /* IP_TOS */, (2, 64) /* IP_TTL */,
    ]

    static func remembered(_ table: [(name: Int32, initial: Int32)], _ name: Int32) -> Int32? {
        for entry in table where entry.name == name { return entry.initial }
        return nil
    }

    static func storedOption(_ s: KernelSocket, _ level: Int32, _ name: Int32, initial: Int32) -> Int32 {
        for o in s.otherOptions where o.level == level && o.name == name { return o.value }
        return initial
    }

    static func storeOption(_ s: KernelSocket, _ level: Int32, _ name: Int32, _ value: Int32) {
        s.otherOptions.removeAll { $0.level == level && $0.name == name }
        s.otherOptions.append((level, name, value))
    }

    // MARK: setsockopt

    static func setsockopt(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        let level = a.int32(1), name = a.int32(2), value = a.address(3), length = Int(a.int32(4))
        guard length >= 0 else { throw .EINVAL }
        if level == SocketLevel.SOL_SOCKET { return try setSocketLevel(k, s, name, value, length) }
        guard let id = s.socketID else { throw .EOPNOTSUPP }
        if level == SocketLevel.IPPROTO_TCP && s.type == SocketType.SOCK_STREAM {
            guard name == TCPOption.TCP_NODELAY || remembered(rememberedTCPOptions, name) != nil else {
                throw .ENOPROTOOPT
            }
            let v: Int32
            v = try intValue(k, value, length).get()
            if name == TCPOption.TCP_NODELAY {
                k.networkStack().setNoDelay(id, v != 0, now: k.platform.monotonicNanoseconds())
                k.pumpNetwork()
            } else {
                if (name == TCPOption.TCP_KEEPIDLE || name == TCPOption.TCP_KEEPINTVL) && (v < 1 || v > 32767) {
                    throw .EINVAL
                }
                if name == TCPOption.TCP_KEEPCNT && (v < 1 || v > 127) { throw .EINVAL }
                storeOption(s, level, name, v)
            }
            return 0
        }
        if level == SocketLevel.IPPROTO_IP, remembered(rememberedIPOptions, name) != nil {
            let v = try intValue(k, value, length).get()
            if name == 2 && (v < -1 || v == 0 || v > 255) { throw .EINVAL }   // IP_TTL
            storeOption(s, level, name, name == 2 && v == -1 ? 64 : v)
            return 0
        }
        throw .ENOPROTOOPT
    }

    /// An int option value: optlen < 4 is EINVAL, an unreadable pointer EFAULT.
    static func intValue(_ k: KernelState, _ address: UserAddress, _ length: Int) -> Result<Int32, Errno> {
        guard length >= 4 else { return .failure(.EINVAL) }
        return k.memory.copyIn(address, count: 4).map { Int32(bitPattern: ByteReader($0).u32(0)) }
    }

    static func setSocketLevel(_ k: KernelState, _ s: KernelSocket, _ name: Int32, _ value: UserAddress, _ length: Int) throws(Errno) -> Int {
        let stack = s.socketID == nil ? nil : k.networkStack()
        if name == SocketOption.SO_RCVTIMEO || name == SocketOption.SO_SNDTIMEO {
            guard length >= 16 else { throw .EINVAL }
            let r: ByteReader
            let b = try k.memory.copyIn(value, count: 16).get()
            r = ByteReader(b)
            let seconds = r.i64(0), micros = r.i64(8)
            guard micros >= 0 && micros < 1_000_000 else { throw .EDOM }
            var ns: UInt64 = 0
            if seconds < 0 { ns = 1 }   // sock_set_timeout: a negative time means "do not wait"
            else if seconds > 0 || micros > 0 {
                ns = UInt64(min(seconds, 1 << 32)) * 1_000_000_000 + UInt64(micros) * 1000
            }
            if name == SocketOption.SO_RCVTIMEO { s.receiveTimeout = ns } else { s.sendTimeout = ns }
            return 0
        }
        if name == SocketOption.SO_LINGER {
            guard length >= 8 else { throw .EINVAL }
            let b = try k.memory.copyIn(value, count: 8).get()
            let r = ByteReader(b + [0, 0, 0, 0, 0, 0, 0, 0])
            storeOption(s, SocketLevel.SOL_SOCKET, name, Int32(bitPattern: r.u32(0)) != 0 ? Int32(bitPattern: r.u32(4)) : -1)
            return 0
        }
        let v: Int32
        v = try intValue(k, value, length).get()
        switch name {
        case SocketOption.SO_REUSEADDR:
            if let stack, let id = s.socketID { stack.setReuseAddress(id, v != 0) }
            else { storeOption(s, SocketLevel.SOL_SOCKET, name, v != 0 ? 1 : 0) }
        case SocketOption.SO_REUSEPORT:
            if let stack, let id = s.socketID { stack.setReusePort(id, v != 0) }
            else { storeOption(s, SocketLevel.SOL_SOCKET, name, v != 0 ? 1 : 0) }
        case SocketOption.SO_KEEPALIVE:
            if let stack, let id = s.socketID { stack.setKeepAlive(id, v != 0) }
            storeOption(s, SocketLevel.SOL_SOCKET, name, v != 0 ? 1 : 0)
        case SocketOption.SO_SNDBUF, SocketOption.SO_SNDBUFFORCE:
            // val = min(val as u32, wmem_max); sk_sndbuf = max(val * 2, SOCK_MIN_SNDBUF).
            let clamped = min(Int(UInt32(bitPattern: v)), SocketBufferLimits.maximumSize)
            s.sendBufferOption = max(clamped * 2, SocketBufferLimits.minimumSend)
            if let stack, let id = s.socketID { stack.setBufferSizes(id, send: s.sendBufferOption, receive: nil) }
            if case .local(let end) = s.backing, let peer = end.peer { peer.capacity = max(peer.capacity, s.sendBufferOption) }
        case SocketOption.SO_RCVBUF, SocketOption.SO_RCVBUFFORCE:
            let clamped = min(Int(UInt32(bitPattern: v)), SocketBufferLimits.maximumSize)
            s.receiveBufferOption = max(clamped * 2, SocketBufferLimits.minimumReceive)
            if let stack, let id = s.socketID { stack.setBufferSizes(id, send: nil, receive: s.receiveBufferOption) }
            if case .local(let end) = s.backing { end.capacity = s.receiveBufferOption }
        default:
            guard remembered(rememberedSocketOptions, name) != nil else { throw .ENOPROTOOPT }
            storeOption(s, SocketLevel.SOL_SOCKET, name, v)
        }
        return 0
    }

    // MARK: getsockopt

    static func getsockopt(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let s: KernelSocket
        let found = try socket(k, a, 0)
        s = found.0
        let level = a.int32(1), name = a.int32(2), value = a.address(3), lengthAddress = a.address(4)
        let given: Int32
        let b = try k.memory.copyIn(lengthAddress, count: 4).get()
        given = Int32(bitPattern: ByteReader(b).u32(0))
        guard given >= 0 else { throw .EINVAL }
        let bytes: [UInt8]
        bytes = try optionBytes(k, s, level, name).get()
        let n = min(Int(given), bytes.count)
        if n > 0, let e = k.memory.copyOut(value, from: bytes, count: n) { throw e }
        if let e = k.memory.writeUInt32(lengthAddress, UInt32(n)) { throw e }
        return 0
    }

    static func int32Bytes(_ v: Int32) -> [UInt8] {
        var w = ByteWriter()
        w.u32(UInt32(bitPattern: v))
        return w.bytes
    }

    static func optionBytes(_ k: KernelState, _ s: KernelSocket, _ level: Int32, _ name: Int32) -> Result<[UInt8], Errno> {
        let id = s.socketID
        let stack = id == nil ? nil : k.networkStack()
        if level == SocketLevel.SOL_SOCKET {
            switch name {
            case SocketOption.SO_TYPE: return .success(int32Bytes(Int32(s.type)))
            case SocketOption.SO_DOMAIN: return .success(int32Bytes(Int32(s.domain)))
            case SocketOption.SO_PROTOCOL: return .success(int32Bytes(s.protocolNumber))
            case SocketOption.SO_ERROR:
                let e = id.flatMap { stack?.takeError($0) }
                k.notifyPollers()
                return .success(int32Bytes(e?.rawValue ?? 0))
            case soPeerCred:
                return .success(peerCredentialBytes(s))
            case SocketOption.SO_ACCEPTCONN:
                var listening = id.flatMap { stack?.tcpState($0) } == .listen
                if case .local(let end) = s.backing { listening = end.listening }
                return .success(int32Bytes(listening ? 1 : 0))
            case SocketOption.SO_REUSEADDR:
                if let stack, let id { return .success(int32Bytes(stack.reuseAddress(id) ? 1 : 0)) }
                return .success(int32Bytes(storedOption(s, level, name, initial: 0)))
            case SocketOption.SO_REUSEPORT:
                if let stack, let id { return .success(int32Bytes(stack.reusePort(id) ? 1 : 0)) }
                return .success(int32Bytes(storedOption(s, level, name, initial: 0)))
            case SocketOption.SO_KEEPALIVE:
                return .success(int32Bytes(storedOption(s, level, name, initial: 0)))
            case SocketOption.SO_SNDBUF: return .success(int32Bytes(Int32(s.sendBufferOption)))
            case SocketOption.SO_RCVBUF: return .success(int32Bytes(Int32(s.receiveBufferOption)))
            case SocketOption.SO_SNDLOWAT: return .success(int32Bytes(1))
            case SocketOption.SO_RCVTIMEO, SocketOption.SO_SNDTIMEO:
                let ns = name == SocketOption.SO_RCVTIMEO ? s.receiveTimeout : s.sendTimeout
                var w = ByteWriter()
                w.u64(ns / 1_000_000_000)
                w.u64(ns % 1_000_000_000 / 1000)
                return .success(w.bytes)
            case SocketOption.SO_LINGER:
                let v = storedOption(s, level, name, initial: -1)
                var w = ByteWriter()
                w.u32(v >= 0 ? 1 : 0)
                w.u32(UInt32(bitPattern: max(v, 0)))
                return .success(w.bytes)
            default:
                guard let initial = remembered(rememberedSocketOptions, name) else { return .failure(.ENOPROTOOPT) }
                return .success(int32Bytes(storedOption(s, level, name, initial: initial)))
            }
        }
        guard let stack, let id else { return .failure(.EOPNOTSUPP) }
        if level == SocketLevel.IPPROTO_TCP && s.type == SocketType.SOCK_STREAM {
            if name == TCPOption.TCP_NODELAY { return .success(int32Bytes(stack.noDelay(id) ? 1 : 0)) }
            guard let initial = remembered(rememberedTCPOptions, name) else { return .failure(.ENOPROTOOPT) }
            return .success(int32Bytes(storedOption(s, level, name, initial: initial)))
        }
        if level == SocketLevel.IPPROTO_IP, let initial = remembered(rememberedIPOptions, name) {
            return .success(int32Bytes(storedOption(s, level, name, initial: initial)))
        }
        return .failure(.ENOPROTOOPT)
    }
}
