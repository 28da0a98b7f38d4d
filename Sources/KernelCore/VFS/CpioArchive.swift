// CpioArchive — the "newc" (SVR4, magic 070701) cpio format that carries `egg run --files
// DIR` into the guest (KernelCore/VFS, pure; used by the kernel to unpack and by egg on the
// host to pack, Sources/EggHost/FileArchive.swift).
//
// Format (cpio(5), Linux Documentation/driver-api/early-userspace/buffer-format.rst): each
// member is a 110-byte ASCII header — "070701" then 13 fields of 8 hex digits: ino, mode,
// uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize
// (with the NUL), check — then the name and NUL padded to a multiple of 4, then the data
// padded to 4. A symlink's data is its target. The member "TRAILER!!!" ends the archive.
// The kernel reads the archive where egg's boot bundle put it (CpioEntry: where each member's
// data lies), so a file's bytes are never copied through the heap (FileData.swift backing);
// newc's 8-hex-digit filesize limits a member to 4 GiB - 1.
import ELF

public struct CpioMember: Equatable {
    public var name: [UInt8]
    public var mode: UInt32
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var mtime: UInt32 = 0
    public var rdevMajor: UInt32 = 0
    public var rdevMinor: UInt32 = 0
    public var data: [UInt8]

    public init(name: [UInt8], mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, mtime: UInt32 = 0,
                rdevMajor: UInt32 = 0, rdevMinor: UInt32 = 0, data: [UInt8] = []) {
        self.name = name
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.rdevMajor = rdevMajor
        self.rdevMinor = rdevMinor
        self.data = data
    }
}

/// A member as it lies in the archive: its header fields and where its data is.
public struct CpioEntry: Equatable {
    public var name: [UInt8]
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: UInt32
    public var rdevMajor: UInt32
    public var rdevMinor: UInt32
    public var dataOffset: Int
    public var dataLength: Int
}

public enum CpioError: Error, Equatable {
    case badMagic(offset: Int)
    case badHeader(offset: Int)
    case truncated(offset: Int)
}

public enum CpioArchive {
    static let magic: [UInt8] = Array("070701".utf8)
    static let trailer: [UInt8] = Array("TRAILER!!!".utf8)
    static let headerSize = 110

    static func pad4(_ n: Int) -> Int { (n + 3) & ~3 }

    static func hexField<S: ByteSource>(_ bytes: S, _ at: Int) -> UInt32? {
        var v: UInt32 = 0
        for i in 0..<8 {
            let c = bytes.byte(at: at + i)
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    /// Every member before the trailer, in archive order, with its data left in place.
    public static func entries<S: ByteSource>(_ bytes: S) throws(CpioError) -> [CpioEntry] {
        var entries: [CpioEntry] = []
        var offset = 0
        let total = bytes.byteCount
        while true {
            guard offset <= total - headerSize else { throw .truncated(offset: offset) }
            for i in 0..<6 where bytes.byte(at: offset + i) != magic[i] { throw .badMagic(offset: offset) }
            var fields: [UInt32] = []
            for f in 0..<13 {
                guard let v = hexField(bytes, offset + 6 + 8 * f) else { throw .badHeader(offset: offset) }
                fields.append(v)
            }
            let nameSize = Int(fields[11]), fileSize = Int(fields[6])
            guard nameSize >= 1 else { throw .badHeader(offset: offset) }
            let nameStart = offset + headerSize
            guard nameSize <= total - nameStart else { throw .truncated(offset: offset) }
            var name: [UInt8] = []
            for i in nameStart..<(nameStart + nameSize - 1) { name.append(bytes.byte(at: i)) }
            let dataStart = pad4(nameStart + nameSize)
            if name == trailer { return entries }
            guard dataStart <= total, fileSize <= total - dataStart else { throw .truncated(offset: offset) }
            entries.append(CpioEntry(name: name, mode: fields[1], uid: fields[2], gid: fields[3], mtime: fields[5],
                                     rdevMajor: fields[9], rdevMinor: fields[10],
                                     dataOffset: dataStart, dataLength: fileSize))
            offset = pad4(dataStart + fileSize)
        }
    }

    /// Every member before the trailer, in archive order, data copied out (host, tests).
    public static func parse(_ bytes: [UInt8]) throws(CpioError) -> [CpioMember] {
        try entries(bytes).map { e in
            CpioMember(name: e.name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime,
                       rdevMajor: e.rdevMajor, rdevMinor: e.rdevMinor,
                       data: Array(bytes[e.dataOffset..<(e.dataOffset + e.dataLength)]))
        }
    }

    /// Serialises `members` and the trailer.
    public static func build(_ members: [CpioMember]) -> [UInt8] {
        var out: [UInt8] = []
        // One allocation for the whole archive (a --files tree may hold a 1 GiB file).
        var capacity = headerSize + trailer.count + 8
        for m in members { capacity += headerSize + m.name.count + 8 + m.data.count }
        out.reserveCapacity(capacity)
        var ino: UInt32 = 1
        for m in members {
            append(&out, m, ino: ino)
            ino += 1
        }
        append(&out, CpioMember(name: trailer, mode: 0), ino: 0)
        return out
    }

    static func append(_ out: inout [UInt8], _ m: CpioMember, ino: UInt32) {
        out.append(contentsOf: magic)
        let isDirectory = m.mode & 0o170000 == 0o040000
        // Sizes past 8 hex digits cannot be written (the host refuses them first:
        // Sources/EggHost/FileArchive.swift); truncating keeps the archive parseable.
        let fields: [UInt32] = [ino, m.mode, m.uid, m.gid, isDirectory ? 2 : 1, m.mtime, UInt32(truncatingIfNeeded: m.data.count),
                                0, 0, m.rdevMajor, m.rdevMinor, UInt32(m.name.count + 1), 0]
        for f in fields {
            var shift: UInt32 = 28
            for _ in 0..<8 {
                let d = UInt8((f >> shift) & 0xF)
                out.append(d < 10 ? 0x30 + d : 0x61 + d - 10)
                shift = shift &- 4
            }
        }
        out.append(contentsOf: m.name)
        out.append(0)
        while out.count % 4 != 0 { out.append(0) }
        out.append(contentsOf: m.data)
        while out.count % 4 != 0 { out.append(0) }
    }
}
