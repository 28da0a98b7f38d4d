// VirtualMemoryMap — the user mappings of one address space and the semantics of mmap(2),
// munmap(2), mprotect(2), brk(2) and mremap(2) on them (KernelCore layer, pure logic).
//
// The map only does bookkeeping. Every operation returns the address ranges whose page-table
// entries must change, and Sources/KernelArch applies them:
//   * MapResult.replaced, unmap's ranges, BreakResult.unmapped, RemapResult.freed:
//     clear the PTEs and free the frames behind them (for private memory);
//   * ProtectionChange: rewrite the rights of present PTEs in the range;
//   * RemapResult.move: move present PTEs (the frames stay) to the new address;
//   * new areas need nothing: pages are filled on demand by the page-fault handler, which
//     asks area(containing:) whether a fault is legal.
// Neighbours: VirtualMemoryArea.swift (one area, /proc/self/maps line), AddressRange.swift.
//
// Areas are kept in a sorted array of non-overlapping page-aligned ranges, and adjacent
// compatible areas are always merged (so the list is canonical, which the tests rely on).
// Processes have tens to a few hundred areas, so O(n) updates are fine.

import LinuxABI

/// Where mmap may put a mapping: MAP_FIXED, MAP_FIXED_NOREPLACE, or neither (the address is
/// only a hint).
public enum MappingPlacement: Equatable, Sendable {
    case hint
    case fixed
    case fixedNoReplace
}

/// The limits of the user half of the address space.
public struct AddressSpaceLayout: Equatable, Sendable {
    /// Lowest mappable address (Linux's vm.mmap_min_addr default, 64 KiB).
    public var mmapMin: UInt64
    /// Non-fixed mappings are placed top-down below this address (Linux's mm->mmap_base:
    /// below the stack and its gap).
    public var mmapBase: UInt64
    /// One past the highest user address (Linux's TASK_SIZE for 47-bit x86-64).
    public var userTop: UInt64

    public init(mmapMin: UInt64 = 0x1_0000, mmapBase: UInt64 = 0x7fff_f000_0000,
                userTop: UInt64 = 0x7fff_ffff_f000) {
        precondition(MemoryPage.isAligned(mmapMin) && MemoryPage.isAligned(mmapBase)
                     && MemoryPage.isAligned(userTop) && mmapMin <= mmapBase && mmapBase <= userTop)
        self.mmapMin = mmapMin
        self.mmapBase = mmapBase
        self.userTop = userTop
    }
}

public struct MapResult: Equatable, Sendable {
    /// The page-aligned range of the new area (its start is mmap's return value).
    public var range: AddressRange
    /// Ranges of earlier mappings that MAP_FIXED replaced: free their pages.
    public var replaced: [AddressRange]
    public var address: UInt64 { range.start }
}

public struct ProtectionChange: Equatable, Sendable {
    public var range: AddressRange
    public var oldProtection: MemoryProtection
    public var newProtection: MemoryProtection
}

public struct BreakResult: Equatable, Sendable {
    /// The program break after the call; brk(2) returns it whether or not the call worked.
    public var breakAddress: UInt64
    /// The heap range that was added (demand-zero), if the break grew past a page boundary.
    public var mapped: AddressRange?
    /// Ranges removed by a shrinking break: free their pages.
    public var unmapped: [AddressRange]
}

/// Pages that mremap moved: the present PTEs of `from` go to `to` + (their offset in `from`).
public struct PageMove: Equatable, Sendable {
    public var from: AddressRange
    public var to: UInt64
}

public struct RemapResult: Equatable, Sendable {
    /// mremap's return value.
    public var address: UInt64
    /// Ranges to free first (a shrunk tail; mappings replaced by MREMAP_FIXED).
    public var freed: [AddressRange]
    /// Then the page-table entries to move, if the mapping moved.
    public var move: PageMove?
}

public struct VirtualMemoryMap: Sendable {
    public let layout: AddressSpaceLayout
    /// The areas, sorted by address, disjoint, adjacent compatible ones merged.
    public private(set) var areas: [VirtualMemoryArea] = []

