// FileData — a regular file's bytes in page-sized blocks, and the store that lends them
// (KernelCore/VFS, pure logic; host-tested in Tests/KernelCoreTests/VFSFileDataTests.swift).
//
// Linux's tmpfs (mm/shmem.c) keeps a file as pages in its page cache, indexed by page; a
// page that was never written is a hole that reads as zeros and costs nothing. FileData does
// the same: a sparse map from page index to one 4 KiB physical frame taken from the kernel's
// frame pool (Paging/FramePool.swift), so a file grows without copying, truncate frees frames,
// and no allocation is ever sized by a guest. A file unpacked from `egg run --files` may
// instead be backed, read-only, by the boot bundle's memory (RootFileSystem.swift): its pages
// are read where they lie and the first write to a page copies that page into a block.
//
// FileBlockStore is the file system's account (Linux's shmem_sb_info): a size limit in
// blocks, tmpfs's default of half of RAM (Documentation/filesystems/tmpfs.rst), blocks and
// inodes in use (for statfs), and a reserve of frames it never takes, so that filling the
// file system leaves the kernel heap and page tables room (shmem_reserve_inode / vm_enough
// _memory play that part in Linux). Exceeding either is ENOSPC, checked before allocating.
// Copies between these blocks and guest memory are FileDataTransfer.swift.

public final class FileBlockStore {
    public static let blockSize = 4096
    /// The largest file size: tmpfs's s_maxbytes, MAX_LFS_FILESIZE (LLONG_MAX on 64-bit).
    public static let maximumFileSize = Int.max

    var memory: (any PhysicalMemory)? = nil
    var frames: FramePool? = nil
    /// Every frame a file holds as a block: the address spaces that map file pages ask
    /// this before freeing a frame they unmap (Process/FileMappingFaults.swift).
    var ownedFrames = Set<UInt64>()
    /// Files mapped somewhere, by the handle their mappings carry (MappingBacking.file).
    var mappedFiles: [UInt64: FileData] = [:]
    var nextMappingHandle: UInt64 = 1
    /// tmpfs's size= limit in blocks (0 until bound).
    public private(set) var limitBlocks = 0
    /// tmpfs's nr_inodes= limit.
    public private(set) var limitInodes = 0
    public private(set) var blocksInUse = 0
    public internal(set) var inodesInUse = 0
    /// Space extended attributes hold, charged against nr_inodes * 1024 as Linux 6.6's
    /// free_ispace (VFS/ExtendedAttributes.swift).
    public internal(set) var xattrSpaceInUse = 0
    /// Frames left to the rest of the kernel whatever the limit says.
    var reserveFrames = 0

    public init() {}

    public var isBound: Bool { memory != nil }

    /// Connects the store to RAM. `limitBytes` nil is tmpfs's default: half of RAM, and as
    /// many inodes as that has pages (shmem_default_max_blocks / _max_inodes).
    public func bind(memory: any PhysicalMemory, frames: FramePool, limitBytes: UInt64? = nil) {
        self.memory = memory
        self.frames = frames
        let total = Int(frames.totalBytes / UInt64(FileBlockStore.blockSize))
        limitBlocks = Int((limitBytes ?? frames.totalBytes / 2) / UInt64(FileBlockStore.blockSize))
        limitInodes = max(total / 2, 1024)
        // A 32nd of RAM, at least 4 MiB: the heap grows in 1 MiB runs, page tables by frames.
        reserveFrames = max(total / 32, 1024)
    }

    public var freeBlocks: Int { max(0, limitBlocks - blocksInUse) }

    /// A zeroed block, or nil (ENOSPC) past the limit or when RAM is short.
    func allocateBlock() -> UInt64? {
        guard let memory, let frames, blocksInUse < limitBlocks else { return nil }
        guard frames.freeBytes / UInt64(FileBlockStore.blockSize) > UInt64(reserveFrames) else { return nil }
        guard let frame = frames.allocateFrame() else { return nil }
        memory.fill(frame, count: FileBlockStore.blockSize, value: 0)
        blocksInUse += 1
        ownedFrames.insert(frame)
        return frame
    }

