// StatfsStruct — x86-64 struct statfs, as statfs(2) and fstatfs(2) fill it (LinuxABI layer).
//
// Layout: include/uapi/asm-generic/statfs.h with __statfs_word = long (x86-64): ten 8-byte
// words around a two-int f_fsid, then f_flags and four spare words, 120 bytes. Magic numbers
// for f_type from include/uapi/linux/magic.h; f_flags bits (ST_*) from statvfs(3) and
// fs/statfs.c (flags_by_mnt). The kernel side that fills it is
// Sources/KernelCore/Syscalls/PathSyscalls.swift (statfs, fstatfs).

/// struct statfs for x86-64: 120 bytes.
public struct Statfs: KernelStructEncodable, KernelStructDecodable, Equatable, Sendable {
    public static let tmpfsMagic: Int64 = 0x0102_1994      // TMPFS_MAGIC (tmpfs and devtmpfs)
    public static let procMagic: Int64 = 0x9fa0            // PROC_SUPER_MAGIC
    public static let pipefsMagic: Int64 = 0x5049_5045     // PIPEFS_MAGIC
    public static let sockfsMagic: Int64 = 0x534f_434b     // SOCKFS_MAGIC
    public static let anonInodeMagic: Int64 = 0x0904_1934  // ANON_INODE_FS_MAGIC
    public static let devptsMagic: Int64 = 0x1cd1          // DEVPTS_SUPER_MAGIC

    /// f_flags: ST_VALID says the field is filled (Linux 2.6.36+); the rest mirror the mount.
    public static let flagValid: Int64 = 0x20, flagNoSUID: Int64 = 0x2, flagNoDev: Int64 = 0x4
    public static let flagNoExec: Int64 = 0x8, flagRelatime: Int64 = 0x400

    public var type: Int64 = 0
    public var blockSize: Int64 = 4096
    public var blocks: UInt64 = 0
    public var freeBlocks: UInt64 = 0
    public var availableBlocks: UInt64 = 0
    public var files: UInt64 = 0
    public var freeFiles: UInt64 = 0
    public var fsid: (Int32, Int32) = (0, 0)
    public var nameLength: Int64 = 255
    public var fragmentSize: Int64 = 4096
    public var flags: Int64 = Statfs.flagValid

    public init() {}

    public static let byteSize = 120
    public func encode(into writer: inout ByteWriter) {
        writer.i64(type)             // 0   f_type
        writer.i64(blockSize)        // 8   f_bsize
        writer.u64(blocks)           // 16  f_blocks
        writer.u64(freeBlocks)       // 24  f_bfree
        writer.u64(availableBlocks)  // 32  f_bavail
        writer.u64(files)            // 40  f_files
        writer.u64(freeFiles)        // 48  f_ffree
        writer.i32(fsid.0)           // 56  f_fsid.val[0]
        writer.i32(fsid.1)           // 60  f_fsid.val[1]
        writer.i64(nameLength)       // 64  f_namelen
        writer.i64(fragmentSize)     // 72  f_frsize
        writer.i64(flags)            // 80  f_flags
        writer.zeros(32)             // 88  f_spare[4]
    }

    public static func decode(from reader: inout ByteReader) throws(ByteDecodingError) -> Statfs {
        var s = Statfs()
        s.type = try reader.i64()
        s.blockSize = try reader.i64()
        s.blocks = try reader.u64()
        s.freeBlocks = try reader.u64()
        s.availableBlocks = try reader.u64()
        s.files = try reader.u64()
        s.freeFiles = try reader.u64()
        s.fsid = (try reader.i32(), try reader.i32())
        s.nameLength = try reader.i64()
        s.fragmentSize = try reader.i64()
        s.flags = try reader.i64()
        try reader.skip(32)
        return s
    }

    public static func == (a: Statfs, b: Statfs) -> Bool {
        a.type == b.type && a.blockSize == b.blockSize && a.blocks == b.blocks && a.freeBlocks == b.freeBlocks
            && a.availableBlocks == b.availableBlocks && a.files == b.files && a.freeFiles == b.freeFiles
            && a.fsid.0 == b.fsid.0 && a.fsid.1 == b.fsid.1 && a.nameLength == b.nameLength
            && a.fragmentSize == b.fragmentSize && a.flags == b.flags
    }
}
