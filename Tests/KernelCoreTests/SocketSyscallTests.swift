// SocketSyscallTests — the socket system calls on a real KernelState (host tests for
// Sources/KernelCore/Sockets/): loopback TCP and UDP through Net's NetworkStack, socketpair,
// options, errors as Linux gives them, epoll readiness, and two kernels exchanging Ethernet
// frames through fake cards and pumpNetwork(). Driven through dispatch, like the guest would.
@testable import KernelCore
import LinuxABI
import Net
import XCTest

/// Socket constants as the tests spell them (values from LinuxABI).
private let AF_INET = UInt64(AddressFamily.AF_INET), AF_UNIX = UInt64(AddressFamily.AF_UNIX)
private let STREAM = UInt64(SocketType.SOCK_STREAM), DGRAM = UInt64(SocketType.SOCK_DGRAM)
private let NONBLOCK = UInt64(SocketType.SOCK_NONBLOCK), CLOEXEC = UInt64(SocketType.SOCK_CLOEXEC)
private let SOL_SOCKET = UInt64(SocketLevel.SOL_SOCKET)

/// A pair of cards joined by a wire: what one transmits the other receives.
final class FakeWireCard: NetworkInterface {
    let macAddress: [UInt8]
    var inbox: [[UInt8]] = []
    weak var other: FakeWireCard?
    private(set) var transmitted = 0
    init(mac: [UInt8]) { macAddress = mac }
    func transmit(_ frames: [[UInt8]]) {
        transmitted += frames.count
        other?.inbox.append(contentsOf: frames)
    }
    func receive() -> [[UInt8]] {
        let frames = inbox
        inbox = []
        return frames
    }
}

final class SocketSyscallTests: XCTestCase {
    var k: TestKernel!
    override func setUp() { k = TestKernel() }

    // MARK: helpers

    /// struct sockaddr_in for a.b.c.d:port, in guest memory at `offset` of the scratch area.
    func sockaddr(_ address: UInt32, _ port: UInt16, at offset: UInt64) -> UInt64 {
        k.poke(SockaddrIn(port: port, address: address).encode(), at: offset)
    }

    func int32(_ v: Int32, at offset: UInt64) -> UInt64 {
        k.poke(SocketSyscalls.int32Bytes(v), at: offset)
    }

    func peekInt32(_ address: UInt64) -> Int32 {
        Int32(bitPattern: ByteReader(k.peek(address, count: 4)).u32(0))
    }

    func open(_ type: UInt64, _ domain: UInt64 = AF_INET) -> Int {
        successValue(k.call(.socket, domain, type, 0)) ?? -1
    }

    /// A listener on 127.0.0.1:port and a client connected to it (non-blocking), accepted.
    func connectedPair(port: UInt16 = 8000) -> (listener: Int, client: Int, server: Int) {
        let listener = open(STREAM | NONBLOCK)
        assertSuccess(k.call(.bind, UInt64(listener), sockaddr(SockaddrIn.INADDR_LOOPBACK, port, at: 0), 16), 0)
        assertSuccess(k.call(.listen, UInt64(listener), 16), 0)
        let client = open(STREAM | NONBLOCK)
        assertFailure(k.call(.connect, UInt64(client), sockaddr(SockaddrIn.INADDR_LOOPBACK, port, at: 0), 16), .EINPROGRESS)
        let server = successValue(k.call(.accept4, UInt64(listener), 0, 0, NONBLOCK)) ?? -1
        return (listener, client, server)
    }

    func send(_ fd: Int, _ text: String, flags: UInt64 = 0) -> SyscallResult {
        let bytes = Array(text.utf8)
        return k.call(.sendto, UInt64(fd), k.poke(bytes, at: 0x1000), UInt64(bytes.count), flags, 0, 0)
    }

    func receive(_ fd: Int, max: Int = 256, flags: UInt64 = 0) -> Result<String, Errno> {
        let buffer = k.scratch + 0x2000
        return k.call(.recvfrom, UInt64(fd), buffer, UInt64(max), flags, 0, 0).map {
            String(decoding: k.peek(buffer, count: $0), as: UTF8.self)
        }
    }

