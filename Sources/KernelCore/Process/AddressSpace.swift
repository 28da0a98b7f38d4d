// AddressSpace — a process's user half: its mappings (VirtualMemoryMap), its page tables
// (PageTable) and the one checked path for touching guest memory (KernelCore layer).
//
// Demand paging: anonymous, heap and stack areas get a zeroed frame on first touch, from the
// page-fault handler (Sources/Kernel/Traps.swift) or from copyIn/copyOut here, which walk
// the page tables themselves instead of dereferencing guest pointers — a bad pointer is
// EFAULT, never a kernel fault. Image segments are filled eagerly by ProgramLoader.
import LinuxABI

public enum FaultResolution: Equatable {
    case resolved
    case segmentationFault   // no mapping, or rights forbid the access (SIGSEGV)
    case outOfMemory         // no frame left (the guest is killed, as by the OOM killer)
    case busError            // a file mapping past end-of-file (SIGBUS, FileMappingFaults.swift)
}

public final class AddressSpace {
    public var map: VirtualMemoryMap
    public let pageTable: PageTable
    let memory: any PhysicalMemory
    let frames: any FrameSource
    /// Pages populated (resident set, for /proc and statistics).
    public internal(set) var residentPages = 0
    /// Processes using this address space (vfork and CLONE_VM children share their
    /// parent's); the last one to let go frees it (ProcessLifecycle.dropAddressSpace).
    var sharingProcesses = 1
    /// This address space's number in futex keys (Threads/FutexKeys.swift); 0 until used.
    var futexSpaceID: UInt64 = 0
    /// The file system's blocks once a file is mapped: their frames are the files', never
    /// freed by unmapping (Process/FileMappingFaults.swift).
    public var fileBlocks: FileBlockStore? = nil
    /// MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED was called (Linux keeps it in
    /// mm->membarrier_state; Threads/Membarrier.swift). A new exec'd image starts without.
    var membarrierPrivateExpeditedReady = false
    /// Set once a second thread uses this address space (clone with CLONE_VM).
    public var multiThreaded = false
    /// Whether a CPU other than this one may hold translations of this address space: a CPU
    /// loads a process's tables only while it runs one of its threads (the idle context runs
    /// on the kernel's, and loading CR3 drops the old non-global entries), so with one thread
    /// in one process only the local TLB can be stale and the shootdown IPI is skipped.
    var mayBeLoadedElsewhere: Bool { multiThreaded || sharingProcesses > 1 }

    public init(map: VirtualMemoryMap, pageTable: PageTable, memory: any PhysicalMemory, frames: any FrameSource) {
        self.map = map
        self.pageTable = pageTable
        self.memory = memory
        self.frames = frames
    }

    public static func pageFlags(_ protection: MemoryProtection) -> PageFlags {
        var flags: PageFlags = [.user]
        if protection.isEmpty { return [] }  // PROT_NONE: never present
        if protection.contains(.write) { flags.insert(.writable) }
        if !protection.contains(.execute) { flags.insert(.noExecute) }
        return flags
    }

    // MARK: faults

    /// Resolve a fault at `address` for an access of the given kind.
    public func handleFault(at address: UInt64, write: Bool, execute: Bool) -> FaultResolution {
        guard let area = map.area(containing: address) else { return .segmentationFault }
        let p = area.protection
        if write && !p.contains(.write) { return .segmentationFault }
        if execute && !p.contains(.execute) { return .segmentationFault }
        if !write && !execute && !p.contains(.read) && !p.contains(.write) && !p.contains(.execute) {
            return .segmentationFault
        }
        let page = address & ~(pageSize - 1)
        if let present = pageTable.translate(page) {
            // A write the area allows to a read-only page: copy-on-write after fork
            // (CopyOnWrite.swift). Otherwise the rights say no.
            if write && present.flags.contains(.user) && !present.flags.contains(.writable) {
                return resolveCopyOnWrite(page: page, protection: p)
            }
            return .segmentationFault
        }
        if case .file = area.backing { return resolveFileFault(area, page: page) }
        guard area.backing.isDemandZero else { return .segmentationFault }
        return populate(page: page, protection: p) ? .resolved : .outOfMemory
    }

    func populate(page: UInt64, protection: MemoryProtection) -> Bool {
        guard let frame = frames.allocateFrame() else { return false }
        memory.fill(frame, count: Int(pageSize), value: 0)
        guard pageTable.map(page, to: frame, flags: AddressSpace.pageFlags(protection)) else {
            frames.freeFrame(frame)
            return false
        }
        residentPages += 1
        return true
    }

