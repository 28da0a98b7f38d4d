// PageTable — x86-64 4-level page tables as pure logic over PhysicalMemory (KernelCore).
//
// Entries are read and written through the PhysicalMemory protocol, so the same code runs
// on the host against a fake RAM (Tests/KernelCoreTests/PageTableTests.swift). The user
// address space belongs to one process except the kernel window (PML4 slot 255), which is
// shared by copying the kernel's top-level entry into every new root.
// Reference: Intel SDM vol. 3 §4.5 (4-level paging), tables 4-14 to 4-20.
import ELF

public struct PageFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let present = PageFlags(rawValue: 1 << 0)
    public static let writable = PageFlags(rawValue: 1 << 1)
    public static let user = PageFlags(rawValue: 1 << 2)
    public static let writeThrough = PageFlags(rawValue: 1 << 3)
    public static let cacheDisable = PageFlags(rawValue: 1 << 4)
    public static let accessed = PageFlags(rawValue: 1 << 5)
    public static let dirty = PageFlags(rawValue: 1 << 6)
    public static let huge = PageFlags(rawValue: 1 << 7)
    public static let global = PageFlags(rawValue: 1 << 8)
    public static let noExecute = PageFlags(rawValue: 1 << 63)
}

public struct PageTranslation: Equatable {
    public let physical: UInt64
    public let flags: PageFlags
}

public let pageSize: UInt64 = 4096
/// The kernel's part of every address space: PML4 slot 255, the top 512 GiB of the lower
/// half (Sources/KernelArch/boot.S explains why not the higher half). The guest's address
/// space ends below it (ProgramLoader.layout).
public let kernelWindowSlot: UInt64 = 255
public let kernelWindowBase: UInt64 = kernelWindowSlot << 39
let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000

public final class PageTable {
    public let root: UInt64
    let memory: any PhysicalMemory
    let frames: any FrameSource
    /// Whether the CPU honours the NX bit (EFER.NXE set); without it bit 63 is reserved.
    let noExecuteSupported: Bool

    public init(root: UInt64, memory: any PhysicalMemory, frames: any FrameSource, noExecuteSupported: Bool) {
        self.root = root
        self.memory = memory
        self.frames = frames
        self.noExecuteSupported = noExecuteSupported
    }

    /// A fresh root whose kernel half is copied from `kernel`.
    public static func makeUserSpace(sharingKernelHalfOf kernel: PageTable) -> PageTable? {
        guard let root = kernel.frames.allocateFrame() else { return nil }
        kernel.memory.fill(root, count: Int(pageSize), value: 0)
        let slot = kernelWindowSlot
        kernel.memory.store64(root + slot * 8, kernel.memory.load64(kernel.root + slot * 8))
        return PageTable(root: root, memory: kernel.memory, frames: kernel.frames,
                         noExecuteSupported: kernel.noExecuteSupported)
    }

    @inline(__always) static func index(_ va: UInt64, level: Int) -> UInt64 {
        (va >> (12 + 9 * UInt64(level))) & 0x1FF
    }

    public static func isCanonical(_ va: UInt64) -> Bool {
        let top = va >> 47
        return top == 0 || top == 0x1_FFFF
    }

    /// Walk to the level-0 (PT) entry address for `va`, creating tables when asked.
    /// Returns nil if a table is missing (and not created) or a huge page is in the way.
    func entryAddress(for va: UInt64, create: Bool) -> UInt64? {
        var table = root
        var level = 3
        while level > 0 {
            let entry = table + PageTable.index(va, level: level) * 8
            let value = memory.load64(entry)
            if value & PageFlags.present.rawValue == 0 {
                guard create, let frame = frames.allocateFrame() else { return nil }
                memory.fill(frame, count: Int(pageSize), value: 0)
                // Intermediate levels are permissive; the leaf decides.
                var flags: PageFlags = [.present, .writable]
                if PageTable.index(va, level: 3) != kernelWindowSlot && va < 0x0000_8000_0000_0000 { flags.insert(.user) }
                memory.store64(entry, frame | flags.rawValue)
                table = frame
            } else {
                if value & PageFlags.huge.rawValue != 0 { return nil }
                table = value & addressMask
            }
            level -= 1
        }
        return table + PageTable.index(va, level: 0) * 8
    }

    func leafFlags(_ flags: PageFlags) -> PageFlags {
        var f = flags
        f.insert(.present)
        if !noExecuteSupported { f.remove(.noExecute) }
        return f
    }

