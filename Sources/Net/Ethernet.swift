// Ethernet — Ethernet II framing and ARP (RFC 826) with a resolution cache (Net layer).
//
// NetworkStack.swift hands received frames here first; IPv4.swift sits above. The ARP cache
// keeps entries for `reachableTime`, re-requests unresolved addresses every second up to
// `maximumRequests` times, and holds a bounded queue of IP packets waiting for each answer.

public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
}

/// A parsed Ethernet II header; the payload starts at `EthernetFrame.headerLength`.
public struct EthernetFrame {
    public static let headerLength = 14
    public var destination: MACAddress
    public var source: MACAddress
    public var etherType: UInt16

    public init(destination: MACAddress, source: MACAddress, etherType: UInt16) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
    }

    public init?(parsing frame: [UInt8]) {
        guard frame.count >= EthernetFrame.headerLength else { return nil }
        destination = MACAddress(frame, at: 0)
        source = MACAddress(frame, at: 6)
        etherType = readBE16(frame, 12)
    }

    /// Header followed by `payload`.
    public func build(payload: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(EthernetFrame.headerLength + payload.count)
        out.append(contentsOf: destination.array)
        out.append(contentsOf: source.array)
        appendBE16(&out, etherType)
        out.append(contentsOf: payload)
        return out
    }
}

/// An ARP packet for IPv4 over Ethernet (RFC 826): 28 bytes.
public struct ARPPacket: Equatable {
    public static let length = 28
    public static let request: UInt16 = 1
    public static let reply: UInt16 = 2

    public var operation: UInt16
    public var senderMAC: MACAddress
    public var senderIP: IPv4Address
    public var targetMAC: MACAddress
    public var targetIP: IPv4Address

    public init(operation: UInt16, senderMAC: MACAddress, senderIP: IPv4Address,
                targetMAC: MACAddress, targetIP: IPv4Address) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    public init?(parsing bytes: [UInt8], at offset: Int) {
        guard bytes.count >= offset + ARPPacket.length,
              readBE16(bytes, offset) == 1, readBE16(bytes, offset + 2) == EtherType.ipv4,
              bytes[offset + 4] == 6, bytes[offset + 5] == 4 else { return nil }
        operation = readBE16(bytes, offset + 6)
        senderMAC = MACAddress(bytes, at: offset + 8)
        senderIP = IPv4Address(readBE32(bytes, offset + 14))
        targetMAC = MACAddress(bytes, at: offset + 18)
        targetIP = IPv4Address(readBE32(bytes, offset + 24))
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        appendBE16(&out, 1)
        appendBE16(&out, EtherType.ipv4)
        out.append(6)
        out.append(4)
        appendBE16(&out, operation)
        out.append(contentsOf: senderMAC.array)
        appendBE32(&out, senderIP.value)
        out.append(contentsOf: targetMAC.array)
        appendBE32(&out, targetIP.value)
        return out
    }
}

/// The neighbour cache: IPv4 → MAC, with timeouts and packets waiting for resolution.
public struct ARPCache {
    struct Entry {
        var address: IPv4Address
        var mac: MACAddress?
        var expires: UInt64          // resolved entries: when they go stale
        var nextRequest: UInt64      // unresolved entries: when to ask again
        var requestsSent: Int
        var pending: [[UInt8]]       // IPv4 packets waiting for `mac`
    }

    public var reachableTime: UInt64 = 60_000_000_000
    public var requestInterval: UInt64 = 1_000_000_000
    public var maximumRequests = 3
    public var maximumPendingPerEntry = 64
    public var maximumEntries = 256
    var entries: [Entry] = []
    /// Packets dropped because resolution failed or a queue was full.
    public private(set) var droppedPackets = 0

    public init() {}

    public var count: Int { entries.count }

    private func index(of address: IPv4Address) -> Int? {
        entries.firstIndex { $0.address == address }
    }

    /// The MAC for `address` if known and fresh.
    public func lookup(_ address: IPv4Address, now: UInt64) -> MACAddress? {
        guard let i = index(of: address), let mac = entries[i].mac, entries[i].expires > now else {
            return nil
        }
        return mac
    }

    /// Records a mapping (from any ARP packet naming us, or a reply); returns the packets that
    /// were waiting for it.
    public mutating func update(_ address: IPv4Address, mac: MACAddress, now: UInt64,
                                createIfMissing: Bool = true) -> [[UInt8]] {
        if let i = index(of: address) {
            entries[i].mac = mac
            entries[i].expires = now &+ reachableTime
            let waiting = entries[i].pending
            entries[i].pending = []
            return waiting
        }
        guard createIfMissing else { return [] }
        makeRoom()
        entries.append(Entry(address: address, mac: mac, expires: now &+ reachableTime,
                             nextRequest: 0, requestsSent: 0, pending: []))
        return []
    }

    /// Queues `packet` until `address` resolves; returns true when a request should go out now.
    public mutating func enqueue(_ packet: [UInt8], for address: IPv4Address, now: UInt64) -> Bool {
        if let i = index(of: address) {
            if entries[i].pending.count >= maximumPendingPerEntry {
                entries[i].pending.removeFirst()
                droppedPackets += 1
            }
            entries[i].pending.append(packet)
            if entries[i].mac != nil && entries[i].expires <= now {
                // Stale: ask again, keep the queue.
                entries[i].mac = nil
                entries[i].requestsSent = 1
                entries[i].nextRequest = now &+ requestInterval
                return true
            }
            return false
        }
        makeRoom()
        entries.append(Entry(address: address, mac: nil, expires: 0,
                             nextRequest: now &+ requestInterval, requestsSent: 1, pending: [packet]))
        return true
    }

    /// Timer work: addresses to ask for again; unanswered entries are dropped with their queue.
    public mutating func poll(now: UInt64) -> [IPv4Address] {
        var ask: [IPv4Address] = []
        var i = 0
        while i < entries.count {
            if entries[i].mac == nil {
                if now >= entries[i].nextRequest {
                    if entries[i].requestsSent >= maximumRequests {
                        droppedPackets += entries[i].pending.count
                        entries.remove(at: i)
                        continue
                    }
                    entries[i].requestsSent += 1
                    entries[i].nextRequest = now &+ requestInterval
                    ask.append(entries[i].address)
                }
            } else if entries[i].expires <= now && entries[i].pending.isEmpty {
                entries.remove(at: i)
                continue
            }
            i += 1
        }
        return ask
    }

    /// The earliest time `poll` has work to do.
    public func nextDeadline() -> UInt64? {
        var best: UInt64? = nil
        for e in entries where e.mac == nil {
            best = min(best ?? e.nextRequest, e.nextRequest)
        }
        return best
    }

    private mutating func makeRoom() {
        guard entries.count >= maximumEntries else { return }
        // Evict the resolved entry closest to expiry, else the oldest.
        var victim = 0
        var best = UInt64.max
        for (i, e) in entries.enumerated() where e.mac != nil && e.expires < best {
            best = e.expires
            victim = i
        }
        droppedPackets += entries[victim].pending.count
        entries.remove(at: victim)
    }
}
