// IPv4 — the IPv4 header (RFC 791), fragment reassembly and fragmentation, ICMP echo
// (RFC 792) and the UDP header (RFC 768) (Net layer).
//
// NetworkStack.swift calls `IPv4Packet(parsing:)` on each received datagram, feeds
// fragments to `IPv4Reassembler`, then dispatches on `protocolNumber` to TCP (TCP*.swift),
// UDP (UDPSocket.swift, DHCPClient.swift) or ICMP (here).

public enum IPProtocol {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
}

/// A parsed IPv4 datagram (header checked, payload cut to the header's total length).
public struct IPv4Packet {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var protocolNumber: UInt8
    public var identification: UInt16
    public var ttl: UInt8
    public var moreFragments: Bool
    public var fragmentOffset: Int          // bytes
    public var payload: [UInt8]

    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    public init(source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8,
                payload: [UInt8], identification: UInt16 = 0, ttl: UInt8 = 64,
                moreFragments: Bool = false, fragmentOffset: Int = 0) {
        self.source = source
        self.destination = destination
        self.protocolNumber = protocolNumber
        self.payload = payload
        self.identification = identification
        self.ttl = ttl
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
    }

    /// Parses `bytes[offset...]`; nil for anything malformed (bad version, lengths, checksum).
    public init?(parsing bytes: [UInt8], at offset: Int = 0) {
        guard bytes.count >= offset + 20 else { return nil }
        let versionIHL = bytes[offset]
        let headerLength = Int(versionIHL & 0x0F) * 4
        guard versionIHL >> 4 == 4, headerLength >= 20 else { return nil }
        let totalLength = Int(readBE16(bytes, offset + 2))
        guard totalLength >= headerLength, offset + totalLength <= bytes.count else { return nil }
        guard InternetChecksum.of(bytes, from: offset, count: headerLength) == 0 else { return nil }
        identification = readBE16(bytes, offset + 4)
        let flagsFragment = readBE16(bytes, offset + 6)
        moreFragments = flagsFragment & 0x2000 != 0
        fragmentOffset = Int(flagsFragment & 0x1FFF) * 8
        ttl = bytes[offset + 8]
        protocolNumber = bytes[offset + 9]
        source = IPv4Address(readBE32(bytes, offset + 12))
        destination = IPv4Address(readBE32(bytes, offset + 16))
        payload = Array(bytes[(offset + headerLength)..<(offset + totalLength)])
    }

    /// A 20-byte header (no options) followed by the payload.
    public func build(dontFragment: Bool = false) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(20 + payload.count)
        out.append(0x45)
        out.append(0)
        appendBE16(&out, UInt16(truncatingIfNeeded: 20 + payload.count))
        appendBE16(&out, identification)
        var flags = UInt16(truncatingIfNeeded: fragmentOffset / 8) & 0x1FFF
        if moreFragments { flags |= 0x2000 }
        if dontFragment { flags |= 0x4000 }
        appendBE16(&out, flags)
        out.append(ttl)
        out.append(protocolNumber)
        appendBE16(&out, 0)
        appendBE32(&out, source.value)
        appendBE32(&out, destination.value)
        writeBE16(&out, 10, InternetChecksum.of(out, from: 0, count: 20))
        out.append(contentsOf: payload)
        return out
    }

    /// Splits into datagrams whose total length is at most `mtu` (RFC 791 fragmentation).
    public func fragments(mtu: Int) -> [IPv4Packet] {
        if 20 + payload.count <= mtu { return [self] }
        let chunk = max(8, ((mtu - 20) / 8) * 8)
        var out: [IPv4Packet] = []
        var start = 0
        while start < payload.count {
            let end = min(payload.count, start + chunk)
            var piece = self
            piece.payload = Array(payload[start..<end])
            piece.fragmentOffset = fragmentOffset + start
            piece.moreFragments = end < payload.count || moreFragments
            out.append(piece)
            start = end
        }
        return out
    }
}

/// The TCP/UDP pseudo-header sum (RFC 793 §3.1, RFC 768).
func pseudoHeaderChecksum(source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8,
                          segment: [UInt8]) -> UInt16 {
    var sum = InternetChecksum()
    sum.add32(source.value)
    sum.add32(destination.value)
    sum.add16(UInt16(protocolNumber))
    sum.add16(UInt16(truncatingIfNeeded: segment.count))
    sum.add(segment)
    return sum.value
}

/// Reassembles fragmented datagrams, with bounds on how many and how big, and a timeout.
public struct IPv4Reassembler {
    struct Pending {
        var source: IPv4Address
        var destination: IPv4Address
        var protocolNumber: UInt8
        var identification: UInt16
        var pieces: [(offset: Int, data: [UInt8])]
        var totalLength: Int?
        var bytes: Int
        var deadline: UInt64
    }

    public var timeout: UInt64 = 30_000_000_000
    public var maximumDatagrams = 16
    public var maximumDatagramSize = 65_535 - 20
    var pending: [Pending] = []
    public private(set) var dropped = 0

    public init() {}

    public var inProgress: Int { pending.count }