    /// Map one 4 KiB page. Returns false when a page-table frame cannot be allocated.
    @discardableResult
    public func map(_ va: UInt64, to physical: UInt64, flags: PageFlags) -> Bool {
        guard let entry = entryAddress(for: va, create: true) else { return false }
        memory.store64(entry, (physical & addressMask) | leafFlags(flags).rawValue)
        memory.invalidateTranslation(va)
        return true
    }

    /// Creates the tables down to the PT for `va`; false when a frame cannot be allocated.
    public func ensureTables(for va: UInt64) -> Bool { entryAddress(for: va, create: true) != nil }

    /// Writes a raw leaf entry (frame and flags, as read from another entry) at `va`.
    @discardableResult
    public func install(entry value: UInt64, at va: UInt64) -> Bool {
        guard let entry = entryAddress(for: va, create: true) else { return false }
        memory.store64(entry, value)
        memory.invalidateTranslation(va)
        return true
    }

    /// Remove a 4 KiB mapping; returns the frame that was mapped there.
    public func unmap(_ va: UInt64) -> UInt64? {
        guard let entry = entryAddress(for: va, create: false) else { return nil }
        let value = memory.load64(entry)
        guard value & PageFlags.present.rawValue != 0 else { return nil }
        memory.store64(entry, 0)
        memory.invalidateTranslation(va)
        return value & addressMask
    }

    /// Change the flags of a present 4 KiB page; returns false if nothing is mapped.
    @discardableResult
    public func protect(_ va: UInt64, flags: PageFlags) -> Bool {
        guard let entry = entryAddress(for: va, create: false) else { return false }
        let value = memory.load64(entry)
        guard value & PageFlags.present.rawValue != 0 else { return false }
        memory.store64(entry, (value & addressMask) | leafFlags(flags).rawValue)
        memory.invalidateTranslation(va)
        return true
    }

    // MARK: range operations (munmap, mprotect, madvise, mremap)
    //
    // These walk only the tables that exist: an absent entry at any level skips its whole
    // subtree (512 GiB, 1 GiB or 2 MiB), so the cost follows what is mapped, not the length
    // of the range — unmapping a 32 TiB PROT_NONE reservation reads a few dozen entries
    // (Linux's zap_pmd_range/zap_pud_range skip empty entries the same way, mm/memory.c).
    // Ranges are clipped to the user half below the kernel window, which they never touch.

    /// Page-table entries read by the range operations so far (host tests measure costs).
    public private(set) var entriesVisited = 0

    /// Calls `body(va, entryAddress, value)` for every present 4 KiB leaf in `range`, in
    /// address order.
    public func forEachPresentLeaf(in range: AddressRange, _ body: (UInt64, UInt64, UInt64) -> Void) {
        let end = min(range.end, kernelWindowBase)
        guard range.start < end else { return }
        visit(table: root, level: 3, base: 0, start: range.start, end: end, body)
    }

    private func visit(table: UInt64, level: Int, base: UInt64, start: UInt64, end: UInt64,
                       _ body: (UInt64, UInt64, UInt64) -> Void) {
        let shift = UInt64(12 + 9 * level)
        let span: UInt64 = 1 << shift
        var index = (start - base) >> shift
        while index < 512 {
            let entryBase = base + index * span
            if entryBase >= end { break }
            let entry = table + index * 8
            let value = memory.load64(entry)
            entriesVisited += 1
            if value & PageFlags.present.rawValue != 0 {
                if level == 0 {
                    body(entryBase, entry, value)
                } else if value & PageFlags.huge.rawValue == 0 {
                    visit(table: value & addressMask, level: level - 1, base: entryBase,
                          start: max(start, entryBase), end: min(end, entryBase + span), body)
                }
            }
            index += 1
        }
    }

    /// Removes every 4 KiB mapping in `range` and the page tables that only served it.
    /// Returns the frames that were mapped and the table frames that were emptied; the
    /// caller synchronizes the TLBs (PhysicalMemory.synchronizeTranslations) before it
    /// reuses either, since a CPU may still walk a cached path through a freed table.
    public func unmapRange(_ range: AddressRange) -> (frames: [UInt64], tables: [UInt64]) {
        var frames: [UInt64] = []
        var tables: [UInt64] = []
        let end = min(range.end, kernelWindowBase)
        guard range.start < end else { return (frames, tables) }
        clear(table: root, level: 3, base: 0, start: range.start, end: end, frames: &frames, tables: &tables)
        return (frames, tables)
    }

