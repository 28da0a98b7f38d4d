// MultipleMessages — sendmmsg(2) and recvmmsg(2) (KernelCore/Sockets): a vector of struct
// mmsghdr (a struct msghdr and the unsigned msg_len the kernel fills in; 64 bytes on x86-64),
// each handled as one sendmsg/recvmsg by SocketSyscalls.sendMessage/receiveMessage, for UDP
// and AF_UNIX alike.
//
// As net/socket.c (__sys_sendmmsg, do_recvmmsg): vlen is cut to UIO_MAXIOV (1024); once a
// message has gone, a later error ends the call with the count so far (the error is not
// reported); MSG_WAITFORONE makes every receive after the first non-blocking; the timeout is
// looked at only between datagrams (a receive itself waits as recvmsg would), and the time
// left is written back.
import LinuxABI

extension SocketSyscalls {
    static let multipleMessageSize = 64   // sizeof(struct mmsghdr)
    static let messageLengthOffset = 56   // offsetof(struct mmsghdr, msg_len)
    static let waitForOne: UInt32 = 0x10000   // MSG_WAITFORONE

    /// sendmmsg(fd, msgvec, vlen, flags).
    static func sendmmsg(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let found = try socket(k, a, 0)
        let vector = a.address(1), count = min(Int(a.uint32(2)), 1024), flags = a.uint32(3)
        var sent = 0
        while sent < count {
            let entry = vector.advanced(by: sent * multipleMessageSize)
            let n: Int
            do {
                n = try sendMessage(k, found.0, found.1, entry, flags: flags)
            } catch {
                if sent > 0 { return sent } else { throw error }
            }
            if let e = k.memory.writeUInt32(entry.advanced(by: messageLengthOffset), UInt32(truncatingIfNeeded: n)) {
                if sent > 0 { return sent } else { throw e }
            }
            sent += 1
        }
        return sent
    }

    /// recvmmsg(fd, msgvec, vlen, flags, timeout).
    static func recvmmsg(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let found = try socket(k, a, 0)
        let vector = a.address(1), count = min(Int(a.uint32(2)), 1024)
        var flags = a.uint32(3)
        var end: UInt64? = nil
        if !a.address(4).isNull {
            let ns = try TimeSyscalls.readTimespec(k, a.address(4)).get()
            end = k.platform.monotonicNanoseconds() &+ UInt64(max(0, ns))
        }
        var received = 0
        while received < count {
            let entry = vector.advanced(by: received * multipleMessageSize)
            let n: Int
            do {
                n = try receiveMessage(k, found.0, found.1, entry, flags: flags)
            } catch {
                if received > 0 { break } else { throw error }
            }
            if let e = k.memory.writeUInt32(entry.advanced(by: messageLengthOffset), UInt32(truncatingIfNeeded: n)) {
                if received > 0 { break } else { throw e }
            }
            received += 1
            if flags & waitForOne != 0 { flags |= MessageFlags.MSG_DONTWAIT.rawValue }
            if let end, k.platform.monotonicNanoseconds() >= end { break }
        }
        if let end {
            let now = k.platform.monotonicNanoseconds()
            let left = end > now ? end - now : 0
            var w = ByteWriter()
            w.u64(left / 1_000_000_000)
            w.u64(left % 1_000_000_000)
            if let e = k.memory.copyOut(a.address(4), from: w.bytes) { throw e }
        }
        return received
    }
}
