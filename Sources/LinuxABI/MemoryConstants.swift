// MemoryConstants — flags of the memory syscalls on x86-64 Linux (LinuxABI layer):
// mmap(2)/mprotect(2) PROT_*, mmap MAP_*, mremap(2) MREMAP_*, madvise(2) MADV_*.
// Values from include/uapi/asm-generic/mman-common.h, include/uapi/linux/mman.h and
// arch/x86/include/uapi/asm/mman.h (MAP_32BIT, MAP_ABOVE4G). The address-space logic that
// interprets them lives in KernelCore/Memory.

public struct MmapProt: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let PROT_NONE = MmapProt([])
    public static let PROT_READ = MmapProt(rawValue: 0x1)
    public static let PROT_WRITE = MmapProt(rawValue: 0x2)
    public static let PROT_EXEC = MmapProt(rawValue: 0x4)
    public static let PROT_SEM = MmapProt(rawValue: 0x8)
    /// mprotect only: extend the change down to the start of a grows-down mapping.
    public static let PROT_GROWSDOWN = MmapProt(rawValue: 0x0100_0000)
    public static let PROT_GROWSUP = MmapProt(rawValue: 0x0200_0000)

    public static let names: [NamedValue] = [
        NamedValue(0, "PROT_NONE"), NamedValue(0x1, "PROT_READ"), NamedValue(0x2, "PROT_WRITE"),
        NamedValue(0x4, "PROT_EXEC"), NamedValue(0x8, "PROT_SEM"),
        NamedValue(0x0100_0000, "PROT_GROWSDOWN"), NamedValue(0x0200_0000, "PROT_GROWSUP"),
    ]
    public static let unknownComment: StaticString = "PROT_???"
}

/// mmap flags. The low four bits (MAP_TYPE) are a mapping type, not flags; bits 26...31 carry
/// the huge page size (log2) when MAP_HUGETLB is set.
public struct MmapFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let MAP_FILE = MmapFlags([])
    public static let MAP_SHARED = MmapFlags(rawValue: 0x01)
    public static let MAP_PRIVATE = MmapFlags(rawValue: 0x02)
    public static let MAP_SHARED_VALIDATE = MmapFlags(rawValue: 0x03)
    /// Linux 6.11: zero-filled memory the kernel may drop under pressure.
    public static let MAP_DROPPABLE = MmapFlags(rawValue: 0x08)
    public static let MAP_TYPE = MmapFlags(rawValue: 0x0f)
    public static let MAP_FIXED = MmapFlags(rawValue: 0x10)
    public static let MAP_ANONYMOUS = MmapFlags(rawValue: 0x20)
    public static let MAP_32BIT = MmapFlags(rawValue: 0x40)
    public static let MAP_ABOVE4G = MmapFlags(rawValue: 0x80)
    public static let MAP_GROWSDOWN = MmapFlags(rawValue: 0x100)
    public static let MAP_DENYWRITE = MmapFlags(rawValue: 0x800)
    public static let MAP_EXECUTABLE = MmapFlags(rawValue: 0x1000)
    public static let MAP_LOCKED = MmapFlags(rawValue: 0x2000)
    public static let MAP_NORESERVE = MmapFlags(rawValue: 0x4000)
    public static let MAP_POPULATE = MmapFlags(rawValue: 0x8000)
    public static let MAP_NONBLOCK = MmapFlags(rawValue: 0x10000)
    public static let MAP_STACK = MmapFlags(rawValue: 0x20000)
    public static let MAP_HUGETLB = MmapFlags(rawValue: 0x40000)
    public static let MAP_SYNC = MmapFlags(rawValue: 0x80000)
    public static let MAP_FIXED_NOREPLACE = MmapFlags(rawValue: 0x100000)
    public static let MAP_UNINITIALIZED = MmapFlags(rawValue: 0x4000000)
    public static let MAP_HUGE_SHIFT: UInt32 = 26
    public static let MAP_HUGE_MASK: UInt32 = 0x3f
    public static let MAP_HUGE_2MB = MmapFlags(rawValue: 21 << 26)
    public static let MAP_HUGE_1GB = MmapFlags(rawValue: 30 << 26)

    /// The mapping type (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE...).
    public var mappingType: MmapFlags { MmapFlags(rawValue: rawValue & 0x0f) }
    public var isAnonymous: Bool { contains(.MAP_ANONYMOUS) }
    public var isFixed: Bool { contains(.MAP_FIXED) || contains(.MAP_FIXED_NOREPLACE) }

    public static let typeNames: [NamedValue] = [
        NamedValue(0, "MAP_FILE"), NamedValue(0x01, "MAP_SHARED"), NamedValue(0x02, "MAP_PRIVATE"),
        NamedValue(0x03, "MAP_SHARED_VALIDATE"), NamedValue(0x08, "MAP_DROPPABLE"),
    ]

    /// strace's xlat/mmap_flags.in order for x86-64 (not value order: MAP_NORESERVE comes
    /// before MAP_GROWSDOWN).
    public static let names: [NamedValue] = [
        NamedValue(0x10, "MAP_FIXED"), NamedValue(0x20, "MAP_ANONYMOUS"),
        NamedValue(0x40, "MAP_32BIT"), NamedValue(0x80, "MAP_ABOVE4G"),
        NamedValue(0x4000, "MAP_NORESERVE"), NamedValue(0x8000, "MAP_POPULATE"),
        NamedValue(0x10000, "MAP_NONBLOCK"), NamedValue(0x100, "MAP_GROWSDOWN"),
        NamedValue(0x800, "MAP_DENYWRITE"), NamedValue(0x1000, "MAP_EXECUTABLE"),
        NamedValue(0x2000, "MAP_LOCKED"), NamedValue(0x20000, "MAP_STACK"),
        NamedValue(0x40000, "MAP_HUGETLB"), NamedValue(0x80000, "MAP_SYNC"),
        NamedValue(0x100000, "MAP_FIXED_NOREPLACE"),
    ]

    /// strace's print_mmap_flags (src/mem.c): the type ("MAP_PRIVATE", "MAP_FILE" for 0,
    /// "0x4 /* MAP_??? */"), then the flags, then the huge page bits as "21<<MAP_HUGE_SHIFT"
    /// (strace decodes bits 26...31 that way even without MAP_HUGETLB).
    public var straceDescription: String {
        var text = renderValue(UInt64(rawValue & 0x0f), table: MmapFlags.typeNames,
                               unknownComment: "MAP_???")
        let hugeBits = rawValue & (MmapFlags.MAP_HUGE_MASK << MmapFlags.MAP_HUGE_SHIFT)
        let rest = rawValue & ~0x0f & ~hugeBits
        if rest != 0 {
            text += "|" + renderFlags(UInt64(rest), table: MmapFlags.names, unknownComment: nil)
        }
        if hugeBits != 0 {
            text += "|" + unsignedDecimalString(UInt64(hugeBits >> MmapFlags.MAP_HUGE_SHIFT))
            text += "<<MAP_HUGE_SHIFT"
        }
        return text
    }
}