    /// Start of the brk heap (page-rounded end of the executable image); 0 until set.
    public private(set) var breakStart: UInt64 = 0
    /// The current program break (not necessarily page-aligned, as on Linux).
    public private(set) var currentBreak: UInt64 = 0
    /// Largest heap size brk may reach (RLIMIT_DATA, simplified); nil for no limit.
    public var breakLimit: UInt64?

    /// vm.max_map_count's default (DEFAULT_MAX_MAP_COUNT, include/linux/mm.h): past it,
    /// calls that would add areas fail with ENOMEM. It also bounds the kernel heap a guest
    /// can fill with area descriptions.
    public var maxAreaCount = 65530

    public static let heapName = "[heap]"
    public static let stackName = "[stack]"

    public init(layout: AddressSpaceLayout = AddressSpaceLayout()) {
        self.layout = layout
    }

    // MARK: - Queries

    /// The area holding `address`, if any (page-fault handler: demand-zero or SIGSEGV).
    public func area(containing address: UInt64) -> VirtualMemoryArea? {
        guard let index = indexOfArea(containing: address) else { return nil }
        return areas[index]
    }

    /// Whether every byte of [start, start+length) is mapped with rights that allow reading
    /// (or writing, when `write`). For syscall buffer checks; length 0 is always accessible.
    public func isRangeAccessible(start: UInt64, length: UInt64, write: Bool) -> Bool {
        if length == 0 { return true }
        guard let range = AddressRange(start: start, length: length) else { return false }
        var cursor = range.start
        guard var index = indexOfArea(containing: cursor) else { return false }
        while true {
            let area = areas[index]
            guard area.start <= cursor, cursor < area.end, area.permits(write: write) else {
                return false
            }
            cursor = area.end
            if cursor >= range.end { return true }
            index += 1
            if index == areas.count { return false }
        }
    }

    /// The parts of the areas that lie in `range`, clipped to it, in address order
    /// (madvise walks these instead of every page). O(log n + k).
    public func pieces(in range: AddressRange) -> [VirtualMemoryArea] {
        var result: [VirtualMemoryArea] = []
        var index = firstIndex(endingAfter: range.start)
        while index < areas.count && areas[index].start < range.end {
            let area = areas[index]
            if let part = area.range.intersection(range) { result.append(area.slice(from: part.start, to: part.end)) }
            index += 1
        }
        return result
    }

    /// Whether every page of `range` belongs to some area (holes → false).
    public func isMapped(_ range: AddressRange) -> Bool { isFullyMapped(range) }

    /// Whether no area overlaps `range`.
    public func isFree(_ range: AddressRange) -> Bool {
        let index = firstIndex(endingAfter: range.start)
        return index == areas.count || areas[index].start >= range.end
    }

    /// /proc/self/maps: one line per area, each ending in "\n".
    public func renderMaps() -> String {
        var text = ""
        for area in areas {
            text += area.mapsLine
            text += "\n"
        }
        return text
    }

    // MARK: - mmap(2)

    /// mmap(2) placement and bookkeeping. `length` is rounded up to whole pages.
    /// Errors follow Linux: length 0 or an unaligned MAP_FIXED address → EINVAL; a fixed
    /// address below mmapMin → EPERM (Linux's mmap_min_addr check); no room or a range
    /// past the top → ENOMEM; MAP_FIXED_NOREPLACE over a mapping → EEXIST.
    public mutating func map(at address: UInt64, length: UInt64, protection: MemoryProtection,
                             placement: MappingPlacement, backing: MappingBacking = .anonymous,
                             shared: Bool = false, name: String = "", mayWrite: Bool = true) -> Result<MapResult, Errno> {
        guard length > 0 else { return .failure(.EINVAL) }
        guard let pageLength = MemoryPage.roundUp(length),
              pageLength <= layout.userTop - layout.mmapMin else { return .failure(.ENOMEM) }
        let start: UInt64
        var replaced: [AddressRange] = []
        switch placement {
        case .fixed, .fixedNoReplace:
            guard MemoryPage.isAligned(address) else { return .failure(.EINVAL) }
            guard address >= layout.mmapMin else { return .failure(.EPERM) }
            guard address <= layout.userTop - pageLength else { return .failure(.ENOMEM) }
            let range = AddressRange(start: address, end: address + pageLength)
            if placement == .fixedNoReplace && !isFree(range) { return .failure(.EEXIST) }
            if exceedsAreaLimit(adding: 1 + splitGrowth(range, removesMiddle: true)) { return .failure(.ENOMEM) }
            replaced = removeAreas(in: range)
            start = address
        case .hint:
            if exceedsAreaLimit(adding: 0) { return .failure(.ENOMEM) }  // do_mmap: count > max
            guard let found = findPlace(hint: address, length: pageLength) else {
                return .failure(.ENOMEM)
            }
            start = found
        }
        let range = AddressRange(start: start, end: start + pageLength)
        var area = VirtualMemoryArea(range: range, protection: protection, backing: backing,
                                     shared: shared, name: name.isEmpty ? backing.defaultName : name)
        area.mayWrite = mayWrite
        insert(area)
        return .success(MapResult(range: range, replaced: replaced))
    }

