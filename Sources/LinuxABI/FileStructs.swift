// FileStructs — x86-64 layouts of struct stat, struct statx and linux_dirent64 (LinuxABI
// layer). Layouts from arch/x86/include/uapi/asm/stat.h (the 64-bit struct stat used by
// fstat/newfstatat), include/uapi/linux/stat.h (statx, Linux 6.16 field set) and
// fs/readdir.c (linux_dirent64, filldir64). File constants are in FileConstants.swift; the VFS
// that fills these is in KernelCore.

/// glibc's makedev(3) encoding of a device number, as st_dev/st_rdev carry it
/// (the kernel's new_encode_dev): minor low byte, major 12 bits, then the high parts.
public func encodeDeviceNumber(major: UInt32, minor: UInt32) -> UInt64 {
    let major64 = UInt64(major)
    let minor64 = UInt64(minor)
    return (major64 & 0xfff) << 8 | (major64 & ~0xfff) << 32 | (minor64 & 0xff) | (minor64 & ~0xff) << 12
}

/// glibc's major(3) / minor(3).
public func decodeDeviceNumber(_ dev: UInt64) -> (major: UInt32, minor: UInt32) {
    let major = (dev >> 8) & 0xfff | (dev >> 32) & ~0xfff
    let minor = dev & 0xff | (dev >> 12) & ~0xff
    return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
}

/// struct stat for x86-64 (fstat, newfstatat, stat, lstat): 144 bytes.
public struct Stat: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public var dev: UInt64 = 0
    public var ino: UInt64 = 0
    public var nlink: UInt64 = 1
    public var mode = FileMode(0)
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var rdev: UInt64 = 0
    public var size: Int64 = 0
    public var blksize: Int64 = 4096
    /// In 512-byte units.
    public var blocks: Int64 = 0
    public var atime = Timespec(seconds: 0, nanoseconds: 0)
    public var mtime = Timespec(seconds: 0, nanoseconds: 0)
    public var ctime = Timespec(seconds: 0, nanoseconds: 0)

    public init() {}

    public static let byteSize = 144
    public func encode(into writer: inout ByteWriter) {
        writer.u64(dev)             // 0   st_dev
        writer.u64(ino)             // 8   st_ino
        writer.u64(nlink)           // 16  st_nlink (before st_mode on x86-64)
        writer.u32(mode.rawValue)   // 24  st_mode
        writer.u32(uid)             // 28  st_uid
        writer.u32(gid)             // 32  st_gid
        writer.zeros(4)             // 36  __pad0
        writer.u64(rdev)            // 40  st_rdev
        writer.i64(size)            // 48  st_size
        writer.i64(blksize)         // 56  st_blksize
        writer.i64(blocks)          // 64  st_blocks
        atime.encode(into: &writer) // 72  st_atime, st_atime_nsec
        mtime.encode(into: &writer) // 88
        ctime.encode(into: &writer) // 104
        writer.zeros(24)            // 120 __unused[3]
    }

    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Stat {
        var stat = Stat()
        stat.dev = try reader.u64()
        stat.ino = try reader.u64()
        stat.nlink = try reader.u64()
        stat.mode = FileMode(try reader.u32())
        stat.uid = try reader.u32()
        stat.gid = try reader.u32()
        try reader.skip(4)
        stat.rdev = try reader.u64()
        stat.size = try reader.i64()
        stat.blksize = try reader.i64()
        stat.blocks = try reader.i64()
        stat.atime = try Timespec.decode(from: &reader)
        stat.mtime = try Timespec.decode(from: &reader)
        stat.ctime = try Timespec.decode(from: &reader)
        try reader.skip(24)
        return stat
    }
}

/// struct statx_timestamp: 16 bytes (tv_sec, tv_nsec u32, reserved).
public struct StatxTimestamp: Equatable, Sendable {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64 = 0, nanoseconds: UInt32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public init(_ time: Timespec) {
        seconds = time.seconds
        nanoseconds = UInt32(truncatingIfNeeded: time.nanoseconds)
    }

    func encode(into writer: inout ByteWriter) {
        writer.i64(seconds)
        writer.u32(nanoseconds)
        writer.zeros(4)
    }
}

/// struct statx: 256 bytes. Fields up to stx_atomic_write_unit_max_opt (Linux 6.16); the
/// spare tail is zero.
public struct Statx: KernelStructEncodable, Equatable, Sendable {
    public var mask = StatxMask.STATX_BASIC_STATS
    public var blksize: UInt32 = 4096
    public var attributes: UInt64 = 0
    public var nlink: UInt32 = 1
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var mode: UInt16 = 0
    public var ino: UInt64 = 0
    public var size: UInt64 = 0
    public var blocks: UInt64 = 0
    public var attributesMask: UInt64 = 0
    public var atime = StatxTimestamp()
    public var btime = StatxTimestamp()
    public var ctime = StatxTimestamp()
    public var mtime = StatxTimestamp()
    public var rdevMajor: UInt32 = 0
    public var rdevMinor: UInt32 = 0
    public var devMajor: UInt32 = 0
    public var devMinor: UInt32 = 0
    public var mountId: UInt64 = 0
    public var dioMemAlign: UInt32 = 0
    public var dioOffsetAlign: UInt32 = 0
    public var subvolume: UInt64 = 0
    public var atomicWriteUnitMin: UInt32 = 0
    public var atomicWriteUnitMax: UInt32 = 0
    public var atomicWriteSegmentsMax: UInt32 = 0
    public var dioReadOffsetAlign: UInt32 = 0
    public var atomicWriteUnitMaxOpt: UInt32 = 0

