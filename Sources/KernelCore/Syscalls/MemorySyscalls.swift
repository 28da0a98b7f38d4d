// MemorySyscalls — brk, mmap, munmap, mprotect, madvise, mremap and the mlock family
// (KernelCore layer).
//
// The mapping bookkeeping and Linux's error rules live in VirtualMemoryMap
// (Sources/KernelCore/Memory/); these handlers decode arguments and apply the result to the
// page tables through AddressSpace, whose range operations walk only the page tables that
// exist (PageTable.swift). Anonymous memory is demand-zero. mmap(2), brk(2), mprotect(2),
// madvise(2), mremap(2), mlock(2).
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

    static func brk(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let current = k.memory.map.currentBreak
        if a[0] > current && exceedsMemory(k, a[0] - current) { return Int(current) }
        let result = k.memory.map.setBreak(a[0])
        for range in result.unmapped { k.memory.release(range) }
        return Int(result.breakAddress)
    }

    // MAP_* from include/uapi/asm-generic/mman-common.h and linux/mman.h.
    static let mapShared: UInt64 = 0x01, mapPrivate: UInt64 = 0x02, mapSharedValidate: UInt64 = 0x03
    static let mapFixed: UInt64 = 0x10, mapAnonymous: UInt64 = 0x20
    static let mapFixedNoReplace: UInt64 = 0x10_0000
    static let mapKnown: UInt64 = 0x03 | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000
        | 0x8000 | 0x1_0000 | 0x2_0000 | 0x4_0000 | 0x8_0000 | 0x10_0000 | 0xFC00_0000

    static func mmap(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let address = a[0], length = a[1], flags = a[3]
        guard case .success(let prot) = protection(a[2]) else { throw .EINVAL }
        let type = flags & 0x03
        guard type == mapShared || type == mapPrivate || type == mapSharedValidate else { throw .EINVAL }
        if type == mapSharedValidate && flags & ~mapKnown != 0 { throw .EOPNOTSUPP }
        guard length > 0 else { throw .EINVAL }
        let noReserve: UInt64 = 0x4000
        if !prot.isEmpty && flags & noReserve == 0 && exceedsMemory(k, length) { throw .ENOMEM }
        guard flags & mapAnonymous != 0 else { return try mapFile(k, a) }
        if a[5] & 0xFFF != 0 { throw .EINVAL }
        let placement: MappingPlacement = flags & mapFixedNoReplace != 0 ? .fixedNoReplace
            : (flags & mapFixed != 0 ? .fixed : .hint)
        let backing: MappingBacking = .anonymous
        switch k.memory.map.map(at: address, length: length, protection: prot, placement: placement,
                                backing: backing, shared: type != mapPrivate, name: "") {
        case .failure(let e):
            throw e
        case .success(let result):
            for range in result.replaced { k.memory.release(range) }
            return Int(result.address)
        }
    }

    static func munmap(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let ranges = try k.memory.map.unmap(start: a[0], length: a[1]).get()
        for r in ranges { k.memory.release(r) }
        k.memory.forgetUnmappedFiles()
        return 0
    }

    static func mprotect(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard case .success(let prot) = protection(a[2]) else { throw .EINVAL }
        let changes = try k.memory.map.protect(start: a[0], length: a[1], protection: prot).get()
        for c in changes { k.memory.reprotect(c.range, to: c.newProtection) }
        return 0
    }

    /// madvise(2), following mm/madvise.c: the advice is checked first (unknown → EINVAL),
    /// then the start (unaligned → EINVAL), a length that wraps (EINVAL) or is 0 (success).
    /// The advice applies to the mapped parts of the range, one area at a time (the cost is
    /// the number of areas and present pages, never the length), and a hole in the range
    /// gives ENOMEM afterwards, as Linux's madvise_walk_vmas does.
    static func madvise(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let start = a[0], length = a[1]
        guard let advice = MadviseRequest(rawValue: a.int(2)) else { throw .EINVAL }
        guard start & 0xFFF == 0 else { throw .EINVAL }
        guard let rounded = MemoryPage.roundUp(length) else { throw .EINVAL }
        if rounded == 0 { return 0 }
        guard let range = AddressRange(start: start, length: rounded) else { throw .EINVAL }
        let pieces = k.memory.map.pieces(in: range)
        // Advice that may fail for a kind of mapping is checked on every piece first, so a
        // failure changes nothing.
        for piece in pieces {
            if let error = advice.refusal(for: piece) { throw error }
        }
        for piece in pieces {
            switch advice.effect {
            case .none:
                break
            case .discard:
                if advice.discards(piece) { k.memory.release(piece.range) }
            case .populate(let write):
                if let error = k.memory.populate(piece.range, write: write) { throw error }
            }
        }
        if k.memory.map.isMapped(range) { return 0 } else { throw .ENOMEM }
    }

    /// mremap(2) (mm/mremap.c): MREMAP_MAYMOVE 1, MREMAP_FIXED 2, MREMAP_DONTUNMAP 4; other
    /// bits, FIXED without MAYMOVE, or DONTUNMAP without MAYMOVE or with a new length → EINVAL.
    /// The bookkeeping is VirtualMemoryMap.remap; the present pages move with their frames.
    static func mremap(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let oldAddress = a[0], oldLength = a[1], newLength = a[2], flags = a[3], newAddress = a[4]
        let mayMove: UInt64 = 1, fixed: UInt64 = 2, dontUnmap: UInt64 = 4
        guard flags & ~(mayMove | fixed | dontUnmap) == 0 else { throw .EINVAL }
        if flags & (fixed | dontUnmap) != 0 && flags & mayMove == 0 { throw .EINVAL }
        // Work on a copy of the map: it is committed only once the page tables for the move
        // exist, so running out of memory leaves everything as it was (ENOMEM).
        // Growth follows mmap's overcommit rule (one request larger than RAM: ENOMEM).
        if newLength > oldLength && exceedsMemory(k, newLength) { throw .ENOMEM }
        var candidate = k.memory.map
        let result: RemapResult
        switch candidate.remap(oldAddress: oldAddress, oldLength: oldLength, newLength: newLength,
                               mayMove: flags & mayMove != 0,
                               fixedAddress: flags & fixed != 0 ? newAddress : nil,
                               dontUnmap: flags & dontUnmap != 0) {
        case .failure(let e): throw e
        case .success(let r): result = r
        }
        if let move = result.move, !k.memory.prepareMove(from: move.from, to: move.to) {
            throw .ENOMEM
        }
        k.memory.map = candidate
        for range in result.freed { k.memory.release(range) }
        if let move = result.move { k.memory.move(from: move.from, to: move.to) }
        return Int(result.address)
    }

}

