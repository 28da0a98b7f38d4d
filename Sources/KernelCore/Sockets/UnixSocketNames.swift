// UnixSocketNames — the AF_UNIX name spaces (KernelCore/Sockets): sockets bound to a path
// (a socket inode in the VFS, Inode.Kind.socket) and sockets bound to an abstract name
// (sun_path starting with a NUL byte), per unix(7).
//
// Neighbours: UnixSocketEnd.swift is the socket state, UnixSocketCalls.swift the calls that
// bind and look names up; KernelState.localSocketNames holds the one instance.
//
// A path name is a directory entry like any other: unlink(2) removes it (a later connect
// finds ENOENT) while the socket keeps its name for getsockname; when the socket closes the
// entry stays and connect finds no one behind it (ECONNREFUSED), as Linux does. An abstract
// name lives exactly as long as its socket.
import LinuxABI

/// A decoded struct sockaddr_un (unix(7) "Address format").
enum LocalAddress: Equatable {
    /// addrlen == sizeof(sa_family_t): bind(2) autobinds.
    case unnamed
    /// A path: the bytes before the first NUL of sun_path.
    case path([UInt8])
    /// An abstract name: every byte of sun_path after the leading NUL, up to addrlen.
    case abstract([UInt8])

    /// unix_validate_addr / unix_mkname_bsd: EINVAL for a short address, a long one, or
    /// another family.
    static func decode(_ bytes: [UInt8]) -> Result<LocalAddress, Errno> {
        guard bytes.count >= 2, bytes.count <= SockaddrUn.byteSize,
              UInt16(bytes[0]) | UInt16(bytes[1]) << 8 == AddressFamily.AF_UNIX else { return .failure(.EINVAL) }
        if bytes.count == 2 { return .success(.unnamed) }
        if bytes[2] == 0 { return .success(.abstract(Array(bytes[3...]))) }
        var path: [UInt8] = []
        for b in bytes[2...] {
            if b == 0 { break }
            path.append(b)
        }
        return .success(.path(path))
    }

    /// The bytes getsockname returns: family, then for a path the path and its NUL
    /// (unix_bind_bsd records strlen + 1 + 2), for an abstract name NUL and the name.
    var encoded: [UInt8] {
        var out: [UInt8] = [UInt8(AddressFamily.AF_UNIX & 0xff), UInt8(AddressFamily.AF_UNIX >> 8)]
        switch self {
        case .unnamed: break
        case .path(let p): out += p; out.append(0)
        case .abstract(let n): out.append(0); out += n
        }
        return out
    }
}

final class LocalSocketNames {
    /// Sockets bound to a path, with the socket inode made for them (kept alive here so that
    /// identity comparison is sound).
    var boundInodes: [(inode: Inode, end: LocalSocketEnd)] = []
    var abstractNames: [(name: [UInt8], end: LocalSocketEnd)] = []
    /// unix_autobind's counter: names are NUL and five hex digits.
    var nextAutobind: UInt32 = 0

    func socket(boundTo inode: Inode) -> LocalSocketEnd? {
        for entry in boundInodes where entry.inode === inode { return entry.end }
        return nil
    }

    func socket(abstract name: [UInt8]) -> LocalSocketEnd? {
        for entry in abstractNames where entry.name == name { return entry.end }
        return nil
    }

    /// The next free autobind name (unix_autobind: "%05x" of a counter, skipping names in use).
    func autobindName() -> [UInt8]? {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        for _ in 0..<0x100000 {
            let n = nextAutobind & 0xfffff
            nextAutobind &+= 1
            var name: [UInt8] = []
            for shift in stride(from: 16, through: 0, by: -4) { name.append(digits[Int((n >> UInt32(shift)) & 0xf)]) }
            if socket(abstract: name) == nil { return name }
        }
        return nil
    }

    /// The socket closed: its name is free again (the inode stays in its directory).
    func forget(_ end: LocalSocketEnd) {
        boundInodes.removeAll { $0.end === end }
        abstractNames.removeAll { $0.end === end }
    }
}
