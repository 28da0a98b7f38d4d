// FileMappingFaults — page faults in file mappings, and unmapping a file's pages when the
// file shrinks or a hole is punched (KernelCore/Process, pure logic over the page tables).
//
// A regular file's bytes are 4 KiB frames owned by the file (VFS/FileData.swift), so a
// MAP_SHARED mapping simply maps those frames: a store through the mapping is the file's
// byte at once, and read(2), pread(2) and other mappings see it, as Linux's tmpfs maps its
// page-cache pages (mm/shmem.c shmem_fault). A fault on a hole gives the file a zeroed block
// first, as shmem_fault does; a page still read from the boot bundle (`egg run --files`)
// is copied into a block at that point, since the bundle is read-only and not page-aligned.
// A MAP_PRIVATE mapping gets its own copy of the file page at the first touch (read or
// write). Linux shares the page read-only until the first write, so a private page that was
// only read keeps following the file; here it stops following at the first touch. Every
// private page is an ordinary anonymous frame, so nothing ever writes through to the file.
//
// A fault at or past the page holding end-of-file is SIGBUS (BUS_ADRERR), in shared and
// private mappings alike (shmem_fault / filemap_fault: VM_FAULT_SIGBUS past i_size), and so
// is a shared fault that cannot get a block (tmpfs full: shmem_fault's ENOSPC is SIGBUS).
//
// Ownership: the file's frames are never freed by unmapping. AddressSpace.release asks
// `isFileFrame` (FileBlockStore.ownsFrame) before freeing a frame it unmapped. The file
// keeps the list of address spaces that map it (FileData.mappingSpaces), and truncation and
// hole punching call `unmapFilePages` before they free blocks (truncate_pagecache /
// unmap_mapping_range), so no mapping ever reaches a freed frame.
// Neighbours: AddressSpace.swift (handleFault calls resolveFileFault), Syscalls/
// MemorySyscalls.swift (mmap of files, msync, mincore), VFS/FileData.swift.
import LinuxABI

extension AddressSpace {
    /// Whether `frame` belongs to a file's blocks, which an unmapping must leave alone.
    func isFileFrame(_ frame: UInt64) -> Bool { fileBlocks?.ownsFrame(frame) ?? false }

    /// The file a `.file` area maps, and the file offset of `page` within it.
    func mappedFile(_ area: VirtualMemoryArea, page: UInt64) -> (data: FileData, offset: UInt64)? {
        guard case .file(let handle, let offset) = area.backing, let store = fileBlocks,
              let data = store.mappedFiles[handle] else { return nil }
        return (data, offset &+ (page - area.start))
    }

    /// A fault at `page` (not present) in a file mapping whose rights allow the access.
    func resolveFileFault(_ area: VirtualMemoryArea, page: UInt64) -> FaultResolution {
        guard let (data, offset) = mappedFile(area, page: page) else { return .segmentationFault }
        let bs = UInt64(FileBlockStore.blockSize)
        let pagesInFile = (UInt64(data.size) + bs - 1) / bs
        guard offset / bs < pagesInFile else { return .busError }
        let fileOffset = Int(offset)
        if area.shared {
            guard let block = data.writableBlock(at: fileOffset) else { return .busError }
            return install(frame: block, at: page, protection: area.protection) ? .resolved : .outOfMemory
        }
        guard let frame = frames.allocateFrame() else { return .outOfMemory }
        memory.fill(frame, count: Int(pageSize), value: 0)
        let end = min(data.size, fileOffset + FileBlockStore.blockSize)
        var at = fileOffset
        while at < end {
            let s = data.segment(at: at)
            let n = min(s.count, end - at)
            if let source = s.physical { memory.copy(from: source, to: frame + UInt64(at - fileOffset), count: n) }
            at += n
        }
        guard install(frame: frame, at: page, protection: area.protection) else {
            frames.freeFrame(frame)
            return .outOfMemory
        }
        return .resolved
    }

    /// Unmaps the pages of file pages [fromPage, toPage) of `data` from every area of this
    /// address space that maps them: shared mappings always, private copies only when
    /// `privateCopiesToo` (truncation, whose unmap_mapping_range passes even_cows = 1; hole
    /// punching keeps private copies). The next touch faults again: SIGBUS past the end, or
    /// the file's current page.
    func unmapFilePages(of data: FileData, fromPage: Int, toPage: Int, privateCopiesToo: Bool) {
        guard data.mappingHandle != 0 else { return }
        let bs = UInt64(FileBlockStore.blockSize)
        var ranges: [AddressRange] = []
        for area in map.areas {
            guard case .file(let handle, let offset) = area.backing, handle == data.mappingHandle else { continue }
            if !area.shared && !privateCopiesToo { continue }
            let first = offset / bs, count = area.range.length / bs
            let low = max(first, UInt64(max(fromPage, 0)))
            let high = toPage == Int.max ? first + count : min(first + count, UInt64(max(toPage, 0)))
            guard low < high else { continue }
            ranges.append(AddressRange(start: area.start + (low - first) * bs, end: area.start + (high - first) * bs))
        }
        for range in ranges { release(range) }
    }

    /// Forgets the files no area of this address space maps any more (after munmap), so an
    /// unlinked, closed file's blocks are freed once its last mapping goes, as Linux drops
    /// the last reference to the inode.
    public func forgetUnmappedFiles() {
        guard let store = fileBlocks, !store.mappedFiles.isEmpty else { return }
        var stillMapped = Set<UInt64>()
        for area in map.areas {
            if case .file(let handle, _) = area.backing { stillMapped.insert(handle) }
        }
        var gone: [UInt64] = []
        for (handle, data) in store.mappedFiles where !stillMapped.contains(handle) {
            data.mappingSpaces.removeAll { $0 === self }
            if data.mappingSpaces.isEmpty { gone.append(handle) }
        }
        for handle in gone { store.mappedFiles[handle] = nil }
    }

    /// Teardown (exit, execve): this address space maps no file any more. Call it when the
    /// areas go away wholesale, so that a later truncation never walks a dead page table.
    public func forgetAllFileMappings() {
        guard let store = fileBlocks else { return }
        var gone: [UInt64] = []
        for (handle, data) in store.mappedFiles {
            data.mappingSpaces.removeAll { $0 === self }
            if data.mappingSpaces.isEmpty { gone.append(handle) }
        }
        for handle in gone { store.mappedFiles[handle] = nil }
    }

    /// Records that this address space maps `data` and returns the handle its areas carry.
    func registerFileMapping(_ data: FileData, store: FileBlockStore) -> UInt64 {
        fileBlocks = store
        if data.mappingHandle == 0 {
            data.mappingHandle = store.nextMappingHandle
            store.nextMappingHandle += 1
        }
        store.mappedFiles[data.mappingHandle] = data
        if !data.mappingSpaces.contains(where: { $0 === self }) { data.mappingSpaces.append(self) }
        return data.mappingHandle
    }

    /// mincore(2)'s answer for one page of `area`: present in the page tables, or (for a
    /// file mapping) held in RAM by the file, as Linux reports page-cache residency.
    func isResident(_ page: UInt64, in area: VirtualMemoryArea) -> Bool {
        if let t = pageTable.translate(page), t.flags.contains(.user) { return true }
        guard let (data, offset) = mappedFile(area, page: page), offset < UInt64(data.size) else { return false }
        return data.segment(at: Int(offset)).physical != nil
    }
}