    // MARK: TCP on loopback

    func testLoopbackTCPNonBlockingConnectAcceptAndExchange() {
        let (listener, client, server) = connectedPair()
        XCTAssertGreaterThan(server, client)
        // The handshake is done: SO_ERROR is 0 and the client is writable.
        let value = k.scratch + 0x300, length = int32(4, at: 0x310)
        assertSuccess(k.call(.getsockopt, UInt64(client), SOL_SOCKET, UInt64(SocketOption.SO_ERROR), value, length), 0)
        XCTAssertEqual(peekInt32(value), 0)
        XCTAssertEqual(peekInt32(length), 4)
        assertSuccess(send(client, "hello"), 5)
        // FIONREAD sees the 5 bytes; read(2) takes them.
        assertSuccess(k.call(.ioctl, UInt64(server), 0x541B, value), 0)
        XCTAssertEqual(peekInt32(value), 5)
        assertSuccess(receive(server, flags: UInt64(MessageFlags.MSG_PEEK.rawValue)), "hello")
        let buffer = k.scratch + 0x2000
        assertSuccess(k.call(.read, UInt64(server), buffer, 64), 5)
        XCTAssertEqual(k.peek(buffer, count: 5), Array("hello".utf8))
        assertFailure(receive(server), .EAGAIN)
        // write(2) back, and the names agree on both ends.
        let reply = k.poke(Array("world!".utf8), at: 0x1000)
        assertSuccess(k.call(.write, UInt64(server), reply, 6), 6)
        assertSuccess(receive(client), "world!")
        let name = k.scratch + 0x400, nameLength = int32(16, at: 0x420)
        assertSuccess(k.call(.getpeername, UInt64(server), name, nameLength), 0)
        let peer = try? SockaddrIn.decode(from: k.peek(name, count: 16))
        assertSuccess(k.call(.getsockname, UInt64(client), name, nameLength), 0)
        let clientName = try? SockaddrIn.decode(from: k.peek(name, count: 16))
        XCTAssertEqual(peer, clientName)
        XCTAssertEqual(peer?.address, SockaddrIn.INADDR_LOOPBACK)
        XCTAssertGreaterThanOrEqual(peer?.port ?? 0, 32768)
        // Orderly shutdown: the server reads end of file after the client's SHUT_WR.
        assertSuccess(k.call(.shutdown, UInt64(client), UInt64(ShutdownHow.SHUT_WR)), 0)
        assertSuccess(receive(server), "")
        for fd in [client, server, listener] { assertSuccess(k.call(.close, UInt64(fd)), 0) }
    }

    func testSendmsgAndRecvmsgGatherAndScatterIovecs() {
        let (_, client, server) = connectedPair(port: 8001)
        let a = k.poke(Array("abc".utf8), at: 0x1000), b = k.poke(Array("defgh".utf8), at: 0x1100)
        let iov = k.poke(le64(a, 3, b, 5), at: 0x1200)
        let header = k.poke(MessageHeader(iov: iov, iovLength: 2).encode(), at: 0x1300)
        assertSuccess(k.call(.sendmsg, UInt64(client), header, 0), 8)
        let r1 = k.scratch + 0x2000, r2 = k.scratch + 0x2100
        let riov = k.poke(le64(r1, 2, r2, 100), at: 0x1400)
        let rheader = k.poke(MessageHeader(iov: riov, iovLength: 2, controlLength: 64).encode(), at: 0x1500)
        assertSuccess(k.call(.recvmsg, UInt64(server), rheader, 0), 8)
        XCTAssertEqual(k.peek(r1, count: 2), Array("ab".utf8))
        XCTAssertEqual(k.peek(r2, count: 6), Array("cdefgh".utf8))
        XCTAssertEqual(k.peek64(rheader + 40), 0, "no ancillary data comes back")
    }