extension MemorySyscalls {
    // mlock(2) family. egg's guest runs as root, and CAP_IPC_LOCK is not bound by
    // RLIMIT_MEMLOCK (mm/mlock.c can_do_mlock), so no accounting applies. Nothing is ever
    // swapped out here, so a lock's only effect is mlock's own: the pages are made present
    // now (mm/gup.c __mm_populate), and errors follow __mlock_posix_error_return.

    /// The page range mlock/munlock act on: `addr` rounded down, the end rounded up
    /// (mm/mlock.c do_mlock). nil: the length wraps (EINVAL); an empty range is fine.
    static func lockRange(_ address: UInt64, _ length: UInt64) -> AddressRange?? {
        let start = address & ~(pageSize - 1)
        let (sum, overflow) = address.addingReportingOverflow(length)
        guard !overflow, let end = MemoryPage.roundUp(sum) else { return .some(nil) }
        if end == start { return .none }
        return .some(AddressRange(start: start, end: end))
    }

    static func lock(_ k: KernelState, _ address: UInt64, _ length: UInt64, onFault: Bool) throws(Errno) -> Int {
        guard let maybe = lockRange(address, length) else { return 0 }
        guard let range = maybe else { throw .EINVAL }
        guard k.memory.map.isMapped(range) else { throw .ENOMEM }
        if onFault { return 0 }
        for piece in k.memory.map.pieces(in: range) where !piece.protection.isEmpty {
            switch k.memory.populate(piece.range, write: piece.protection.contains(.write)) {
            case nil: break
            case .ENOMEM?: throw .EAGAIN     // could not lock: out of memory
            default: throw .ENOMEM          // EFAULT becomes ENOMEM
            }
        }
        return 0
    }

