// ELFImage — a validated ELF64 x86-64 executable (ELF layer, pure logic).
//
// Parses the ELF header and program header table from any ByteSource (ByteSource.swift):
// a [UInt8] in host tests and in the egg CLI, the boot module's memory in the kernel.
// Construction validates everything the loader relies on, so a value of this type can always
// be turned into a LoadPlan (LoadPlan.swift); the initial stack is built by InitialStack.swift.
//
// Layouts follow the System V gABI ("ELF-64 Object File Format" 1.5, ch. 3 and 5) and
// /usr/include/elf.h; the acceptance rules follow Linux fs/binfmt_elf.c load_elf_binary().

/// Constants from the ELF specification and elf.h that this module uses.
public enum ELFConstants {
    public static let headerSize = 64
    public static let programHeaderSize = 56
    public static let classELF64: UInt8 = 2        // EI_CLASS = ELFCLASS64
    public static let dataLittleEndian: UInt8 = 1  // EI_DATA = ELFDATA2LSB
    public static let machineX86_64: UInt16 = 62   // EM_X86_64
    /// Largest program header table Linux reads (elf_read_phdrs: size > 65536 → ENOEXEC).
    public static let maxProgramHeaderTableSize = 65536
    public static let pageSize: UInt64 = 4096
    /// The end of egg's user space: the kernel is linked at 0x7f8000000000 (PML4 slot 255,
    /// README "Architecture"), and one guard page below it ends the user half, so segments
    /// must end at or below 0x7f7ffffff000 (KernelCore's ProgramLoader.stackTop; a test
    /// keeps the two equal). Linux's TASK_SIZE_MAX is 0x7ffffffff000.
    public static let userAddressLimit: UInt64 = 0x0000_7f7f_ffff_f000
}

/// e_type values egg can run.
public enum ELFFileType: UInt16, Sendable {
    /// ET_EXEC: linked at fixed addresses (musl-gcc -static, gcc -static).
    case executable = 2
    /// ET_DYN without PT_INTERP: a static-PIE (gcc -static-pie), loaded at a chosen base.
    case sharedObject = 3
}

/// p_type values (elf.h). Unknown values are kept as raw numbers in ProgramHeader.type.
public enum ProgramHeaderType {
    public static let null: UInt32 = 0
    public static let load: UInt32 = 1
    public static let dynamic: UInt32 = 2
    public static let interpreter: UInt32 = 3
    public static let note: UInt32 = 4
    public static let programHeaderTable: UInt32 = 6
    public static let threadLocalStorage: UInt32 = 7
    public static let gnuEHFrame: UInt32 = 0x6474_e550
    public static let gnuStack: UInt32 = 0x6474_e551
    public static let gnuRelocationReadOnly: UInt32 = 0x6474_e552
    public static let gnuProperty: UInt32 = 0x6474_e553
}

/// p_flags bits (elf.h PF_X, PF_W, PF_R).
public enum ProgramHeaderFlags {
    public static let executable: UInt32 = 1
    public static let writable: UInt32 = 2
    public static let readable: UInt32 = 4
}

/// One Elf64_Phdr, exactly as in the file.
public struct ProgramHeader: Equatable, Sendable {
    public var type: UInt32
    public var flags: UInt32
    public var offset: UInt64
    public var virtualAddress: UInt64
    public var physicalAddress: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64
    public var alignment: UInt64

    public init(type: UInt32, flags: UInt32, offset: UInt64, virtualAddress: UInt64,
                physicalAddress: UInt64 = 0, fileSize: UInt64, memorySize: UInt64,
                alignment: UInt64) {
        self.type = type
        self.flags = flags
        self.offset = offset
        self.virtualAddress = virtualAddress
        self.physicalAddress = physicalAddress
        self.fileSize = fileSize
        self.memorySize = memorySize
        self.alignment = alignment
    }

    public var isReadable: Bool { flags & ProgramHeaderFlags.readable != 0 }
    public var isWritable: Bool { flags & ProgramHeaderFlags.writable != 0 }
    public var isExecutable: Bool { flags & ProgramHeaderFlags.executable != 0 }
}