    func testOneMebibyteThroughLoopbackWithNonBlockingSends() {
        let (_, client, server) = connectedPair(port: 8002)
        let chunk = 60_000
        var pattern = [UInt8](repeating: 0, count: chunk)
        let source = k.scratch + 0x1000, sink = k.scratch + 0x8000
        var sent = 0, received = 0, sentSum: UInt64 = 0, receivedSum: UInt64 = 0
        let total = 1 << 20
        var rounds = 0
        while received < total && rounds < 10_000 {
            rounds += 1
            if sent < total {
                for i in 0..<chunk { pattern[i] = UInt8(truncatingIfNeeded: (sent + i) * 7 + 3) }
                XCTAssertNil(k.space.copyOut(UserAddress(source), from: pattern))
                let n = min(chunk, total - sent)
                switch k.call(.sendto, UInt64(client), source, UInt64(n), 0, 0, 0) {
                case .success(let m):
                    for i in 0..<m { sentSum = sentSum &* 31 &+ UInt64(pattern[i]) }
                    sent += m
                case .failure(let e): XCTAssertEqual(e, .EAGAIN)
                }
            }
            switch k.call(.read, UInt64(server), sink, 32_768) {
            case .success(let m):
                for byte in k.peek(sink, count: m) { receivedSum = receivedSum &* 31 &+ UInt64(byte) }
                received += m
            case .failure(let e): XCTAssertEqual(e, .EAGAIN)
            }
        }
        XCTAssertEqual(received, total)
        XCTAssertEqual(receivedSum, sentSum)
    }

    func testBlockingConnectToClosedLoopbackPortIsRefused() {
        let fd = open(STREAM)
        assertFailure(k.call(.connect, UInt64(fd), sockaddr(SockaddrIn.INADDR_LOOPBACK, 1, at: 0), 16), .ECONNREFUSED)
        // Non-blocking: EINPROGRESS, then the error through SO_ERROR.
        let nb = open(STREAM | NONBLOCK)
        assertFailure(k.call(.connect, UInt64(nb), sockaddr(SockaddrIn.INADDR_LOOPBACK, 1, at: 0), 16), .EINPROGRESS)
        let value = k.scratch + 0x300, length = int32(4, at: 0x310)
        assertSuccess(k.call(.getsockopt, UInt64(nb), SOL_SOCKET, UInt64(SocketOption.SO_ERROR), value, length), 0)
        XCTAssertEqual(peekInt32(value), Errno.ECONNREFUSED.rawValue)
    }

    func testBindErrorsMatchLinux() {
        let fd = open(STREAM)
        assertFailure(k.call(.bind, UInt64(fd), sockaddr(0, 9000, at: 0), 8), .EINVAL)              // short addrlen
        assertFailure(k.call(.bind, UInt64(fd), sockaddr(0, 9000, at: 0), 129), .EINVAL)            // > sockaddr_storage
        assertFailure(k.call(.bind, UInt64(fd), 0x10, 16), .EFAULT)                                 // unmapped
        assertFailure(k.call(.bind, 0, sockaddr(0, 9000, at: 0), 16), .ENOTSOCK)                     // the console
        assertFailure(k.call(.bind, 77, sockaddr(0, 9000, at: 0), 16), .EBADF)
        let v6 = k.poke([10, 0, 0x23, 0x28] + [UInt8](repeating: 0, count: 24), at: 0x40)
        assertFailure(k.call(.bind, UInt64(fd), v6, 28), .EAFNOSUPPORT)
        assertSuccess(k.call(.bind, UInt64(fd), sockaddr(0, 9000, at: 0), 16), 0)
        assertSuccess(k.call(.listen, UInt64(fd), 5), 0)
        let second = open(STREAM)
        assertFailure(k.call(.bind, UInt64(second), sockaddr(SockaddrIn.INADDR_LOOPBACK, 9000, at: 0), 16), .EADDRINUSE)
        assertFailure(k.call(.bind, UInt64(second), sockaddr(0x0A00_0001, 9001, at: 0), 16), .EADDRNOTAVAIL)
    }

