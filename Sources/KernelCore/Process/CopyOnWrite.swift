// CopyOnWrite — fork's copy of an address space and the write fault that splits a shared
// page (KernelCore layer, pure logic over PageTable and FrameSource).
//
// fork copies page tables, not pages: every present user page becomes mapped in both
// address spaces, one more owner is counted on its frame (Paging/FramePool.swift), and
// private writable pages lose their write bit in both. The first write to such a page
// faults; AddressSpace.handleFault (AddressSpace.swift) hands it to
// `resolveCopyOnWrite`, which copies the frame when others still map it or just gives the
// write right back to the last owner. MAP_SHARED pages keep their rights and stay one frame.
// Linux's equivalents: copy_page_range/copy_present_pte (mm/memory.c) and do_wp_page.
// Teardown is AddressSpaceTeardown.swift; the syscalls are ProcessLifecycle.swift.
import LinuxABI

extension AddressSpace {
    /// The child's address space for fork: same areas, page tables copied with every frame
    /// shared. nil when memory for the new page tables (or for shared anonymous pages, which
    /// are made present first so both sides see one frame) runs out; nothing is left
    /// allocated then, and the parent is unchanged apart from pages faulted in.
    public func forkCopy() -> AddressSpace? {
        // Demand-zero shared pages not yet touched would otherwise be filled separately on
        // each side. Linux backs MAP_SHARED|MAP_ANONYMOUS with shmem; egg makes them present.
        for area in map.areas where area.shared && area.backing.isDemandZero && !area.protection.isEmpty {
            if populate(area.range, write: false) != nil { return nil }
        }
        guard let table = PageTable.makeUserSpace(sharingKernelHalfOf: pageTable) else { return nil }
        let child = AddressSpace(map: map, pageTable: table, memory: memory, frames: frames)
        // The files this space maps are mapped by the child too: a truncation must find its
        // pages as well (FileMappingFaults.swift, unmapFilePages).
        child.fileBlocks = fileBlocks
        if let store = fileBlocks {
            for (_, data) in store.mappedFiles where data.mappingSpaces.contains(where: { $0 === self }) {
                data.mappingSpaces.append(child)
            }
        }
        // First the tables, so that sharing the frames below cannot fail half-way.
        var ok = true
        pageTable.forEachPresentLeaf(in: AddressRange(start: 0, end: kernelWindowBase)) { va, _, _ in
            if ok && !table.ensureTables(for: va) { ok = false }
        }
        if !ok {
            child.releaseAll()
            return nil
        }
        var pages = 0
        pageTable.forEachPresentLeaf(in: AddressRange(start: 0, end: kernelWindowBase)) { va, entry, value in
            var shared = value
            let writable = value & PageFlags.writable.rawValue != 0
            if writable, let area = map.area(containing: va), !area.shared {
                shared &= ~PageFlags.writable.rawValue
                memory.store64(entry, shared)
                memory.invalidateTranslation(va)
            }
            // A file's own block (MAP_SHARED of a file) is owned by the file, not counted
            // by the address spaces that map it (FileMappingFaults.swift).
            if !isFileFrame(value & addressMask) { frames.addReference(value & addressMask) }
            table.install(entry: shared, at: va)
            pages += 1
        }
        child.residentPages = pages
        // Other CPUs may run the parent's threads with the old writable translations.
        if mayBeLoadedElsewhere { memory.synchronizeTranslations() }
        return child
    }

    /// A write fault on a present page that the area allows writing but the page table does
    /// not: the page is shared copy-on-write. The last owner gets the write right back; any
    /// other gets a private copy. .outOfMemory when no frame is left for the copy.
    func resolveCopyOnWrite(page: UInt64, protection: MemoryProtection) -> FaultResolution {
        guard let entry = pageTable.entryAddress(for: page, create: false) else { return .segmentationFault }
        let value = memory.load64(entry)
        guard value & PageFlags.present.rawValue != 0 else { return .segmentationFault }
        let frame = value & addressMask
        let flags = AddressSpace.pageFlags(protection)
        if frames.references(frame) == 1 {
            pageTable.protect(page, flags: flags)
            if mayBeLoadedElsewhere { memory.synchronizeTranslations() }
            return .resolved
        }
        guard let copy = frames.allocateFrame() else { return .outOfMemory }
        memory.copy(from: frame, to: copy, count: Int(pageSize))
        memory.store64(entry, (copy & addressMask) | pageTable.leafFlags(flags).rawValue)
        memory.invalidateTranslation(page)
        // No other CPU may keep reading the old frame through this address space.
        if mayBeLoadedElsewhere { memory.synchronizeTranslations() }
        frames.freeFrame(frame)  // one owner fewer
        return .resolved
    }

    /// Whether the page at `va` (in a private area) must stay read-only because other
    /// address spaces still map its frame: mprotect must not give write access to it.
    func isSharedCopyOnWrite(frame: UInt64, at va: UInt64) -> Bool {
        guard frames.references(frame) > 1 else { return false }
        guard let area = map.area(containing: va) else { return false }
        return !area.shared
    }
}
