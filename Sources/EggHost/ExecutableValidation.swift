// ExecutableValidation — checks that a file is something egg can run, before QEMU starts
// (EggHost layer, host only).
//
// egg runs one statically linked x86-64 Linux program. Anything else (a script, a 32-bit or
// foreign-architecture ELF, an object file, a dynamically linked program, a truncated copy)
// is refused here with one line saying what is wrong and what to do. egg then exits with
// docker's statuses (`problem.exitStatus`): 127 when the path does not exist, 126 when the
// file is not something egg can run, 125 when it is too large for the guest's memory.
// Parsing goes through elfutils' libelf (Sources/CLibELF); field meanings follow the System V
// ABI gABI ch. 4 and elf(5). The kernel does its own loading with the pure Sources/ELF module.
//
// Hostile input: only regular files are opened (stat first: opening a FIFO would block and
// reading /dev/zero never ends); the first bytes are judged before the rest is read, and a
// file larger than the guest's memory is refused before it is read; every sum of header
// fields is computed with overflow checks (a p_offset + p_filesz that wraps used to trap).

import CLibELF
import Foundation
import KernelCore

/// A file that passed the checks: its bytes go into the boot bundle unchanged.
public struct ValidatedExecutable: Equatable {
    public var bytes: [UInt8]
    /// ET_EXEC (fixed address) or ET_DYN (static PIE).
    public var isPositionIndependent: Bool
    public var entry: UInt64
    public var loadSegmentCount: Int
}

/// Why egg refuses a file. `message` is the text after "egg: PATH: ".
public enum ExecutableProblem: Error, Equatable {
    case cannotOpen(errno: Int32)
    case isDirectory
    /// A FIFO, a device, a socket: never opened (a FIFO blocks, /dev/zero never ends).
    case notRegularFile(kind: String)
    /// Larger than `maximum` bytes, the most the guest's memory (-m) can take.
    case tooLarge(bytes: UInt64, maximum: UInt64)
    case notELF(startsWith: [UInt8])
    case script(interpreter: String)
    case archive
    case elf32
    case bigEndian
    case wrongMachine(UInt16)
    case notAnExecutable(type: UInt16)
    case sharedLibrary
    case dynamic(interpreter: String)
    case noLoadableSegments
    case truncated(detail: String)
    /// A PT_LOAD segment's addresses wrap or end above the guest's user space.
    case outsideUserSpace(segment: Int, end: UInt64?)
    case libelf(String)

    /// egg's exit status for this refusal (docker's reserved statuses, DESIGN.md):
    /// 127 the path does not exist, 125 too large for -m (an option egg refuses), 126 the
    /// file is there but not something egg can run.
    public var exitStatus: Int32 {
        switch self {
        case .cannotOpen(let code) where code == ENOENT || code == ENOTDIR || code == ELOOP || code == ENAMETOOLONG:
            return EggStatus.notFound
        case .tooLarge: return EggStatus.eggFailure
        default: return EggStatus.notRunnable
        }
    }

    public var message: String {
        let hint = "egg runs statically linked x86-64 Linux programs"
        switch self {
        case .cannotOpen(let code):
            let what = String(cString: strerror(code))
            return code == ENOENT ? "\(what); check the path" : "\(what); check the file's permissions"
        case .isDirectory:
            return "is a directory; give the path of a program"
        case .notRegularFile(let kind):
            return "is \(kind), not a regular file; give the path of a program"
        case .tooLarge(let bytes, let maximum):
            return "is \(describeBytes(bytes)), more than the guest's memory can hold (at most \(describeBytes(maximum)) with this -m); give a larger -m"
        case .notELF(let head):
            return "not an ELF executable (starts with \(describe(head))); \(hint)"
        case .script(let interpreter):
            return "a script for \(interpreter), not an ELF executable; run the interpreter's static binary with the script as an argument"
        case .archive:
            return "an ar archive (static library), not an ELF executable; link it into a program with -static"
        case .elf32:
            return "a 32-bit ELF (ELFCLASS32); \(hint): rebuild it for x86-64 without -m32"
        case .bigEndian:
            return "a big-endian ELF; \(hint): rebuild it for x86-64"
        case .wrongMachine(let machine):
            return "an ELF for \(machineName(machine)), not x86-64; rebuild it for x86-64"
        case .notAnExecutable(let type):
            return "an ELF \(typeName(type)), not an executable; link it into a program with -static"
        case .sharedLibrary:
            return "a shared library (ET_DYN without an entry point), not a program; link a program with -static"
        case .dynamic(let interpreter):
            return "dynamically linked (needs the interpreter \(interpreter)); link it with -static"
        case .noLoadableSegments:
            return "an ELF executable with no PT_LOAD segment; relink it"
        case .truncated(let detail):
            return "truncated: \(detail); rebuild it or copy it again"
        case .outsideUserSpace(let segment, let end):
            let limit = "0x" + String(ProgramLoader.stackTop, radix: 16)
            guard let end else { return "segment \(segment)'s address range wraps around; relink it" }
            return "segment \(segment) ends at 0x\(String(end, radix: 16)), above the end of egg's user space (\(limit), README: Architecture); relink it lower"
        case .libelf(let text):
            return "not a valid ELF file (libelf: \(text)); rebuild it"
        }
    }
}

