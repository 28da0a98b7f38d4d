// ProtocolTests — Ethernet/ARP, IPv4 (checksum, fragments), ICMP echo, UDP, DHCP and a
// malformed-frame fuzz loop against NetworkStack (Sources/Net).
import XCTest
import LinuxABI
@testable import Net

final class ProtocolTests: XCTestCase {
    func testInternetChecksumMatchesRFC1071Example() {
        // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
        XCTAssertEqual(InternetChecksum.of([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]), 0x220d)
        let header = IPv4Packet(source: ipA, destination: ipB, protocolNumber: 17, payload: [1, 2, 3]).build()
        XCTAssertEqual(InternetChecksum.of(header, from: 0, count: 20), 0)
    }

    func testARPResolvesThenDeliversQueuedDatagram() {
        let link = SimulatedLink()
        let receiver = link.b.openUDP()
        _ = link.b.bind(receiver, to: SocketAddress(.any, 53))
        let sender = link.a.openUDP()
        var arpRequests = 0
        link.filter = { frame, _ in
            if EthernetFrame(parsing: frame)?.etherType == EtherType.arp && frame[21] == 1 { arpRequests += 1 }
            return true
        }
        XCTAssertEqual(link.a.sendTo(sender, [7, 7, 7], to: SocketAddress(ipB, 53), now: link.now).get(or: 0), 3)
        XCTAssertEqual(link.a.arp.lookup(ipB, now: link.now), nil)
        link.run(until: { link.b.bytesAvailable(receiver) == 3 })
        guard case .success(let got) = link.b.receiveFrom(receiver, maximum: 100, now: link.now) else {
            return XCTFail("no datagram")
        }
        XCTAssertEqual(got.data, [7, 7, 7])
        XCTAssertEqual(got.from.address, ipA)
        XCTAssertEqual(link.a.arp.lookup(ipB, now: link.now), macB)
        XCTAssertEqual(arpRequests, 1)
        // Cached: a second datagram needs no request.
        _ = link.a.sendTo(sender, [8], to: SocketAddress(ipB, 53), now: link.now)
        link.run(until: { link.b.bytesAvailable(receiver) == 1 })
        XCTAssertEqual(arpRequests, 1)
        // Entries expire.
        XCTAssertNil(link.a.arp.lookup(ipB, now: link.now + 61_000_000_000))
    }

    func testARPGivesUpAfterThreeRequestsAndDropsQueue() {
        let link = SimulatedLink()
        let sender = link.a.openUDP()
        var requests = 0
        link.filter = { frame, toB in
            if toB && EthernetFrame(parsing: frame)?.etherType == EtherType.arp { requests += 1 }
            return true
        }
        for _ in 0..<3 { _ = link.a.sendTo(sender, [1], to: SocketAddress(IPv4Address(10, 0, 2, 99), 9), now: link.now) }
        link.run(for: 10_000_000_000)
        XCTAssertEqual(requests, 3)
        XCTAssertEqual(link.a.arp.droppedPackets, 3)
        XCTAssertEqual(link.a.arp.count, 0)
    }

    func testAnswersARPRequestAndIgnoresOthers() {
        let stack = NetworkStack(mac: macA, randomSeed: 1)
        stack.configure(.qemuUserNetworking)
        let ask = ARPPacket(operation: ARPPacket.request, senderMAC: macB, senderIP: ipB,
                            targetMAC: .zero, targetIP: IPv4Address(10, 0, 2, 15))
        stack.receive(frame: EthernetFrame(destination: .broadcast, source: macB, etherType: EtherType.arp)
            .build(payload: ask.bytes), now: 0)
        let out = stack.poll(now: 0)
        XCTAssertEqual(out.count, 1)
        let reply = ARPPacket(parsing: out[0], at: 14)
        XCTAssertEqual(reply?.operation, ARPPacket.reply)
        XCTAssertEqual(reply?.senderMAC, macA)
        XCTAssertEqual(reply?.targetIP, ipB)
        var other = ask
        other.targetIP = IPv4Address(10, 0, 2, 77)
        stack.receive(frame: EthernetFrame(destination: .broadcast, source: macB, etherType: EtherType.arp)
            .build(payload: other.bytes), now: 0)
        XCTAssertEqual(stack.poll(now: 0).count, 0)
    }