    public init() {}

    /// The statx view of a struct stat, as the kernel's cp_statx fills it for the basic
    /// fields (STATX_BASIC_STATS).
    public init(_ stat: Stat) {
        blksize = UInt32(truncatingIfNeeded: stat.blksize)
        nlink = UInt32(truncatingIfNeeded: stat.nlink)
        uid = stat.uid
        gid = stat.gid
        mode = UInt16(truncatingIfNeeded: stat.mode.rawValue)
        ino = stat.ino
        size = UInt64(bitPattern: stat.size)
        blocks = UInt64(bitPattern: stat.blocks)
        atime = StatxTimestamp(stat.atime)
        mtime = StatxTimestamp(stat.mtime)
        ctime = StatxTimestamp(stat.ctime)
        let rdevParts = decodeDeviceNumber(stat.rdev)
        rdevMajor = rdevParts.major
        rdevMinor = rdevParts.minor
        let devParts = decodeDeviceNumber(stat.dev)
        devMajor = devParts.major
        devMinor = devParts.minor
    }

    public static let byteSize = 256
    public func encode(into writer: inout ByteWriter) {
        writer.u32(mask.rawValue)        // 0   stx_mask
        writer.u32(blksize)              // 4   stx_blksize
        writer.u64(attributes)           // 8   stx_attributes
        writer.u32(nlink)                // 16  stx_nlink
        writer.u32(uid)                  // 20  stx_uid
        writer.u32(gid)                  // 24  stx_gid
        writer.u16(mode)                 // 28  stx_mode
        writer.zeros(2)                  // 30  __spare0
        writer.u64(ino)                  // 32  stx_ino
        writer.u64(size)                 // 40  stx_size
        writer.u64(blocks)               // 48  stx_blocks
        writer.u64(attributesMask)       // 56  stx_attributes_mask
        atime.encode(into: &writer)      // 64  stx_atime
        btime.encode(into: &writer)      // 80  stx_btime
        ctime.encode(into: &writer)      // 96  stx_ctime
        mtime.encode(into: &writer)      // 112 stx_mtime
        writer.u32(rdevMajor)            // 128 stx_rdev_major
        writer.u32(rdevMinor)            // 132
        writer.u32(devMajor)             // 136 stx_dev_major
        writer.u32(devMinor)             // 140
        writer.u64(mountId)              // 144 stx_mnt_id
        writer.u32(dioMemAlign)          // 152 stx_dio_mem_align
        writer.u32(dioOffsetAlign)       // 156 stx_dio_offset_align
        writer.u64(subvolume)            // 160 stx_subvol
        writer.u32(atomicWriteUnitMin)   // 168 stx_atomic_write_unit_min
        writer.u32(atomicWriteUnitMax)   // 172
        writer.u32(atomicWriteSegmentsMax) // 176
        writer.u32(dioReadOffsetAlign)   // 180 stx_dio_read_offset_align
        writer.u32(atomicWriteUnitMaxOpt) // 184
        writer.zeros(4)                  // 188 __spare2
        writer.zeros(64)                 // 192 __spare3[8]
    }
}

/// One linux_dirent64 record of getdents64(2): d_ino, d_off, d_reclen, d_type, then the
/// NUL-terminated name, the whole record padded to a multiple of 8 (fs/readdir.c filldir64).
public struct Dirent64: Equatable, Sendable {
    public var inode: UInt64
    /// The position after this entry (what lseek would take to resume after it).
    public var offset: Int64
    public var type: UInt8
    public var name: String

    public init(inode: UInt64, offset: Int64, type: UInt8, name: String) {
        self.inode = inode
        self.offset = offset
        self.type = type
        self.name = name
    }

    /// offsetof(struct linux_dirent64, d_name).
    public static let nameOffset = 19

    /// d_reclen: header + name + NUL, rounded up to 8.
    public var recordLength: Int {
        (Dirent64.nameOffset + name.utf8.count + 1 + 7) & ~7
    }

    public func encode(into writer: inout ByteWriter) {
        let start = writer.count
        writer.u64(inode)
        writer.i64(offset)
        writer.u16(UInt16(truncatingIfNeeded: recordLength))
        writer.u8(type)
        for byte in name.utf8 { writer.u8(byte) }
        writer.u8(0)
        writer.zeros(recordLength - (writer.count - start))
    }

    public func encode() -> [UInt8] {
        var writer = ByteWriter(capacity: recordLength)
        encode(into: &writer)
        return writer.bytes
    }

    /// Packs as many entries as fit into `capacity` bytes, as getdents64 does; returns the
    /// bytes and how many entries went in (0 with entries left means EINVAL: buffer too small).
    public static func pack(_ entries: [Dirent64], capacity: Int) -> (bytes: [UInt8], count: Int) {
        var writer = ByteWriter()
        var packed = 0
        for entry in entries {
            if writer.count + entry.recordLength > capacity { break }
            entry.encode(into: &writer)
            packed += 1
        }
        return (writer.bytes, packed)
    }
}
