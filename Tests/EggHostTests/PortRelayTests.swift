// PortRelayTests — egg's host-side relay for TCP `-p` (tests for Sources/EggHost/PortRelay.swift)
// with real sockets on 127.0.0.1: a local server stands in for QEMU's hostfwd listener.

@testable import EggHost
import Foundation
import XCTest

/// A listening socket on 127.0.0.1 and a thread serving it with `serve(connectionNumber, fd)`.
final class LoopbackServer: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let lock = NSLock()
    private var served = 0

    init(backlog: Int32 = 16, port requested: Int = 0) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requested).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(s, backlog)
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &size) }
        }
        fd = s
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts `count` connections one after another (so the backlog matters), each handled
    /// on its own thread.
    func serve(_ count: Int, pause: useconds_t = 0, _ handle: @escaping @Sendable (Int, Int32) -> Void) {
        Thread { [self] in
            for number in 0..<count {
                if pause > 0 { usleep(pause) }
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                lock.lock(); served += 1; lock.unlock()
                Thread { handle(number, client); Glibc.close(client) }.start()
            }
        }.start()
    }

    var servedCount: Int { lock.lock(); defer { lock.unlock() }; return served }
    func close() { Glibc.close(fd) }
}

func connectLoopback(_ port: Int, timeout: Int = 20) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var tv = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let r = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return r == 0 ? fd : -1
}

func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return false }
        offset += n
    }
    return true
}

/// Reads to end of file (nil on an error or timeout).
func readToEnd(_ fd: Int32) -> [UInt8]? {
    var all: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { return all }
        if n < 0 { return nil }
        all += buffer[0..<n]
    }
}

final class PortRelayTests: XCTestCase {
    /// A relay on a kernel-chosen host port in front of `innerPort`, started.
    func startRelay(innerPort: Int, settings: RelaySettings = RelaySettings()) throws -> PortRelay {
        let forward = PortForward(hostAddress: "127.0.0.1", hostPort: 0, guestPort: 80)
        guard case .success(let relay) = PortRelay.open(forward, innerPort: innerPort, settings: settings) else {
            throw XCTSkip("cannot listen on 127.0.0.1")
        }
        relay.start()
        return relay
    }

    func testHalfCloseEachWayCarriesEveryByte() throws {
        // The server reads to the client's end of file, answers everything back reversed, then ends.
        let server = LoopbackServer()
        defer { server.close() }
        server.serve(1) { _, fd in
            if let got = readToEnd(fd) { _ = sendAll(fd, got.reversed()) }
            shutdown(fd, Int32(SHUT_WR))
        }
        let relay = try startRelay(innerPort: server.port)
        defer { relay.stop() }
        let client = connectLoopback(relay.boundPort)
        XCTAssertGreaterThanOrEqual(client, 0)
        defer { close(client) }
        let payload = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        XCTAssertTrue(sendAll(client, payload))
        shutdown(client, Int32(SHUT_WR))  // the server only answers after this end of file
        XCTAssertEqual(readToEnd(client), payload.reversed())
    }