/// The thread-local storage template described by PT_TLS (addresses before relocation in
/// ELFImage, after relocation in LoadPlan). The C library sets TLS up itself from AT_PHDR;
/// the kernel only needs this for diagnostics and for tests.
public struct TLSTemplate: Equatable, Sendable {
    /// Address of the initialisation image (p_vaddr).
    public var address: UInt64
    /// File offset of the initialisation image (p_offset).
    public var fileOffset: UInt64
    /// Bytes of initialised data (.tdata, p_filesz).
    public var fileSize: UInt64
    /// Total size including zero-filled .tbss (p_memsz).
    public var memorySize: UInt64
    /// Required alignment of each thread's block (p_align).
    public var alignment: UInt64

    public init(address: UInt64, fileOffset: UInt64, fileSize: UInt64, memorySize: UInt64,
                alignment: UInt64) {
        self.address = address
        self.fileOffset = fileOffset
        self.fileSize = fileSize
        self.memorySize = memorySize
        self.alignment = alignment
    }
}

public struct ELFImage<Source: ByteSource> {
    /// The bytes the image was parsed from; segment contents are read from here.
    public let source: Source
    public let type: ELFFileType
    /// e_entry as in the file (not relocated).
    public let entry: UInt64
    public let programHeaderOffset: UInt64   // e_phoff
    public let programHeaderEntrySize: UInt16 // e_phentsize
    public let programHeaderCount: UInt16    // e_phnum
    public let programHeaders: [ProgramHeader]
    /// PT_TLS, if present.
    public let tls: TLSTemplate?
    /// p_flags of PT_GNU_STACK, or nil if the file has none. On x86-64 Linux a missing
    /// PT_GNU_STACK means a non-executable stack for 64-bit programs.
    public let gnuStackFlags: UInt32?
    /// p_vaddr of PT_PHDR, if present.
    public let programHeaderTableAddress: UInt64?

    /// Parses and validates `source`. Checks run in the order a user would want to hear
    /// about them: not an ELF at all, wrong kind of ELF, dynamically linked, then details.
    public init(_ source: Source) throws(ELFError) {
        self.source = source
        let count = source.byteCount
        // e_ident: magic, class, data. Each byte is checked only if present so that a short
        // file that is not an ELF at all says so rather than "truncated".
        let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
        if count == 0 { throw .notELF }
        for i in 0..<min(4, count) where source.byte(at: i) != magic[i] { throw .notELF }
        if count > 4 && source.byte(at: 4) != ELFConstants.classELF64 { throw .not64Bit }
        if count > 5 && source.byte(at: 5) != ELFConstants.dataLittleEndian {
            throw .notLittleEndian
        }
        guard count >= ELFConstants.headerSize else { throw .truncated(.header) }

        let machine = source.littleEndian16(at: 18)
        guard machine == ELFConstants.machineX86_64 else { throw .wrongMachine(machine) }
        let rawType = source.littleEndian16(at: 16)
        guard let type = ELFFileType(rawValue: rawType) else { throw .notExecutable(rawType) }
        self.type = type
        entry = source.littleEndian64(at: 24)
        programHeaderOffset = source.littleEndian64(at: 32)
        programHeaderEntrySize = source.littleEndian16(at: 54)
        programHeaderCount = source.littleEndian16(at: 56)

        // Program header table (Linux elf_read_phdrs).
        guard Int(programHeaderEntrySize) == ELFConstants.programHeaderSize else {
            throw .badProgramHeaderTable
        }
        let tableSize = UInt64(programHeaderCount) * UInt64(ELFConstants.programHeaderSize)
        guard tableSize <= UInt64(ELFConstants.maxProgramHeaderTableSize) else {
            throw .badProgramHeaderTable
        }
        guard programHeaderOffset <= UInt64(count),
              tableSize <= UInt64(count) - programHeaderOffset else {
            throw .truncated(.programHeaders)
        }
        var headers: [ProgramHeader] = []
        headers.reserveCapacity(Int(programHeaderCount))
        for i in 0..<Int(programHeaderCount) {
            let at = Int(programHeaderOffset) + i * ELFConstants.programHeaderSize
            headers.append(ProgramHeader(
                type: source.littleEndian32(at: at),
                flags: source.littleEndian32(at: at + 4),
                offset: source.littleEndian64(at: at + 8),
                virtualAddress: source.littleEndian64(at: at + 16),
                physicalAddress: source.littleEndian64(at: at + 24),
                fileSize: source.littleEndian64(at: at + 32),
                memorySize: source.littleEndian64(at: at + 40),
                alignment: source.littleEndian64(at: at + 48)))
        }
        programHeaders = headers

        if headers.contains(where: { $0.type == ProgramHeaderType.interpreter }) {
            throw .dynamicallyLinked
        }

        var tls: TLSTemplate? = nil
        var gnuStackFlags: UInt32? = nil
        var phdrAddress: UInt64? = nil
        var loadIndices: [Int] = []
        for (index, header) in headers.enumerated() {
            switch header.type {
            case ProgramHeaderType.load:
                try Self.validateLoad(header, index: index, fileSize: count)
                if header.memorySize > 0 { loadIndices.append(index) }
            case ProgramHeaderType.threadLocalStorage:
                try Self.validateFileRange(header, index: index, fileSize: count)
                guard header.alignment == 0 || header.alignment & (header.alignment - 1) == 0 else {
                    throw .badSegment(index: index, .badAlignment)
                }
                tls = TLSTemplate(address: header.virtualAddress, fileOffset: header.offset,
                                  fileSize: header.fileSize, memorySize: header.memorySize,
                                  alignment: header.alignment)
            case ProgramHeaderType.gnuStack:
                gnuStackFlags = header.flags
            case ProgramHeaderType.programHeaderTable:
                phdrAddress = header.virtualAddress
            default:
                break
            }
        }
        guard !loadIndices.isEmpty else { throw .noLoadableSegments }

        // Overlapping PT_LOADs: Linux would silently let the later mmap win; a linker never
        // produces that, so it is a corrupt file. Exact byte ranges are compared, since
        // segments may legitimately share a page (LoadPlan merges those).
        for (position, i) in loadIndices.enumerated() {
            let a = headers[i]
            for j in loadIndices[(position + 1)...] {
                let b = headers[j]
                if a.virtualAddress < b.virtualAddress + b.memorySize
                    && b.virtualAddress < a.virtualAddress + a.memorySize {
                    throw .badSegment(index: j, .overlaps(i))
                }
            }
        }

        let entry = self.entry
        guard loadIndices.contains(where: { index in
            let h = headers[index]
            return h.isExecutable && entry >= h.virtualAddress
                && entry - h.virtualAddress < h.memorySize
        }) else { throw .entryOutsideSegments(entry) }

        self.tls = tls
        self.gnuStackFlags = gnuStackFlags
        self.programHeaderTableAddress = phdrAddress
    }