    /// Adds a fragment; returns the whole datagram once every byte has arrived.
    public mutating func add(_ fragment: IPv4Packet, now: UInt64) -> IPv4Packet? {
        expire(now: now)
        let end = fragment.fragmentOffset + fragment.payload.count
        guard end <= maximumDatagramSize else { return nil }
        // Every fragment but the last carries a multiple of 8 bytes.
        if fragment.moreFragments && fragment.payload.count % 8 != 0 { return nil }
        var index = pending.firstIndex {
            $0.source == fragment.source && $0.destination == fragment.destination
                && $0.protocolNumber == fragment.protocolNumber
                && $0.identification == fragment.identification
        }
        if index == nil {
            if pending.count >= maximumDatagrams {
                pending.removeFirst()
                dropped += 1
            }
            pending.append(Pending(source: fragment.source, destination: fragment.destination,
                                   protocolNumber: fragment.protocolNumber,
                                   identification: fragment.identification, pieces: [],
                                   totalLength: nil, bytes: 0, deadline: now &+ timeout))
            index = pending.count - 1
        }
        let i = index!
        if !fragment.moreFragments {
            if let known = pending[i].totalLength, known != end { discard(at: i); return nil }
            pending[i].totalLength = end
        }
        if let total = pending[i].totalLength, end > total { discard(at: i); return nil }
        // Overlapping pieces are ignored (an exact duplicate is the common case).
        for piece in pending[i].pieces {
            let pieceEnd = piece.offset + piece.data.count
            if fragment.fragmentOffset < pieceEnd && piece.offset < end { return nil }
        }
        pending[i].pieces.append((fragment.fragmentOffset, fragment.payload))
        pending[i].bytes += fragment.payload.count
        guard let total = pending[i].totalLength, pending[i].bytes == total else { return nil }
        // Non-overlapping pieces whose sizes add up to the total cover it exactly.
        var whole = [UInt8](repeating: 0, count: total)
        for piece in pending[i].pieces {
            for (k, byte) in piece.data.enumerated() { whole[piece.offset + k] = byte }
        }
        var result = fragment
        result.payload = whole
        result.fragmentOffset = 0
        result.moreFragments = false
        pending.remove(at: i)
        return result
    }

    public mutating func expire(now: UInt64) {
        var i = 0
        while i < pending.count {
            if pending[i].deadline <= now { discard(at: i) } else { i += 1 }
        }
    }

    public func nextDeadline() -> UInt64? { pending.map { $0.deadline }.min() }

    private mutating func discard(at i: Int) {
        pending.remove(at: i)
        dropped += 1
    }
}

/// ICMP messages the stack answers or sends (RFC 792).
public enum ICMP {
    public static let echoReply: UInt8 = 0
    public static let destinationUnreachable: UInt8 = 3
    public static let echoRequest: UInt8 = 8
    public static let portUnreachable: UInt8 = 3

    /// An echo reply for a valid echo request, else nil.
    public static func reply(toEcho message: [UInt8]) -> [UInt8]? {
        guard message.count >= 8, message[0] == echoRequest, message[1] == 0,
              InternetChecksum.of(message) == 0 else { return nil }
        var out = message
        out[0] = echoReply
        writeBE16(&out, 2, 0)
        writeBE16(&out, 2, InternetChecksum.of(out))
        return out
    }

    public static func echoRequest(identifier: UInt16, sequence: UInt16, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [echoRequest, 0, 0, 0]
        appendBE16(&out, identifier)
        appendBE16(&out, sequence)
        out.append(contentsOf: data)
        writeBE16(&out, 2, InternetChecksum.of(out))
        return out
    }

    /// Destination unreachable quoting the offending datagram's header and 8 payload bytes.
    public static func unreachable(code: UInt8, original: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [destinationUnreachable, code, 0, 0, 0, 0, 0, 0]
        out.append(contentsOf: original.prefix(28))
        writeBE16(&out, 2, InternetChecksum.of(out))
        return out
    }
}

/// The UDP header (RFC 768).
public struct UDPDatagram {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: [UInt8]

    public init(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payload = payload
    }

    /// Parses and checks length and (when non-zero) the checksum.
    public init?(parsing bytes: [UInt8], source: IPv4Address, destination: IPv4Address) {
        guard bytes.count >= 8 else { return nil }
        let length = Int(readBE16(bytes, 4))
        guard length >= 8, length <= bytes.count else { return nil }
        let datagram = length == bytes.count ? bytes : Array(bytes[0..<length])
        if readBE16(datagram, 6) != 0 {
            guard pseudoHeaderChecksum(source: source, destination: destination,
                                       protocolNumber: IPProtocol.udp, segment: datagram) == 0
            else { return nil }
        }
        sourcePort = readBE16(datagram, 0)
        destinationPort = readBE16(datagram, 2)
        payload = Array(datagram[8...])
    }

    public func build(source: IPv4Address, destination: IPv4Address) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(8 + payload.count)
        appendBE16(&out, sourcePort)
        appendBE16(&out, destinationPort)
        appendBE16(&out, UInt16(truncatingIfNeeded: 8 + payload.count))
        appendBE16(&out, 0)
        out.append(contentsOf: payload)
        var sum = pseudoHeaderChecksum(source: source, destination: destination,
                                       protocolNumber: IPProtocol.udp, segment: out)
        if sum == 0 { sum = 0xFFFF }
        writeBE16(&out, 6, sum)
        return out
    }
}
