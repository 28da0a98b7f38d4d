// LoadPlan — where each part of a validated ELFImage goes in the guest's address space
// (ELF layer, pure logic).
//
// ELFImage (ELFImage.swift) has already checked the file; this file only decides addresses:
// the load base of a static-PIE, the relocated segments, the page mappings that back them,
// the program header address for AT_PHDR, TLS, the program break and stack executability.
// The kernel's loader (Sources/KernelCore) walks `mappings` to allocate zeroed pages, then
// copies each segment's file bytes; AuxiliaryVector.swift turns a plan into auxv entries.
//
// Rules follow Linux fs/binfmt_elf.c load_elf_binary(): ET_EXEC loads at its own addresses;
// ET_DYN without an interpreter gets load_bias = ELF_ET_DYN_BASE aligned down to the largest
// power-of-two p_align (maximum_alignment()); brk starts at the page-rounded end of the image;
// AT_PHDR is the address of the PT_LOAD bytes that contain e_phoff.

/// One PT_LOAD segment, relocated by the plan's base. Bytes [fileOffset, fileOffset+fileSize)
/// of the file go to [virtualAddress, virtualAddress+fileSize); the rest up to memorySize is
/// zero (.bss).
public struct LoadSegment: Equatable, Sendable {
    public var fileOffset: UInt64
    public var fileSize: UInt64
    public var virtualAddress: UInt64
    public var memorySize: UInt64
    public var readable: Bool
    public var writable: Bool
    public var executable: Bool

    public init(fileOffset: UInt64, fileSize: UInt64, virtualAddress: UInt64,
                memorySize: UInt64, readable: Bool, writable: Bool, executable: Bool) {
        self.fileOffset = fileOffset
        self.fileSize = fileSize
        self.virtualAddress = virtualAddress
        self.memorySize = memorySize
        self.readable = readable
        self.writable = writable
        self.executable = executable
    }

    /// First byte of the first page the segment touches.
    public var pageStart: UInt64 { roundDownToPage(virtualAddress) }
    /// One past the last byte of the last page the segment touches.
    public var pageEnd: UInt64 { roundUpToPage(virtualAddress + memorySize) }
}

/// A page-aligned range to map, with the union of the permissions of every segment that
/// touches it. Mappings are sorted and disjoint; two segments that share a page (allowed by
/// the ELF spec, e.g. end of .text and start of .rodata in the same page) are merged into
/// one mapping so the loader never zeroes a page it has already filled.
public struct LoadMapping: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var readable: Bool
    public var writable: Bool
    public var executable: Bool

    public init(start: UInt64, end: UInt64, readable: Bool, writable: Bool, executable: Bool) {
        self.start = start
        self.end = end
        self.readable = readable
        self.writable = writable
        self.executable = executable
    }
}

public struct LoadPlan: Equatable, Sendable {
    /// Added to every address in the file: 0 for ET_EXEC, the chosen base for a static-PIE.
    public var base: UInt64
    /// Relocated entry point (AT_ENTRY, initial rip).
    public var entry: UInt64
    /// PT_LOAD segments with a non-zero memory size, in file order, relocated.
    public var segments: [LoadSegment]
    /// Page ranges to map, sorted by address, disjoint (see LoadMapping).
    public var mappings: [LoadMapping]
    /// Where the program headers are visible in memory (AT_PHDR): PT_PHDR if present, else
    /// inside the PT_LOAD whose file bytes contain them; nil if no segment maps them.
    public var programHeaderAddress: UInt64?
    /// e_phentsize (AT_PHENT).
    public var programHeaderEntrySize: UInt16
    /// e_phnum (AT_PHNUM).
    public var programHeaderCount: UInt16
    /// PT_TLS, relocated.
    public var tls: TLSTemplate?
    /// Page-rounded end of the highest segment: the initial program break.
    public var programBreakStart: UInt64
    /// PT_GNU_STACK has PF_X.
    public var executableStack: Bool
}

extension ELFImage {
    /// Linux's ELF_ET_DYN_BASE on x86-64 (2/3 of the 47-bit user space, page aligned).
    public static var defaultPIEBase: UInt64 { 0x5555_5555_4000 }