    func testLargeUDPDatagramIsFragmentedAndReassembledOutOfOrder() {
        let link = SimulatedLink()
        link.reorderPercent = 50
        let r = link.b.openUDP()
        _ = link.b.bind(r, to: SocketAddress(.any, 4000))
        let s = link.a.openUDP()
        var fragments = 0
        link.filter = { frame, toB in
            if toB, let ip = IPv4Packet(parsing: frame, at: 14), ip.isFragment { fragments += 1 }
            return true
        }
        var rng = TestRandom(5)
        let data = rng.bytes(9000)
        _ = link.a.sendTo(s, data, to: SocketAddress(ipB, 4000), now: link.now)
        link.run(until: { link.b.bytesAvailable(r) > 0 })
        XCTAssertEqual(fragments, 7)      // 9008 bytes of UDP in 1480-byte pieces
        guard case .success(let got) = link.b.receiveFrom(r, maximum: 10_000, now: link.now) else {
            return XCTFail("not reassembled")
        }
        XCTAssertEqual(got.data, data)
    }

    func testReassemblyTimesOutAndBoundsHold() {
        var r = IPv4Reassembler()
        r.maximumDatagrams = 2
        let whole = IPv4Packet(source: ipA, destination: ipB, protocolNumber: 17, payload: [UInt8](repeating: 9, count: 64),
                               identification: 1)
        let pieces = whole.fragments(mtu: 44)
        XCTAssertEqual(pieces.count, 3)
        XCTAssertNil(r.add(pieces[0], now: 0))
        XCTAssertNil(r.add(pieces[2], now: 0))
        XCTAssertEqual(r.inProgress, 1)
        r.expire(now: 31_000_000_000)
        XCTAssertEqual(r.inProgress, 0)
        XCTAssertNil(r.add(pieces[1], now: 31_000_000_000), "the rest was thrown away")
        // Bounded: a third datagram evicts the oldest.
        for id in 10..<13 {
            var p = pieces[0]
            p.identification = UInt16(id)
            _ = r.add(p, now: 40_000_000_000)
        }
        XCTAssertEqual(r.inProgress, 2)
        // Complete set in any order reassembles.
        var q = IPv4Reassembler()
        XCTAssertNil(q.add(pieces[2], now: 0))
        XCTAssertNil(q.add(pieces[0], now: 0))
        XCTAssertEqual(q.add(pieces[1], now: 0)?.payload, whole.payload)
        // A fragment claiming to go past 64 KiB is refused.
        var huge = pieces[0]
        huge.fragmentOffset = 65_528
        XCTAssertNil(q.add(huge, now: 0))
        XCTAssertEqual(q.inProgress, 0)
    }

    func testPingIsAnswered() {
        let link = SimulatedLink()
        XCTAssertNil(errorOf(link.a.sendEchoRequest(to: ipB, identifier: 0x42, sequence: 3, data: [1, 2, 3, 4], now: link.now)))
        link.run(until: { !link.a.echoReplies.isEmpty })
        XCTAssertEqual(link.a.echoReplies.first?.identifier, 0x42)
        XCTAssertEqual(link.a.echoReplies.first?.sequence, 3)
        XCTAssertEqual(link.a.echoReplies.first?.from, ipB)
        XCTAssertEqual(link.b.statistics.echoRepliesSent, 1)
        // And on loopback.
        let lo = NetworkStack(mac: nil, randomSeed: 3)
        _ = lo.sendEchoRequest(to: .loopback, identifier: 1, sequence: 1, data: [], now: 0)
        XCTAssertEqual(lo.echoReplies.count, 1)
    }

