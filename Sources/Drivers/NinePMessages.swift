// NinePMessages — encoding and decoding of 9P2000.L messages (Drivers layer, pure logic;
// host-tested in Tests/KernelCoreTests/NinePTests.swift).
//
// The protocol is Plan 9's 9P2000 with Linux's ".L" extension, as the Linux client speaks it
// (net/9p/client.c, include/net/9p/9p.h) and QEMU's server answers it (hw/9pfs/9p.c). Every
// message is size[4] type[1] tag[2] then its fields, all little-endian; a string is
// length[2] + bytes; a qid is type[1] version[4] path[8]. An error comes back as Rlerror
// carrying a Linux errno. Neighbours: NinePClient.swift sends these over a transport
// (VirtioNineP.swift in the kernel, a fake in tests); NinePVolume.swift uses the client.
import LinuxABI

/// Message type numbers (include/net/9p/9p.h, enum p9_msg_t).
public enum NinePType {
    public static let rlerror: UInt8 = 7
    public static let tstatfs: UInt8 = 8
    public static let tlopen: UInt8 = 12
    public static let tlcreate: UInt8 = 14
    public static let tsymlink: UInt8 = 16
    public static let treadlink: UInt8 = 22
    public static let tgetattr: UInt8 = 24
    public static let tsetattr: UInt8 = 26
    public static let treaddir: UInt8 = 40
    public static let tfsync: UInt8 = 50
    public static let tmkdir: UInt8 = 72
    public static let trenameat: UInt8 = 74
    public static let tunlinkat: UInt8 = 76
    public static let tversion: UInt8 = 100
    public static let tattach: UInt8 = 104
    public static let twalk: UInt8 = 110
    public static let tread: UInt8 = 116
    public static let twrite: UInt8 = 118
    public static let tclunk: UInt8 = 120
}

/// A server's unique identity for a file (qid): type bits (0x80 directory, 0x02 symlink).
public struct NinePQid: Equatable, Sendable {
    public var type: UInt8
    public var version: UInt32
    public var path: UInt64
    public init(type: UInt8, version: UInt32, path: UInt64) {
        self.type = type
        self.version = version
        self.path = path
    }
    public var isDirectory: Bool { type & 0x80 != 0 }
    public var isSymlink: Bool { type & 0x02 != 0 }
}

/// Rgetattr's fields that egg uses (the request mask P9_GETATTR_BASIC, 0x7ff).
public struct NinePAttributes: Equatable, Sendable {
    public var qid: NinePQid
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var linkCount: UInt64
    public var size: UInt64
    public var modifySeconds: UInt64
    public var modifyNanoseconds: UInt64
    public init(qid: NinePQid, mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, linkCount: UInt64 = 1,
                size: UInt64, modifySeconds: UInt64 = 0, modifyNanoseconds: UInt64 = 0) {
        self.qid = qid
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkCount = linkCount
        self.size = size
        self.modifySeconds = modifySeconds
        self.modifyNanoseconds = modifyNanoseconds
    }
}

/// One Rreaddir entry: qid[13] offset[8] type[1] name[s].
public struct NinePDirectoryEntry: Equatable, Sendable {
    public var qid: NinePQid
    public var offset: UInt64
    public var type: UInt8
    public var name: [UInt8]
    public init(qid: NinePQid, offset: UInt64, type: UInt8, name: [UInt8]) {
        self.qid = qid
        self.offset = offset
        self.type = type
        self.name = name
    }
}

/// Rstatfs (struct p9_rstatfs).
public struct NinePStatfs: Equatable, Sendable {
    public var type: UInt32
    public var blockSize: UInt32
    public var blocks: UInt64
    public var blocksFree: UInt64
    public var blocksAvailable: UInt64
    public var files: UInt64
    public var filesFree: UInt64
    public var fsid: UInt64
    public var nameLength: UInt32
}

/// Builds one T-message: the size is filled in by `finish`.
public struct NinePRequest {
    var writer = ByteWriter(capacity: 64)

    public init(type: UInt8, tag: UInt16) {
        writer.u32(0)
        writer.u8(type)
        writer.u16(tag)
    }

