// ExecutableValidation — checks that a file is something egg can run, before QEMU starts
// (EggHost layer, host only).
//
// egg runs one statically linked x86-64 Linux program. Anything else (a script, a 32-bit or
// foreign-architecture ELF, an object file, a dynamically linked program, a truncated copy)
// is refused here with one line saying what is wrong and what to do, and egg exits 2.
// Parsing goes through elfutils' libelf (Sources/CLibELF); field meanings follow the System V
// ABI gABI ch. 4 and elf(5). The kernel does its own loading with the pure Sources/ELF module.

import CLibELF
import Foundation

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
    case libelf(String)

    public var message: String {
        let hint = "egg runs statically linked x86-64 Linux programs"
        switch self {
        case .cannotOpen(let code):
            let what = String(cString: strerror(code))
            return code == ENOENT ? "\(what); check the path" : "\(what); check the file's permissions"
        case .isDirectory:
            return "is a directory; give the path of a program"
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
        case .libelf(let text):
            return "not a valid ELF file (libelf: \(text)); rebuild it"
        }
    }
}

/// Reads and checks `path`. Errors carry the reason; the caller prints `egg: PATH: message`.
public func validateExecutable(atPath path: String) -> Result<ValidatedExecutable, ExecutableProblem> {
    var info = stat()
    if stat(path, &info) != 0 { return .failure(.cannotOpen(errno: errno)) }
    if (info.st_mode & S_IFMT) == S_IFDIR { return .failure(.isDirectory) }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return .failure(.cannotOpen(errno: errno)) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(.cannotOpen(errno: errno))
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return validateExecutable(bytes: bytes)
}

/// The checks themselves, on bytes already read (tests call this directly).
public func validateExecutable(bytes: [UInt8]) -> Result<ValidatedExecutable, ExecutableProblem> {
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
        var loads = 0
        var interpreter: String?
        var truncation: String?
        for index in 0..<count {
            var ph = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &ph) != nil else { return .failure(.libelf(libelfError())) }
            let end = ph.p_offset + ph.p_filesz
            if ph.p_type == UInt32(PT_LOAD) || ph.p_type == UInt32(PT_INTERP) {
                if end < ph.p_offset || end > UInt64(bytes.count) {
                    truncation = truncation
                        ?? "segment \(index) ends at byte \(end) but the file has \(bytes.count) bytes"
                    continue
                }
            }
            if ph.p_type == UInt32(PT_LOAD) { loads += 1 }
            if ph.p_type == UInt32(PT_INTERP) {
                let start = Int(ph.p_offset)
                let text = bytes[start..<Int(end)].prefix { $0 != 0 }
                interpreter = String(decoding: text, as: UTF8.self)
            }
        }
        // A dynamic program is refused for that reason even if it is also cut short.
        if let interpreter { return .failure(.dynamic(interpreter: interpreter)) }
        if let truncation { return .failure(.truncated(detail: truncation)) }
        if loads == 0 { return .failure(.noLoadableSegments) }
        if type == UInt16(ET_DYN) && header.e_entry == 0 { return .failure(.sharedLibrary) }
        return .success(ValidatedExecutable(bytes: bytes, isPositionIndependent: type == UInt16(ET_DYN),
                                            entry: header.e_entry, loadSegmentCount: loads))
    }
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
