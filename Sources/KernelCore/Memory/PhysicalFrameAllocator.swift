// PhysicalFrameAllocator — which 4 KiB physical frames are free (KernelCore layer, pure logic).
//
// Built once at boot from the firmware memory map (usable ranges) minus what is already in
// use (kernel image, boot modules, the low 1 MiB with the BIOS data area, VGA and option
// ROMs). Sources/KernelArch hands in the ranges and turns the frame addresses into page-table
// entries; this file never touches memory. Neighbours: AddressRange.swift, VirtualMemoryMap.swift.
//
// Representation: one bit per frame between the lowest and the highest usable frame, set when
// the frame is free. 64 GiB is 16 Mi frames, i.e. 256 Ki words = 2 MiB of bitmap on the heap.
// Frames in holes of the memory map and reserved frames stay 0 ("in use") forever; the sorted
// list `managedRanges` says which frames the allocator owns, so that free() can tell a
// reserved frame from an allocated one.
//
// Error policy: freeing a frame that is not allocated (double free, reserved frame, hole,
// unaligned address) returns false and changes nothing. Callers in the kernel should treat
// false as a kernel bug and log it; no guest action can cause it when the VMA logic is right,
// and the kernel must never panic because of a guest, so this is not a precondition.

public struct PhysicalFrameAllocator: Sendable {
    /// Frames below this physical address are never handed out (real-mode IVT, BDA, EBDA,
    /// VGA memory, option ROMs and the BIOS live there; some DMA engines also dislike it).
    public static let defaultLowReserve: UInt64 = 0x10_0000

    /// Physical address of the frame that bit 0 describes.
    public let baseAddress: UInt64
    /// Number of frames the bitmap spans (usable or not).
    public let spanFrames: Int
    /// The frames this allocator owns: usable minus reserved, page-aligned, sorted, disjoint.
    public let managedRanges: [AddressRange]
    public let totalFrames: Int
    public private(set) var freeFrames: Int

    private var bitmap: [UInt64]
    /// Invariant: every word below `searchHint` has no free bit. Allocation scans upwards from
    /// it and free() lowers it, which makes single-frame allocation O(1) amortised.
    private var searchHint: Int

    public var totalBytes: UInt64 { UInt64(totalFrames) << MemoryPage.shift }
    public var freeBytes: UInt64 { UInt64(freeFrames) << MemoryPage.shift }

    /// - Parameters:
    ///   - usable: RAM the firmware reports as available; rounded inwards to whole frames.
    ///   - reserved: ranges to exclude (kernel image, boot modules, ...); rounded outwards.
    ///   - lowReserve: everything below this address is excluded too.
    public init(usable: [AddressRange], reserved: [AddressRange],
                lowReserve: UInt64 = PhysicalFrameAllocator.defaultLowReserve) {
        // Round usable ranges inwards, then sort and join overlapping or touching ones.
        var pieces: [AddressRange] = []
        for range in usable {
            guard let start = MemoryPage.roundUp(range.start) else { continue }
            let end = MemoryPage.roundDown(range.end)
            if start < end { pieces.append(AddressRange(start: start, end: end)) }
        }
        pieces.sort { $0.start < $1.start }
        var joined: [AddressRange] = []
        for piece in pieces {
            if let last = joined.last, piece.start <= last.end {
                if piece.end > last.end { joined[joined.count - 1].end = piece.end }
            } else {
                joined.append(piece)
            }
        }
        // Subtract the reserved ranges, rounded outwards, and the low reserve.
        var exclusions: [AddressRange] = []
        if lowReserve > 0 { exclusions.append(AddressRange(start: 0, end: lowReserve)) }
        for range in reserved where !range.isEmpty {
            let end = MemoryPage.roundUp(range.end) ?? MemoryPage.roundDown(UInt64.max)
            exclusions.append(AddressRange(start: MemoryPage.roundDown(range.start), end: end))
        }
        for exclusion in exclusions {
            var remaining: [AddressRange] = []
            for piece in joined {
                guard piece.overlaps(exclusion) else { remaining.append(piece); continue }
                if piece.start < exclusion.start {
                    remaining.append(AddressRange(start: piece.start, end: exclusion.start))
                }
                if exclusion.end < piece.end {
                    remaining.append(AddressRange(start: exclusion.end, end: piece.end))
                }
            }
            joined = remaining
        }
        managedRanges = joined

        let base = joined.first?.start ?? 0
        let top = joined.last?.end ?? 0
        baseAddress = base
        spanFrames = Int((top - base) >> MemoryPage.shift)
        bitmap = [UInt64](repeating: 0, count: (spanFrames + 63) / 64)
        var total = 0
        for range in joined {
            let first = Int((range.start - base) >> MemoryPage.shift)
            let count = Int(range.pageCount)
            Self.setBits(&bitmap, from: first, to: first + count, free: true)
            total += count
        }
        totalFrames = total
        freeFrames = total
        searchHint = 0
    }

    // MARK: - Allocation

    /// One free frame (its physical address), lowest first; nil when memory is exhausted.
    public mutating func allocateFrame() -> UInt64? {
        var index = searchHint
        while index < bitmap.count {
            let word = bitmap[index]
            if word != 0 {
                let bit = word.trailingZeroBitCount
                bitmap[index] = word & (word &- 1)
                searchHint = index
                freeFrames -= 1
                return address(ofFrame: index * 64 + bit)
            }
            index += 1
        }
        searchHint = bitmap.count
        return nil
    }

