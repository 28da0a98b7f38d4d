// ELFError — why an executable cannot be run by egg (ELF layer, pure logic).
//
// Thrown by ELFImage (ELFImage.swift) while it validates a file and by ELFImage.makeLoadPlan
// (LoadPlan.swift). The egg CLI (Sources/egg) prints `message` after the file name; the
// kernel (Sources/Kernel) prints it on a boot failure. The checks mirror what Linux's
// fs/binfmt_elf.c load_elf_binary() refuses with ENOEXEC/EINVAL, plus a few it leaves to
// a later page fault (entry outside the image), which egg prefers to report up front.

/// The part of the file that ended too early.
public enum ELFTruncatedPart: Equatable, Sendable {
    /// The 64-byte ELF header.
    case header
    /// The program header table (e_phoff + e_phnum × e_phentsize).
    case programHeaders
    /// The file bytes (p_offset, p_filesz) of the program header with this index.
    case segment(Int)
}

/// What is wrong with one program header.
public enum ELFSegmentProblem: Equatable, Sendable {
    /// p_filesz > p_memsz.
    case fileSizeExceedsMemorySize
    /// p_vaddr and p_offset differ modulo the 4 KiB page, so the file page cannot be
    /// mapped at the address (Linux's mmap of the segment would fail with EINVAL).
    case offsetNotCongruentWithAddress
    /// p_align is neither 0 nor a power of two.
    case badAlignment
    /// p_vaddr + p_memsz overflows 64 bits.
    case addressOverflow
    /// The segment reaches beyond the user half of the address space (0x0000_8000_0000_0000).
    case outsideUserAddressSpace
    /// The segment's memory range intersects that of the PT_LOAD with this index.
    case overlaps(Int)
}

public enum ELFError: Error, Equatable, Sendable {
    /// The file does not start with "\u{7f}ELF".
    case notELF
    /// EI_CLASS is not ELFCLASS64.
    case not64Bit
    /// EI_DATA is not ELFDATA2LSB.
    case notLittleEndian
    /// e_machine is not EM_X86_64 (62); the value found.
    case wrongMachine(UInt16)
    /// e_type is not ET_EXEC or ET_DYN (e.g. ET_REL object file, ET_CORE dump); the value found.
    case notExecutable(UInt16)
    /// A PT_INTERP program header asks for a dynamic linker, which egg does not provide.
    case dynamicallyLinked
    /// A part of the file lies (partly) beyond its end.
    case truncated(ELFTruncatedPart)
    /// e_phentsize is not 56 or the table is larger than Linux accepts (64 KiB).
    case badProgramHeaderTable
    /// The program header with this index describes an unloadable segment.
    case badSegment(index: Int, ELFSegmentProblem)
    /// No PT_LOAD program header with a non-zero size.
    case noLoadableSegments
    /// e_entry (the value found, before relocation) is not inside an executable PT_LOAD.
    case entryOutsideSegments(UInt64)
    /// The load base chosen for a static-PIE (the value given) is not page aligned or puts
    /// the image outside the user half of the address space.
    case badBase(UInt64)

    /// One line a CLI can print after the file name, e.g. "prog: <message>".
    public var message: String {
        switch self {
        case .notELF:
            return "is not an ELF file (bad magic number)"
        case .not64Bit:
            return "is a 32-bit ELF file; egg runs 64-bit x86-64 programs only"
        case .notLittleEndian:
            return "is a big-endian ELF file; egg runs little-endian x86-64 programs only"
        case .wrongMachine(let machine):
            return "is built for machine " + String(machine) + " (" + machineName(machine)
                + "), not x86-64 (62)"
        case .notExecutable(let type):
            return "is not an executable (ELF type " + String(type) + ", " + typeName(type)
                + "); link it into a program first"
        case .dynamicallyLinked:
            return "is dynamically linked (it has an interpreter); link it with -static"
        case .truncated(let part):
            switch part {
            case .header:
                return "is truncated: the ELF header is incomplete"
            case .programHeaders:
                return "is truncated: the program header table lies beyond the end of the file"
            case .segment(let index):
                return "is truncated: segment " + String(index) + " lies beyond the end of the file"
            }
        case .badProgramHeaderTable:
            return "has a malformed program header table (entry size is not 56 or table too large)"
        case .badSegment(let index, let problem):
            let prefix = "has a bad segment " + String(index) + ": "
            switch problem {
            case .fileSizeExceedsMemorySize:
                return prefix + "file size is larger than memory size"
            case .offsetNotCongruentWithAddress:
                return prefix + "file offset and address differ modulo the page size"
            case .badAlignment:
                return prefix + "alignment is not a power of two"
            case .addressOverflow:
                return prefix + "address range overflows"
            case .outsideUserAddressSpace:
                return prefix + "address range is outside user space (above 0x7f7ffffff000)"
            case .overlaps(let other):
                return prefix + "overlaps segment " + String(other)
            }
        case .noLoadableSegments:
            return "has no loadable segments"
        case .entryOutsideSegments(let entry):
            return "has its entry point " + hexString(entry) + " outside every executable segment"
        case .badBase(let base):
            return "cannot be loaded at base " + hexString(base)
                + " (not page aligned, or the image would leave user space)"
        }
    }
}

private func machineName(_ machine: UInt16) -> String {
    switch machine {
    case 0: return "none"
    case 3: return "i386"
    case 8: return "MIPS"
    case 20: return "PowerPC"
    case 21: return "PowerPC64"
    case 40: return "ARM"
    case 183: return "AArch64"
    case 243: return "RISC-V"
    default: return "unknown"
    }
}

private func typeName(_ type: UInt16) -> String {
    switch type {
    case 0: return "ET_NONE"
    case 1: return "ET_REL, a relocatable object"
    case 4: return "ET_CORE, a core dump"
    default: return "unknown"
    }
}

/// "0x" followed by lower-case hex digits; written out because Embedded Swift's
/// String(_:radix:) support is not something the kernel build should depend on.
func hexString(_ value: UInt64) -> String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    var v = value
    repeat {
        out.append(digits[Int(v & 0xf)])
        v >>= 4
    } while v != 0
    var result = "0x"
    for d in out.reversed() { result.unicodeScalars.append(Unicode.Scalar(d)) }
    return result
}
