// AddressSpaceTeardown — emptying a process's user half (KernelCore layer).
//
// PROVISIONAL: written by the exec work so that execve can drop the old image; the fork work
// (copy-on-write, frame reference counts) owns the authoritative version of this file and
// function. execve (Syscalls/ExecSyscalls.swift) keeps the AddressSpace object and its page-
// table root and loads the new image into it, as Linux's exec_mmap replaces the mm: every
// mapping goes through the same path munmap takes (VirtualMemoryMap.removeAll, then
// AddressSpace.release per range, which frees the frames and the page tables that served them).

extension AddressSpace {
    /// Unmaps everything below the user top and frees what backed it; the map keeps its
    /// layout and is empty afterwards (no heap, no stack).
    public func releaseAll() {
        for range in map.removeAll() { release(range) }
    }
}