    // MARK: - munmap(2)

    /// munmap(2): removes every mapping in [start, start+length) (rounded up to pages) and
    /// returns the ranges that were mapped, for the caller to free. Holes are fine.
    /// EINVAL for an unaligned start, length 0, or a range past the top.
    public mutating func unmap(start: UInt64, length: UInt64) -> Result<[AddressRange], Errno> {
        guard MemoryPage.isAligned(start), length > 0,
              let pageLength = MemoryPage.roundUp(length),
              start <= layout.userTop, pageLength <= layout.userTop - start else {
            return .failure(.EINVAL)
        }
        let range = AddressRange(start: start, end: start + pageLength)
        if exceedsAreaLimit(adding: splitGrowth(range, removesMiddle: true)) { return .failure(.ENOMEM) }
        return .success(removeAreas(in: range))
    }

    /// Drops every mapping (execve, exit) and returns the ranges whose pages must be freed.
    public mutating func removeAll() -> [AddressRange] {
        var ranges: [AddressRange] = []
        for area in areas { appendCoalescing(area.range, to: &ranges) }
        areas = []
        breakStart = 0
        currentBreak = 0
        return ranges
    }

    // MARK: - mprotect(2)

    /// mprotect(2): changes the rights of [start, start+length) (rounded up to pages).
    /// Returns the pieces whose rights changed. EINVAL for an unaligned start; ENOMEM when
    /// any page of the range is unmapped. Unlike Linux, which may have changed the areas
    /// before the hole when it reports ENOMEM, this changes nothing on failure, so the
    /// page tables never disagree with the map.
    public mutating func protect(start: UInt64, length: UInt64,
                                 protection: MemoryProtection) -> Result<[ProtectionChange], Errno> {
        guard MemoryPage.isAligned(start) else { return .failure(.EINVAL) }
        if length == 0 { return .success([]) }
        guard let pageLength = MemoryPage.roundUp(length),
              let range = AddressRange(start: start, length: pageLength) else {
            return .failure(.ENOMEM)
        }
        guard isFullyMapped(range) else { return .failure(.ENOMEM) }
        // mprotect_fixup's VM_MAYWRITE rule: no PROT_WRITE on a shared mapping of a file the
        // mapper may not write (EACCES), checked before anything changes.
        if protection.contains(.write) {
            for area in pieces(in: range) where !area.mayWrite { return .failure(.EACCES) }
        }
        // Areas that already have the rights are not split (mprotect_fixup returns early).
        let startArea = indexOfArea(containing: range.start).map { areas[$0] }
        let endArea = indexOfArea(containing: range.end - 1).map { areas[$0] }
        if startArea?.protection != protection || endArea?.protection != protection,
           exceedsAreaLimit(adding: splitGrowth(range, removesMiddle: false)) {
            return .failure(.ENOMEM)
        }
        var changes: [ProtectionChange] = []
        var result: [VirtualMemoryArea] = []
        result.reserveCapacity(areas.count + 2)
        for area in areas {
            guard let middle = area.range.intersection(range) else { result.append(area); continue }
            if area.start < middle.start { result.append(area.slice(from: area.start, to: middle.start)) }
            var changed = area.slice(from: middle.start, to: middle.end)
            if changed.protection != protection {
                changes.append(ProtectionChange(range: middle, oldProtection: area.protection,
                                                newProtection: protection))
                changed.protection = protection
            }
            result.append(changed)
            if middle.end < area.end { result.append(area.slice(from: middle.end, to: area.end)) }
        }
        areas = result
        coalesce()
        return .success(changes)
    }