    static func mlock(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try lock(k, a[0], a[1], onFault: false)
    }

    /// mlock2(2): flags 0 or MLOCK_ONFAULT (1); other bits EINVAL.
    static func mlock2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[2] & ~1 == 0 else { throw .EINVAL }
        return try lock(k, a[0], a[1], onFault: a[2] == 1)
    }

    static func munlock(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard let maybe = lockRange(a[0], a[1]) else { return 0 }
        guard let range = maybe else { throw .EINVAL }
        if k.memory.map.isMapped(range) { return 0 } else { throw .ENOMEM }
    }

    /// mlockall(2): MCL_CURRENT 1, MCL_FUTURE 2, MCL_ONFAULT 4; no flags, ONFAULT alone or
    /// unknown bits → EINVAL. MCL_CURRENT populates every accessible area, ignoring
    /// failures as Linux's mm_populate does; MCL_FUTURE needs nothing more here, because
    /// later pages are made present on first touch and never evicted.
    static func mlockall(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[0]
        guard flags & ~7 == 0, flags & 3 != 0 else { throw .EINVAL }
        if flags & 1 != 0 && flags & 4 == 0 {
            for area in k.memory.map.areas where !area.protection.isEmpty {
                _ = k.memory.populate(area.range, write: area.protection.contains(.write))
            }
        }
        return 0
    }

    static func munlockall(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { 0 }
}

/// The advice values of madvise(2) that Linux accepts (madvise_behavior_valid in
/// mm/madvise.c, for a kernel with KSM and transparent huge pages), and what each does here.
struct MadviseRequest {
    enum Effect: Equatable {
        case none                  // a hint: Linux may ignore it, and so do we
        case discard               // MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_REMOVE
        case populate(write: Bool) // MADV_POPULATE_READ / MADV_POPULATE_WRITE
    }
    let advice: Int
    let effect: Effect

    init?(rawValue advice: Int) {
        self.advice = advice
        switch advice {
        case 0, 1, 2, 3:            // NORMAL, RANDOM, SEQUENTIAL, WILLNEED
            effect = .none
        case 4, 8, 9, 24:           // DONTNEED, FREE, REMOVE, DONTNEED_LOCKED
            effect = .discard
        case 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 25:
            // DONTFORK, DOFORK (no fork yet), MERGEABLE, UNMERGEABLE (KSM: merging is only
            // an optimisation), HUGEPAGE, NOHUGEPAGE, COLLAPSE (4 KiB pages only),
            // DONTDUMP, DODUMP (no core dumps), WIPEONFORK, KEEPONFORK, COLD, PAGEOUT
            effect = .none
        case 22: effect = .populate(write: false)
        case 23: effect = .populate(write: true)
        // MADV_HWPOISON/SOFT_OFFLINE (100, 101) exist only with CONFIG_MEMORY_FAILURE, and
        // MADV_GUARD_INSTALL/REMOVE (102, 103) since Linux 6.13; egg has neither: EINVAL,
        // as a kernel built without them answers.
        default: return nil
        }
    }