/// What kind of non-regular file `mode` describes ("a FIFO", ...), nil for a regular file.
private func nonRegularFile(_ mode: mode_t) -> ExecutableProblem? {
    switch mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return .isDirectory
    case S_IFIFO: return .notRegularFile(kind: "a FIFO (named pipe)")
    case S_IFCHR: return .notRegularFile(kind: "a character device")
    case S_IFBLK: return .notRegularFile(kind: "a block device")
    case S_IFSOCK: return .notRegularFile(kind: "a socket")
    default: return .notRegularFile(kind: "a special file")
    }
}

/// Whether `path` is a regular file (after symlinks), checked without opening it.
public func isRegularFile(atPath path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}

/// How many leading bytes decide the cheap refusals (magic, #! line, e_ident, header).
let executableHeadBytes = 256

/// Reads and checks `path`. Errors carry the reason; the caller prints `egg: PATH: message`
/// and exits with `problem.exitStatus`. `maximumBytes`: refuse a larger file before reading
/// it (the guest's memory, -m). Only a regular file is opened, with O_NONBLOCK so that a
/// file swapped for a FIFO after the stat cannot block egg, and checked again by fstat.
public func validateExecutable(atPath path: String, maximumBytes: UInt64? = nil) -> Result<ValidatedExecutable, ExecutableProblem> {
    var info = stat()
    if stat(path, &info) != 0 { return .failure(.cannotOpen(errno: errno)) }
    if let problem = nonRegularFile(info.st_mode) { return .failure(problem) }
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
    if fd < 0 { return .failure(.cannotOpen(errno: errno)) }
    defer { close(fd) }
    if fstat(fd, &info) != 0 { return .failure(.cannotOpen(errno: errno)) }
    if let problem = nonRegularFile(info.st_mode) { return .failure(problem) }
    let size = UInt64(max(info.st_size, 0))

    // The head first: a text file, an archive or a 32-bit ELF is refused without reading more.
    var head: [UInt8]
    switch readUpTo(fd, count: Int(min(size, UInt64(executableHeadBytes)))) {
    case .success(let bytes): head = bytes
    case .failure(let problem): return .failure(problem)
    }
    if case .failure(let problem) = validateExecutableHead(head) { return .failure(problem) }
    if let maximumBytes, size > maximumBytes { return .failure(.tooLarge(bytes: size, maximum: maximumBytes)) }
    // The rest, up to the size fstat gave (a file that grows meanwhile is cut there; one
    // that shrinks is judged as it is, usually "truncated").
    switch readUpTo(fd, count: Int(size) - head.count) {
    case .success(let rest): head += rest
    case .failure(let problem): return .failure(problem)
    }
    return validateExecutable(bytes: head)
}

/// Up to `count` bytes from `fd`'s current offset (fewer at end of file).
private func readUpTo(_ fd: Int32, count: Int) -> Result<[UInt8], ExecutableProblem> {
    guard count > 0 else { return .success([]) }
    var bytes = [UInt8](repeating: 0, count: count)
    var done = 0
    while done < count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, min(count - done, 1 << 24)) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(.cannotOpen(errno: errno))
        }
        if n == 0 { break }
        done += n
    }
    bytes.removeLast(count - done)
    return .success(bytes)
}