    /// MADV_POPULATE_READ/WRITE: fault in every page of `range` as an access would.
    /// EFAULT where the rights forbid the access or nothing backs the page, ENOMEM when
    /// memory runs out (madvise(2)). The cost is one step per page: each may take a frame.
    public func populate(_ range: AddressRange, write: Bool) -> Errno? {
        var page = range.start
        while page < range.end {
            if let t = pageTable.translate(page), t.flags.contains(.user), !write || t.flags.contains(.writable) {
                page += pageSize
                continue
            }
            switch handleFault(at: page, write: write, execute: false) {
            case .resolved: break
            case .segmentationFault, .busError: return .EFAULT
            case .outOfMemory: return .ENOMEM
            }
            page += pageSize
        }
        return nil
    }

    /// Map a specific frame (the loader's image pages).
    public func install(frame: UInt64, at page: UInt64, protection: MemoryProtection) -> Bool {
        guard pageTable.map(page, to: frame, flags: AddressSpace.pageFlags(protection)) else { return false }
        residentPages += 1
        return true
    }

    /// The physical address backing `address` for the given access, faulting it in if the
    /// mapping allows; nil means EFAULT.
    func physicalAddress(of address: UInt64, write: Bool) -> UInt64? {
        guard address < map.layout.userTop else { return nil }
        if let t = pageTable.translate(address), t.flags.contains(.user), !write || t.flags.contains(.writable) {
            return t.physical
        }
        guard handleFault(at: address, write: write, execute: false) == .resolved else { return nil }
        guard let t = pageTable.translate(address) else { return nil }
        return t.physical
    }

    // MARK: the checked path for guest memory

    /// Copy `count` bytes at guest `address` into buffer[offset...].
    public func copyIn(_ address: UserAddress, count: Int, into buffer: inout [UInt8], offset: Int = 0) -> Errno? {
        guard count >= 0 else { return .EINVAL }
        if buffer.count < offset + count { buffer.append(contentsOf: [UInt8](repeating: 0, count: offset + count - buffer.count)) }
        var done = 0
        while done < count {
            let va = address.value &+ UInt64(done)
            if va < address.value { return .EFAULT }  // wrapped around
            let inPage = Int(pageSize - (va & (pageSize - 1)))
            let chunk = min(inPage, count - done)
            guard let pa = physicalAddress(of: va, write: false) else { return .EFAULT }
            memory.read(pa, into: &buffer, offset: offset + done, count: chunk)
            done += chunk
        }
        return nil
    }

    public func copyIn(_ address: UserAddress, count: Int) -> Result<[UInt8], Errno> {
        var buffer = [UInt8](repeating: 0, count: count)
        if let e = copyIn(address, count: count, into: &buffer) { return .failure(e) }
        return .success(buffer)
    }

    /// Copy buffer[offset..<offset+count] to guest `address`.
    public func copyOut(_ address: UserAddress, from buffer: [UInt8], offset: Int = 0, count: Int? = nil) -> Errno? {
        let total = count ?? (buffer.count - offset)
        guard total >= 0 && offset + total <= buffer.count else { return .EINVAL }
        var done = 0
        while done < total {
            let va = address.value &+ UInt64(done)
            if va < address.value { return .EFAULT }
            let inPage = Int(pageSize - (va & (pageSize - 1)))
            let chunk = min(inPage, total - done)
            guard let pa = physicalAddress(of: va, write: true) else { return .EFAULT }
            memory.write(pa, from: buffer, offset: offset + done, count: chunk)
            done += chunk
        }
        return nil
    }

    /// A NUL-terminated string of at most `maximum` bytes (without the NUL).
    /// ENAMETOOLONG if no NUL within the limit, EFAULT on a bad address.
    public func readCString(_ address: UserAddress, maximum: Int = 4096) -> Result<[UInt8], Errno> {
        var out = [UInt8]()
        var va = address.value
        while out.count < maximum {
            guard let pa = physicalAddress(of: va, write: false) else { return .failure(.EFAULT) }
            let inPage = Int(pageSize - (va & (pageSize - 1)))
            for i in 0..<inPage {
                let b = memory.load8(pa + UInt64(i))
                if b == 0 { return .success(out) }
                out.append(b)
                if out.count == maximum { break }
            }
            va &+= UInt64(inPage)
        }
        return .failure(.ENAMETOOLONG)
    }