    func testSocketCreationErrors() {
        assertFailure(k.call(.socket, 10, STREAM, 0), .EAFNOSUPPORT)          // AF_INET6
        assertFailure(k.call(.socket, 99, STREAM, 0), .EAFNOSUPPORT)
        assertFailure(k.call(.socket, AF_INET, STREAM | 0x100, 0), .EINVAL)   // unknown flag bit
        assertFailure(k.call(.socket, AF_INET, 12, 0), .EINVAL)               // >= SOCK_MAX
        assertFailure(k.call(.socket, AF_INET, STREAM, 17), .EPROTONOSUPPORT)
        assertFailure(k.call(.socket, AF_INET, DGRAM, 6), .EPROTONOSUPPORT)
        assertFailure(k.call(.socketpair, AF_INET, STREAM, 0, k.scratch), .EOPNOTSUPP)
        // SOCK_CLOEXEC and SOCK_NONBLOCK land on the descriptor and the description.
        let fd = open(STREAM | NONBLOCK | CLOEXEC)
        assertSuccess(k.call(.fcntl, UInt64(fd), 1), 1)                       // F_GETFD: FD_CLOEXEC
        assertSuccess(k.call(.fcntl, UInt64(fd), 3).map { $0 & 0o4000 }, 0o4000)
        assertFailure(k.call(.accept, UInt64(fd), 0, 0), .EINVAL)             // not listening
        assertFailure(k.call(.accept4, UInt64(fd), 0, 0, 1), .EINVAL)         // bad accept4 flag
    }

