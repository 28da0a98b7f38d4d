// UnixSocketTests — AF_UNIX sockets on a real KernelState (host tests for
// Sources/KernelCore/Sockets/UnixSocket*.swift): address decoding and the lengths
// getsockname reports, the stream queue's ancillary-data boundaries, names (path, abstract,
// autobind), the listen backlog, SCM_RIGHTS through sendmsg/recvmsg with MSG_CTRUNC, and the
// socket inode a path bind leaves. The same behaviour runs on Linux and egg in
// Guest/c/unix_socket_test.c.
@testable import KernelCore
import LinuxABI
import XCTest

private let AF_UNIX = UInt64(AddressFamily.AF_UNIX)
private let STREAM = UInt64(SocketType.SOCK_STREAM), DGRAM = UInt64(SocketType.SOCK_DGRAM)
private let SEQPACKET = UInt64(SocketType.SOCK_SEQPACKET), NONBLOCK = UInt64(SocketType.SOCK_NONBLOCK)

private func le32(_ values: UInt32...) -> [UInt8] {
    var w = ByteWriter()
    for v in values { w.u32(v) }
    return w.bytes
}

final class UnixSocketTests: XCTestCase {
    var k: TestKernel!
    override func setUp() { k = TestKernel() }

    func sockaddr(path: String) -> [UInt8] { [1, 0] + Array(path.utf8) + [0] }
    func sockaddr(abstract name: String) -> [UInt8] { [1, 0, 0] + Array(name.utf8) }

    func open(_ type: UInt64) -> Int { successValue(k.call(.socket, AF_UNIX, type, 0)) ?? -1 }

    func bind(_ fd: Int, _ address: [UInt8]) -> SyscallResult {
        k.call(.bind, UInt64(fd), k.poke(address, at: 0x100), UInt64(address.count))
    }
    func connect(_ fd: Int, _ address: [UInt8]) -> SyscallResult {
        k.call(.connect, UInt64(fd), k.poke(address, at: 0x100), UInt64(address.count))
    }
    func name(_ fd: Int, peer: Bool = false) -> Result<[UInt8], Errno> {
        let length = k.poke(le32(128), at: 0x300)
        return k.call(peer ? .getpeername : .getsockname, UInt64(fd), k.scratch + 0x200, length).map { _ in
            k.peek(k.scratch + 0x200, count: Int(ByteReader(k.peek(length, count: 4)).u32(0)))
        }
    }
    func send(_ fd: Int, _ text: String) -> SyscallResult {
        let bytes = Array(text.utf8)
        return k.call(.sendto, UInt64(fd), k.poke(bytes, at: 0x1000), UInt64(bytes.count), 0, 0, 0)
    }
    func receive(_ fd: Int, max: Int = 256) -> Result<String, Errno> {
        k.call(.recvfrom, UInt64(fd), k.scratch + 0x2000, UInt64(max), 0, 0, 0).map {
            String(decoding: k.peek(k.scratch + 0x2000, count: $0), as: UTF8.self)
        }
    }

    // MARK: addresses

    func testAddressDecodingAndTheLengthsGetsocknameReports() {
        XCTAssertEqual(try LocalAddress.decode([1, 0]).get(), .unnamed)
        XCTAssertEqual(try LocalAddress.decode([1, 0] + Array("/a/b".utf8) + [0, 0, 0]).get(), .path(Array("/a/b".utf8)))
        // A path need not be NUL-terminated within addrlen (unix_mkname_bsd adds the NUL).
        XCTAssertEqual(try LocalAddress.decode([1, 0] + Array("xy".utf8)).get(), .path(Array("xy".utf8)))
        XCTAssertEqual(try LocalAddress.decode([1, 0, 0, 0x61, 0]).get(), .abstract([0x61, 0]))
        assertFailure(LocalAddress.decode([1]), .EINVAL)
        assertFailure(LocalAddress.decode([2, 0, 0x61]), .EINVAL)
        assertFailure(LocalAddress.decode([1, 0] + [UInt8](repeating: 0x61, count: 109)), .EINVAL)
        // Path: family + path + NUL; abstract: exactly what was given.
        XCTAssertEqual(LocalAddress.path(Array("xy".utf8)).encoded.count, 5)
        XCTAssertEqual(LocalAddress.abstract([0x61, 0]).encoded, [1, 0, 0, 0x61, 0])
    }

    // MARK: queues