    func freeBlock(_ frame: UInt64) {
        ownedFrames.remove(frame)
        frames?.freeFrame(frame)
        blocksInUse -= 1
    }

    /// Whether `frame` is one of a file's blocks (never freed by an unmapping).
    public func ownsFrame(_ frame: UInt64) -> Bool { ownedFrames.contains(frame) }
}

/// A read-only run of bytes in physical memory that a file starts out as (the --files archive
/// member inside the boot bundle). Page i of the file is at `base + i * 4096`; bytes at or past
/// `length` are not the file's (they read as zeros).
public struct FileBacking: Equatable {
    public var base: UInt64
    public var length: Int
    public init(base: UInt64, length: Int) {
        self.base = base
        self.length = length
    }
}

public final class FileData {
    public private(set) var size = 0
    /// Page index → physical address of the block holding that page. Absent: a hole, or a
    /// page still read from `backing`.
    var blocks: [Int: UInt64] = [:]
    var backing: FileBacking? = nil
    let store: FileBlockStore
    /// memfd seals (F_ADD_SEALS, fcntl(2)): MemFD.seal* bits; a file that is not a memfd
    /// starts with F_SEAL_SEAL, as shmem_get_inode gives every tmpfs file.
    public var seals: UInt32 = MemFD.sealSeal
    /// The handle mappings of this file carry (0: never mapped), and the address spaces that
    /// map it, so that truncation and hole punching can unmap the pages they free first.
    var mappingHandle: UInt64 = 0
    var mappingSpaces: [AddressSpace] = []
    /// Volume hook (Drivers/NinePVolume.swift): bumped whenever bytes may change through a
    /// call (a page taken for writing, a resize), so write-back can skip unchanged files;
    /// a file ever mapped is always compared by its bytes (stores through a mapping after
    /// the first write fault are not seen here).
    public internal(set) var changeCount: UInt64 = 0
    public var everMapped: Bool { mappingHandle != 0 }

    public init(store: FileBlockStore) { self.store = store }

    /// A file whose bytes are `backing` until written.
    public init(store: FileBlockStore, backing: FileBacking) {
        self.store = store
        self.backing = backing.length > 0 ? backing : nil
        size = max(0, backing.length)
    }

    deinit {
        for (_, frame) in blocks { store.freeBlock(frame) }
    }

    /// Blocks this file holds (st_blocks counts them; holes and the bundle cost nothing).
    public var allocatedBlocks: Int { blocks.count }

    public var isEmpty: Bool { size == 0 }

    /// Where the bytes at `offset` live: the physical address of that byte and how many
    /// bytes follow it contiguously in the same page, or nil for a hole (zeros) of that many
    /// bytes. `offset` must be below `size`.
    func segment(at offset: Int) -> (physical: UInt64?, count: Int) {
        let page = offset / FileBlockStore.blockSize, within = offset % FileBlockStore.blockSize
        let count = min(FileBlockStore.blockSize - within, size - offset)
        if let frame = blocks[page] { return (frame + UInt64(within), count) }
        if let b = backing, offset < b.length {
            return (b.base + UInt64(offset), min(count, b.length - offset))
        }
        return (nil, count)
    }

    /// The block for the page holding `offset`, made if needed (the backing's bytes copied
    /// in, or zeros). nil: ENOSPC.
    func writableBlock(at offset: Int) -> UInt64? {
        changeCount &+= 1   // volume hook
        let page = offset / FileBlockStore.blockSize
        if let frame = blocks[page] { return frame }
        guard let frame = store.allocateBlock() else { return nil }
        let pageStart = page * FileBlockStore.blockSize
        if let b = backing, pageStart < b.length, let memory = store.memory {
            memory.copy(from: b.base + UInt64(pageStart), to: frame,
                        count: min(FileBlockStore.blockSize, b.length - pageStart))
        }
        blocks[page] = frame
        return frame
    }