    private func clear(table: UInt64, level: Int, base: UInt64, start: UInt64, end: UInt64,
                       frames: inout [UInt64], tables: inout [UInt64]) {
        let shift = UInt64(12 + 9 * level)
        let span: UInt64 = 1 << shift
        var index = (start - base) >> shift
        while index < 512 {
            let entryBase = base + index * span
            if entryBase >= end { break }
            let entry = table + index * 8
            let value = memory.load64(entry)
            entriesVisited += 1
            index += 1
            guard value & PageFlags.present.rawValue != 0 else { continue }
            if level == 0 {
                memory.store64(entry, 0)
                memory.invalidateTranslation(entryBase)
                frames.append(value & addressMask)
                continue
            }
            guard value & PageFlags.huge.rawValue == 0 else { continue }  // user space has none
            let child = value & addressMask
            clear(table: child, level: level - 1, base: entryBase, start: max(start, entryBase),
                  end: min(end, entryBase + span), frames: &frames, tables: &tables)
            // A table whose whole span lies in the range is empty now: free it (Linux's
            // free_pgd_range). One partly covered may still hold other mappings: keep it.
            if entryBase >= start && entryBase + span <= end {
                memory.store64(entry, 0)
                memory.invalidateTranslation(entryBase)
                tables.append(child)
            }
        }
    }

    /// Rewrites the rights of every present 4 KiB leaf in `range` (the frames stay).
    public func protectRange(_ range: AddressRange, flags: PageFlags) {
        let leaf = leafFlags(flags)
        forEachPresentLeaf(in: range) { va, entry, value in
            memory.store64(entry, (value & addressMask) | leaf.rawValue)
            memory.invalidateTranslation(va)
        }
    }

    /// Translate a virtual address, following 1 GiB and 2 MiB pages.
    public func translate(_ va: UInt64) -> PageTranslation? {
        guard PageTable.isCanonical(va) else { return nil }
        var table = root
        var level = 3
        var combined: UInt64 = PageFlags.user.rawValue | PageFlags.writable.rawValue
        var noExecute = false
        while true {
            let value = memory.load64(table + PageTable.index(va, level: level) * 8)
            guard value & PageFlags.present.rawValue != 0 else { return nil }
            // Effective permission is the AND of U/W over all levels, OR of NX.
            combined &= value
            if value & PageFlags.noExecute.rawValue != 0 { noExecute = true }
            if level == 0 || value & PageFlags.huge.rawValue != 0 {
                let span: UInt64 = 1 << (12 + 9 * UInt64(level))
                let base = value & addressMask & ~(span - 1)
                var flags = PageFlags(rawValue: (value & 0xFFF & ~(PageFlags.user.rawValue | PageFlags.writable.rawValue)) | combined)
                if noExecute { flags.insert(.noExecute) }
                return PageTranslation(physical: base + (va & (span - 1)), flags: flags)
            }
            table = value & addressMask
            level -= 1
        }
    }

    /// Free every user mapping and table (process exit). The kernel window is shared: untouched.
    public func releaseUserHalf(freeLeafFrames: Bool) {
        for slot in UInt64(0)..<kernelWindowSlot {
            let entry = root + slot * 8
            let value = memory.load64(entry)
            guard value & PageFlags.present.rawValue != 0 else { continue }
            release(table: value & addressMask, level: 2, freeLeafFrames: freeLeafFrames)
            memory.store64(entry, 0)
        }
    }

    func release(table: UInt64, level: Int, freeLeafFrames: Bool) {
        for i in UInt64(0)..<512 {
            let value = memory.load64(table + i * 8)
            guard value & PageFlags.present.rawValue != 0 else { continue }
            if level == 0 {
                if freeLeafFrames { frames.freeFrame(value & addressMask) }
            } else if value & PageFlags.huge.rawValue == 0 {
                release(table: value & addressMask, level: level - 1, freeLeafFrames: freeLeafFrames)
            }
        }
        frames.freeFrame(table)
    }
}

extension PageTable {
    /// Map one 2 MiB page (kernel direct map). Both addresses must be 2 MiB aligned.
    @discardableResult
    public func mapLarge(_ va: UInt64, to physical: UInt64, flags: PageFlags) -> Bool {
        var table = root
        for level in [3, 2] {
            let entry = table + PageTable.index(va, level: level) * 8
            let value = memory.load64(entry)
            if value & PageFlags.present.rawValue == 0 {
                guard let frame = frames.allocateFrame() else { return false }
                memory.fill(frame, count: Int(pageSize), value: 0)
                memory.store64(entry, frame | PageFlags.present.rawValue | PageFlags.writable.rawValue)
                table = frame
            } else {
                table = value & addressMask
            }
        }
        let entry = table + PageTable.index(va, level: 1) * 8
        memory.store64(entry, (physical & addressMask) | leafFlags(flags).union(.huge).rawValue)
        return true
    }
}