    func testStreamReadGluesBytesUpToAStretchCarryingDescriptorsAndStopsAfterIt() {
        let credentials = LocalCredentials(pid: 1, uid: 0, gid: 0)
        let (a, b) = LocalSocketEnd.pair(type: SocketType.SOCK_STREAM, credentials: credentials)
        let file = OpenFile(kind: .console, statusFlags: 2)
        func message(_ text: String, rights: [OpenFile] = []) -> LocalMessage {
            LocalMessage(data: Array(text.utf8), rights: rights, credentials: credentials, sourceName: [])
        }
        XCTAssertEqual(try a.send(message("abc"), to: nil).get(), 3)
        XCTAssertEqual(try a.send(message("DEF", rights: [file]), to: nil).get(), 3)
        XCTAssertEqual(try a.send(message("ghi"), to: nil).get(), 3)
        // Regression: a read glues the bytes before a stretch carrying descriptors to that
        // stretch and stops after it, as Linux does ("abcDEF", then "ghi"); it used to stop
        // before the stretch or run past it.
        XCTAssertEqual(b.available, 9)
        let peeked = b.receive(maximum: 100, peek: true)
        XCTAssertEqual(peeked?.delivery.rights.count, 1)
        XCTAssertEqual(peeked?.delivery.peeked, true)
        XCTAssertEqual(b.receive(maximum: 2, peek: false)?.data, Array("ab".utf8))
        let first = b.receive(maximum: 100, peek: false)
        XCTAssertEqual(first?.data, Array("cDEF".utf8))
        XCTAssertTrue(first?.delivery.rights.first === file)
        let second = b.receive(maximum: 100, peek: false)
        XCTAssertEqual(second?.data, Array("ghi".utf8))
        XCTAssertTrue(second?.delivery.rights.isEmpty ?? false)
        XCTAssertNil(b.receive(maximum: 100, peek: false))
        // Closing with unread data resets the peer (sk_err ECONNRESET), and hangs it up.
        XCTAssertEqual(try b.send(message("unread"), to: nil).get(), 6)
        XCTAssertTrue(a.close().isEmpty)
        XCTAssertEqual(b.pendingError, .ECONNRESET)
        XCTAssertNotEqual(b.readiness() & PollEvents.hangUp, 0)
    }

    // MARK: names

    func testPathBindMakesASocketInodeAndUnlinkFreesTheName() {
        let s = open(STREAM)
        assertSuccess(bind(s, sockaddr(path: "/tmp/s")), 0)
        guard case .success(let inode) = k.state.files.fileSystem.resolve(Array("/tmp/s".utf8), from: k.state.files.fileSystem.root) else {
            return XCTFail("no inode at /tmp/s")
        }
        XCTAssertEqual(inode.mode & FileMode.S_IFMT, FileMode.S_IFSOCK)
        assertSuccess(name(s), sockaddr(path: "/tmp/s"))
        let t = open(STREAM)
        assertFailure(bind(t, sockaddr(path: "/tmp/s")), .EADDRINUSE)
        assertFailure(connect(t, sockaddr(path: "/tmp/s")), .ECONNREFUSED)   // not listening
        assertFailure(k.call(.open, k.pokeString("/tmp/s", at: 0x400), 0), .ENXIO)
        assertSuccess(k.call(.unlink, k.pokeString("/tmp/s", at: 0x400)), 0)
        assertFailure(connect(t, sockaddr(path: "/tmp/s")), .ENOENT)
        assertSuccess(bind(t, sockaddr(path: "/tmp/s")), 0)
        assertFailure(connect(s, sockaddr(path: "/tmp/missing")), .ENOENT)
    }