    /// Grows the size after a write that ended at `end`.
    func extend(to end: Int) { if end > size { size = end } }

    /// truncate(2) / ftruncate(2): blocks wholly past the new end are freed, the tail of the
    /// last page is zeroed (so that growing again shows zeros, as shmem_truncate_range does),
    /// and the backing is never read past the new end. Growing costs nothing (a hole).
    public func resize(to length: Int) {
        precondition(length >= 0)
        changeCount &+= 1   // volume hook
        if length < size {
            let firstWholePage = (length + FileBlockStore.blockSize - 1) / FileBlockStore.blockSize
            // truncate_pagecache: mapped pages past the new end go from every mapping, the
            // private copies too, so that touching them is SIGBUS (FileMappingFaults.swift).
            for space in mappingSpaces { space.unmapFilePages(of: self, fromPage: firstWholePage, toPage: Int.max, privateCopiesToo: true) }
            var doomed: [Int] = []
            for (page, _) in blocks where page >= firstWholePage { doomed.append(page) }
            for page in doomed {
                if let frame = blocks.removeValue(forKey: page) { store.freeBlock(frame) }
            }
            let within = length % FileBlockStore.blockSize
            if within != 0, let frame = blocks[length / FileBlockStore.blockSize], let memory = store.memory {
                memory.fill(frame + UInt64(within), count: FileBlockStore.blockSize - within, value: 0)
            }
            if let b = backing, b.length > length {
                backing = length > 0 ? FileBacking(base: b.base, length: length) : nil
            }
        }
        size = length
    }

    /// fallocate(2) default mode: every page of [start, end) gets a block (zeros for holes,
    /// the backing's bytes where it has them); the size is the caller's business. false:
    /// ENOSPC, checked before anything is allocated (shmem_fallocate undoes a partial
    /// allocation; checking first has the same outcome).
    public func allocateRange(from start: Int, to end: Int) -> Bool {
        guard end > start else { return true }
        let first = start / FileBlockStore.blockSize
        let last = (end - 1) / FileBlockStore.blockSize
        var missing = 0
        var page = first
        while page <= last {
            if blocks[page] == nil { missing += 1 }
            if missing > store.freeBlocks { return false }
            page += 1
        }
        page = first
        while page <= last {
            if blocks[page] == nil && writableBlock(at: page * FileBlockStore.blockSize) == nil { return false }
            page += 1
        }
        return true
    }

    /// fallocate(2) PUNCH_HOLE|KEEP_SIZE: [start, end) reads as zeros afterwards; whole pages
    /// lose their blocks (after shared mappings of them are unmapped, as shmem_fallocate's
    /// unmap_mapping_range does), partial pages are zeroed in place. The size stays.
    public func punchHole(from start: Int, to end: Int) {
        let stop = min(end, size)
        guard stop > start else { return }
        let bs = FileBlockStore.blockSize
        let firstWhole = (start + bs - 1) / bs, endWhole = stop / bs   // [firstWhole, endWhole)
        if firstWhole < endWhole {
            for space in mappingSpaces { space.unmapFilePages(of: self, fromPage: firstWhole, toPage: endWhole, privateCopiesToo: false) }
            var doomed: [Int] = []
            for (page, _) in blocks where page >= firstWhole && page < endWhole { doomed.append(page) }
            for page in doomed {
                if let frame = blocks.removeValue(forKey: page) { store.freeBlock(frame) }
            }
        }
        // Zeros where bytes remain: the partial pages at either edge, and whole pages still
        // read from the backing. Only those pages are visited (never every page of a large
        // sparse range), so the cost follows the blocks and the backing, not the length.
        func zero(_ from: Int, _ to: Int) {
            guard from < to else { return }
            let page = from / bs
            let fromBacking = blocks[page] == nil && backing.map { page * bs < $0.length } == true
            guard blocks[page] != nil || fromBacking, let frame = writableBlock(at: from), let memory = store.memory else { return }
            memory.fill(frame + UInt64(from % bs), count: to - from, value: 0)
        }
        if firstWhole >= endWhole {
            // The range lies within one page, or straddles one boundary without a whole page.
            let split = min(stop, firstWhole * bs)
            zero(start, split)
            zero(split, stop)
        } else {
            zero(start, firstWhole * bs)
            zero(endWhole * bs, stop)
            if let b = backing {
                let backingPages = (b.length + bs - 1) / bs
                var page = firstWhole
                while page < min(endWhole, backingPages) {
                    zero(page * bs, (page + 1) * bs)
                    page += 1
                }
            }
        }
    }