public struct MremapFlags: LinuxFlagSet, Equatable, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let MREMAP_MAYMOVE = MremapFlags(rawValue: 1)
    public static let MREMAP_FIXED = MremapFlags(rawValue: 2)
    public static let MREMAP_DONTUNMAP = MremapFlags(rawValue: 4)
    public static let names: [NamedValue] = [
        NamedValue(1, "MREMAP_MAYMOVE"), NamedValue(2, "MREMAP_FIXED"), NamedValue(4, "MREMAP_DONTUNMAP"),
    ]
    public static let unknownComment: StaticString = "MREMAP_???"
}

/// madvise(2) advice values (not flags).
public struct MadviseAdvice: LinuxConstant, Sendable {
    public let rawValue: UInt32
    @inline(__always) public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    public static let MADV_NORMAL = MadviseAdvice(0)
    public static let MADV_RANDOM = MadviseAdvice(1)
    public static let MADV_SEQUENTIAL = MadviseAdvice(2)
    public static let MADV_WILLNEED = MadviseAdvice(3)
    public static let MADV_DONTNEED = MadviseAdvice(4)
    public static let MADV_FREE = MadviseAdvice(8)
    public static let MADV_REMOVE = MadviseAdvice(9)
    public static let MADV_DONTFORK = MadviseAdvice(10)
    public static let MADV_DOFORK = MadviseAdvice(11)
    public static let MADV_MERGEABLE = MadviseAdvice(12)
    public static let MADV_UNMERGEABLE = MadviseAdvice(13)
    public static let MADV_HUGEPAGE = MadviseAdvice(14)
    public static let MADV_NOHUGEPAGE = MadviseAdvice(15)
    public static let MADV_DONTDUMP = MadviseAdvice(16)
    public static let MADV_DODUMP = MadviseAdvice(17)
    public static let MADV_WIPEONFORK = MadviseAdvice(18)
    public static let MADV_KEEPONFORK = MadviseAdvice(19)
    public static let MADV_COLD = MadviseAdvice(20)
    public static let MADV_PAGEOUT = MadviseAdvice(21)
    public static let MADV_POPULATE_READ = MadviseAdvice(22)
    public static let MADV_POPULATE_WRITE = MadviseAdvice(23)
    public static let MADV_DONTNEED_LOCKED = MadviseAdvice(24)
    public static let MADV_COLLAPSE = MadviseAdvice(25)
    public static let MADV_HWPOISON = MadviseAdvice(100)
    public static let MADV_SOFT_OFFLINE = MadviseAdvice(101)
    public static let MADV_GUARD_INSTALL = MadviseAdvice(102)
    public static let MADV_GUARD_REMOVE = MadviseAdvice(103)

    public static let names: [NamedValue] = [
        NamedValue(0, "MADV_NORMAL"), NamedValue(1, "MADV_RANDOM"), NamedValue(2, "MADV_SEQUENTIAL"),
        NamedValue(3, "MADV_WILLNEED"), NamedValue(4, "MADV_DONTNEED"), NamedValue(8, "MADV_FREE"),
        NamedValue(9, "MADV_REMOVE"), NamedValue(10, "MADV_DONTFORK"), NamedValue(11, "MADV_DOFORK"),
        NamedValue(12, "MADV_MERGEABLE"), NamedValue(13, "MADV_UNMERGEABLE"),
        NamedValue(14, "MADV_HUGEPAGE"), NamedValue(15, "MADV_NOHUGEPAGE"),
        NamedValue(16, "MADV_DONTDUMP"), NamedValue(17, "MADV_DODUMP"),
        NamedValue(18, "MADV_WIPEONFORK"), NamedValue(19, "MADV_KEEPONFORK"),
        NamedValue(20, "MADV_COLD"), NamedValue(21, "MADV_PAGEOUT"),
        NamedValue(22, "MADV_POPULATE_READ"), NamedValue(23, "MADV_POPULATE_WRITE"),
        NamedValue(24, "MADV_DONTNEED_LOCKED"), NamedValue(25, "MADV_COLLAPSE"),
        NamedValue(100, "MADV_HWPOISON"), NamedValue(101, "MADV_SOFT_OFFLINE"),
        NamedValue(102, "MADV_GUARD_INSTALL"), NamedValue(103, "MADV_GUARD_REMOVE"),
    ]
    public static let unknownComment: StaticString = "MADV_???"
}