    /// Whether discarding advice drops the pages of `area`. Private anonymous memory reads
    /// back as zeros afterwards: drop the frames (MADV_FREE may free lazily; freeing at once
    /// is allowed). MADV_DONTNEED keeps shared anonymous memory, whose contents live on in
    /// Linux's shmem object, while MADV_REMOVE punches them out. Image pages would be read
    /// again from the file: keep them as they are.
    func discards(_ area: VirtualMemoryArea) -> Bool {
        guard effect == .discard, area.backing.isDemandZero else { return false }
        return advice == 9 ? area.shared : !area.shared
    }

    /// Linux's per-area refusals: MADV_FREE only on private anonymous memory
    /// (madvise_free_single_vma), MADV_REMOVE only on shared memory (madvise_remove),
    /// MADV_WIPEONFORK only on private anonymous memory (madvise_update_vma's caller).
    func refusal(for area: VirtualMemoryArea) -> Errno? {
        let privateAnonymous = area.backing.isDemandZero && !area.shared
        switch advice {
        case 8, 18: return privateAnonymous ? nil : .EINVAL
        case 9: return area.shared ? nil : .EINVAL
        default: return nil
        }
    }
}

// MARK: mmap of files, msync, mincore

extension MemorySyscalls {
    /// mmap of a file descriptor (mmap hands non-anonymous mappings here). Regular files are
    /// mapped lazily through their own blocks: shared mappings map the file's frames, private
    /// ones take a copy of a page at its first touch (Process/FileMappingFaults.swift).
    /// /dev/zero is anonymous memory; a /proc snapshot may be mapped privately (a copy);
    /// anything else is ENODEV, as for a file without an mmap operation.
    static func mapFile(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try FileSyscalls.file(k, a, 4)
        let length = a[1], flags = a[3], offset = a[5]
        guard offset & 0xFFF == 0 else { throw .EINVAL }
        guard case .success(let prot) = protection(a[2]) else { throw .EINVAL }
        guard !f.isPathOnly else { throw .EBADF }
        let type = flags & 0x03
        let shared = type != mapPrivate
        var data: FileData? = nil
        var snapshot: [UInt8] = []
        switch f.kind {
        case .inode:
            guard let inode = f.inode else { throw .ENODEV }
            if let driver = inode.characterDevice { return try FileSyscalls.mapDevice(k, a, f, driver) }
            if inode.device != .zero {
                guard inode.isRegular, inode.synthetic == nil else { throw .ENODEV }
                data = inode.contents
            }
        case .snapshot:
            snapshot = f.bytes
        default:
            throw .ENODEV
        }
        guard f.canRead else { throw .EACCES }
        if shared && prot.contains(.write) && !f.canWrite { throw .EACCES }
        // do_mmap: the page offset plus the length must not wrap (EOVERFLOW).
        guard let pages = MemoryPage.roundUp(length), offset <= UInt64.max - pages else { throw .EOVERFLOW }
        // memfd seals (mm/memfd.c memfd_check_seals_mmap): no shared writable mapping of a
        // file sealed against writing.
        if let data, shared, prot.contains(.write), data.seals & (MemFD.sealWrite | MemFD.sealFutureWrite) != 0 {
            throw .EPERM
        }
        if !snapshot.isEmpty && shared { throw .ENODEV }
        let placement: MappingPlacement = flags & mapFixedNoReplace != 0 ? .fixedNoReplace
            : (flags & mapFixed != 0 ? .fixed : .hint)
        var backing: MappingBacking = .anonymous
        if let data { backing = .file(handle: k.memory.registerFileMapping(data, store: k.fileBlocks), offset: offset) }
        let mapped: UInt64
        switch k.memory.map.map(at: a[0], length: length, protection: snapshot.isEmpty ? prot : .readWrite,
                                placement: placement, backing: backing, shared: shared, name: "",
                                mayWrite: !shared || data == nil || (f.canWrite && data!.seals & (MemFD.sealWrite | MemFD.sealFutureWrite) == 0)) {
        case .failure(let e):
            k.memory.forgetUnmappedFiles()
            throw e
        case .success(let result):
            for range in result.replaced { k.memory.release(range) }
            mapped = result.address
        }
        if data != nil { k.memory.forgetUnmappedFiles() }   // a MAP_FIXED may have replaced another file's area
        guard !snapshot.isEmpty else { return Int(mapped) }
        // A /proc snapshot: its bytes copied into private anonymous memory, then protected.
        let start = Int(min(offset, UInt64(snapshot.count)))
        let n = min(Int(min(length, UInt64(Int.max))), snapshot.count - start)
        if n > 0, let e = k.memory.copyOut(UserAddress(mapped), from: snapshot, offset: start, count: n) {
            _ = k.memory.map.unmap(start: mapped, length: length).map { for r in $0 { k.memory.release(r) } }
            throw e == .EFAULT ? .ENOMEM : e
        }
        if prot != .readWrite {
            let changes = try k.memory.map.protect(start: mapped, length: length, protection: prot).get()
            for c in changes { k.memory.reprotect(c.range, to: c.newProtection) }
        }
        return Int(mapped)
    }

