// TCPSegment — the TCP header and its options (RFC 9293 §3.1; MSS, window scale RFC 7323)
// (Net layer).
//
// TCPConnection.swift runs the state machine over these; NetworkStack.swift parses them out
// of IPv4 datagrams and wraps them back up.

public struct TCPFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
}

public struct TCPSegment {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    public var maximumSegmentSize: UInt16?
    public var windowScale: UInt8?
    public var payload: [UInt8]

    public init(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32,
                acknowledgment: UInt32, flags: TCPFlags, window: UInt16,
                maximumSegmentSize: UInt16? = nil, windowScale: UInt8? = nil,
                payload: [UInt8] = []) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.window = window
        self.maximumSegmentSize = maximumSegmentSize
        self.windowScale = windowScale
        self.payload = payload
    }

    /// Sequence space the segment occupies: data plus one each for SYN and FIN.
    public var sequenceLength: UInt32 {
        UInt32(payload.count) + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
    }

    /// Parses and verifies the checksum against the pseudo-header; nil when malformed.
    public init?(parsing bytes: [UInt8], source: IPv4Address, destination: IPv4Address) {
        guard bytes.count >= 20 else { return nil }
        let headerLength = Int(bytes[12] >> 4) * 4
        guard headerLength >= 20, headerLength <= bytes.count else { return nil }
        guard pseudoHeaderChecksum(source: source, destination: destination,
                                   protocolNumber: IPProtocol.tcp, segment: bytes) == 0
        else { return nil }
        sourcePort = readBE16(bytes, 0)
        destinationPort = readBE16(bytes, 2)
        sequence = readBE32(bytes, 4)
        acknowledgment = readBE32(bytes, 8)
        flags = TCPFlags(rawValue: bytes[13] & 0x3F)
        window = readBE16(bytes, 14)
        maximumSegmentSize = nil
        windowScale = nil
        var i = 20
        options: while i < headerLength {
            let kind = bytes[i]
            switch kind {
            case 0: break options
            case 1: i += 1; continue
            default:
                guard i + 1 < headerLength else { break options }
                let length = Int(bytes[i + 1])
                guard length >= 2, i + length <= headerLength else { return nil }
                if kind == 2 && length == 4 { maximumSegmentSize = readBE16(bytes, i + 2) }
                if kind == 3 && length == 3 { windowScale = min(bytes[i + 2], 14) }
                i += length
            }
        }
        payload = headerLength == bytes.count ? [] : Array(bytes[headerLength...])
    }

    public func build(source: IPv4Address, destination: IPv4Address) -> [UInt8] {
        var options: [UInt8] = []
        if let mss = maximumSegmentSize {
            options.append(2); options.append(4); appendBE16(&options, mss)
        }
        if let scale = windowScale {
            options.append(1); options.append(3); options.append(3); options.append(scale)
        }
        while options.count % 4 != 0 { options.append(0) }
        let headerLength = 20 + options.count
        var out = [UInt8]()
        out.reserveCapacity(headerLength + payload.count)
        appendBE16(&out, sourcePort)
        appendBE16(&out, destinationPort)
        appendBE32(&out, sequence)
        appendBE32(&out, acknowledgment)
        out.append(UInt8(headerLength / 4) << 4)
        out.append(flags.rawValue)
        appendBE16(&out, window)
        appendBE16(&out, 0)
        appendBE16(&out, 0)
        out.append(contentsOf: options)
        out.append(contentsOf: payload)
        writeBE16(&out, 16, pseudoHeaderChecksum(source: source, destination: destination,
                                                 protocolNumber: IPProtocol.tcp, segment: out))
        return out
    }
}
