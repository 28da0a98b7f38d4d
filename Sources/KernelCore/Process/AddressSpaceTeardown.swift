// AddressSpaceTeardown — freeing a whole user address space when its last user is gone
// (process exit, exec replacing the image) (KernelCore layer).
//
// Every user page and every page-table page below the kernel window is dropped, then the
// root itself. Frames still mapped by another address space (copy-on-write after fork)
// lose one owner only: FramePool.freeFrame counts (Paging/FramePool.swift). The kernel
// window entry is shared by all roots and is never followed. The caller must not have this
// root loaded on any CPU (the scheduler runs idle contexts on the kernel's root, see
// Threads/Scheduler.swift). Linux: exit_mmap and free_pgtables (mm/mmap.c).

extension AddressSpace {
    /// Frees every user page and page table of this address space and its root. The
    /// address space must not be used afterwards.
    public func releaseAll() {
        forgetAllFileMappings()
        let (freed, tables) = pageTable.unmapRange(AddressRange(start: 0, end: kernelWindowBase))
        residentPages = 0
        // No CPU has these tables loaded (see above); a multi-threaded owner's other CPUs
        // left them when its threads ended, but stay on the safe side for them.
        if multiThreaded { memory.synchronizeTranslations() }
        for frame in freed where !isFileFrame(frame) { frames.freeFrame(frame) }
        for table in tables { frames.freeFrame(table) }
        // The kernel window slot points to the kernel's own tables: clear, never free.
        memory.store64(pageTable.root + kernelWindowSlot * 8, 0)
        frames.freeFrame(pageTable.root)
        map = VirtualMemoryMap(layout: map.layout)
    }
}

extension AddressSpace {
    /// execve's reuse of an address space no other process shares: every mapping goes
    /// through munmap's path (frames shared after fork lose one owner, FramePool), the map
    /// keeps its layout and is empty afterwards; the root stays loaded.
    public func releaseMappings() {
        for range in map.removeAll() { release(range) }
        forgetAllFileMappings()
    }

    /// An empty address space with the same layout and kernel half, for execve in a
    /// process that shares its parent's (vfork); nil when no frame is left for the root.
    public func emptyCopyForExec() -> AddressSpace? {
        guard let table = PageTable.makeUserSpace(sharingKernelHalfOf: pageTable) else { return nil }
        return AddressSpace(map: VirtualMemoryMap(layout: map.layout), pageTable: table, memory: memory, frames: frames)
    }
}