    // MARK: - brk(2)

    /// Sets where the heap begins: the end of the executable image, rounded up to a page
    /// (Linux's mm->start_brk after load_elf_binary, without randomisation).
    public mutating func initializeBreak(imageEnd: UInt64) {
        let start = MemoryPage.roundUp(imageEnd) ?? MemoryPage.roundDown(imageEnd)
        breakStart = start
        currentBreak = start
    }

    /// brk(2), following mm/mmap.c: a request below the heap start, past the limit, or one
    /// whose growth would collide with another mapping (Linux keeps one page of gap) fails
    /// and leaves the break unchanged; the result always carries the break to return.
    public mutating func setBreak(_ requested: UInt64) -> BreakResult {
        let unchanged = BreakResult(breakAddress: currentBreak, mapped: nil, unmapped: [])
        guard requested >= breakStart else { return unchanged }
        if let limit = breakLimit, requested - breakStart > limit { return unchanged }
        guard let newTop = MemoryPage.roundUp(requested),
              let oldTop = MemoryPage.roundUp(currentBreak) else { return unchanged }
        if newTop == oldTop {
            currentBreak = requested
            return BreakResult(breakAddress: requested, mapped: nil, unmapped: [])
        }
        if newTop < oldTop {
            let removed = removeAreas(in: AddressRange(start: newTop, end: oldTop))
            currentBreak = requested
            return BreakResult(breakAddress: requested, mapped: nil, unmapped: removed)
        }
        let (guardEnd, overflow) = newTop.addingReportingOverflow(MemoryPage.size)
        guard !overflow, oldTop >= layout.mmapMin, guardEnd <= layout.userTop,
              isFree(AddressRange(start: oldTop, end: guardEnd)) else { return unchanged }
        let grown = AddressRange(start: oldTop, end: newTop)
        insert(VirtualMemoryArea(range: grown, protection: .readWrite, backing: .heap,
                                 name: Self.heapName))
        currentBreak = requested
        return BreakResult(breakAddress: requested, mapped: grown, unmapped: [])
    }

    // MARK: - mremap(2)