    /// Chooses addresses for every part of the image.
    ///
    /// - Parameter base: for ET_DYN (static-PIE), the load bias to use; nil picks
    ///   `defaultPIEBase` aligned down to the largest power-of-two PT_LOAD p_align, as Linux
    ///   does. A given base must be page aligned. Ignored for ET_EXEC, which always loads at
    ///   the addresses in the file.
    public func makeLoadPlan(base requestedBase: UInt64? = nil) throws(ELFError) -> LoadPlan {
        let loads = loadSegments
        var base: UInt64 = 0
        if type == .sharedObject {
            if let requested = requestedBase {
                guard requested & (ELFConstants.pageSize - 1) == 0 else {
                    throw .badBase(requested)
                }
                base = requested
            } else {
                var alignment = ELFConstants.pageSize
                for segment in loads where segment.alignment > alignment
                    && segment.alignment & (segment.alignment - 1) == 0 {
                    alignment = segment.alignment
                }
                base = Self.defaultPIEBase & ~(alignment - 1)
            }
        }

        var segments: [LoadSegment] = []
        var highestEnd: UInt64 = 0
        for header in loads {
            // ELFImage checked vaddr + memsz ≤ userAddressLimit, so only the base can push it out.
            let (address, overflow) = header.virtualAddress.addingReportingOverflow(base)
            guard !overflow, address <= ELFConstants.userAddressLimit,
                  header.memorySize <= ELFConstants.userAddressLimit - address else {
                throw .badBase(base)
            }
            segments.append(LoadSegment(
                fileOffset: header.offset, fileSize: header.fileSize, virtualAddress: address,
                memorySize: header.memorySize, readable: header.isReadable,
                writable: header.isWritable, executable: header.isExecutable))
            highestEnd = max(highestEnd, address + header.memorySize)
        }

        var phdrAddress: UInt64? = nil
        if let address = programHeaderTableAddress {
            phdrAddress = address &+ base
        } else {
            let tableSize = UInt64(programHeaderCount) * UInt64(programHeaderEntrySize)
            for header in loads where header.offset <= programHeaderOffset
                && programHeaderOffset - header.offset <= header.fileSize
                && tableSize <= header.fileSize - (programHeaderOffset - header.offset) {
                phdrAddress = header.virtualAddress + (programHeaderOffset - header.offset) + base
                break
            }
        }

        var relocatedTLS = tls
        if let template = tls { relocatedTLS?.address = template.address &+ base }

        return LoadPlan(
            base: base,
            entry: entry + base,
            segments: segments,
            mappings: Self.mergedMappings(segments),
            programHeaderAddress: phdrAddress,
            programHeaderEntrySize: programHeaderEntrySize,
            programHeaderCount: programHeaderCount,
            tls: relocatedTLS,
            programBreakStart: roundUpToPage(highestEnd),
            executableStack: executableStack)
    }

    /// Page ranges of the segments, sorted, disjoint, each page carrying the union of the
    /// permissions of the segments touching it. Works on elementary intervals between all
    /// range boundaries (a handful of segments, so quadratic is fine), then joins neighbours
    /// with equal permissions.
    static func mergedMappings(_ segments: [LoadSegment]) -> [LoadMapping] {
        var points: [UInt64] = []
        for segment in segments {
            for point in [segment.pageStart, segment.pageEnd] where !points.contains(point) {
                points.append(point)
            }
        }
        points.sort()
        var merged: [LoadMapping] = []
        for i in 0..<max(points.count - 1, 0) {
            let start = points[i], end = points[i + 1]
            var piece = LoadMapping(start: start, end: end, readable: false, writable: false,
                                    executable: false)
            var covered = false
            for segment in segments where segment.pageStart < end && start < segment.pageEnd {
                covered = true
                piece.readable = piece.readable || segment.readable
                piece.writable = piece.writable || segment.writable
                piece.executable = piece.executable || segment.executable
            }
            guard covered else { continue }
            if let last = merged.last, last.end == start, last.readable == piece.readable,
               last.writable == piece.writable, last.executable == piece.executable {
                merged[merged.count - 1].end = end
            } else {
                merged.append(piece)
            }
        }
        return merged
    }
}

@inline(__always)
func roundDownToPage(_ value: UInt64) -> UInt64 { value & ~(ELFConstants.pageSize - 1) }

/// Rounds up to a page boundary; callers pass values ≤ userAddressLimit, so this cannot wrap.
@inline(__always)
func roundUpToPage(_ value: UInt64) -> UInt64 {
    (value + ELFConstants.pageSize - 1) & ~(ELFConstants.pageSize - 1)
}
