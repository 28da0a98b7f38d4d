// DHCPClient — acquires the interface address with DHCP (RFC 2131, options RFC 2132) and
// falls back to QEMU user networking's fixed plan (10.0.2.15/24, gateway 10.0.2.2, DNS
// 10.0.2.3) when no server answers in time (Net layer).
//
// Pure message logic: NetworkStack.swift wraps what `poll`/`receive` return in UDP 68→67
// broadcasts and feeds it the payloads that arrive on port 68.

/// The interface's IPv4 set-up.
public struct IPv4Configuration: Equatable, Sendable {
    public var address: IPv4Address
    public var prefixLength: Int
    public var gateway: IPv4Address
    public var dns: IPv4Address
    public var leaseSeconds: UInt32
    public var fromDHCP: Bool

    public init(address: IPv4Address, prefixLength: Int, gateway: IPv4Address,
                dns: IPv4Address, leaseSeconds: UInt32 = 0, fromDHCP: Bool = false) {
        self.address = address
        self.prefixLength = prefixLength
        self.gateway = gateway
        self.dns = dns
        self.leaseSeconds = leaseSeconds
        self.fromDHCP = fromDHCP
    }

    /// QEMU's `-netdev user` defaults (slirp): what we use when DHCP stays silent.
    public static let qemuUserNetworking = IPv4Configuration(
        address: IPv4Address(10, 0, 2, 15), prefixLength: 24,
        gateway: IPv4Address(10, 0, 2, 2), dns: IPv4Address(10, 0, 2, 3))

    public var netmask: UInt32 {
        prefixLength <= 0 ? 0 : UInt32.max << UInt32(32 - min(prefixLength, 32))
    }

    public func isOnLink(_ other: IPv4Address) -> Bool {
        other.value & netmask == address.value & netmask
    }

    public var broadcast: IPv4Address { IPv4Address(address.value | ~netmask) }
}

public struct DHCPClient {
    public enum Phase: Equatable, Sendable { case idle, selecting, requesting, bound, fallback }

    public static let clientPort: UInt16 = 68
    public static let serverPort: UInt16 = 67
    static let cookie: UInt32 = 0x6382_5363

    enum MessageType {
        static let discover: UInt8 = 1, offer: UInt8 = 2, request: UInt8 = 3
        static let ack: UInt8 = 5, nak: UInt8 = 6
    }

    public let mac: MACAddress
    public private(set) var phase: Phase = .idle
    public private(set) var transactionID: UInt32
    public private(set) var configuration: IPv4Configuration? = nil
    public var retransmitInterval: UInt64 = 1_000_000_000
    /// Give up and use `fallback` this long after `start`.
    public var fallbackAfter: UInt64 = 4_000_000_000
    public var fallback: IPv4Configuration = .qemuUserNetworking
    var startedAt: UInt64 = 0
    var nextSend: UInt64 = 0
    var offered: IPv4Address? = nil
    var server: IPv4Address? = nil

    public init(mac: MACAddress, transactionID: UInt32) {
        self.mac = mac
        self.transactionID = transactionID
    }

    public mutating func start(now: UInt64) {
        phase = .selecting
        startedAt = now
        nextSend = now
        configuration = nil
    }

    public var nextDeadline: UInt64? {
        switch phase {
        case .selecting, .requesting: return min(nextSend, startedAt &+ fallbackAfter)
        default: return nil
        }
    }

    /// Messages to broadcast now (DISCOVER or REQUEST retransmissions); may switch to the
    /// fallback configuration.
    public mutating func poll(now: UInt64) -> [[UInt8]] {
        guard phase == .selecting || phase == .requesting else { return [] }
        if now >= startedAt &+ fallbackAfter {
            phase = .fallback
            configuration = fallback
            return []
        }
        guard now >= nextSend else { return [] }
        nextSend = now &+ retransmitInterval
        if phase == .selecting { return [message(type: MessageType.discover)] }
        return [message(type: MessageType.request)]
    }

    /// Handles a payload that arrived on UDP port 68; returns messages to broadcast.
    public mutating func receive(_ payload: [UInt8], now: UInt64) -> [[UInt8]] {
        guard payload.count >= 240, payload[0] == 2, readBE32(payload, 4) == transactionID,
              readBE32(payload, 236) == DHCPClient.cookie,
              MACAddress(payload, at: 28) == mac else { return [] }
        let yiaddr = IPv4Address(readBE32(payload, 16))
        var type: UInt8 = 0
        var mask: UInt32? = nil
        var router: IPv4Address? = nil
        var dns: IPv4Address? = nil
        var serverID: IPv4Address? = nil
        var lease: UInt32 = 0
        var i = 240
        while i < payload.count {
            let code = payload[i]
            if code == 255 { break }
            if code == 0 { i += 1; continue }
            guard i + 1 < payload.count else { break }
            let length = Int(payload[i + 1])
            let start = i + 2
            guard start + length <= payload.count else { return [] }
            switch code {
            case 53 where length >= 1: type = payload[start]
            case 1 where length >= 4: mask = readBE32(payload, start)
            case 3 where length >= 4: router = IPv4Address(readBE32(payload, start))
            case 6 where length >= 4: dns = IPv4Address(readBE32(payload, start))
            case 54 where length >= 4: serverID = IPv4Address(readBE32(payload, start))
            case 51 where length >= 4: lease = readBE32(payload, start)
            default: break
            }
            i = start + length
        }
        switch (phase, type) {
        case (.selecting, MessageType.offer):
            guard !yiaddr.isAny else { return [] }
            offered = yiaddr
            server = serverID
            phase = .requesting
            nextSend = now &+ retransmitInterval
            return [message(type: MessageType.request)]
        case (.requesting, MessageType.ack):
            var prefix = 24
            if let m = mask {
                prefix = 0
                var bits = m
                while bits & 0x8000_0000 != 0 { prefix += 1; bits <<= 1 }
            }
            configuration = IPv4Configuration(
                address: yiaddr, prefixLength: prefix, gateway: router ?? .any,
                dns: dns ?? router ?? .any, leaseSeconds: lease, fromDHCP: true)
            phase = .bound
            return []
        case (.requesting, MessageType.nak):
            phase = .selecting
            offered = nil
            nextSend = now
            return []
        default:
            return []
        }
    }

    func message(type: UInt8) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 236)
        out[0] = 1          // BOOTREQUEST
        out[1] = 1          // Ethernet
        out[2] = 6
        writeBE32(&out, 4, transactionID)
        writeBE16(&out, 10, 0x8000)     // ask for broadcast replies: we have no address yet
        let hw = mac.array
        for k in 0..<6 { out[28 + k] = hw[k] }
        appendBE32(&out, DHCPClient.cookie)
        out.append(contentsOf: [53, 1, type])
        if type == MessageType.request, let offered {
            out.append(contentsOf: [50, 4])
            appendBE32(&out, offered.value)
            if let server {
                out.append(contentsOf: [54, 4])
                appendBE32(&out, server.value)
            }
        }
        out.append(contentsOf: [55, 3, 1, 3, 6])
        out.append(255)
        while out.count < 300 { out.append(0) }
        return out
    }
}