    func testInnerConnectionEndedBeforeTheGuestSpokeIsRetriedWithTheClientBytes() throws {
        // As slirp does while the guest does not listen yet: accept, then close at once.
        let server = LoopbackServer()
        defer { server.close() }
        server.serve(4) { number, fd in
            if number < 3 { return }  // closed without a word
            var buffer = [UInt8](repeating: 0, count: 4)
            var got = 0
            while got < 4 {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, 4 - got) }
                if n <= 0 { return }
                got += n
            }
            _ = sendAll(fd, buffer == Array("ping".utf8) ? Array("pong".utf8) : Array("what".utf8))
        }
        let relay = try startRelay(innerPort: server.port)
        defer { relay.stop() }
        let client = connectLoopback(relay.boundPort)
        defer { close(client) }
        XCTAssertTrue(sendAll(client, Array("ping".utf8)))
        XCTAssertEqual(readToEnd(client), Array("pong".utf8))
        XCTAssertEqual(server.servedCount, 4)
        XCTAssertEqual(relay.statistics.retries, 3)
    }

    func testRefusedInnerConnectIsRetriedUntilTheListenerAppears() throws {
        // QEMU starts after the relay: its port refuses for a while.
        guard let port = privateLoopbackPorts(1)?.first else { throw XCTSkip("no loopback port") }
        let relay = try startRelay(innerPort: port)
        defer { relay.stop() }
        let client = connectLoopback(relay.boundPort)
        defer { close(client) }
        XCTAssertTrue(sendAll(client, Array("hi".utf8)))
        usleep(300_000)
        let server = LoopbackServer(port: port)
        defer { server.close() }
        XCTAssertEqual(server.port, port)
        server.serve(1) { _, fd in
            var buffer = [UInt8](repeating: 0, count: 2)
            _ = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 2) }
            _ = sendAll(fd, buffer + Array("!".utf8))
        }
        XCTAssertEqual(readToEnd(client), Array("hi!".utf8))
        XCTAssertGreaterThan(relay.statistics.retries, 0)
    }

    func testGuestClosingAfterTheClientsEndOfFileIsAnAnswerNotRetried() throws {
        let server = LoopbackServer()
        defer { server.close() }
        server.serve(2) { _, fd in _ = readToEnd(fd) }  // reads to EOF, answers nothing
        let relay = try startRelay(innerPort: server.port)
        defer { relay.stop() }
        let client = connectLoopback(relay.boundPort)
        defer { close(client) }
        XCTAssertTrue(sendAll(client, Array("x".utf8)))
        shutdown(client, Int32(SHUT_WR))
        XCTAssertEqual(readToEnd(client), [])
        XCTAssertEqual(relay.statistics.retries, 0)
        XCTAssertEqual(server.servedCount, 1)
    }

    func testBurstThroughABacklogOfOneIsPacedAndEveryClientAnswered() throws {
        // The inner listener has slirp's backlog of 1 and accepts slowly; 60 clients connect
        // at once to the relay. Unpaced, the inner accept queue would overflow (dropped
        // handshakes: 1 s+ stalls or resets); paced, every client gets its answer.
        let count = 60
        let server = LoopbackServer(backlog: 1)
        defer { server.close() }
        server.serve(count, pause: 2_000) { number, fd in
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { _ = sendAll(fd, Array(buffer[0..<n]) + Array("ok".utf8)) }
        }
        let relay = try startRelay(innerPort: server.port)
        defer { relay.stop() }
        let clients = (0..<count).map { _ in connectLoopback(relay.boundPort) }
        defer { for fd in clients where fd >= 0 { close(fd) } }
        XCTAssertFalse(clients.contains(-1), "every connect to the relay succeeds (its backlog is large)")
        for (i, fd) in clients.enumerated() { XCTAssertTrue(sendAll(fd, Array("c\(i)".utf8))) }
        let answers = clients.map { readToEnd($0) }
        for (i, answer) in answers.enumerated() {
            XCTAssertEqual(answer, Array("c\(i)ok".utf8), "client \(i)")
        }
        XCTAssertEqual(relay.statistics.accepted, count)
    }

    func testPacingKeepsConnectingPlusQueuedBelowTheLimit() {
        XCTAssertTrue(pacingAllows(connecting: 0, queued: 0, limit: 2))
        XCTAssertTrue(pacingAllows(connecting: 1, queued: 0, limit: 2))
        XCTAssertFalse(pacingAllows(connecting: 1, queued: 1, limit: 2))
        XCTAssertFalse(pacingAllows(connecting: 0, queued: 2, limit: 2))
    }

    func testAcceptQueueLengthIsReadFromTheListenersRxQueue() {
        let text = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000002 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
           1: 0100007F:1F90 0100007F:D431 01 00000000:00000005 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
           2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
        """
        XCTAssertEqual(parseAcceptQueueLength(procNetTCP: text, port: 8080), 2)
        XCTAssertEqual(parseAcceptQueueLength(procNetTCP: text, port: 80), 0)
        XCTAssertNil(parseAcceptQueueLength(procNetTCP: text, port: 81))
    }

    func testPortInUseIsRefusedWithTheUsualMessage() {
        let holder = LoopbackServer()
        defer { holder.close() }
        let forward = PortForward(hostAddress: "127.0.0.1", hostPort: holder.port, guestPort: 80)
        guard case .failure(let problem) = PortRelay.open(forward, innerPort: 1) else {
            return XCTFail("a port another socket listens on was bound")
        }
        XCTAssertEqual(problem, .hostPortInUse(forward.text))
    }

    func testTCPForwardsGoToAPrivateLoopbackPortAndUDPStaysDirect() throws {
        let network = GuestNetwork(forwards: [PortForward(hostAddress: "127.0.0.1", hostPort: 0, guestPort: 80),
                                              PortForward(portProtocol: .udp, hostPort: 5353, guestPort: 53)])
        guard case .success(let (rewritten, relays)) = openPortRelays(network) else {
            throw XCTSkip("cannot listen on 127.0.0.1")
        }
        defer { for relay in relays { relay.stop() } }
        XCTAssertEqual(relays.count, 1)
        XCTAssertEqual(rewritten.forwards[0].hostAddress, "127.0.0.1")
        XCTAssertEqual(rewritten.forwards[0].hostPort, relays[0].innerPort)
        XCTAssertEqual(rewritten.forwards[0].guestPort, 80)
        XCTAssertEqual(rewritten.forwards[1], network.forwards[1])
        XCTAssertTrue(rewritten.qemuArguments[1].contains("hostfwd=tcp:127.0.0.1:\(relays[0].innerPort)-:80"))
    }
}
