// PacketBytes — network byte order access, the Internet checksum and addresses (Net layer).
//
// Everything in Sources/Net works on plain `[UInt8]` packets: headers are read and written
// field by field in big-endian order here, never by casting memory. The protocol files
// (Ethernet.swift, ARP.swift, IPv4.swift, TCP*.swift, UDP.swift, DHCPClient.swift) build on
// these helpers; NetworkStack.swift ties them together.

/// Big-endian reads that return nil instead of trapping when the packet is too short.
@inline(__always)
func readBE16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
}

@inline(__always)
func readBE32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
        | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
}

@inline(__always)
func writeBE16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
    bytes[offset] = UInt8(truncatingIfNeeded: value >> 8)
    bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
}

@inline(__always)
func writeBE32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
    bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
    bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
    bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
}

@inline(__always)
func appendBE16(_ bytes: inout [UInt8], _ value: UInt16) {
    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    bytes.append(UInt8(truncatingIfNeeded: value))
}

@inline(__always)
func appendBE32(_ bytes: inout [UInt8], _ value: UInt32) {
    appendBE16(&bytes, UInt16(truncatingIfNeeded: value >> 16))
    appendBE16(&bytes, UInt16(truncatingIfNeeded: value))
}

/// The Internet checksum (RFC 1071): one's-complement sum of 16-bit words, folded.
public struct InternetChecksum {
    private var sum: UInt64 = 0

    public init() {}

    public mutating func add(_ bytes: [UInt8], from start: Int = 0, count: Int? = nil) {
        let end = start + (count ?? (bytes.count - start))
        var index = start
        while index + 1 < end {
            sum &+= UInt64(bytes[index]) << 8 | UInt64(bytes[index + 1])
            index += 2
        }
        if index < end { sum &+= UInt64(bytes[index]) << 8 }
    }

    public mutating func add16(_ value: UInt16) { sum &+= UInt64(value) }
    public mutating func add32(_ value: UInt32) {
        sum &+= UInt64(value >> 16) &+ UInt64(value & 0xFFFF)
    }

    /// The complemented, folded result to put in a header (0 when a received header checks).
    public var value: UInt16 {
        var folded = sum
        while folded >> 16 != 0 { folded = (folded & 0xFFFF) &+ (folded >> 16) }
        return ~UInt16(truncatingIfNeeded: folded)
    }

    public static func of(_ bytes: [UInt8], from start: Int = 0, count: Int? = nil) -> UInt16 {
        var checksum = InternetChecksum()
        checksum.add(bytes, from: start, count: count)
        return checksum.value
    }
}

/// A 48-bit Ethernet address (kept in the low 48 bits, first octet most significant).
public struct MACAddress: Equatable, Hashable, Sendable {
    public var value: UInt64

    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        value = UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24
            | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5)
    }

    public init(_ array: [UInt8], at offset: Int = 0) {
        self.init(array[offset], array[offset + 1], array[offset + 2],
                  array[offset + 3], array[offset + 4], array[offset + 5])
    }

    public static let broadcast = MACAddress(value: 0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(value: 0)

    public var isBroadcast: Bool { value == 0xFFFF_FFFF_FFFF }
    public var isMulticast: Bool { (value >> 40) & 1 == 1 }

    public var array: [UInt8] {
        var out = [UInt8]()
        for shift in stride(from: 40, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
        return out
    }
}

/// An IPv4 address as a host-order integer (10.0.2.15 is 0x0A00_020F).
public struct IPv4Address: Equatable, Hashable, Sendable, Comparable {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    public static let any = IPv4Address(0)
    public static let broadcast = IPv4Address(0xFFFF_FFFF)
    public static let loopback = IPv4Address(127, 0, 0, 1)

    public var isLoopback: Bool { value >> 24 == 127 }
    public var isAny: Bool { value == 0 }
    public var isMulticast: Bool { value >> 28 == 0xE }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    /// Dotted-quad text, for diagnostics.
    public var text: String {
        "\(value >> 24).\((value >> 16) & 0xFF).\((value >> 8) & 0xFF).\(value & 0xFF)"
    }
}

/// An IPv4 address and port, as in sockaddr_in.
public struct SocketAddress: Equatable, Hashable, Sendable {
    public var address: IPv4Address
    public var port: UInt16

    public init(_ address: IPv4Address, _ port: UInt16) {
        self.address = address
        self.port = port
    }

    public static let unspecified = SocketAddress(.any, 0)
}

/// Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
@inline(__always) func seqLT(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) < 0 }
@inline(__always) func seqLE(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) <= 0 }
@inline(__always) func seqGT(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) > 0 }
@inline(__always) func seqGE(_ a: UInt32, _ b: UInt32) -> Bool { Int32(bitPattern: a &- b) >= 0 }

