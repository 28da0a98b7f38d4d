// SocketSendErrorTests — the errno NetworkStack.send gives on TCP sockets that are not
// connected, pinned to what Linux answers (tcp_sendmsg → sk_stream_wait_connect: EPIPE in
// every state but SYN_SENT/SYN_RECV; Guest/c/sockets_test.c's native run agrees).
@testable import Net
import LinuxABI
import XCTest

final class SocketSendErrorTests: XCTestCase {
    func testSendOnNeverConnectedOrListeningTCPSocketIsEPIPENotENOTCONN() {
        let stack = NetworkStack(mac: nil, randomSeed: 7)
        let fresh = stack.openTCP()
        XCTAssertEqual(stack.send(fresh, [1], now: 0).failureValue, .EPIPE)
        let listener = stack.openTCP()
        XCTAssertTrue(stack.bind(listener, to: SocketAddress(.loopback, 4000)).isSuccess)
        XCTAssertTrue(stack.tcpListen(listener, backlog: 1).isSuccess)
        XCTAssertEqual(stack.send(listener, [1], now: 0).failureValue, .EPIPE)
        // receive on the never-connected socket stays ENOTCONN, as on Linux.
        XCTAssertEqual(stack.receive(fresh, maximum: 4, now: 0).failureValue, .ENOTCONN)
    }
}

private extension Result {
    var failureValue: Failure? { if case .failure(let e) = self { return e }; return nil }
    var isSuccess: Bool { if case .success = self { return true }; return false }
}