    /// lseek(2) SEEK_DATA / SEEK_HOLE: the first offset ≥ `offset` in data (a block or the
    /// backing) or in a hole (the end of the file counts as a hole); nil past the end (ENXIO).
    public func seek(_ offset: Int, data: Bool) -> Int? {
        guard offset >= 0 && offset < size else { return nil }
        func isData(_ page: Int) -> Bool {
            if blocks[page] != nil { return true }
            if let b = backing { return page * FileBlockStore.blockSize < b.length }
            return false
        }
        let lastPage = (size - 1) / FileBlockStore.blockSize
        var page = offset / FileBlockStore.blockSize
        if data {
            // Candidates: pages of the backing, and blocks; the smallest at or after `page`.
            if isData(page) { return offset }
            var best: Int? = nil
            for (p, _) in blocks where p > page && p <= lastPage { best = min(best ?? p, p) }
            if let b = backing, page * FileBlockStore.blockSize < b.length { best = min(best ?? page, page) }
            guard let found = best else { return nil }
            return max(offset, found * FileBlockStore.blockSize)
        }
        // A hole: walk data pages (few: each is a block that costs a frame, or the backing).
        while page <= lastPage && isData(page) {
            if blocks[page] == nil, let b = backing {   // skip the backing in one step
                page = max(page + 1, (b.length + FileBlockStore.blockSize - 1) / FileBlockStore.blockSize)
            } else {
                page += 1
            }
        }
        return min(size, max(offset, page * FileBlockStore.blockSize))
    }

    // MARK: kernel-side access (boot, tests, symlinks-as-files): bounded by the caller

    /// Bytes [offset, offset+count) clipped to the size (holes as zeros).
    public func bytes(at offset: Int = 0, count: Int? = nil) -> [UInt8] {
        let end = min(size, offset + (count ?? size))
        guard offset < end, let memory = store.memory else { return [UInt8](repeating: 0, count: max(0, end - offset)) }
        var out = [UInt8](repeating: 0, count: end - offset)
        var at = offset
        while at < end {
            let s = segment(at: at)
            let n = min(s.count, end - at)
            if let p = s.physical { memory.read(p, into: &out, offset: at - offset, count: n) }
            at += n
        }
        return out
    }

    /// Writes kernel bytes at `offset`; returns how many were written (fewer on ENOSPC).
    @discardableResult
    public func write(_ source: [UInt8], at offset: Int) -> Int {
        guard let memory = store.memory else { return 0 }
        var done = 0
        while done < source.count {
            let at = offset + done
            guard let frame = writableBlock(at: at) else { return done }
            let within = at % FileBlockStore.blockSize
            let n = min(FileBlockStore.blockSize - within, source.count - done)
            memory.write(frame + UInt64(within), from: source, offset: done, count: n)
            done += n
            extend(to: at + n)
        }
        return done
    }

    /// Pages whose bytes are held in RAM: blocks, and pages still read from the backing.
    public var residentPages: Int {
        guard let b = backing else { return blocks.count }
        let backingPages = (b.length + FileBlockStore.blockSize - 1) / FileBlockStore.blockSize
        var overridden = 0
        for (page, _) in blocks where page < backingPages { overridden += 1 }
        return blocks.count + backingPages - overridden
    }
}