/// The refusals the first bytes decide: not ELF (script, archive, other), 32-bit, big-endian.
/// Success means "worth reading the rest".
func validateExecutableHead(_ bytes: [UInt8]) -> Result<Void, ExecutableProblem> {
    let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    if bytes.count < 4 || Array(bytes[0..<4]) != elfMagic {
        if bytes.starts(with: Array("#!".utf8)) {
            let line = bytes.dropFirst(2).prefix { $0 != 0x0A }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            return .failure(.script(interpreter: text.isEmpty ? "a shell" : text))
        }
        if bytes.starts(with: Array("!<arch>\n".utf8)) { return .failure(.archive) }
        return .failure(.notELF(startsWith: Array(bytes.prefix(4))))
    }
    // e_ident checks first: they need no libelf and give the most specific message.
    if bytes.count > 4 && bytes[4] == 1 { return .failure(.elf32) }
    if bytes.count > 5 && bytes[5] == 2 { return .failure(.bigEndian) }
    if bytes.count < 64 {
        return .failure(.truncated(detail: "the file has \(bytes.count) bytes, less than the 64-byte ELF header"))
    }
    return .success(())
}

/// The checks themselves, on bytes already read (tests call this directly).
public func validateExecutable(bytes: [UInt8]) -> Result<ValidatedExecutable, ExecutableProblem> {
    if case .failure(let problem) = validateExecutableHead(bytes) { return .failure(problem) }

    // The header tables must lie inside the file (ELF-64 §"ELF Header": e_phoff, e_phnum,
    // e_phentsize, e_shoff, e_shnum, e_shentsize). Checked on the raw little-endian bytes so
    // that a copy cut short is named as such instead of as a libelf "invalid data".
    let phoff = bytes.littleEndian(at: 0x20, width: 8), phentsize = bytes.littleEndian(at: 0x36, width: 2)
    let phnum = bytes.littleEndian(at: 0x38, width: 2)
    let shoff = bytes.littleEndian(at: 0x28, width: 8), shentsize = bytes.littleEndian(at: 0x3A, width: 2)
    let shnum = bytes.littleEndian(at: 0x3C, width: 2)
    let fileSize = UInt64(bytes.count)
    if phoff > fileSize || phnum * phentsize > fileSize - phoff {
        return .failure(.truncated(detail:
            "its program header table ends at byte \(phoff &+ phnum * phentsize) but the file has \(bytes.count) bytes"))
    }
    if shoff != 0 && (shoff > fileSize || shnum * shentsize > fileSize - shoff) {
        return .failure(.truncated(detail:
            "its section header table ends at byte \(shoff &+ shnum * shentsize) but the file has \(bytes.count) bytes"))
    }

    _ = elf_version(UInt32(EV_CURRENT))
    var copy = bytes
    return copy.withUnsafeMutableBytes { raw -> Result<ValidatedExecutable, ExecutableProblem> in
        let image = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        guard let elf = elf_memory(image, raw.count) else { return .failure(.libelf(libelfError())) }
        defer { elf_end(elf) }
        guard elf_kind(elf) == ELF_K_ELF else { return .failure(.notELF(startsWith: Array(bytes.prefix(4)))) }
        var header = GElf_Ehdr()
        guard gelf_getehdr(elf, &header) != nil else { return .failure(.libelf(libelfError())) }
        if header.e_machine != UInt16(EM_X86_64) { return .failure(.wrongMachine(header.e_machine)) }
        let type = header.e_type
        guard type == UInt16(ET_EXEC) || type == UInt16(ET_DYN) else {
            return .failure(.notAnExecutable(type: type))
        }
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return .failure(.libelf(libelfError())) }
        // With e_phnum = PN_XNUM the count comes from section 0's sh_info, another untrusted
        // field: it must fit the file (56-byte entries) before it indexes anything.
        guard count >= 0, UInt64(count) <= (fileSize - phoff) / 56 else {
            return .failure(.truncated(detail: "its program header table (\(count) entries) does not fit in the file's \(bytes.count) bytes"))
        }
        var loads = 0
        var interpreter: String?
        var truncation: String?
        var outside: ExecutableProblem?
        for index in 0..<count {
            var ph = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &ph) != nil else { return .failure(.libelf(libelfError())) }
            // Every sum of two untrusted fields is checked: p_offset + p_filesz may wrap.
            let (end, wrapped) = ph.p_offset.addingReportingOverflow(ph.p_filesz)
            if ph.p_type == UInt32(PT_LOAD) || ph.p_type == UInt32(PT_INTERP) {
                if wrapped || end > UInt64(bytes.count) {
                    truncation = truncation ?? (wrapped
                        ? "segment \(index)'s file offset 0x\(String(ph.p_offset, radix: 16)) plus its size 0x\(String(ph.p_filesz, radix: 16)) wraps around"
                        : "segment \(index) ends at byte \(end) but the file has \(bytes.count) bytes")
                    continue
                }
            }
            if ph.p_type == UInt32(PT_LOAD) {
                loads += 1
                // The segment must end inside the guest's user space (the kernel's own
                // loader checks this too; refused here with a message before QEMU starts).
                let base: UInt64 = type == UInt16(ET_DYN) ? staticPIEBase : 0
                let (start, startWrapped) = base.addingReportingOverflow(ph.p_vaddr)
                let (segmentEnd, endWrapped) = start.addingReportingOverflow(ph.p_memsz)
                if startWrapped || endWrapped {
                    outside = outside ?? .outsideUserSpace(segment: index, end: nil)
                } else if segmentEnd > ProgramLoader.stackTop {
                    outside = outside ?? .outsideUserSpace(segment: index, end: segmentEnd)
                }
            }
            if ph.p_type == UInt32(PT_INTERP) {
                let start = Int(ph.p_offset)
                let text = bytes[start..<Int(end)].prefix { $0 != 0 }
                interpreter = String(decoding: text, as: UTF8.self)
            }
        }
        // A dynamic program is refused for that reason even if it is also cut short.
        if let interpreter { return .failure(.dynamic(interpreter: interpreter)) }
        if let truncation { return .failure(.truncated(detail: truncation)) }
        if let outside { return .failure(outside) }
        if loads == 0 { return .failure(.noLoadableSegments) }
        if type == UInt16(ET_DYN) && header.e_entry == 0 { return .failure(.sharedLibrary) }
        return .success(ValidatedExecutable(bytes: bytes, isPositionIndependent: type == UInt16(ET_DYN),
                                            entry: header.e_entry, loadSegmentCount: loads))
    }
}

