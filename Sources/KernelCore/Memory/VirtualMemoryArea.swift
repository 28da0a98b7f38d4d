// VirtualMemoryArea — one user mapping (like Linux's vm_area_struct) and its /proc/self/maps
// line (KernelCore layer, pure logic).
//
// Neighbours: VirtualMemoryMap.swift keeps the sorted list of areas of one address space and
// implements mmap/munmap/mprotect/brk/mremap on it; AddressRange.swift has page arithmetic.

/// Access rights of a mapping. Raw values are the PROT_* bits of mmap(2)
/// (include/uapi/asm-generic/mman-common.h), so the syscall layer can convert directly
/// after rejecting unknown bits.
public struct MemoryProtection: OptionSet, Equatable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let read = MemoryProtection(rawValue: 1)     // PROT_READ
    public static let write = MemoryProtection(rawValue: 2)    // PROT_WRITE
    public static let execute = MemoryProtection(rawValue: 4)  // PROT_EXEC
    public static let none: MemoryProtection = []
    public static let readWrite: MemoryProtection = [.read, .write]
    public static let readExecute: MemoryProtection = [.read, .execute]
}

/// What fills a page of the area the first time it is touched.
public enum MappingBacking: Equatable, Hashable, Sendable {
    /// Demand-zero anonymous memory (mmap MAP_ANONYMOUS).
    case anonymous
    /// The main thread's stack (demand-zero; shown as "[stack]").
    case stack
    /// The brk(2) heap (demand-zero; shown as "[heap]").
    case heap
    /// A segment of the executable image; `offset` is the file offset of the area's first
    /// page (shown in /proc/self/maps). The loader fills these pages at exec.
    case image(offset: UInt64)
    /// A file mapping (later). `handle` identifies the kernel's open-file object; `offset`
    /// is the file offset of the area's first page.
    case file(handle: UInt64, offset: UInt64)

    /// The file offset of the first page, or 0 for memory without a file.
    public var fileOffset: UInt64 {
        switch self {
        case .anonymous, .stack, .heap: return 0
        case .image(let offset): return offset
        case .file(_, let offset): return offset
        }
    }

    /// The same backing for a sub-area starting `delta` bytes further on.
    public func advanced(by delta: UInt64) -> MappingBacking {
        switch self {
        case .anonymous, .stack, .heap: return self
        case .image(let offset): return .image(offset: offset &+ delta)
        case .file(let handle, let offset): return .file(handle: handle, offset: offset &+ delta)
        }
    }

    /// The /proc/self/maps name an area gets when mmap is given none.
    public var defaultName: String {
        switch self {
        case .stack: return "[stack]"
        case .heap: return "[heap]"
        case .anonymous, .image, .file: return ""
        }
    }

    /// Whether pages come from zero-filled memory (the page-fault handler can satisfy a fault
    /// in such an area with a fresh zeroed frame).
    public var isDemandZero: Bool {
        switch self {
        case .anonymous, .stack, .heap: return true
        case .image, .file: return false
        }
    }
}

public struct VirtualMemoryArea: Equatable, Sendable {
    /// Page-aligned [start, end).
    public var range: AddressRange
    public var protection: MemoryProtection
    public var backing: MappingBacking
    /// MAP_SHARED (true) or MAP_PRIVATE (false).
    public var shared: Bool
    /// The path column of /proc/self/maps: "[heap]", "[stack]", a file path, or "".
    public var name: String
    /// Linux's VM_MAYWRITE for shared file mappings: false when the descriptor was not open
    /// for writing (or the file is sealed against writes), so mprotect cannot add PROT_WRITE
    /// later (EACCES) and write through to a file the mapper could not write.
    public var mayWrite = true

    public init(range: AddressRange, protection: MemoryProtection, backing: MappingBacking,
                shared: Bool = false, name: String = "") {
        self.range = range
        self.protection = protection
        self.backing = backing
        self.shared = shared
        self.name = name
    }

    public var start: UInt64 { range.start }
    public var end: UInt64 { range.end }

    /// The part [from, to) of this area, with the file offset moved along.
    public func slice(from: UInt64, to: UInt64) -> VirtualMemoryArea {
        var piece = self
        piece.range = AddressRange(start: from, end: to)
        piece.backing = backing.advanced(by: from - range.start)
        return piece
    }

    /// Whether `next` continues this area so that the two can become one (Linux's
    /// vma_merge rules, simplified: same rights, same sharing, same name, and for file-backed
    /// memory a contiguous file offset).
    public func canMerge(with next: VirtualMemoryArea) -> Bool {
        guard range.end == next.range.start, protection == next.protection,
              shared == next.shared, name == next.name, mayWrite == next.mayWrite else { return false }
        return backing.advanced(by: range.length) == next.backing
    }

    /// Whether an access may be satisfied by this area (x86 cannot map write-only or
    /// execute-only pages, but the check follows the requested rights).
    public func permits(write: Bool, execute: Bool = false) -> Bool {
        if write { return protection.contains(.write) }
        if execute { return protection.contains(.execute) }
        return protection.contains(.read) || protection.contains(.write)
            || protection.contains(.execute)
    }

    /// One /proc/self/maps line without the newline, formatted as fs/proc/task_mmu.c
    /// show_map_vma does: "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu ", padded to 73
    /// columns before the name when there is one.
    public var mapsLine: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96)
        appendHex(range.start, minimumDigits: 8, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendHex(range.end, minimumDigits: 8, to: &bytes)
        bytes.append(UInt8(ascii: " "))
        bytes.append(protection.contains(.read) ? UInt8(ascii: "r") : UInt8(ascii: "-"))
        bytes.append(protection.contains(.write) ? UInt8(ascii: "w") : UInt8(ascii: "-"))
        bytes.append(protection.contains(.execute) ? UInt8(ascii: "x") : UInt8(ascii: "-"))
        bytes.append(shared ? UInt8(ascii: "s") : UInt8(ascii: "p"))
        bytes.append(UInt8(ascii: " "))
        appendHex(backing.fileOffset, minimumDigits: 8, to: &bytes)
        // Device and inode: egg's files have none that a guest could use.
        for c in " 00:00 0 ".utf8 { bytes.append(c) }
        if !name.isEmpty {
            while bytes.count < 72 { bytes.append(UInt8(ascii: " ")) }
            bytes.append(UInt8(ascii: " "))
            for c in name.utf8 { bytes.append(c) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Lower-case hexadecimal, zero-padded to at least `minimumDigits` (like printf "%08lx").
func appendHex(_ value: UInt64, minimumDigits: Int, to bytes: inout [UInt8]) {
    var digits = 1
    while digits < 16 && value >> UInt64(digits * 4) != 0 { digits += 1 }
    if digits < minimumDigits { digits = minimumDigits }
    var shift = (digits - 1) * 4
    while shift >= 0 {
        let nibble = UInt8(truncatingIfNeeded: shift >= 64 ? 0 : (value >> UInt64(shift)) & 0xf)
        bytes.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        shift -= 4
    }
}