    /// mremap(2) for private mappings. `mayMove` is MREMAP_MAYMOVE; `fixedAddress` is the
    /// new_address of MREMAP_FIXED (which requires mayMove). Following mm/mremap.c:
    /// unaligned addresses, a zero length, or an overlapping fixed target → EINVAL; the old
    /// range not inside one area → EFAULT; no room to grow → ENOMEM.
    ///
    /// `dontUnmap` is MREMAP_DONTUNMAP (Linux 5.7): the pages move, the old range stays
    /// mapped, empty (it reads as zeros if anonymous). It needs mayMove and equal lengths.
    public mutating func remap(oldAddress: UInt64, oldLength: UInt64, newLength: UInt64,
                               mayMove: Bool, fixedAddress: UInt64? = nil,
                               dontUnmap: Bool = false) -> Result<RemapResult, Errno> {
        guard MemoryPage.isAligned(oldAddress) else { return .failure(.EINVAL) }
        if fixedAddress != nil && !mayMove { return .failure(.EINVAL) }
        if dontUnmap && (!mayMove || oldLength != newLength) { return .failure(.EINVAL) }
        guard let oldSize = MemoryPage.roundUp(oldLength),
              let newSize = MemoryPage.roundUp(newLength) else { return .failure(.EINVAL) }
        // An old size of 0 duplicates a shared mapping in Linux; not supported for private.
        guard oldSize > 0, newSize > 0 else { return .failure(.EINVAL) }
        guard let oldRange = AddressRange(start: oldAddress, length: oldSize),
              let index = indexOfArea(containing: oldAddress),
              oldRange.end <= areas[index].end else { return .failure(.EFAULT) }
        let area = areas[index]
        // A move can split the old area and the target's neighbours: at most three more.
        if exceedsAreaLimit(adding: 3) { return .failure(.ENOMEM) }

        if dontUnmap {
            // The old area stays as it is; a copy of its description goes to the target.
            let moved = area.slice(from: oldAddress, to: oldRange.end)
            var freed: [AddressRange] = []
            let target: UInt64
            if let fixed = fixedAddress {
                guard MemoryPage.isAligned(fixed), fixed >= layout.mmapMin,
                      fixed <= layout.userTop, newSize <= layout.userTop - fixed else {
                    return .failure(.EINVAL)
                }
                let targetRange = AddressRange(start: fixed, end: fixed + newSize)
                if targetRange.overlaps(oldRange) { return .failure(.EINVAL) }
                freed = removeAreas(in: targetRange)
                target = fixed
            } else {
                guard let found = findPlace(hint: 0, length: newSize) else { return .failure(.ENOMEM) }
                target = found
            }
            insert(moved.relocated(to: target))
            return .success(RemapResult(address: target, freed: freed,
                                        move: PageMove(from: oldRange, to: target)))
        }

        if let target = fixedAddress {
            guard MemoryPage.isAligned(target), target >= layout.mmapMin,
                  target <= layout.userTop, newSize <= layout.userTop - target else {
                return .failure(.EINVAL)
            }
            let targetRange = AddressRange(start: target, end: target + newSize)
            if targetRange.overlaps(oldRange) { return .failure(.EINVAL) }
            var freed = removeAreas(in: targetRange)
            if newSize < oldSize {
                for range in removeAreas(in: AddressRange(start: oldAddress + newSize, end: oldRange.end)) {
                    freed.append(range)
                }
            }
            let moved = AddressRange(start: oldAddress, end: oldAddress + (newSize < oldSize ? newSize : oldSize))
            _ = removeAreas(in: moved)
            insert(area.slice(from: oldAddress, to: oldAddress + newSize).relocated(to: target))
            return .success(RemapResult(address: target, freed: freed,
                                        move: PageMove(from: moved, to: target)))
        }

        if newSize <= oldSize {
            let freed = newSize < oldSize
                ? removeAreas(in: AddressRange(start: oldAddress + newSize, end: oldRange.end)) : []
            return .success(RemapResult(address: oldAddress, freed: freed, move: nil))
        }
        // Grow in place when the old range ends its area and the space above is free.
        let (newEnd, overflow) = oldAddress.addingReportingOverflow(newSize)
        if !overflow, oldRange.end == area.end, newEnd <= layout.userTop,
           isFree(AddressRange(start: oldRange.end, end: newEnd)) {
            insert(area.slice(from: oldRange.end, to: newEnd))
            return .success(RemapResult(address: oldAddress, freed: [], move: nil))
        }
        guard mayMove, let target = findPlace(hint: 0, length: newSize) else {
            return .failure(.ENOMEM)
        }
        _ = removeAreas(in: oldRange)
        insert(area.slice(from: oldAddress, to: oldAddress + newSize).relocated(to: target))
        return .success(RemapResult(address: target, freed: [],
                                    move: PageMove(from: oldRange, to: target)))
    }

    // MARK: - Internals

    /// How many areas an operation on `range` adds by splitting: one for each end that falls
    /// strictly inside an area (an area holding both ends gives two pieces outside the range
    /// for mprotect, one extra for munmap, which removes the middle).
    private func splitGrowth(_ range: AddressRange, removesMiddle: Bool) -> Int {
        var straddles = 0
        var both = false
        if let i = indexOfArea(containing: range.start), areas[i].start < range.start {
            straddles += 1
            if range.end < areas[i].end { both = true }
        }
        if !both, range.end > 0, let j = indexOfArea(containing: range.end - 1), range.end < areas[j].end {
            straddles += 1
        }
        if both { return removesMiddle ? 1 : 2 }
        return removesMiddle ? 0 : straddles
    }

    /// Linux's map_count checks (do_mmap, __split_vma): ENOMEM when the operation could take
    /// the number of areas past maxAreaCount.
    private func exceedsAreaLimit(adding added: Int) -> Bool { areas.count + added > maxAreaCount }