/// Where the kernel loads a static PIE: Linux's ELF_ET_DYN_BASE on x86-64, as
/// Sources/ELF/LoadPlan.swift (ELFImage.defaultPIEBase) chooses it.
let staticPIEBase: UInt64 = 0x5555_5555_4000

/// "3 MiB", "812 KiB", "120 bytes": sizes in refusals.
func describeBytes(_ bytes: UInt64) -> String {
    if bytes >= 1 << 30 && bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
    if bytes >= 1 << 20 { return "\(bytes >> 20) MiB" }
    if bytes >= 1 << 10 { return "\(bytes >> 10) KiB" }
    return "\(bytes) bytes"
}

private func libelfError() -> String {
    guard let text = elf_errmsg(-1) else { return "unknown error" }
    return String(cString: text)
}

private func describe(_ head: [UInt8]) -> String {
    if head.isEmpty { return "nothing: the file is empty" }
    let printable = head.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    if printable { return "\"\(String(decoding: head, as: UTF8.self))\"" }
    return head.map { String(format: "%02x", $0) }.joined(separator: " ")
}

/// e_machine values from elf(5) / <elf.h> that people are likely to hand egg by mistake.
private func machineName(_ machine: UInt16) -> String {
    switch Int32(machine) {
    case EM_386: return "i386"
    case EM_ARM: return "32-bit ARM"
    case EM_AARCH64: return "AArch64"
    case EM_RISCV: return "RISC-V"
    case EM_PPC64: return "PowerPC64"
    case EM_S390: return "s390"
    case EM_MIPS: return "MIPS"
    case EM_LOONGARCH: return "LoongArch"
    default: return "machine \(machine)"
    }
}

private func typeName(_ type: UInt16) -> String {
    switch Int32(type) {
    case ET_REL: return "relocatable object (ET_REL, a .o file)"
    case ET_CORE: return "core dump (ET_CORE)"
    case ET_NONE: return "file of type ET_NONE"
    default: return "file of type \(type)"
    }
}

extension Array where Element == UInt8 {
    /// Little-endian unsigned field of `width` bytes; the caller has checked the bounds.
    fileprivate func littleEndian(at offset: Int, width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
