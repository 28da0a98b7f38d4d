// ByteCoding — explicit little-endian encoding of kernel structures (LinuxABI layer).
//
// The struct layouts in this module (Structs*.swift) never cast memory: they write and read
// fields one at a time through ByteWriter / ByteReader, so the byte image handed to or taken
// from guest memory is exactly the x86-64 Linux layout, whatever the host. KernelCore copies
// these byte arrays to and from user memory through its one checked path.

/// Appends little-endian integers and raw bytes to a growing byte array.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u16(_ value: UInt16) { appendLittleEndian(UInt64(value), byteCount: 2) }
    public mutating func u32(_ value: UInt32) { appendLittleEndian(UInt64(value), byteCount: 4) }
    public mutating func u64(_ value: UInt64) { appendLittleEndian(value, byteCount: 8) }
    public mutating func i8(_ value: Int8) { u8(UInt8(bitPattern: value)) }
    public mutating func i16(_ value: Int16) { u16(UInt16(bitPattern: value)) }
    public mutating func i32(_ value: Int32) { u32(UInt32(bitPattern: value)) }
    public mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }

    /// A 16-bit value in network (big-endian) order, as in sockaddr_in's port.
    public mutating func u16BigEndian(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }

    public mutating func zeros(_ count: Int) {
        for _ in 0..<count { bytes.append(0) }
    }

    /// A C char array of `length` bytes: the UTF-8 of `text`, cut to length-1 bytes, then NUL
    /// padding (so the field is always NUL-terminated, like the kernel's strscpy into utsname).
    public mutating func fixedString(_ text: String, length: Int) {
        var written = 0
        for byte in text.utf8 where written < length - 1 {
            bytes.append(byte)
            written += 1
        }
        zeros(length - written)
    }

    /// A fixed-size C char field from raw bytes (utsname, fb_fix_screeninfo.id): at most
    /// size-1 bytes, then NUL padding.
    public mutating func field(_ text: [UInt8], size: Int) {
        let n = min(text.count, size - 1)
        bytes.append(contentsOf: text[0..<n])
        zeros(size - n)
    }

    /// Pads with zeros up to the next multiple of `alignment` bytes.
    public mutating func align(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    private mutating func appendLittleEndian(_ value: UInt64, byteCount: Int) {
        var rest = value
        for _ in 0..<byteCount {
            bytes.append(UInt8(truncatingIfNeeded: rest))
            rest >>= 8
        }
    }
}

/// Why a structure could not be decoded from the bytes given.
public enum ByteDecodingError: Error, Equatable, Sendable {
    /// The input ended at `offset` while `needed` more bytes were wanted.
    case truncated(offset: Int, needed: Int)
}

/// Reads little-endian integers from a byte array, front to back.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var remaining: Int { bytes.count - offset }

    // Random access at a byte offset, for handlers that pick fields out of a struct image
    // already copied in at its full size (the caller guarantees the length).
    public func u32(_ at: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[at + i]) << (8 * UInt32(i)) }
        return v
    }
    public func u64(_ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return v
    }
    public func i64(_ at: Int) -> Int64 { Int64(bitPattern: u64(at)) }

    public mutating func u8() throws(ByteDecodingError) -> UInt8 {
        try UInt8(truncatingIfNeeded: readLittleEndian(byteCount: 1))
    }
    public mutating func u16() throws(ByteDecodingError) -> UInt16 {
        try UInt16(truncatingIfNeeded: readLittleEndian(byteCount: 2))
    }
    public mutating func u32() throws(ByteDecodingError) -> UInt32 {
        try UInt32(truncatingIfNeeded: readLittleEndian(byteCount: 4))
    }
    public mutating func u64() throws(ByteDecodingError) -> UInt64 {
        try readLittleEndian(byteCount: 8)
    }
    public mutating func i8() throws(ByteDecodingError) -> Int8 { Int8(bitPattern: try u8()) }
    public mutating func i16() throws(ByteDecodingError) -> Int16 { Int16(bitPattern: try u16()) }
    public mutating func i32() throws(ByteDecodingError) -> Int32 { Int32(bitPattern: try u32()) }
    public mutating func i64() throws(ByteDecodingError) -> Int64 { Int64(bitPattern: try u64()) }

    public mutating func u16BigEndian() throws(ByteDecodingError) -> UInt16 {
        let high = try u8()
        let low = try u8()
        return UInt16(high) << 8 | UInt16(low)
    }

    /// The next `count` bytes as they are.
    public mutating func raw(_ count: Int) throws(ByteDecodingError) -> [UInt8] {
        try require(count)
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }

    public mutating func skip(_ count: Int) throws(ByteDecodingError) {
        try require(count)
        offset += count
    }

    private func require(_ count: Int) throws(ByteDecodingError) {
        guard count >= 0, count <= remaining else {
            throw .truncated(offset: offset, needed: count)
        }
    }

    private mutating func readLittleEndian(byteCount: Int) throws(ByteDecodingError) -> UInt64 {
        try require(byteCount)
        var value: UInt64 = 0
        for index in 0..<byteCount {
            value |= UInt64(bytes[offset + index]) << UInt64(8 * index)
        }
        offset += byteCount
        return value
    }
}