/// A fixed-capacity byte ring: TCP send and receive buffers. Storage is allocated on the
/// first append, so idle and listening sockets cost nothing.
public struct ByteRing {
    /// The ring itself: starts empty and doubles (from 2 KiB) only as far as the bytes held
    /// need, up to `capacity` — an idle connection with a 128 KiB window costs nothing, and
    /// a kernel with hundreds of connections does not reserve every window up front.
    private var storage: [UInt8] = []
    private var head = 0
    public private(set) var capacity: Int
    public private(set) var count = 0

    public init(capacity: Int) { self.capacity = max(capacity, 1) }

    public var free: Int { capacity - count }
    public var isEmpty: Bool { count == 0 }
    /// Bytes of memory the ring holds now (for tests and accounting).
    public var reservedBytes: Int { storage.count }

    /// Changes the capacity; only allowed while empty (SO_SNDBUF / SO_RCVBUF before use).
    public mutating func resize(_ newCapacity: Int) {
        guard count == 0 else { return }
        capacity = max(newCapacity, 1)
        storage = []
        head = 0
    }

    /// Makes the ring at least `needed` bytes long (needed <= capacity), keeping the
    /// bytes in order from index 0.
    private mutating func reserve(_ needed: Int) {
        guard needed > storage.count else { return }
        var size = max(storage.count, 2048)
        while size < needed { size *= 2 }
        size = min(size, capacity)
        var grown = [UInt8](repeating: 0, count: size)
        let ring = storage.count
        for i in 0..<count { grown[i] = storage[(head + i) % ring] }
        storage = grown
        head = 0
    }

    /// Appends as much of `bytes[start..<start+length]` as fits; returns how much.
    @discardableResult
    public mutating func append(_ bytes: [UInt8], from start: Int = 0, count length: Int? = nil) -> Int {
        let wanted = min(length ?? (bytes.count - start), free)
        if wanted <= 0 { return 0 }
        reserve(count + wanted)
        let ring = storage.count
        var tail = (head + count) % ring
        var index = start
        var left = wanted
        while left > 0 {
            let run = min(left, ring - tail)
            for k in 0..<run { storage[tail + k] = bytes[index + k] }
            index += run
            left -= run
            tail = (tail + run) % ring
        }
        count += wanted
        return wanted
    }

    /// Copies `length` bytes starting `offset` bytes after the head.
    public func peek(offset: Int, count length: Int) -> [UInt8] {
        let n = max(0, min(length, count - offset))
        var out = [UInt8]()
        if n == 0 { return out }
        out.reserveCapacity(n)
        let ring = storage.count
        var index = (head + offset) % ring
        var left = n
        while left > 0 {
            let run = min(left, ring - index)
            out.append(contentsOf: storage[index..<(index + run)])
            left -= run
            index = (index + run) % ring
        }
        return out
    }

    public mutating func discard(_ length: Int) {
        let n = min(length, count)
        if n == 0 { return }
        head = (head + n) % storage.count
        count -= n
        if count == 0 { head = 0 }
    }

    public mutating func read(_ length: Int) -> [UInt8] {
        let out = peek(offset: 0, count: length)
        discard(out.count)
        return out
    }
}