    func testOptionsDoubleBuffersAndReportTypes() {
        let fd = open(STREAM)
        let value = k.scratch + 0x300, length = k.scratch + 0x310
        assertSuccess(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_RCVBUF), int32(10000, at: 0x320), 4), 0)
        _ = int32(4, at: 0x310)
        assertSuccess(k.call(.getsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_RCVBUF), value, length), 0)
        XCTAssertEqual(peekInt32(value), 20000)
        _ = int32(4, at: 0x310)
        assertSuccess(k.call(.getsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_TYPE), value, length), 0)
        XCTAssertEqual(peekInt32(value), Int32(SocketType.SOCK_STREAM))
        assertSuccess(k.call(.setsockopt, UInt64(fd), 6, UInt64(TCPOption.TCP_NODELAY), int32(1, at: 0x320), 4), 0)
        _ = int32(4, at: 0x310)
        assertSuccess(k.call(.getsockopt, UInt64(fd), 6, UInt64(TCPOption.TCP_NODELAY), value, length), 0)
        XCTAssertEqual(peekInt32(value), 1)
        assertFailure(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, 999, int32(1, at: 0x320), 4), .ENOPROTOOPT)
        assertFailure(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_REUSEADDR), int32(1, at: 0x320), 2), .EINVAL)
        assertFailure(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_TYPE), int32(1, at: 0x320), 4), .ENOPROTOOPT)
        assertFailure(k.call(.getsockopt, UInt64(fd), 6, 999, value, length), .ENOPROTOOPT)
        assertFailure(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_REUSEADDR), 0x10, 4), .EFAULT)
        // SO_RCVTIMEO round-trips as a struct timeval; a bad tv_usec is EDOM.
        let tv = k.poke(le64(2, 500_000), at: 0x340)
        assertSuccess(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_RCVTIMEO), tv, 16), 0)
        _ = int32(16, at: 0x310)
        assertSuccess(k.call(.getsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_RCVTIMEO), value, length), 0)
        XCTAssertEqual(k.peek(value, count: 16), le64(2, 500_000))
        let bad = k.poke(le64(0, 1_000_000), at: 0x360)
        assertFailure(k.call(.setsockopt, UInt64(fd), SOL_SOCKET, UInt64(SocketOption.SO_RCVTIMEO), bad, 16), .EDOM)
    }

    func testReceiveTimeoutEndsABlockingReadWithEAGAIN() {
        let (_, client, _) = connectedPair(port: 8003)
        let tv = k.poke(le64(0, 50_000), at: 0x340)    // 50 ms; the fake clock steps 1 ms a call
        assertSuccess(k.call(.setsockopt, UInt64(client), SOL_SOCKET, UInt64(SocketOption.SO_RCVTIMEO), tv, 16), 0)
        assertSuccess(k.call(.fcntl, UInt64(client), 4, 0), 0)   // blocking again
        assertFailure(receive(client), .EAGAIN)
    }

    // MARK: UDP

    func testUDPLoopbackSendtoRecvfromWithSenderAndTruncation() {
        let a = open(DGRAM), b = open(DGRAM | NONBLOCK)
        assertSuccess(k.call(.bind, UInt64(b), sockaddr(SockaddrIn.INADDR_LOOPBACK, 5353, at: 0), 16), 0)
        let message = k.poke(Array("datagram!".utf8), at: 0x1000)
        let to = sockaddr(SockaddrIn.INADDR_LOOPBACK, 5353, at: 0x100)
        assertSuccess(k.call(.sendto, UInt64(a), message, 9, 0, to, 16), 9)
        assertSuccess(k.call(.sendto, UInt64(a), message, 4, 0, to, 16), 4)
        assertFailure(k.call(.sendto, UInt64(a), message, 4, 0, 0, 0), .EDESTADDRREQ)
        // recvfrom with MSG_TRUNC: 4 bytes copied, the real length returned, the sender named.
        let buffer = k.scratch + 0x2000, from = k.scratch + 0x400, fromLength = int32(16, at: 0x420)
        assertSuccess(k.call(.recvfrom, UInt64(b), buffer, 4, UInt64(MessageFlags.MSG_TRUNC.rawValue), from, fromLength), 9)
        XCTAssertEqual(k.peek(buffer, count: 4), Array("data".utf8))
        let sender = try? SockaddrIn.decode(from: k.peek(from, count: 16))
        XCTAssertEqual(sender?.address, SockaddrIn.INADDR_LOOPBACK)
        XCTAssertEqual(peekInt32(k.scratch + 0x420), 16)
        assertSuccess(k.call(.ioctl, UInt64(b), 0x541B, k.scratch + 0x300), 0)
        XCTAssertEqual(peekInt32(k.scratch + 0x300), 4, "FIONREAD on UDP: the next datagram's size")
        assertSuccess(receive(b), "data")
        assertFailure(receive(b), .EAGAIN)
    }

    // MARK: socketpair

    func testSocketpairStreamShutdownAndEPIPEWithSIGPIPE() {
        let sv = k.scratch + 0x500
        assertSuccess(k.call(.socketpair, AF_UNIX, STREAM | NONBLOCK, 0, sv), 0)
        let x = Int(peekInt32(sv)), y = Int(peekInt32(sv + 4))
        assertSuccess(send(x, "ping"), 4)
        assertSuccess(receive(y), "ping")
        assertFailure(receive(y), .EAGAIN)
        assertSuccess(k.call(.shutdown, UInt64(x), UInt64(ShutdownHow.SHUT_WR)), 0)
        assertSuccess(receive(y), "")
        // Writing on a shut-down direction: EPIPE, and SIGPIPE unless MSG_NOSIGNAL.
        let bit: UInt64 = 1 << 12
        assertFailure(send(x, "x", flags: UInt64(MessageFlags.MSG_NOSIGNAL.rawValue)), .EPIPE)
        XCTAssertEqual(k.state.currentThread.pendingSignals & bit, 0)
        assertFailure(send(x, "x"), .EPIPE)
        XCTAssertNotEqual(k.state.currentThread.pendingSignals & bit, 0)
        k.state.currentThread.pendingSignals = 0
        // Closing one end: the other reads EOF and gets EPIPE.
        assertSuccess(k.call(.close, UInt64(x)), 0)
        assertSuccess(receive(y), "")
        assertFailure(send(y, "x", flags: UInt64(MessageFlags.MSG_NOSIGNAL.rawValue)), .EPIPE)
        assertFailure(k.call(.getpeername, UInt64(y), k.scratch + 0x400, int32(16, at: 0x420)), .ENOTCONN)
    }

    func testSocketpairDatagramsKeepBoundaries() {
        let sv = k.scratch + 0x500
        assertSuccess(k.call(.socketpair, AF_UNIX, DGRAM, 0, sv), 0)
        let x = Int(peekInt32(sv)), y = Int(peekInt32(sv + 4))
        assertSuccess(send(x, "one"), 3)
        assertSuccess(send(x, "three"), 5)
        assertSuccess(receive(y, max: 2), "on")     // the rest of a datagram is dropped
        assertSuccess(receive(y), "three")
        assertFailure(k.call(.socketpair, AF_UNIX, STREAM, 0, 0x10), .EFAULT)
    }

    func testHugeDatagramWriteIsEMSGSIZEWithoutABufferOfThatSize() {
        let sv = k.scratch + 0x500
        assertSuccess(k.call(.socketpair, AF_UNIX, DGRAM, 0, sv), 0)
        let x = Int(peekInt32(sv))
        // Regression: the datagram was gathered into one kernel array of the guest's count.
        // (512 MiB: far above the socket buffer, yet inside the user half from the scratch
        // area, which lies 1 GiB below the stack: access_ok passes and the socket decides.)
        assertFailure(k.call(.write, UInt64(x), k.scratch, 1 << 29), .EMSGSIZE)
        assertFailure(k.call(.sendto, UInt64(x), k.scratch, UInt64(Int64.max), 0, 0, 0), .EMSGSIZE)
        // unix_dgram_sendmsg: more than SO_SNDBUF - 32 is EMSGSIZE (212961 on Linux's defaults).
        assertFailure(k.call(.write, UInt64(x), k.scratch, UInt64(SocketBufferLimits.defaultSize - 31)), .EMSGSIZE)
        // The largest datagram allowed is a fault when the guest's buffer is shorter.
        assertFailure(k.call(.write, UInt64(x), k.scratch, UInt64(SocketBufferLimits.defaultSize - 32)), .EFAULT)
        assertSuccess(k.call(.write, UInt64(x), k.scratch, 100), 100)
    }

    func testHugeStreamWriteCopiesInBoundedChunks() {
        let sv = k.scratch + 0x500
        assertSuccess(k.call(.socketpair, AF_UNIX, STREAM | NONBLOCK, 0, sv), 0)
        let x = Int(peekInt32(sv))
        // The scratch area is 64 KiB: the first chunk goes, the next one faults, and the
        // call reports what was queued (never a kernel buffer of 2^40 bytes).
        guard let n = successValue(k.call(.write, UInt64(x), k.scratch, 1 << 29)) else { return XCTFail("write failed") }
        XCTAssertGreaterThan(n, 0)
        XCTAssertLessThanOrEqual(n, Int(TestKernel.scratchLength))
        XCTAssertEqual(SocketIO.totalLength([(UserAddress(0), Int.max), (UserAddress(0), Int.max)]), SocketIO.maximumTransfer)
        XCTAssertEqual(SocketIO.totalLength([(UserAddress(0), 5), (UserAddress(0), -1), (UserAddress(0), 7)]), 12)
    }

    func testHugePipeAndEventfdWritesAreBounded() {
        let fds = k.scratch + 0x500
        assertSuccess(k.call(.pipe2, fds, UInt64(SocketType.SOCK_NONBLOCK)), 0)
        let w = Int(peekInt32(fds + 4))
        guard let n = successValue(k.call(.write, UInt64(w), k.scratch, 1 << 29)) else { return XCTFail("write failed") }
        XCTAssertEqual(n, Int(TestKernel.scratchLength), "one pipe buffer's worth, from a 64 KiB scratch")
        let e = successValue(k.call(.eventfd2, 0, 0)) ?? -1
        let one = k.poke([1, 0, 0, 0, 0, 0, 0, 0], at: 0x600)
        assertSuccess(k.call(.write, UInt64(e), one, 1 << 29), 8)
    }

    // MARK: epoll

    func testEdgeTriggeredEpollReportsEachArrivalAfterDraining() {
        let (_, client, server) = connectedPair(port: 8004)
        // Small writes back to back: without TCP_NODELAY, Nagle holds each one until the
        // delayed ACK timer (40 ms) of the previous one, which this test does not run.
        assertSuccess(k.call(.setsockopt, UInt64(client), 6, UInt64(TCPOption.TCP_NODELAY), int32(1, at: 0x320), 4), 0)
        let ep = successValue(k.call(.epoll_create1, 0)) ?? -1
        let event = k.poke(EpollEvent(events: 0x1 | 0x4 | 0x2000 | (1 << 31), data: 42).encode(), at: 0x600)
        assertSuccess(k.call(.epoll_ctl, UInt64(ep), 1, UInt64(server), event), 0)
        let events = k.scratch + 0x700
        assertSuccess(k.call(.epoll_wait, UInt64(ep), events, 4, 0), 1)   // writable at once
        assertSuccess(k.call(.epoll_wait, UInt64(ep), events, 4, 0), 0)   // edge: not again
        for round in 0..<3 {
            assertSuccess(send(client, "data\(round)"), 5)
            assertSuccess(k.call(.epoll_wait, UInt64(ep), events, 4, 0), 1)
            XCTAssertEqual(peekInt32(events) & 0x1, 0x1, "round \(round): EPOLLIN")
            assertSuccess(receive(server), "data\(round)")
            assertFailure(receive(server), .EAGAIN)
        }
        // Peer shutdown: EPOLLRDHUP with EPOLLIN.
        assertSuccess(k.call(.shutdown, UInt64(client), UInt64(ShutdownHow.SHUT_WR)), 0)
        assertSuccess(k.call(.epoll_wait, UInt64(ep), events, 4, 0), 1)
        XCTAssertEqual(UInt32(bitPattern: peekInt32(events)) & 0x2001, 0x2001)
    }

    func testPollSeesListenerReadableWhenAConnectionWaits() {
        let listener = open(STREAM | NONBLOCK)
        assertSuccess(k.call(.bind, UInt64(listener), sockaddr(SockaddrIn.INADDR_LOOPBACK, 8005, at: 0), 16), 0)
        assertSuccess(k.call(.listen, UInt64(listener), 4), 0)
        var pfd = ByteWriter()
        pfd.u32(UInt32(listener)); pfd.u32(1)   // fd, events = POLLIN, revents = 0
        let fds = k.poke(pfd.bytes, at: 0x800)
        assertSuccess(k.call(.poll, fds, 1, 0), 0)
        let client = open(STREAM | NONBLOCK)
        assertFailure(k.call(.connect, UInt64(client), sockaddr(SockaddrIn.INADDR_LOOPBACK, 8005, at: 0), 16), .EINPROGRESS)
        assertSuccess(k.call(.poll, fds, 1, 0), 1)
        XCTAssertEqual(k.peek(fds + 6, count: 2), [1, 0])
    }

    // MARK: two kernels on a wire

    func testTwoKernelsExchangeFramesThroughPumpNetwork() {
        let other = TestKernel()
        let cardA = FakeWireCard(mac: [2, 0, 0, 0, 0, 1]), cardB = FakeWireCard(mac: [2, 0, 0, 0, 0, 2])
        cardA.other = cardB
        cardB.other = cardA
        for (kernel, card, last) in [(k!, cardA, UInt8(1)), (other, cardB, UInt8(2))] {
            let stack = NetworkStack(mac: MACAddress(2, 0, 0, 0, 0, last), randomSeed: UInt64(last))
            stack.configure(IPv4Configuration(address: IPv4Address(10, 0, 0, last), prefixLength: 24,
                                              gateway: IPv4Address(10, 0, 0, 254), dns: IPv4Address(10, 0, 0, 254)))
            kernel.state.network = stack
            kernel.state.networkInterface = card
        }
        // Kernel A listens on 10.0.0.1:7; kernel B connects without blocking.
        let listener = open(STREAM | NONBLOCK)
        assertSuccess(k.call(.bind, UInt64(listener), sockaddr(0, 7, at: 0), 16), 0)
        assertSuccess(k.call(.listen, UInt64(listener), 4), 0)
        let client = successValue(other.call(.socket, AF_INET, STREAM | NONBLOCK, 0)) ?? -1
        let to = other.poke(SockaddrIn(port: 7, address: 0x0A00_0001).encode(), at: 0)
        assertFailure(other.call(.connect, UInt64(client), to, 16), .EINPROGRESS)
        var server: Int? = nil
        for _ in 0..<20 where server == nil {
            other.state.pumpNetwork()
            k.state.pumpNetwork()
            if case .success(let fd) = k.call(.accept, UInt64(listener), 0, 0) { server = fd }
        }
        guard let server else { return XCTFail("no connection arrived over the wire") }
        other.state.pumpNetwork()
        let message = other.poke(Array("over the wire".utf8), at: 0x1000)
        assertSuccess(other.call(.sendto, UInt64(client), message, 13, 0, 0, 0), 13)
        var got: Result<String, Errno> = .failure(.EAGAIN)
        for _ in 0..<20 {
            other.state.pumpNetwork()
            k.state.pumpNetwork()
            got = receive(server)
            if case .success = got { break }
        }
        assertSuccess(got, "over the wire")
        XCTAssertGreaterThan(cardA.transmitted, 0)
        XCTAssertGreaterThan(cardB.transmitted, 0)
        XCTAssertTrue(k.state.network?.mac != nil)
    }

    func testLoopbackStackIsCreatedOnFirstSocket() {
        XCTAssertNil(k.state.network)
        _ = open(DGRAM)
        XCTAssertNotNil(k.state.network)
        XCTAssertNil(k.state.network?.mac, "no card: loopback only")
    }
}

