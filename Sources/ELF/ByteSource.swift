// ByteSource — read-only bytes that pure parsers (ELF, BootBundle) work on (ELF layer).
//
// On the host it is a [UInt8]; in the kernel, Sources/Kernel wraps the boot module's
// physical memory in a conformance, so a 10 MB executable is never copied just to parse it.

/// Something the bundle parser can read bytes from: a host array in tests, the boot module's
/// physical memory in the kernel.
public protocol ByteSource {
    var byteCount: Int { get }
    func byte(at offset: Int) -> UInt8
}

extension Array: ByteSource where Element == UInt8 {
    public var byteCount: Int { count }
    public func byte(at offset: Int) -> UInt8 { self[offset] }
}

extension ByteSource {
    @inline(__always)
    public func littleEndian16(at offset: Int) -> UInt16 {
        UInt16(byte(at: offset)) | UInt16(byte(at: offset + 1)) << 8
    }
    @inline(__always)
    public func littleEndian32(at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(byte(at: offset + i)) << (8 * UInt32(i)) }
        return v
    }
    @inline(__always)
    public func littleEndian64(at offset: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(byte(at: offset + i)) << (8 * UInt64(i)) }
        return v
    }
    public func bytes(at offset: Int, count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count)
        for i in 0..<count { out.append(byte(at: offset + i)) }
        return out
    }
}