    func testUDPToClosedPortDrawsPortUnreachable() {
        let link = SimulatedLink()
        let s = link.a.openUDP()
        var icmp: [UInt8]? = nil
        link.filter = { frame, toB in
            if !toB, let ip = IPv4Packet(parsing: frame, at: 14), ip.protocolNumber == IPProtocol.icmp { icmp = ip.payload }
            return true
        }
        _ = link.a.sendTo(s, [1], to: SocketAddress(ipB, 999), now: link.now)
        link.run(until: { icmp != nil })
        XCTAssertEqual(icmp?[0], ICMP.destinationUnreachable)
        XCTAssertEqual(icmp?[1], ICMP.portUnreachable)
        XCTAssertEqual(link.b.statistics.udpNoPortDropped, 1)
    }

    func testUDPConnectedSocketAndLoopback() {
        let stack = NetworkStack(mac: nil, randomSeed: 9)
        let server = stack.openUDP(), client = stack.openUDP()
        XCTAssertNil(errorOf(stack.bind(server, to: SocketAddress(.loopback, 5353))))
        XCTAssertNil(errorOf(stack.tcpConnect(client, to: SocketAddress(.loopback, 5353), now: 0)))
        XCTAssertEqual(stack.send(client, [1, 2, 3, 4, 5], now: 0).get(or: 0), 5)
        XCTAssertTrue(stack.readiness(server).contains(.readable))
        guard case .success(let d) = stack.receiveFrom(server, maximum: 3, now: 0) else { return XCTFail() }
        XCTAssertEqual(d.data, [1, 2, 3])
        XCTAssertEqual(d.fullLength, 5)
        XCTAssertEqual(d.from, stack.localAddress(client))
        XCTAssertEqual(errorOf(stack.receiveFrom(server, maximum: 3, now: 0)), .EAGAIN)
        XCTAssertEqual(errorOf(stack.sendTo(client, [UInt8](repeating: 0, count: 70_000), to: SocketAddress(.loopback, 1), now: 0)), .EMSGSIZE)
    }

