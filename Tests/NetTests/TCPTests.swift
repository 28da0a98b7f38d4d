// TCPTests — the TCP state machine between two stacks over SimulatedLink: handshakes,
// data both ways, loss/reordering, RST, zero-window probes, TIME_WAIT, simultaneous
// open/close, Nagle, fast retransmit, the backlog (Sources/Net/TCPConnection.swift).
import XCTest
import LinuxABI
@testable import Net

final class TCPTests: XCTestCase {
    /// Sends everything in `data` from `from` and reads it all at `to`.
    func transfer(_ link: SimulatedLink, _ data: [UInt8], from sender: NetworkStack, _ s: SocketID,
                  to receiver: NetworkStack, _ r: SocketID, limit: UInt64 = 120_000_000_000) -> [UInt8] {
        var sent = 0
        var got: [UInt8] = []
        got.reserveCapacity(data.count)
        link.run(for: limit, until: {
            while sent < data.count {
                let chunk = Array(data[sent..<min(data.count, sent + 65_536)])
                guard case .success(let n) = sender.send(s, chunk, now: link.now) else { break }
                sent += n
            }
            while case .success(let bytes) = receiver.receive(r, maximum: 100_000, now: link.now), !bytes.isEmpty {
                got.append(contentsOf: bytes)
            }
            return got.count >= data.count
        })
        return got
    }