    /// `frameCount` physically contiguous frames whose first address is a multiple of
    /// `alignment` (a power of two, at least one page) and whose end is at most `limit`
    /// (e.g. 4 GiB for 32-bit DMA). First fit, lowest address first. nil when none fits.
    public mutating func allocateContiguous(frameCount: Int, alignment: UInt64 = MemoryPage.size,
                                            below limit: UInt64 = UInt64.max) -> UInt64? {
        guard frameCount > 0, frameCount <= freeFrames,
              alignment >= MemoryPage.size, alignment & (alignment - 1) == 0 else { return nil }
        var frame = searchHint * 64
        while true {
            // Move the candidate up to the next aligned address.
            let candidateAddress = address(ofFrame: frame)
            let (bumped, overflow) = candidateAddress.addingReportingOverflow(alignment - 1)
            if overflow { return nil }
            let aligned = bumped & ~(alignment - 1)
            frame = Int((aligned - baseAddress) >> MemoryPage.shift)
            let end = frame + frameCount
            if end > spanFrames { return nil }
            let endAddress = address(ofFrame: end)
            if endAddress > limit || endAddress < aligned { return nil }
            if let busy = firstAllocatedFrame(from: frame, to: end) {
                frame = busy + 1
                continue
            }
            Self.setBits(&bitmap, from: frame, to: end, free: false)
            freeFrames -= frameCount
            return aligned
        }
    }

    // MARK: - Release

    /// Returns a frame from allocateFrame/allocateContiguous. false (and no change) when the
    /// address is unaligned, not owned by this allocator (reserved, hole) or already free.
    @discardableResult
    public mutating func free(frameAt address: UInt64) -> Bool {
        guard let frame = allocatedFrameIndex(address) else { return false }
        bitmap[frame >> 6] |= 1 << UInt64(frame & 63)
        freeFrames += 1
        if frame >> 6 < searchHint { searchHint = frame >> 6 }
        return true
    }

    /// Frees `frameCount` frames starting at `address`. All or nothing: false (and no change)
    /// when any of them could not be freed by free(frameAt:).
    @discardableResult
    public mutating func free(contiguousAt address: UInt64, frameCount: Int) -> Bool {
        guard frameCount > 0 else { return frameCount == 0 }
        var frames: [Int] = []
        frames.reserveCapacity(frameCount)
        for i in 0..<frameCount {
            let (current, overflow) = address.addingReportingOverflow(UInt64(i) << MemoryPage.shift)
            guard !overflow, let frame = allocatedFrameIndex(current) else { return false }
            frames.append(frame)
        }
        for frame in frames {
            bitmap[frame >> 6] |= 1 << UInt64(frame & 63)
        }
        freeFrames += frameCount
        if frames[0] >> 6 < searchHint { searchHint = frames[0] >> 6 }
        return true
    }

    // MARK: - Queries

    /// true: allocated, false: free, nil: not managed by this allocator (reserved, hole,
    /// unaligned).
    public func isAllocated(_ address: UInt64) -> Bool? {
        guard let frame = managedFrameIndex(address) else { return nil }
        return bitmap[frame >> 6] & (1 << UInt64(frame & 63)) == 0
    }

    /// Whether the allocator owns the frame at `address` (a usable frame that was not reserved).
    public func isManaged(_ address: UInt64) -> Bool { managedFrameIndex(address) != nil }

    // MARK: - Internals

    @inline(__always)
    private func address(ofFrame frame: Int) -> UInt64 {
        baseAddress + (UInt64(frame) << MemoryPage.shift)
    }

    private func managedFrameIndex(_ address: UInt64) -> Int? {
        guard MemoryPage.isAligned(address) else { return nil }
        // Binary search for the last managed range starting at or below `address`.
        var low = 0
        var high = managedRanges.count
        while low < high {
            let mid = (low + high) / 2
            if managedRanges[mid].start <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0, managedRanges[low - 1].contains(address) else { return nil }
        return Int((address - baseAddress) >> MemoryPage.shift)
    }

    private func allocatedFrameIndex(_ address: UInt64) -> Int? {
        guard let frame = managedFrameIndex(address),
              bitmap[frame >> 6] & (1 << UInt64(frame & 63)) == 0 else { return nil }
        return frame
    }

    /// The first frame in [from, to) that is not free, or nil when all are free.
    private func firstAllocatedFrame(from: Int, to: Int) -> Int? {
        var frame = from
        while frame < to {
            let word = frame >> 6
            let bit = frame & 63
            var mask = UInt64.max << UInt64(bit)
            let remaining = to - (frame - bit)
            if remaining < 64 { mask &= (1 << UInt64(remaining)) - 1 }
            let busy = ~bitmap[word] & mask
            if busy != 0 { return word * 64 + busy.trailingZeroBitCount }
            frame = (word + 1) * 64
        }
        return nil
    }

    private static func setBits(_ bitmap: inout [UInt64], from: Int, to: Int, free: Bool) {
        var frame = from
        while frame < to {
            let word = frame >> 6
            let bit = frame & 63
            var mask = UInt64.max << UInt64(bit)
            let remaining = to - (frame - bit)
            if remaining < 64 { mask &= (1 << UInt64(remaining)) - 1 }
            if free { bitmap[word] |= mask } else { bitmap[word] &= ~mask }
            frame = (word + 1) * 64
        }
    }
}