    /// msync(2), checks in mm/msync.c order: unknown flags (MS_ASYNC 1, MS_INVALIDATE 2,
    /// MS_SYNC 4), an unaligned start, MS_ASYNC with MS_SYNC: EINVAL; a range that wraps:
    /// ENOMEM; an empty one: 0; a hole in the range: ENOMEM. Shared mappings are the file's
    /// own frames, so there is nothing to write back or to invalidate.
    static func msync(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let start = a[0], flags = a[2]
        guard flags & ~UInt64(7) == 0, start & 0xFFF == 0, flags & 5 != 5 else { throw .EINVAL }
        guard let length = MemoryPage.roundUp(a[1]) else { throw .ENOMEM }
        let (end, overflow) = start.addingReportingOverflow(length)
        guard !overflow else { throw .ENOMEM }
        if end == start { return 0 }
        guard end <= k.memory.map.layout.userTop, k.memory.map.isMapped(AddressRange(start: start, end: end)) else { throw .ENOMEM }
        return 0
    }

    /// mincore(2) (mm/mincore.c): an unaligned start is EINVAL, a range outside the user half
    /// or with a hole ENOMEM, an unwritable vector EFAULT; one byte per page, bit 0 set when
    /// the page is resident (a file page held by the file counts, as the page cache does).
    static func mincore(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let start = a[0], vector = a.address(2)
        guard start & 0xFFF == 0 else { throw .EINVAL }
        guard let length = MemoryPage.roundUp(a[1]) else { throw .ENOMEM }
        let (end, overflow) = start.addingReportingOverflow(length)
        guard !overflow, end <= k.memory.map.layout.userTop else { throw .ENOMEM }
        if end == start { return 0 }
        let range = AddressRange(start: start, end: end)
        guard k.memory.map.isMapped(range) else { throw .ENOMEM }
        let pageCount = Int(length / pageSize)
        guard FileSyscalls.isUserRange(k, vector, pageCount) else { throw .EFAULT }
        // One chunk of the vector at a time: the kernel buffer never follows the guest's length.
        var chunk = [UInt8](repeating: 0, count: min(pageCount, 4096))
        var filled = 0, written = 0
        for piece in k.memory.map.pieces(in: range) {
            var page = piece.start
            while page < piece.end {
                chunk[filled] = k.memory.isResident(page, in: piece) ? 1 : 0
                filled += 1
                page += pageSize
                if filled == chunk.count {
                    if let e = k.memory.copyOut(vector.advanced(by: written), from: chunk, count: filled) { throw e }
                    written += filled
                    filled = 0
                }
            }
        }
        if filled > 0, let e = k.memory.copyOut(vector.advanced(by: written), from: chunk, count: filled) { throw e }
        return 0
    }
}
