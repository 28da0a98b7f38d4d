// SocketTraceText — strace-style decoding of the socket calls' arguments (KernelCore/Trace).
//
// An extension of SyscallTraceFormatter (beside this file) for the argument kinds of
// socket(2) and friends, following strace 6.1's printers (src/net.c, src/sockaddr.c,
// src/msghdr.c), checked against the real strace running Guest/c/sockets_test.c:
//   socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3
//   getsockname(3, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("0.0.0.0")}, [16]) = 0
//   setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
//   getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
//   recvmsg(3, {msg_name=..., msg_namelen=16, msg_iov=[...], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = 4
// One difference: a socklen_t that the call changed prints as its new value only ([16]);
// strace shows [128 => 16] because it reads the value before the call too.
// Constants and layouts come from LinuxABI (IOStructs.swift, SocketStructs.swift).
import LinuxABI

/// How one socket-call argument is shown (wrapped in TraceArgument.socket).
enum SocketTraceArgument {
    case family                 // socket/socketpair domain: AF_INET
    case type                   // SOCK_STREAM|SOCK_CLOEXEC
    case protocolNumber(Int)    // IPPROTO_IP for AF_INET (domain in argument N), else a number
    case acceptFlags            // accept4: SOCK_CLOEXEC|SOCK_NONBLOCK
    case addressIn(Int)         // struct sockaddr, its length in argument N
    case addressOut(Int)        // struct sockaddr the kernel filled, *length at argument N
    case lengthOut              // socklen_t *: [16] after the call
    case lengthIn               // socklen_t * read before the call: [4]
    case messageFlags           // MSG_NOSIGNAL|MSG_DONTWAIT, or 0
    case receivedBuffer(Int)    // recvfrom's buffer: min(result, argument N) bytes
    case shutdownHow            // SHUT_WR
    case level                  // SOL_SOCKET
    case optionName(Int)        // SO_REUSEADDR (level in argument N)
    case optionIn(Int, Int)     // setsockopt's value: [1] (name in argument N, length in M)
    case optionOut(Int, Int)    // getsockopt's value after the call (name N, *length at M)
    case messageIn              // sendmsg's struct msghdr
    case messageOut             // recvmsg's struct msghdr, decoded after the call
}

extension SyscallTraceFormatter {
    func socketArgument(_ kind: SocketTraceArgument, _ a: SyscallArguments, index i: Int,
                        result: SyscallResult?, memory: AddressSpace) -> String {
        let v = a[i]
        switch kind {
        case .family:
            return renderValue(UInt64(a.uint32(i)), table: AddressFamilyName.names, unknownComment: "AF_???")
        case .type:
            let t = SocketType(a.uint32(i))
            if t.rawValue & ~0xf & ~(SocketType.SOCK_CLOEXEC | SocketType.SOCK_NONBLOCK) != 0 {
                let known = t.rawValue & (0xf | SocketType.SOCK_CLOEXEC | SocketType.SOCK_NONBLOCK)
                let rest = t.rawValue & ~known
                return SocketType(known).straceDescription + "|" + hexString(UInt64(rest)) + " /* SOCK_??? */"
            }
            return t.straceDescription
        case .protocolNumber(let domainIndex):
            if a.uint32(domainIndex) == UInt32(AddressFamily.AF_INET) {
                return renderValue(UInt64(a.uint32(i)), table: IPProtocolNumber.names, unknownComment: "IPPROTO_???")
            }
            return decimalString(Int64(a.int32(i)))
        case .acceptFlags:
            return SocketType.renderFlagsOnly(a.uint32(i))
        case .addressIn(let lengthIndex):
            let length = a.int(lengthIndex)
            guard length > 0 && length <= 128 else { return TraceText.pointer(v) }
            return inputValue(v, count: length, memory: memory) { SyscallTraceFormatter.sockaddr($0) }
        case .addressOut(let lengthIndex):
            guard v != 0 else { return "NULL" }
            guard succeeded(result) != nil, a[lengthIndex] != 0,
                  case .success(let raw) = memory.copyIn(UserAddress(a[lengthIndex]), count: 4) else {
                return TraceText.pointer(v)
            }
            let length = Int(TraceText.littleEndian(raw, at: 0, count: 4))
            if length == 0 { return "{}" }
            return outputValue(v, count: min(length, 128), result: result, memory: memory) { SyscallTraceFormatter.sockaddr($0) }
        case .lengthOut, .lengthIn:
            // After a failed call the length still holds what the caller passed: strace
            // prints that too.
            return inputValue(v, count: 4, memory: memory) { bytes in
                "[" + unsignedDecimalString(TraceText.littleEndian(bytes, at: 0, count: 4)) + "]"
            }
        case .messageFlags:
            return MessageFlags(rawValue: a.uint32(i)).straceDescription
        case .receivedBuffer(let lengthIndex):
            guard let count = succeeded(result) else { return TraceText.pointer(v) }
            return buffer(v, count: min(count, a.size(lengthIndex)), memory: memory)
        case .shutdownHow:
            return renderValue(UInt64(a.uint32(i)), table: ShutdownHow.names, unknownComment: "SHUT_???")
        case .level:
            return renderValue(UInt64(a.uint32(i)), table: SocketLevel.names, unknownComment: "SOL_???")
        case .optionName(let levelIndex):
            switch a.int32(levelIndex) {
            case SocketLevel.SOL_SOCKET:
                return renderValue(UInt64(a.uint32(i)), table: SocketOption.names, unknownComment: "SO_???")
            case SocketLevel.IPPROTO_TCP:
                return renderValue(UInt64(a.uint32(i)), table: TCPOption.names, unknownComment: "TCP_???")
            default:
                return decimalString(Int64(a.int32(i)))
            }
        case .optionIn(let nameIndex, let lengthIndex):
            let length = a.int(lengthIndex)
            return inputValue(v, count: max(0, min(length, 64)), memory: memory) { bytes in
                SyscallTraceFormatter.optionValue(bytes, name: a.int32(nameIndex), level: a.int32(nameIndex - 1))
            }
        case .optionOut(let nameIndex, let lengthIndex):
            guard succeeded(result) != nil, case .success(let raw) = memory.copyIn(UserAddress(a[lengthIndex]), count: 4) else {
                return TraceText.pointer(v)
            }
            let length = Int(TraceText.littleEndian(raw, at: 0, count: 4))
            return outputValue(v, count: min(length, 64), result: result, memory: memory) { bytes in
                SyscallTraceFormatter.optionValue(bytes, name: a.int32(nameIndex), level: a.int32(nameIndex - 1))
            }
        case .messageIn:
            return message(v, received: nil, memory: memory)
        case .messageOut:
            guard let count = succeeded(result) else { return TraceText.pointer(v) }
            return message(v, received: count, memory: memory)
        }
    }

