// AddressRange and page arithmetic — shared vocabulary of the memory-management logic
// (KernelCore layer, pure; no hardware).
//
// Neighbours: PhysicalFrameAllocator.swift (physical frames), VirtualMemoryMap.swift (the
// per-process list of user mappings, like Linux's VMAs). The page tables that apply the
// ranges these types return live in Sources/KernelArch.

/// x86-64 base page geometry (4 KiB pages). Huge pages are the page-table layer's business.
public enum MemoryPage {
    public static let size: UInt64 = 4096
    public static let shift: UInt64 = 12
    public static let offsetMask: UInt64 = size - 1

    @inline(__always)
    public static func isAligned(_ address: UInt64) -> Bool { address & offsetMask == 0 }

    @inline(__always)
    public static func roundDown(_ address: UInt64) -> UInt64 { address & ~offsetMask }

    /// Rounds up to the next page boundary; nil when that would pass 2^64.
    @inline(__always)
    public static func roundUp(_ address: UInt64) -> UInt64? {
        let (sum, overflow) = address.addingReportingOverflow(offsetMask)
        return overflow ? nil : sum & ~offsetMask
    }
}

/// A half-open address interval [start, end). Used for both physical and virtual addresses.
public struct AddressRange: Equatable, Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64

    public init(start: UInt64, end: UInt64) {
        precondition(start <= end, "AddressRange: start > end")
        self.start = start
        self.end = end
    }

    /// nil when start + length passes 2^64.
    public init?(start: UInt64, length: UInt64) {
        let (end, overflow) = start.addingReportingOverflow(length)
        if overflow { return nil }
        self.init(start: start, end: end)
    }

    public var length: UInt64 { end - start }
    public var isEmpty: Bool { start == end }
    public var pageCount: UInt64 { length >> MemoryPage.shift }
    public var isPageAligned: Bool { MemoryPage.isAligned(start) && MemoryPage.isAligned(end) }

    @inline(__always)
    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    public func contains(_ other: AddressRange) -> Bool { other.start >= start && other.end <= end }

    public func overlaps(_ other: AddressRange) -> Bool { start < other.end && other.start < end }

    /// The common part of two ranges, or nil when they do not overlap.
    public func intersection(_ other: AddressRange) -> AddressRange? {
        let s = start > other.start ? start : other.start
        let e = end < other.end ? end : other.end
        return s < e ? AddressRange(start: s, end: e) : nil
    }
}

/// Appends `range` to a sorted list of disjoint ranges, joining it to the last one when they
/// touch, so that callers get the fewest ranges to apply.
@inline(__always)
func appendCoalescing(_ range: AddressRange, to list: inout [AddressRange]) {
    if range.isEmpty { return }
    if let last = list.last, last.end == range.start {
        list[list.count - 1].end = range.end
    } else {
        list.append(range)
    }
}