    func testAbstractNamesAutobindAndTheListenBacklog() {
        let listener = open(STREAM | NONBLOCK)
        assertFailure(k.call(.listen, UInt64(listener), 1), .EINVAL)   // unbound
        assertSuccess(bind(listener, sockaddr(abstract: "srv")), 0)
        assertSuccess(name(listener), sockaddr(abstract: "srv"))
        assertFailure(bind(open(STREAM), sockaddr(abstract: "srv")), .EADDRINUSE)
        assertSuccess(k.call(.listen, UInt64(listener), 1), 0)
        assertFailure(k.call(.accept, UInt64(listener), 0, 0), .EAGAIN)
        let c = (0..<3).map { _ in open(STREAM | NONBLOCK) }
        assertSuccess(connect(c[0], sockaddr(abstract: "srv")), 0)
        assertSuccess(connect(c[1], sockaddr(abstract: "srv")), 0)
        assertFailure(connect(c[2], sockaddr(abstract: "srv")), .EAGAIN)   // more than backlog waiting
        let server = successValue(k.call(.accept, UInt64(listener), 0, 0)) ?? -1
        assertSuccess(send(c[0], "hi"), 2)
        assertSuccess(receive(server), "hi")
        assertSuccess(name(c[0], peer: true), sockaddr(abstract: "srv"))
        assertSuccess(name(server, peer: true), [1, 0])   // an unbound client
        // A datagram socket of the wrong type: EPROTOTYPE.
        assertFailure(connect(open(DGRAM), sockaddr(abstract: "srv")), .EPROTOTYPE)
        // Autobind: NUL and five hex digits.
        let d = open(DGRAM)
        assertSuccess(bind(d, [1, 0]), 0)
        guard case .success(let auto) = name(d) else { return XCTFail("getsockname") }
        XCTAssertEqual(auto.count, 8)
        XCTAssertEqual(auto[2], 0)
        // Closing frees an abstract name.
        assertSuccess(k.call(.close, UInt64(listener)), 0)
        assertFailure(connect(open(STREAM), sockaddr(abstract: "srv")), .ECONNREFUSED)
        assertSuccess(bind(open(SEQPACKET), sockaddr(abstract: "srv")), 0)
    }

    // MARK: ancillary data

    func testSCMRightsPassesAPipeEndAndTruncationClosesTheRest() {
        let sv = k.scratch + 0x500
        assertSuccess(k.call(.socketpair, AF_UNIX, STREAM | NONBLOCK, 0, sv), 0)
        let x = ByteReader(k.peek(sv, count: 8)).u32(0), y = ByteReader(k.peek(sv, count: 8)).u32(4)
        assertSuccess(k.call(.pipe2, k.scratch + 0x510, 0), 0)
        let r = ByteReader(k.peek(k.scratch + 0x510, count: 8)).u32(0), w = ByteReader(k.peek(k.scratch + 0x510, count: 8)).u32(4)
        // cmsghdr { len 24, SOL_SOCKET, SCM_RIGHTS } + two descriptors.
        let control = k.poke(le64(24) + le32(1) + le32(1) + le32(r) + le32(w), at: 0x600)
        let byte = k.poke([0x41], at: 0x700)
        let iov = k.poke(le64(byte, 1), at: 0x710)
        let header = k.poke(MessageHeader(iov: iov, iovLength: 1, control: control, controlLength: 24).encode(), at: 0x800)
        assertSuccess(k.call(.sendmsg, UInt64(x), header, 0), 1)
        assertSuccess(k.call(.close, UInt64(r)), 0)   // in flight: the read end stays open
        // Room for one descriptor (CMSG_LEN(4) = 20): MSG_CTRUNC, the second is closed.
        let buffer = k.scratch + 0x900
        let inIov = k.poke(le64(buffer, 16), at: 0x720)
        let inHeader = k.poke(MessageHeader(iov: inIov, iovLength: 1, control: k.scratch + 0xa00, controlLength: 20).encode(), at: 0x880)
        assertSuccess(k.call(.recvmsg, UInt64(y), inHeader, 0), 1)
        let back = (try? MessageHeader.decode(from: k.peek(inHeader, count: MessageHeader.byteSize)))
        XCTAssertEqual(back?.controlLength, 20)
        XCTAssertNotEqual((back?.flags ?? 0) & MessageFlags.MSG_CTRUNC.rawValue, 0)
        let cmsg = ByteReader(k.peek(k.scratch + 0xa00, count: 20))
        XCTAssertEqual(cmsg.u64(0), 20)
        let received = cmsg.u32(16)
        // The received descriptor is the pipe's read end: bytes written at w come out there.
        assertSuccess(k.call(.write, UInt64(w), k.poke([0x5a], at: 0xb00), 1), 1)
        assertSuccess(k.call(.read, UInt64(received), k.scratch + 0xb10, 1), 1)
        XCTAssertEqual(k.peek(k.scratch + 0xb10, count: 1), [0x5a])
        // A bad descriptor in SCM_RIGHTS: EBADF; a cmsg_len beyond the buffer: EINVAL.
        _ = k.poke(le64(20) + le32(1) + le32(1) + le32(999), at: 0x600)
        let badHeader = k.poke(MessageHeader(iov: iov, iovLength: 1, control: control, controlLength: 24).encode(), at: 0x800)
        assertFailure(k.call(.sendmsg, UInt64(x), badHeader, 0), .EBADF)
        _ = k.poke(le64(64) + le32(1) + le32(1) + le32(r), at: 0x600)
        assertFailure(k.call(.sendmsg, UInt64(x), badHeader, 0), .EINVAL)
    }
}
