// MemorySyscalls — brk, mmap, munmap, mprotect, madvise (KernelCore layer).
//
// The mapping bookkeeping and Linux's error rules live in VirtualMemoryMap
// (Sources/KernelCore/Memory/); these handlers decode arguments and apply the result to the
// page tables through AddressSpace. Anonymous memory is demand-zero. mmap(2), brk(2),
// mprotect(2), madvise(2).
import LinuxABI

enum MemorySyscalls {
    static let protRead: UInt64 = 1, protWrite: UInt64 = 2, protExec: UInt64 = 4
    static let protGrowsDown: UInt64 = 0x0100_0000, protGrowsUp: UInt64 = 0x0200_0000

    static func protection(_ bits: UInt64) -> Result<MemoryProtection, Errno> {
        guard bits & ~(protRead | protWrite | protExec | protGrowsDown | protGrowsUp) == 0 else { return .failure(.EINVAL) }
        var p: MemoryProtection = []
        if bits & protRead != 0 { p.insert(.read) }
        if bits & protWrite != 0 { p.insert(.write); p.insert(.read) }  // x86: write implies read
        if bits & protExec != 0 { p.insert(.execute); p.insert(.read) }
        return .success(p)
    }

    /// Linux's heuristic overcommit (vm.overcommit_memory = 0, mm/util.c
    /// __vm_enough_memory): memory is handed out lazily, but a single request for more than
    /// all of RAM is refused with ENOMEM up front. Running out later, page by page, kills the
    /// guest like the OOM killer would (Traps.swift).
    static func exceedsMemory(_ k: KernelState, _ bytes: UInt64) -> Bool {
        bytes > k.frames.totalBytes
    }

    static func brk(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let current = k.memory.map.currentBreak
        if a[0] > current && exceedsMemory(k, a[0] - current) { return .success(Int(current)) }
        let result = k.memory.map.setBreak(a[0])
        for range in result.unmapped { k.memory.release(range) }
        return .success(Int(result.breakAddress))
    }

    // MAP_* from include/uapi/asm-generic/mman-common.h and linux/mman.h.
    static let mapShared: UInt64 = 0x01, mapPrivate: UInt64 = 0x02, mapSharedValidate: UInt64 = 0x03
    static let mapFixed: UInt64 = 0x10, mapAnonymous: UInt64 = 0x20
    static let mapFixedNoReplace: UInt64 = 0x10_0000
    static let mapKnown: UInt64 = 0x03 | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000
        | 0x8000 | 0x1_0000 | 0x2_0000 | 0x4_0000 | 0x8_0000 | 0x10_0000 | 0xFC00_0000

    static func mmap(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let address = a[0], length = a[1], flags = a[3]
        guard case .success(let prot) = protection(a[2]) else { return .failure(.EINVAL) }
        let type = flags & 0x03
        guard type == mapShared || type == mapPrivate || type == mapSharedValidate else { return .failure(.EINVAL) }
        if type == mapSharedValidate && flags & ~mapKnown != 0 { return .failure(.EOPNOTSUPP) }
        guard length > 0 else { return .failure(.EINVAL) }
        let noReserve: UInt64 = 0x4000
        if !prot.isEmpty && flags & noReserve == 0 && exceedsMemory(k, length) { return .failure(.ENOMEM) }
        guard flags & mapAnonymous != 0 else { return FileSyscalls.mapFile(k, a) }
        if a[5] & 0xFFF != 0 { return .failure(.EINVAL) }
        let placement: MappingPlacement = flags & mapFixedNoReplace != 0 ? .fixedNoReplace
            : (flags & mapFixed != 0 ? .fixed : .hint)
        let backing: MappingBacking = .anonymous
        switch k.memory.map.map(at: address, length: length, protection: prot, placement: placement,
                                backing: backing, shared: type != mapPrivate, name: "") {
        case .failure(let e):
            return .failure(e)
        case .success(let result):
            for range in result.replaced { k.memory.release(range) }
            return .success(Int(result.address))
        }
    }

    static func munmap(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        switch k.memory.map.unmap(start: a[0], length: a[1]) {
        case .failure(let e): return .failure(e)
        case .success(let ranges):
            for r in ranges { k.memory.release(r) }
            return .success(0)
        }
    }

    static func mprotect(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        guard case .success(let prot) = protection(a[2]) else { return .failure(.EINVAL) }
        switch k.memory.map.protect(start: a[0], length: a[1], protection: prot) {
        case .failure(let e): return .failure(e)
        case .success(let changes):
            for c in changes { k.memory.reprotect(c.range, to: c.newProtection) }
            return .success(0)
        }
    }

    /// madvise(2): MADV_DONTNEED (4) and MADV_FREE (8) drop anonymous pages (they read back
    /// as zero); the other advice values are hints Linux may ignore, and so do we.
    static func madvise(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let start = a[0], length = a[1], advice = a.int(2)
        guard start & 0xFFF == 0 else { return .failure(.EINVAL) }
        switch advice {
        case 0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 100, 101:
            return .success(0)
        case 4, 8:
            guard length > 0 else { return .success(0) }
            let end = (start &+ length &+ 0xFFF) & ~0xFFF
            guard end > start else { return .failure(.EINVAL) }
            guard k.memory.map.isRangeAccessible(start: start, length: end - start, write: false)
                    || allMapped(k, start, end) else { return .failure(.ENOMEM) }
            var page = start
            while page < end {
                if let area = k.memory.map.area(containing: page), area.backing.isDemandZero {
                    k.memory.release(AddressRange(start: page, end: page + 4096))
                }
                page += 4096
            }
            return .success(0)
        default:
            return .failure(.EINVAL)
        }
    }

    static func allMapped(_ k: KernelState, _ start: UInt64, _ end: UInt64) -> Bool {
        var page = start
        while page < end {
            if k.memory.map.area(containing: page) == nil { return false }
            page += 4096
        }
        return true
    }
}