    func testDHCPExchangeWithScriptedServer() {
        let stack = NetworkStack(mac: macA, randomSeed: 77)
        stack.startDHCP(now: 0)
        var now: UInt64 = 0
        var sawDiscover = false, sawRequest = false
        for _ in 0..<10 where stack.configuration == nil {
            for frame in stack.poll(now: now) {
                guard let ip = IPv4Packet(parsing: frame, at: 14),
                      let udp = UDPDatagram(parsing: ip.payload, source: ip.source, destination: ip.destination),
                      udp.destinationPort == 67 else { continue }
                XCTAssertEqual(ip.source, .any)
                XCTAssertEqual(ip.destination, .broadcast)
                let request = udp.payload
                let type = request[242]
                if type == 1 { sawDiscover = true }
                if type == 3 {
                    sawRequest = true
                    XCTAssertEqual(Array(request[243..<249]), [50, 4, 10, 0, 2, 15], "requests the offered address")
                }
                let reply = scriptedServerReply(to: request, type: type == 1 ? 2 : 5)
                let u = UDPDatagram(sourcePort: 67, destinationPort: 68, payload: reply)
                let rip = IPv4Packet(source: ipB, destination: .broadcast, protocolNumber: 17,
                                     payload: u.build(source: ipB, destination: .broadcast))
                stack.receive(frame: EthernetFrame(destination: .broadcast, source: macB, etherType: EtherType.ipv4)
                    .build(payload: rip.build()), now: now)
            }
            now += 10_000_000
        }
        XCTAssertTrue(sawDiscover)
        XCTAssertTrue(sawRequest)
        XCTAssertEqual(stack.configuration?.address, IPv4Address(10, 0, 2, 15))
        XCTAssertEqual(stack.configuration?.prefixLength, 24)
        XCTAssertEqual(stack.configuration?.gateway, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(stack.configuration?.dns, IPv4Address(10, 0, 2, 3))
        XCTAssertEqual(stack.configuration?.fromDHCP, true)
        XCTAssertEqual(stack.dhcp?.phase, .bound)
    }

    /// What slirp answers: an OFFER (2) or ACK (5) for 10.0.2.15.
    func scriptedServerReply(to request: [UInt8], type: UInt8) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 236)
        out[0] = 2; out[1] = 1; out[2] = 6
        for k in 4..<8 { out[k] = request[k] }            // xid
        out[16] = 10; out[17] = 0; out[18] = 2; out[19] = 15
        for k in 28..<34 { out[k] = request[k] }          // chaddr
        out += [99, 130, 83, 99, 53, 1, type, 54, 4, 10, 0, 2, 2, 1, 4, 255, 255, 255, 0,
                3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 3, 51, 4, 0, 1, 81, 128, 255]
        return out
    }

    func testDHCPFallsBackToQEMUDefaultsWhenNobodyAnswers() {
        let stack = NetworkStack(mac: macA, randomSeed: 78)
        stack.startDHCP(now: 0, fallbackAfter: 3_000_000_000)
        var discovers = 0
        var now: UInt64 = 0
        while now <= 3_000_000_000 {
            discovers += stack.poll(now: now).count
            now += 100_000_000
        }
        XCTAssertEqual(discovers, 3)
        XCTAssertEqual(stack.configuration, .qemuUserNetworking)
        XCTAssertEqual(stack.dhcp?.phase, .fallback)
    }

    func testMalformedAndRandomFramesAreDroppedWithoutHarm() {
        let link = SimulatedLink()
        let (c, s, _) = link.connectPair()
        // Record some valid traffic to mutate.
        var samples: [[UInt8]] = []
        link.filter = { frame, _ in samples.append(frame); return true }
        _ = link.a.send(c, [UInt8](repeating: 0x61, count: 3000), now: link.now)
        _ = link.a.sendEchoRequest(to: ipB, identifier: 1, sequence: 1, data: [1, 2], now: link.now)
        link.run(until: { link.b.bytesAvailable(s) == 3000 })
        link.filter = nil
        XCTAssertFalse(samples.isEmpty)
        var rng = TestRandom(1234)
        let before = link.b.statistics.malformedDropped
        for round in 0..<20_000 {
            var frame: [UInt8]
            switch round % 4 {
            case 0:
                frame = rng.bytes(rng.below(120))
            case 1:
                frame = samples[rng.below(samples.count)]
                frame = Array(frame.prefix(rng.below(frame.count + 1)))
            case 2:
                frame = samples[rng.below(samples.count)]
                for _ in 0..<(1 + rng.below(4)) where !frame.isEmpty {
                    frame[rng.below(frame.count)] ^= UInt8(1 << rng.below(8))
                }
            default:
                // Valid Ethernet + IPv4 header with garbage lengths and options.
                frame = EthernetFrame(destination: macB, source: macA, etherType: EtherType.ipv4).build(payload: [])
                var ip = rng.bytes(20 + rng.below(60))
                ip[0] = 0x40 | UInt8(5 + rng.below(11))
                ip[9] = [1, 6, 17][rng.below(3)]
                writeBE32(&ip, 12, ipA.value)
                writeBE32(&ip, 16, ipB.value)
                writeBE16(&ip, 10, 0)
                writeBE16(&ip, 10, InternetChecksum.of(ip, from: 0, count: min(ip.count, Int(ip[0] & 0xF) * 4)))
                frame += ip
            }
            link.b.receive(frame: frame, now: link.now)
            _ = link.b.poll(now: link.now)
        }
        XCTAssertGreaterThan(link.b.statistics.malformedDropped, before + 1000)
        // The connection survives: data still flows.
        XCTAssertEqual(link.b.receive(s, maximum: 5000, now: link.now).get(or: []).count, 3000)
        _ = link.a.send(c, [1, 2, 3], now: link.now)
        link.run(until: { link.b.bytesAvailable(s) >= 3 })
        XCTAssertGreaterThanOrEqual(link.b.bytesAvailable(s), 3)
    }
}