    public func readUInt64(_ address: UserAddress) -> Result<UInt64, Errno> {
        var buf = [UInt8](repeating: 0, count: 8)
        if let e = copyIn(address, count: 8, into: &buf) { return .failure(e) }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(buf[i]) << (8 * UInt64(i)) }
        return .success(v)
    }

    public func writeUInt64(_ address: UserAddress, _ value: UInt64) -> Errno? {
        var buf = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { buf[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        return copyOut(address, from: buf)
    }

    public func writeUInt32(_ address: UserAddress, _ value: UInt32) -> Errno? {
        var buf = [UInt8](repeating: 0, count: 4)
        for i in 0..<4 { buf[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        return copyOut(address, from: buf)
    }

    /// Linux's cmpxchg_futex_value_locked (kernel/futex/core.c): atomically, if the aligned
    /// u32 at guest `address` holds `expected`, replace it with `desired`. Returns the value
    /// found (the swap happened iff it equals `expected`); EINVAL when misaligned, EFAULT when
    /// the page cannot be written. The page is faulted in for writing first, so a
    /// copy-on-write page is copied before the swap and the swap lands in this process's copy.
    public func compareExchangeUInt32(_ address: UserAddress, expected: UInt32, desired: UInt32) -> Result<UInt32, Errno> {
        guard address.value & 3 == 0 else { return .failure(.EINVAL) }
        guard let pa = physicalAddress(of: address.value, write: true) else { return .failure(.EFAULT) }
        return .success(memory.compareExchange32(pa, expected: expected, desired: desired))
    }

    // MARK: applying map changes to the page tables

    /// Drop the pages of `range`, freeing their frames and the page tables that served only
    /// this range. Costs what is mapped there, not the length of the range (PageTable's
    /// range walk skips absent subtrees).
    public func release(_ range: AddressRange) {
        let (freed, tables) = pageTable.unmapRange(range)
        residentPages -= freed.count
        guard !freed.isEmpty || !tables.isEmpty else { return }
        // No CPU may still reach a frame through a stale TLB entry once it is reused.
        memory.synchronizeTranslations()
        for frame in freed where !isFileFrame(frame) { frames.freeFrame(frame) }
        for table in tables { frames.freeFrame(table) }
    }

    /// Re-flag the present pages of `range`.
    public func reprotect(_ range: AddressRange, to protection: MemoryProtection) {
        let flags = AddressSpace.pageFlags(protection)
        // PROT_NONE keeps the frame (contents survive a later mprotect) but takes away the
        // user bit, so every guest access faults and the fault handler says SIGSEGV.
        pageTable.protectRange(range, flags: flags.isEmpty ? [.noExecute] : flags)
        if flags.contains(.writable) {
            // Pages still shared copy-on-write stay read-only; their write fault copies them.
            let readOnly = pageTable.leafFlags(flags.subtracting(.writable)).rawValue
            pageTable.forEachPresentLeaf(in: range) { va, entry, value in
                if isSharedCopyOnWrite(frame: value & addressMask, at: va) {
                    memory.store64(entry, (value & addressMask) | readOnly)
                }
            }
        }
        memory.synchronizeTranslations()
    }

    /// Creates the page tables that moving the present pages of `from` to `to` will need,
    /// so that the move itself cannot fail half-way. false: out of memory (tables made so
    /// far stay; they are empty and freed with the range later).
    public func prepareMove(from: AddressRange, to: UInt64) -> Bool {
        var ok = true
        pageTable.forEachPresentLeaf(in: from) { va, _, _ in
            if ok && !pageTable.ensureTables(for: va - from.start + to) { ok = false }
        }
        return ok
    }

    /// mremap: moves the present pages of `from` (frames and rights) to start at `to`. The
    /// destination must be empty and prepared (prepareMove).
    public func move(from: AddressRange, to: UInt64) {
        var moved: [(UInt64, UInt64)] = []
        pageTable.forEachPresentLeaf(in: from) { va, entry, value in
            memory.store64(entry, 0)
            memory.invalidateTranslation(va)
            moved.append((va - from.start + to, value))
        }
        for (va, value) in moved where !pageTable.install(entry: value, at: va) {
            // Not reached after prepareMove; if it were, the page is lost, not leaked.
            frames.freeFrame(value & addressMask)
            residentPages -= 1
        }
        memory.synchronizeTranslations()
    }
}
