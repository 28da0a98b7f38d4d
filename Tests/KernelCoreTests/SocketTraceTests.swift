// SocketTraceTests — `egg run --trace` lines for the socket calls (Sources/KernelCore/Trace/
// SocketTraceText.swift), compared with what strace 6.1 printed for the same calls of
// Guest/c/sockets_test.c on Linux (addresses and ports differ by machine and are chosen here).
@testable import KernelCore
import LinuxABI
import XCTest

final class SocketTraceTests: XCTestCase {
    var k: TestKernel!
    let formatter = SyscallTraceFormatter()
    override func setUp() { k = TestKernel() }

    func call(_ n: SyscallNumber, _ a: UInt64...) -> String {
        var v = a
        while v.count < 6 { v.append(0) }
        let arguments = SyscallArguments(number: n.rawValue, v[0], v[1], v[2], v[3], v[4], v[5])
        return formatter.call(arguments, result: k.state.dispatch(arguments), memory: k.space)
    }

    func testSocketBindListenAcceptAndNamesDecodeLikeStrace() {
        // Non-blocking: accept4 below must answer EAGAIN, not wait for a connection.
        XCTAssertEqual(call(.socket, 2, 1 | 0o2000000 | 0o4000, 0),
                       "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP)")
        let address = k.poke(SockaddrIn(port: 8000, address: 0).encode(), at: 0)
        XCTAssertEqual(call(.bind, 3, address, 16),
                       "bind(3, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr(\"0.0.0.0\")}, 16)")
        XCTAssertEqual(call(.listen, 3, 128), "listen(3, 128)")
        let name = k.scratch + 0x100, length = k.poke([16, 0, 0, 0], at: 0x200)
        XCTAssertEqual(call(.getsockname, 3, name, length),
                       "getsockname(3, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr(\"0.0.0.0\")}, [16])")
        XCTAssertEqual(call(.getpeername, 3, name, length), "getpeername(3, \(hexString(name)), [16])")
        XCTAssertEqual(call(.accept4, 3, name, length, 0o2004000),
                       "accept4(3, \(hexString(name)), [16], SOCK_CLOEXEC|SOCK_NONBLOCK)")
        XCTAssertEqual(call(.socket, 2, 1 | 0x100, 0), "socket(AF_INET, SOCK_STREAM|0x100 /* SOCK_??? */, IPPROTO_IP)")
    }

    func testOptionsShowValuesAndErrnoNames() {
        _ = k.call(.socket, 2, 2, 0)
        let one = k.poke([1, 0, 0, 0], at: 0)
        XCTAssertEqual(call(.setsockopt, 3, 1, 2, one, 4), "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4)")
        let value = k.scratch + 0x100, length = k.poke([4, 0, 0, 0], at: 0x200)
        XCTAssertEqual(call(.getsockopt, 3, 1, 3, value, length), "getsockopt(3, SOL_SOCKET, SO_TYPE, [2], [4])")
        XCTAssertEqual(SyscallTraceFormatter.optionValue([111, 0, 0, 0], name: SocketOption.SO_ERROR, level: 1),
                       "[ECONNREFUSED]")
        XCTAssertEqual(call(.setsockopt, 3, 6, 1, one, 4), "setsockopt(3, SOL_TCP, TCP_NODELAY, [1], 4)")
    }

    func testSocketpairSendAndRecvmsgDecodeBuffersFlagsAndHeaders() {
        let sv = k.scratch + 0x300
        XCTAssertEqual(call(.socketpair, 1, 2 | 0o4000, 0, sv), "socketpair(AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK, 0, [3, 4])")
        let text = k.poke(Array("tail".utf8), at: 0x400)
        XCTAssertEqual(call(.sendto, 3, text, 4, 0x4000, 0, 0), "sendto(3, \"tail\", 4, MSG_NOSIGNAL, NULL, 0)")
        let buffer = k.scratch + 0x500
        let iov = k.poke(le64(buffer, 32), at: 0x600)
        let header = k.poke(MessageHeader(iov: iov, iovLength: 1).encode(), at: 0x700)
        XCTAssertEqual(call(.recvmsg, 4, header, 0),
                       "recvmsg(4, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base=\"tail\", iov_len=32}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0)")
        XCTAssertEqual(call(.recvfrom, 4, buffer, 32, 0x40, 0, 0),
                       "recvfrom(4, \(hexString(buffer)), 32, MSG_DONTWAIT, NULL, NULL)")
        XCTAssertEqual(call(.shutdown, 3, 1), "shutdown(3, SHUT_WR)")
    }
}