    /// `{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.2.2")}`,
    /// `{sa_family=AF_UNIX}` for an unnamed unix address, sa_data for the rest.
    static func sockaddr(_ bytes: [UInt8]) -> String {
        guard bytes.count >= 2 else { return "{}" }
        let family = UInt16(TraceText.littleEndian(bytes, at: 0, count: 2))
        let familyText = renderValue(UInt64(family), table: AddressFamilyName.names, unknownComment: "AF_???")
        if family == AddressFamily.AF_INET && bytes.count >= SockaddrIn.byteSize,
           let decoded = try? SockaddrIn.decode(from: bytes) {
            return decoded.straceDescription
        }
        if family == AddressFamily.AF_UNIX {
            if bytes.count == 2 { return "{sa_family=AF_UNIX}" }
            var path: [UInt8] = []
            for b in bytes[2...] { if b == 0 { break }; path.append(b) }
            return "{sa_family=AF_UNIX, sun_path=" + TraceText.quoted(path) + "}"
        }
        return "{sa_family=" + familyText + ", sa_data=" + TraceText.quoted(Array(bytes[2...])) + "}"
    }

    /// An option's value: `[1]`, `[ECONNREFUSED]` for SO_ERROR, a timeval for SO_*TIMEO.
    static func optionValue(_ bytes: [UInt8], name: Int32, level: Int32) -> String {
        if bytes.count >= 16 && level == SocketLevel.SOL_SOCKET
            && (name == SocketOption.SO_RCVTIMEO || name == SocketOption.SO_SNDTIMEO) {
            return "{tv_sec=" + decimalString(Int64(bitPattern: TraceText.littleEndian(bytes, at: 0, count: 8)))
                + ", tv_usec=" + decimalString(Int64(bitPattern: TraceText.littleEndian(bytes, at: 8, count: 8))) + "}"
        }
        guard bytes.count >= 4 else { return TraceText.quoted(bytes) }
        let value = Int32(truncatingIfNeeded: TraceText.littleEndian(bytes, at: 0, count: 4))
        if level == SocketLevel.SOL_SOCKET && name == SocketOption.SO_ERROR && value != 0, let errorName = Errno(value).name {
            return "[" + stringFromStatic(errorName) + "]"
        }
        return "[" + decimalString(Int64(value)) + "]"
    }

    /// struct msghdr; for recvmsg (`received` bytes) the iovecs show what was filled.
    func message(_ address: UInt64, received: Int?, memory: AddressSpace) -> String {
        inputValue(address, count: MessageHeader.byteSize, memory: memory) { bytes in
            guard let m = try? MessageHeader.decode(from: bytes) else { return hexString(address) }
            var text = "{msg_name="
            if m.name == 0 { text += "NULL" } else {
                let length = Int(min(m.nameLength, 128))
                text += length == 0 ? "{}" : inputValue(m.name, count: length, memory: memory) { SyscallTraceFormatter.sockaddr($0) }
            }
            text += ", msg_namelen=" + unsignedDecimalString(UInt64(m.nameLength))
            text += ", msg_iov=" + iovec(m.iov, count: Int(clamping: m.iovLength), bytesAvailable: received, memory: memory)
            text += ", msg_iovlen=" + unsignedDecimalString(m.iovLength)
            text += ", msg_controllen=" + unsignedDecimalString(m.controlLength)
            text += ", msg_flags=" + MessageFlags(rawValue: m.flags).straceDescription + "}"
            return text
        }
    }
}