    /// The PT_LOAD headers with a non-zero memory size, in file order.
    public var loadSegments: [ProgramHeader] {
        programHeaders.filter { $0.type == ProgramHeaderType.load && $0.memorySize > 0 }
    }

    /// True when PT_GNU_STACK asks for an executable stack.
    public var executableStack: Bool {
        if let flags = gnuStackFlags { return flags & ProgramHeaderFlags.executable != 0 }
        return false
    }

    private static func validateFileRange(_ header: ProgramHeader, index: Int,
                                          fileSize: Int) throws(ELFError) {
        guard header.fileSize <= header.memorySize else {
            throw .badSegment(index: index, .fileSizeExceedsMemorySize)
        }
        guard header.offset <= UInt64(fileSize),
              header.fileSize <= UInt64(fileSize) - header.offset else {
            throw .truncated(.segment(index))
        }
    }

    private static func validateLoad(_ header: ProgramHeader, index: Int,
                                     fileSize: Int) throws(ELFError) {
        try validateFileRange(header, index: index, fileSize: fileSize)
        guard header.alignment == 0 || header.alignment & (header.alignment - 1) == 0 else {
            throw .badSegment(index: index, .badAlignment)
        }
        let pageMask = ELFConstants.pageSize - 1
        guard header.virtualAddress & pageMask == header.offset & pageMask else {
            throw .badSegment(index: index, .offsetNotCongruentWithAddress)
        }
        let (end, overflow) = header.virtualAddress.addingReportingOverflow(header.memorySize)
        guard !overflow else { throw .badSegment(index: index, .addressOverflow) }
        guard end <= ELFConstants.userAddressLimit else {
            throw .badSegment(index: index, .outsideUserAddressSpace)
        }
    }
}