    func testHandshakeEstablishesBothSidesAndNegotiatesOptions() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        XCTAssertEqual(link.a.tcpState(c), .established)
        XCTAssertEqual(link.b.tcpState(s), .established)
        XCTAssertEqual(link.a.tcp(c)!.mss, 1460)
        // 128 KiB buffers need a window shift of 2 on both sides (RFC 7323).
        XCTAssertEqual(link.a.tcp(c)!.sendScale, 2)
        XCTAssertEqual(link.b.tcp(s)!.sendScale, 2)
        XCTAssertEqual(try link.b.peerAddress(s).get().address, ipA)
        XCTAssertTrue(link.a.readiness(c).contains(.writable))
        XCTAssertFalse(link.a.readiness(c).contains(.readable))
    }

    func testDataFlowsBothWaysIntact() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        var rng = TestRandom(7)
        let up = rng.bytes(300_000), down = rng.bytes(200_000)
        XCTAssertEqual(fnv1a(transfer(link, up, from: link.a, c, to: link.b, s)), fnv1a(up))
        XCTAssertEqual(fnv1a(transfer(link, down, from: link.b, s, to: link.a, c)), fnv1a(down))
    }

    func testLargeTransferOverLossyReorderingLinkArrivesIntact() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        link.lossPercent = 2
        link.duplicatePercent = 2
        link.reorderPercent = 3
        var rng = TestRandom(99)
        let data = rng.bytes(8 * 1024 * 1024)
        let got = transfer(link, data, from: link.a, c, to: link.b, s, limit: 600_000_000_000)
        XCTAssertEqual(got.count, data.count)
        XCTAssertEqual(fnv1a(got), fnv1a(data))
        XCTAssertGreaterThan(link.a.tcp(c)!.fastRetransmits, 0, "losses should be repaired by fast retransmit")
    }

    func testSingleLossIsRepairedByFastRetransmitWithoutTimeout() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        var dropped = false
        link.filter = { frame, toB in
            // Drop the third full-size data segment once.
            if toB && frame.count > 1000 && !dropped {
                if link.a.tcp(c)!.sndMax &- link.a.tcp(c)!.iss > 4000 { dropped = true; return false }
            }
            return true
        }
        var rng = TestRandom(3)
        let data = rng.bytes(100_000)
        let got = transfer(link, data, from: link.a, c, to: link.b, s)
        XCTAssertTrue(dropped)
        XCTAssertEqual(fnv1a(got), fnv1a(data))
        XCTAssertEqual(link.a.tcp(c)!.fastRetransmits, 1)
        XCTAssertEqual(link.a.tcp(c)!.timeouts, 0)
    }

    func testConnectToClosedPortIsRefused() {
        let link = SimulatedLink()
        let c = link.a.openTCP()
        XCTAssertEqual(errorOf(link.a.tcpConnect(c, to: SocketAddress(ipB, 9), now: link.now)), .EINPROGRESS)
        XCTAssertEqual(errorOf(link.a.connectResult(c)), .EINPROGRESS)
        link.run(until: { link.a.tcpState(c) == .closed })
        XCTAssertTrue(link.a.readiness(c).contains(.error))
        XCTAssertEqual(errorOf(link.a.connectResult(c)), .ECONNREFUSED)
        XCTAssertGreaterThan(link.b.statistics.tcpResetsSent, 0)
    }

    func testConnectTimesOutWhenSynsVanish() {
        let link = SimulatedLink()
        link.filter = { _, toB in !toB }
        let c = link.a.openTCP()
        _ = link.a.tcpConnect(c, to: SocketAddress(ipB, 80), now: link.now)
        link.run(for: 600_000_000_000, until: { link.a.tcpState(c) == .closed })
        XCTAssertEqual(link.a.takeError(c), .ETIMEDOUT)
    }

    func testCloseWithUnreadDataResetsPeer() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        _ = link.a.send(c, [1, 2, 3], now: link.now)
        link.run(until: { link.b.bytesAvailable(s) == 3 })
        link.b.close(s, now: link.now)
        link.run(until: { link.a.tcpState(c) == .closed })
        XCTAssertEqual(link.a.receive(c, maximum: 10, now: link.now), .failure(.ECONNRESET))
        XCTAssertTrue(link.a.readiness(c).contains(.hangup))
        XCTAssertEqual(link.a.send(c, [1], now: link.now), .failure(.EPIPE))
    }

    func testResetWithWrongSequenceOnlyDrawsChallengeAck() {
        let link = SimulatedLink()
        let (c, _, _) = link.connectPair()
        let conn = link.a.tcp(c)!
        let forged = TCPSegment(sourcePort: conn.remote.port, destinationPort: conn.local.port,
                                sequence: conn.rcvNxt &+ 100, acknowledgment: 0, flags: [.rst], window: 0)
        let ip = IPv4Packet(source: ipB, destination: ipA, protocolNumber: IPProtocol.tcp,
                            payload: forged.build(source: ipB, destination: ipA))
        link.a.receive(frame: EthernetFrame(destination: macA, source: macB, etherType: EtherType.ipv4)
            .build(payload: ip.build()), now: link.now)
        XCTAssertEqual(link.a.tcpState(c), .established)
        let exact = TCPSegment(sourcePort: conn.remote.port, destinationPort: conn.local.port,
                               sequence: conn.rcvNxt, acknowledgment: 0, flags: [.rst], window: 0)
        let ip2 = IPv4Packet(source: ipB, destination: ipA, protocolNumber: IPProtocol.tcp,
                             payload: exact.build(source: ipB, destination: ipA))
        link.a.receive(frame: EthernetFrame(destination: macA, source: macB, etherType: EtherType.ipv4)
            .build(payload: ip2.build()), now: link.now)
        XCTAssertEqual(link.a.tcpState(c), .closed)
        XCTAssertEqual(link.a.takeError(c), .ECONNRESET)
    }

    func testOrderlyCloseGoesThroughTimeWait() {
        var p = TCPParameters()
        p.timeWaitDuration = 10_000_000_000
        let link = SimulatedLink(parameters: p)
        let (c, s, _) = link.connectPair()
        XCTAssertNil(errorOf(link.a.shutdown(c, .write, now: link.now)))
        link.run(until: { link.b.tcpState(s) == .closeWait && link.a.tcpState(c) == .finWait2 })
        XCTAssertEqual(link.a.tcpState(c), .finWait2)
        XCTAssertEqual(link.b.receive(s, maximum: 10, now: link.now), .success([]))
        XCTAssertTrue(link.b.readiness(s).contains(.readHangup))
        // The half-closed side can still send.
        XCTAssertEqual(link.b.send(s, [9, 8, 7], now: link.now), .success(3))
        link.run(until: { link.a.bytesAvailable(c) == 3 })
        link.b.close(s, now: link.now)
        link.run(for: 1_000_000_000, until: {
            link.a.tcpState(c) == .timeWait && link.b.connections.allSatisfy { $0.state == .listen }
        })
        XCTAssertEqual(link.a.tcpState(c), .timeWait)
        XCTAssertFalse(link.b.connections.contains { $0.local.port == 8000 && $0.state != .listen },
                       "LAST_ACK ends in CLOSED once our FIN is acknowledged")
        // TIME_WAIT lasts 2*MSL (here 10 s) from the final ACK, then the block is freed.
        let deadline = link.a.tcp(c)!.timeWaitDeadline!
        XCTAssertGreaterThanOrEqual(deadline, 11_000_000_000)   // the link starts at 1 s
        _ = link.a.poll(now: deadline - 1_000_000)
        XCTAssertEqual(link.a.tcpState(c), .timeWait)
        _ = link.a.poll(now: deadline)
        XCTAssertEqual(link.a.tcpState(c), .closed)
        XCTAssertTrue(link.a.connections.isEmpty)
    }

    func testTimeWaitAnswersRetransmittedFin() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        _ = link.a.shutdown(c, .write, now: link.now)
        link.run(until: { link.b.tcpState(s) == .closeWait })
        // Lose A's final ACK of B's FIN once: B retransmits the FIN and A (in TIME_WAIT) re-ACKs.
        var droppedFinalAck = false
        link.filter = { frame, toB in
            if toB && !droppedFinalAck && link.a.tcpState(c) == .timeWait { droppedFinalAck = true; return false }
            return true
        }
        link.b.close(s, now: link.now)
        link.run(for: 10_000_000_000, until: { link.b.connections.allSatisfy { $0.state == .listen } })
        XCTAssertTrue(droppedFinalAck)
        XCTAssertEqual(link.a.tcpState(c), .timeWait)
        XCTAssertTrue(link.b.connections.allSatisfy { $0.state == .listen })
    }

    func testSimultaneousOpen() {
        let link = SimulatedLink()
        let x = link.a.openTCP(), y = link.b.openTCP()
        _ = link.a.bind(x, to: SocketAddress(.any, 5001))
        _ = link.b.bind(y, to: SocketAddress(.any, 5002))
        // Make B's SYN miss A's port until A's SYN is out, so both SYNs cross.
        _ = link.a.tcpConnect(x, to: SocketAddress(ipB, 5002), now: link.now)
        _ = link.b.tcpConnect(y, to: SocketAddress(ipA, 5001), now: link.now)
        link.run(until: { link.a.tcpState(x) == .established && link.b.tcpState(y) == .established })
        XCTAssertEqual(link.a.tcpState(x), .established)
        XCTAssertEqual(link.b.tcpState(y), .established)
        XCTAssertEqual(link.a.send(x, [1, 2], now: link.now), .success(2))
        link.run(until: { link.b.bytesAvailable(y) == 2 })
        XCTAssertEqual(link.b.receive(y, maximum: 9, now: link.now), .success([1, 2]))
    }

    func testSimultaneousCloseGoesThroughClosing() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        link.latency = 5_000_000     // FINs cross in flight
        _ = link.a.shutdown(c, .write, now: link.now)
        _ = link.b.shutdown(s, .write, now: link.now)
        var sawClosing = false
        link.run(for: 2_000_000_000, until: {
            if link.a.tcpState(c) == .closing || link.b.tcpState(s) == .closing { sawClosing = true }
            return link.a.tcpState(c) == .timeWait && link.b.tcpState(s) == .timeWait
        })
        XCTAssertTrue(sawClosing)
        XCTAssertEqual(link.a.tcpState(c), .timeWait)
        XCTAssertEqual(link.b.tcpState(s), .timeWait)
    }

    func testZeroWindowIsProbedAndTransferResumes() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        var rng = TestRandom(11)
        let data = rng.bytes(400_000)
        var sent = 0
        link.run(for: 3_000_000_000, until: {
            if case .success(let n) = link.a.send(c, Array(data[sent..<min(data.count, sent + 65536)]), now: link.now) { sent += n }
            return link.a.tcp(c)!.sndWnd == 0 && link.a.tcp(c)!.sndUna == link.a.tcp(c)!.sndMax
        })
        XCTAssertEqual(link.a.tcp(c)!.sndWnd, 0, "receiver buffer full → zero window")
        XCTAssertEqual(link.b.bytesAvailable(s), 128 * 1024)
        // Lose every window update B sends after reading: only A's probes can find it.
        link.filter = { _, toB in toB }
        var got = link.b.receive(s, maximum: 128 * 1024, now: link.now).map { $0 } .get(or: [])
        link.run(for: 1_000_000_000)
        link.filter = nil
        let probesBefore = link.a.tcp(c)!.persistBackoff
        XCTAssertGreaterThan(probesBefore, 0, "persist timer must have fired")
        link.run(for: 30_000_000_000, until: {
            if sent < data.count, case .success(let n) = link.a.send(c, Array(data[sent..<min(data.count, sent + 65536)]), now: link.now) { sent += n }
            while case .success(let b) = link.b.receive(s, maximum: 65536, now: link.now), !b.isEmpty { got += b }
            return got.count == data.count
        })
        XCTAssertEqual(fnv1a(got), fnv1a(data))
    }

    func testNagleHoldsSmallSegmentUntilAckAndNoDelaySendsAtOnce() {
        let link = SimulatedLink()
        let (c, _, _) = link.connectPair()
        link.latency = 10_000_000
        var dataSegments = 0
        link.filter = { frame, toB in
            if toB && frame.count > 54 { dataSegments += 1 }
            return true
        }
        _ = link.a.send(c, [1], now: link.now)
        _ = link.a.send(c, [2], now: link.now)
        link.transmit(link.a.poll(now: link.now), toB: true)
        XCTAssertEqual(dataSegments, 1, "Nagle: second byte waits for the first ACK")
        link.run(for: 100_000_000)
        XCTAssertEqual(dataSegments, 2)
        link.a.setNoDelay(c, true, now: link.now)
        _ = link.a.send(c, [3], now: link.now)
        _ = link.a.send(c, [4], now: link.now)
        link.transmit(link.a.poll(now: link.now), toB: true)
        XCTAssertEqual(dataSegments, 4, "TCP_NODELAY sends each write")
    }

    func testBacklogLimitsQueuedConnections() {
        let link = SimulatedLink()
        let l = link.b.openTCP()
        _ = link.b.bind(l, to: SocketAddress(.any, 7000))
        _ = link.b.tcpListen(l, backlog: 2)
        let clients = (0..<4).map { _ in link.a.openTCP() }
        for c in clients { _ = link.a.tcpConnect(c, to: SocketAddress(ipB, 7000), now: link.now) }
        link.run(for: 500_000_000)
        XCTAssertEqual(link.b.tcp(l)!.acceptQueue.count, 2)
        XCTAssertTrue(link.b.readiness(l).contains(.readable))
        var accepted = 0
        link.run(for: 20_000_000_000, until: {
            while case .success = link.b.accept(l, now: link.now) { accepted += 1 }
            return accepted == 4
        })
        XCTAssertEqual(accepted, 4, "the others get in once the queue drains (SYN retries)")
        XCTAssertEqual(link.b.accept(l, now: link.now).map { $0.0 }, .failure(.EAGAIN))
    }

    func testAClientIsEstablishedOnlyWhenItsConnectionHasAPlaceInTheAcceptQueue() {
        // Regression (issue 12): SYNs were answered beyond the backlog; the final ACK then
        // found the queue full and was dropped, the client sent its data into the void and
        // was reset once the SYN-ACK retries ran out.
        let link = SimulatedLink()
        let l = link.b.openTCP()
        _ = link.b.bind(l, to: SocketAddress(.any, 7000))
        _ = link.b.tcpListen(l, backlog: 2)
        let clients = (0..<6).map { _ in link.a.openTCP() }
        for c in clients { _ = link.a.tcpConnect(c, to: SocketAddress(ipB, 7000), now: link.now) }
        link.run(for: 500_000_000)
        let established = clients.filter { link.a.tcpState($0) == .established }.count
        XCTAssertEqual(link.b.tcp(l)!.acceptQueue.count, 2)
        XCTAssertEqual(established, 2, "only the queued connections completed their handshake")
        XCTAssertEqual(link.b.statistics.listenOverflowDropped, 4)
    }

    func testBurstAgainstASlowAcceptorLosesAndResetsNothing() {
        let link = SimulatedLink()
        let l = link.b.openTCP()
        _ = link.b.bind(l, to: SocketAddress(.any, 7000))
        _ = link.b.tcpListen(l, backlog: 16)
        let clients = (0..<100).map { _ in link.a.openTCP() }
        for c in clients { _ = link.a.tcpConnect(c, to: SocketAddress(ipB, 7000), now: link.now) }
        var accepted: [SocketID] = []
        let start = link.now
        link.run(for: 120_000_000_000, until: {
            // A server that accepts 20 connections a second: 5 s for the lot, past the
            // first SYN timeouts. (The link skips idle time, so catch up on each step.)
            while accepted.count < Int((link.now - start) / 50_000_000),
                  case .success(let (id, _)) = link.b.accept(l, now: link.now) {
                accepted.append(id)
            }
            return accepted.count == clients.count
        })
        XCTAssertEqual(accepted.count, 100, "every connection reaches accept()")
        XCTAssertEqual(link.b.statistics.tcpResetsSent, 0, "none was reset")
        XCTAssertTrue(clients.allSatisfy { link.a.tcpState($0) == .established })
    }

    func testRemoteQueueFloorHoldsABurstBeyondTheBacklogButNotOnLoopback() {
        var parameters = TCPParameters()
        parameters.remoteListenQueueFloor = 8
        let link = SimulatedLink(parameters: parameters)
        let l = link.b.openTCP()
        _ = link.b.bind(l, to: SocketAddress(.any, 7000))
        _ = link.b.tcpListen(l, backlog: 1)
        let clients = (0..<10).map { _ in link.a.openTCP() }
        for c in clients { _ = link.a.tcpConnect(c, to: SocketAddress(ipB, 7000), now: link.now) }
        link.run(for: 500_000_000)
        XCTAssertEqual(link.b.tcp(l)!.acceptQueue.count, 8, "the floor, not the backlog of 1")
        // Loopback peers are the program's own: the backlog applies exactly.
        let stack = NetworkStack(mac: nil, randomSeed: 3, parameters: parameters)
        let ll = stack.openTCP()
        _ = stack.bind(ll, to: SocketAddress(.loopback, 7001))
        _ = stack.tcpListen(ll, backlog: 1)
        for _ in 0..<3 {
            let c = stack.openTCP()
            _ = stack.tcpConnect(c, to: SocketAddress(.loopback, 7001), now: 1_000)
        }
        _ = stack.poll(now: 2_000)
        XCTAssertEqual(stack.tcp(ll)!.acceptQueue.count, 1)
    }

    func testRTOFollowsRFC6298() {
        let c = TCPConnection(local: .unspecified, remote: .unspecified, parameters: TCPParameters(), localMSS: 1460)
        c.updateRTT(sample: 100_000_000)
        XCTAssertEqual(c.srtt, 100_000_000)
        XCTAssertEqual(c.rttvar, 50_000_000)
        XCTAssertEqual(c.rto, 300_000_000)       // 100 + 4*50 ms
        c.updateRTT(sample: 100_000_000)
        XCTAssertEqual(c.rttvar, 37_500_000)
        XCTAssertEqual(c.rto, 250_000_000)
        for _ in 0..<50 { c.updateRTT(sample: 1_000_000) }
        XCTAssertEqual(c.rto, 200_000_000, "clamped to the minimum")
    }

    func testLoopbackConnectionOnOneStack() {
        let stack = NetworkStack(mac: nil, randomSeed: 5)
        let l = stack.openTCP()
        XCTAssertNil(errorOf(stack.bind(l, to: SocketAddress(.loopback, 80))))
        XCTAssertNil(errorOf(stack.tcpListen(l, backlog: 4)))
        let c = stack.openTCP()
        XCTAssertEqual(errorOf(stack.tcpConnect(c, to: SocketAddress(.loopback, 80), now: 0)), .EINPROGRESS)
        XCTAssertNil(errorOf(stack.connectResult(c)))
        guard case .success(let (s, peer)) = stack.accept(l, now: 0) else { return XCTFail("no connection") }
        XCTAssertEqual(peer.address, .loopback)
        var rng = TestRandom(8)
        let data = rng.bytes(1_000_000)
        var sent = 0, got: [UInt8] = []
        var now: UInt64 = 0
        while got.count < data.count && now < 10_000_000_000 {
            if sent < data.count, case .success(let n) = stack.send(c, Array(data[sent..<min(data.count, sent + 100_000)]), now: now) { sent += n }
            while case .success(let b) = stack.receive(s, maximum: 70_000, now: now), !b.isEmpty { got += b }
            now += 1_000_000
            _ = stack.poll(now: now)
        }
        XCTAssertEqual(fnv1a(got), fnv1a(data))
        XCTAssertEqual(errorOf(stack.bind(stack.openTCP(), to: SocketAddress(.loopback, 80))), .EADDRINUSE)
    }

    func testReadinessChangesReportSocketsToWake() {
        let link = SimulatedLink()
        let (c, s, l) = link.connectPair()
        _ = link.b.takeReadinessChanges()
        _ = link.a.send(c, [1, 2, 3], now: link.now)
        link.run(until: { link.b.bytesAvailable(s) == 3 })
        let woken = link.b.takeReadinessChanges()
        XCTAssertTrue(woken.contains(s))
        XCTAssertFalse(woken.contains(l))
        XCTAssertEqual(link.b.takeReadinessChanges(), [])
    }
}

func errorOf<T>(_ r: Result<T, Errno>) -> Errno? {
    if case .failure(let e) = r { return e }
    return nil
}

extension Result {
    func get(or fallback: Success) -> Success {
        if case .success(let v) = self { return v }
        return fallback
    }
}