    public mutating func u8(_ v: UInt8) { writer.u8(v) }
    public mutating func u16(_ v: UInt16) { writer.u16(v) }
    public mutating func u32(_ v: UInt32) { writer.u32(v) }
    public mutating func u64(_ v: UInt64) { writer.u64(v) }
    public mutating func string(_ s: [UInt8]) {
        writer.u16(UInt16(truncatingIfNeeded: s.count))
        writer.append(s)
    }
    public mutating func raw(_ bytes: [UInt8]) { writer.append(bytes) }

    /// The message with its size[4] set.
    public func finish() -> [UInt8] {
        var bytes = writer.bytes
        let n = UInt32(bytes.count)
        for i in 0..<4 { bytes[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
        return bytes
    }
}

/// Why a reply could not be used.
public enum NinePFailure: Error, Equatable {
    /// Rlerror: the server's Linux errno.
    case error(Errno)
    /// A reply that is short, of the wrong type or tag, or otherwise malformed.
    case protocolViolation
    /// The transport gave no reply (device gone or timed out).
    case transport

    /// The errno a system call reports for this failure (EIO when the server said nothing usable).
    public var errno: Errno {
        if case .error(let e) = self { return e }
        return .EIO
    }
}

/// Reads one R-message: checks size, type (the T type + 1, or Rlerror) and tag.
public struct NinePReply {
    var reader: ByteReader

    public init(_ bytes: [UInt8], expecting type: UInt8, tag: UInt16) throws(NinePFailure) {
        guard bytes.count >= 7 else { throw .protocolViolation }
        let header = ByteReader(bytes)
        let size = Int(header.u32(0))
        let got = bytes[4]
        let gotTag = UInt16(bytes[5]) | UInt16(bytes[6]) << 8
        guard size >= 7, size <= bytes.count, gotTag == tag else { throw .protocolViolation }
        if got == NinePType.rlerror {
            guard size >= 11 else { throw .protocolViolation }
            throw .error(Errno(Int32(truncatingIfNeeded: header.u32(7))))
        }
        guard got == type &+ 1 else { throw .protocolViolation }
        reader = ByteReader(Array(bytes[0..<size]), offset: 7)
    }

    public mutating func u8() throws(NinePFailure) -> UInt8 {
        do { return try reader.u8() } catch { throw .protocolViolation }
    }
    public mutating func u16() throws(NinePFailure) -> UInt16 {
        do { return try reader.u16() } catch { throw .protocolViolation }
    }
    public mutating func u32() throws(NinePFailure) -> UInt32 {
        do { return try reader.u32() } catch { throw .protocolViolation }
    }
    public mutating func u64() throws(NinePFailure) -> UInt64 {
        do { return try reader.u64() } catch { throw .protocolViolation }
    }
    public mutating func raw(_ count: Int) throws(NinePFailure) -> [UInt8] {
        do { return try reader.raw(count) } catch { throw .protocolViolation }
    }
    public mutating func string() throws(NinePFailure) -> [UInt8] {
        let n = try u16()
        return try raw(Int(n))
    }
    public mutating func qid() throws(NinePFailure) -> NinePQid {
        let type = try u8()
        let version = try u32()
        let path = try u64()
        return NinePQid(type: type, version: version, path: path)
    }
    public var remaining: Int { reader.remaining }
}

/// Decoding of the variable parts of replies.
public enum NinePDecode {
    /// Rreaddir's data: entries back to back.
    public static func directoryEntries(_ data: [UInt8]) throws(NinePFailure) -> [NinePDirectoryEntry] {
        var r = ByteReader(data)
        var out: [NinePDirectoryEntry] = []
        do {
            while r.remaining > 0 {
                let qid = NinePQid(type: try r.u8(), version: try r.u32(), path: try r.u64())
                let offset = try r.u64()
                let type = try r.u8()
                let n = try r.u16()
                let name = try r.raw(Int(n))
                out.append(NinePDirectoryEntry(qid: qid, offset: offset, type: type, name: name))
            }
        } catch {
            throw .protocolViolation
        }
        return out
    }

    /// Encodes entries as Rreaddir carries them (for tests and fakes).
    public static func encode(_ entries: [NinePDirectoryEntry]) -> [UInt8] {
        var w = ByteWriter()
        for e in entries {
            w.u8(e.qid.type); w.u32(e.qid.version); w.u64(e.qid.path)
            w.u64(e.offset)
            w.u8(e.type)
            w.u16(UInt16(truncatingIfNeeded: e.name.count))
            w.append(e.name)
        }
        return w.bytes
    }
}