extension SocketSyscallTests {
    /// Exit closes the sockets still open (once each, dup'ed or not): the peer sees end of
    /// stream, and the stack forgets them.
    func testSocketsStillOpenAtExitAreClosedOnce() {
        let (listener, client, server) = connectedPair(port: 8100)
        XCTAssertGreaterThanOrEqual(listener, 0)
        _ = k.call(.dup, UInt64(server))
        // The client side stands for a peer elsewhere: take it out of the table so exit
        // closes only the listener and the (dup'ed, so shared) server socket.
        guard let socket = k.state.files[client]?.object as? KernelSocket,
              case .internet(let clientID) = socket.backing else { return XCTFail("no client socket") }
        k.state.files[client] = nil
        XCTAssertEqual(k.state.closeSocketsAtExit(), 2)
        let stack = k.state.networkStack()
        XCTAssertTrue(stack.readiness(clientID).contains(.readable))
        XCTAssertEqual(stack.receive(clientID, maximum: 10, now: k.platform.monotonicNanoseconds()).map { $0.count }, .success(0))
        XCTAssertEqual(k.state.closeSocketsAtExit(), 0)   // descriptors remain, their sockets are gone
    }
}

/// The card's transmit backlog (Sources/KernelCore/Sockets/TransmitBacklog.swift).
final class TransmitBacklogTests: XCTestCase {
    func testFramesWaitInOrderAndLeaveAsTheRingTakesThem() {
        var b = TransmitBacklog(limit: 4, maximumFrameLength: 10)
        b.enqueue([[1], [2], [3]])
        var ring: [[UInt8]] = []
        b.flush { frames in ring += frames.prefix(2); return 2 }
        XCTAssertEqual(ring, [[1], [2]])
        XCTAssertEqual(b.frames, [[3]])
        b.enqueue([[4]])
        b.flush { frames in ring += frames; return frames.count }
        XCTAssertEqual(ring, [[1], [2], [3], [4]])
        XCTAssertTrue(b.isEmpty)
        b.flush { _ in XCTFail("nothing to offer"); return 0 }
    }

    func testOverflowOversizedAndEmptyFramesAreDroppedAndCounted() {
        var b = TransmitBacklog(limit: 2, maximumFrameLength: 3)
        b.enqueue([[1], [], [1, 2, 3, 4], [2], [3]])
        XCTAssertEqual(b.frames, [[1], [2]])
        XCTAssertEqual(b.droppedFrames, 3)
        b.flush { _ in 99 }   // a card that claims more than it was offered
        XCTAssertTrue(b.isEmpty)
    }
}