    /// Index of the first area whose end is above `address` (areas.count if none).
    private func firstIndex(endingAfter address: UInt64) -> Int {
        var low = 0
        var high = areas.count
        while low < high {
            let mid = (low + high) / 2
            if areas[mid].end <= address { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func indexOfArea(containing address: UInt64) -> Int? {
        let index = firstIndex(endingAfter: address)
        guard index < areas.count, areas[index].start <= address else { return nil }
        return index
    }

    private func isFullyMapped(_ range: AddressRange) -> Bool {
        var cursor = range.start
        var index = firstIndex(endingAfter: cursor)
        while cursor < range.end {
            guard index < areas.count, areas[index].start <= cursor else { return false }
            cursor = areas[index].end
            index += 1
        }
        return true
    }

    /// mmap placement for a non-fixed mapping (mm/mmap.c get_unmapped_area): the hint,
    /// rounded up to a page and to mmapMin, when [hint, hint+length) is free; otherwise the
    /// highest free gap below mmapBase; otherwise the highest one anywhere below userTop.
    private func findPlace(hint: UInt64, length: UInt64) -> UInt64? {
        if hint != 0, var start = MemoryPage.roundUp(hint) {
            if start < layout.mmapMin { start = layout.mmapMin }
            if start <= layout.userTop && length <= layout.userTop - start
                && isFree(AddressRange(start: start, end: start + length)) {
                return start
            }
        }
        return findGapTopDown(length: length, below: layout.mmapBase)
            ?? findGapTopDown(length: length, below: layout.userTop)
    }

    /// The highest start s with [s, s+length) free, s >= mmapMin and s+length <= high.
    private func findGapTopDown(length: UInt64, below high: UInt64) -> UInt64? {
        let low = layout.mmapMin
        var gapEnd = high
        var index = areas.count - 1
        while index >= 0 {
            let area = areas[index]
            index -= 1
            if area.start >= gapEnd { continue }
            if area.end < gapEnd {
                let gapStart = area.end > low ? area.end : low
                if gapEnd > gapStart && gapEnd - gapStart >= length { return gapEnd - length }
            }
            gapEnd = area.start
            if gapEnd <= low { return nil }
        }
        if gapEnd > low && gapEnd - low >= length { return gapEnd - length }
        return nil
    }

    /// Removes [range) from every area it touches, splitting areas at its edges; returns the
    /// parts that were mapped (coalesced).
    private mutating func removeAreas(in range: AddressRange) -> [AddressRange] {
        var removed: [AddressRange] = []
        let first = firstIndex(endingAfter: range.start)
        guard first < areas.count, areas[first].start < range.end else { return removed }
        var replacement: [VirtualMemoryArea] = []
        var last = first
        while last < areas.count && areas[last].start < range.end {
            let area = areas[last]
            if area.start < range.start { replacement.append(area.slice(from: area.start, to: range.start)) }
            if let gone = area.range.intersection(range) { appendCoalescing(gone, to: &removed) }
            if range.end < area.end { replacement.append(area.slice(from: range.end, to: area.end)) }
            last += 1
        }
        areas.replaceSubrange(first..<last, with: replacement)
        return removed
    }

    /// Inserts an area over free space and merges it with compatible neighbours.
    private mutating func insert(_ area: VirtualMemoryArea) {
        let index = firstIndex(endingAfter: area.start)
        precondition(index == areas.count || areas[index].start >= area.end,
                     "VirtualMemoryMap.insert over a mapped range")
        areas.insert(area, at: index)
        // Merge with the next, then with the previous area.
        if index + 1 < areas.count && areas[index].canMerge(with: areas[index + 1]) {
            areas[index].range.end = areas[index + 1].end
            areas.remove(at: index + 1)
        }
        if index > 0 && areas[index - 1].canMerge(with: areas[index]) {
            areas[index - 1].range.end = areas[index].end
            areas.remove(at: index)
        }
    }

    /// Merges every run of compatible neighbours (after mprotect split and re-labelled areas).
    private mutating func coalesce() {
        var result: [VirtualMemoryArea] = []
        result.reserveCapacity(areas.count)
        for area in areas {
            if let last = result.last, last.canMerge(with: area) {
                result[result.count - 1].range.end = area.end
            } else {
                result.append(area)
            }
        }
        areas = result
    }
}

extension VirtualMemoryArea {
    /// The same area at another address (mremap); the file offset stays.
    func relocated(to start: UInt64) -> VirtualMemoryArea {
        var moved = self
        moved.range = AddressRange(start: start, end: start + range.length)
        return moved
    }
}
