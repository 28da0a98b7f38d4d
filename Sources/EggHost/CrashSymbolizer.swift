// CrashSymbolizer — function names for the addresses in a crash report or kernel panic
// (EggHost layer, host only).
//
// The kernel reports a guest crash on the control channel as
// "crash ip 0x401136 bt 0x401160 0x401020" (Sources/KernelCore/CrashReport.swift,
// hostChannelLine; the backtrace is walked from rbp) and a kernel CPU exception as
// "panic ... at rip 0x7f8000012345" (Sources/Kernel/Traps.swift). egg has both ELF files, so
// it names the functions: the guest's own symbol table (static-PIE addresses minus the load
// base the kernel chose, ELF.LoadPlan) and build/kernel/kernel.elf's. Symbols are read with
// libelf (.symtab, falling back to .dynsym); a stripped program just gets no names.

import CLibELF
import ELF
import Foundation

public struct SymbolTable {
    public struct Symbol: Equatable {
        public var start: UInt64
        public var size: UInt64
        public var name: String
    }
    /// Function symbols sorted by address.
    public private(set) var symbols: [Symbol]

    public init(symbols: [Symbol]) {
        self.symbols = symbols.sorted { $0.start < $1.start }
    }

    /// The function symbols of an ELF image (STT_FUNC, and STT_NOTYPE labels in text such as
    /// _start in assembly); nil when libelf cannot read it.
    public init?(elfBytes bytes: [UInt8]) {
        _ = elf_version(UInt32(EV_CURRENT))
        var found: [Symbol] = []
        let ok: Bool = bytes.withUnsafeBytes { raw in
            let image = UnsafeMutablePointer(mutating: raw.bindMemory(to: CChar.self).baseAddress!)
            guard let elf = elf_memory(image, raw.count) else { return false }
            defer { elf_end(elf) }
            var section: OpaquePointer? = nil
            var sawSymtab = false
            var dynamic: [Symbol] = []
            while true {
                section = elf_nextscn(elf, section)
                guard let scn = section else { break }
                var header = GElf_Shdr()
                guard gelf_getshdr(scn, &header) != nil else { continue }
                guard header.sh_type == SHT_SYMTAB || header.sh_type == SHT_DYNSYM,
                      header.sh_entsize > 0, let data = elf_getdata(scn, nil) else { continue }
                let count = Int(header.sh_size / header.sh_entsize)
                var collected: [Symbol] = []
                for index in 0..<count {
                    var symbol = GElf_Sym()
                    guard gelf_getsym(data, Int32(index), &symbol) != nil else { continue }
                    let type = Int32(symbol.st_info & 0xf)
                    guard (type == STT_FUNC || type == STT_NOTYPE || type == STT_GNU_IFUNC),
                          symbol.st_value != 0, symbol.st_shndx != 0,
                          let cName = elf_strptr(elf, Int(header.sh_link), Int(symbol.st_name)) else { continue }
                    let name = String(cString: cName)
                    if name.isEmpty || name.hasPrefix("$x") || name.hasPrefix(".L") { continue }
                    collected.append(Symbol(start: symbol.st_value, size: symbol.st_size, name: name))
                }
                if header.sh_type == SHT_SYMTAB {
                    sawSymtab = true
                    found += collected
                } else {
                    dynamic += collected
                }
            }
            if !sawSymtab { found = dynamic }
            return true
        }
        guard ok else { return nil }
        self.init(symbols: found)
    }

    public init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        self.init(elfBytes: [UInt8](data))
    }

    /// "main+0x14" for an address inside (or just after the start of) a function. A symbol
    /// with a size must contain the address; a sizeless one (assembly labels) covers up to
    /// the next symbol.
    public func describe(_ address: UInt64) -> String? {
        guard let (symbol, offset) = symbol(containing: address) else { return nil }
        return symbol.name + "+0x" + String(offset, radix: 16)
    }

    /// The function symbol `address` lies in, and the offset into it.
    public func symbol(containing address: UInt64) -> (Symbol, UInt64)? {
        var low = 0, high = symbols.count
        while low < high {
            let mid = (low + high) / 2
            if symbols[mid].start <= address { low = mid + 1 } else { high = mid }
        }
        let last = low - 1
        guard last >= 0 else { return nil }
        // A function (sized symbol) that contains the address wins over labels such as
        // __text_start or a local loop label; look back a little for the nearest one.
        var index = last
        while index >= 0 && index > last - 64 {
            let s = symbols[index]
            if s.size > 0 && address < s.start + s.size { return (s, address - s.start) }
            index -= 1
        }
        // Else a sizeless label (assembly such as _start) covers up to the next symbol.
        var sizeless = last
        while sizeless >= 0 && symbols[sizeless].start == symbols[last].start {
            if symbols[sizeless].size == 0 { return (symbols[sizeless], address - symbols[sizeless].start) }
            sizeless -= 1
        }
        return nil
    }
}

/// The load base the kernel gives a static-PIE (0 for ET_EXEC), as ELF.LoadPlan chooses it.
public func guestLoadBase(_ executable: [UInt8]) -> UInt64 {
    guard let image = try? ELFImage(executable), let plan = try? image.makeLoadPlan() else { return 0 }
    return plan.base
}

/// The guest's code bytes at run-time addresses (file bytes of its PT_LOAD segments).
public struct GuestCode {
    let bytes: [UInt8]
    let segments: [(address: UInt64, fileOffset: UInt64, size: UInt64)]

    public init(executable: [UInt8]) {
        bytes = executable
        if let image = try? ELFImage(executable), let plan = try? image.makeLoadPlan() {
            segments = plan.segments.map { ($0.virtualAddress, $0.fileOffset, $0.fileSize) }
        } else {
            segments = []
        }
    }

    public func read(_ address: UInt64, count: Int) -> [UInt8]? {
        for s in segments where address >= s.address && address &+ UInt64(count) <= s.address + s.size {
            let start = Int(s.fileOffset + (address - s.address))
            guard start + count <= bytes.count else { return nil }
            return Array(bytes[start..<start + count])
        }
        return nil
    }

    /// True when `returnAddress` follows a direct `call rel32` (E8) to `target`: then the
    /// word at rsp is the return address of a function that set up no frame of its own.
    public func isReturnFromDirectCall(_ returnAddress: UInt64, to target: UInt64) -> Bool {
        guard returnAddress >= 5, let call = read(returnAddress - 5, count: 5), call[0] == 0xE8 else { return false }
        let displacement = Int32(bitPattern: UInt32(call[1]) | UInt32(call[2]) << 8 | UInt32(call[3]) << 16 | UInt32(call[4]) << 24)
        return returnAddress &+ UInt64(bitPattern: Int64(displacement)) == target
    }
}

/// Lines to print after a guest crash report: "ip 0x401136 is in crash_inner+0x6" and one
/// line per return address of the backtrace. `controlLine` is the kernel's "crash ..." line
/// ("crash ip A [top W] [bt R1 R2 ...]").
public func symbolizeCrash(controlLine: String, guest: SymbolTable?, loadBase: UInt64, programName: String,
                           code: GuestCode? = nil) -> [String] {
    let words = controlLine.split(separator: " ")
    guard words.count >= 3, words[0] == "crash", words[1] == "ip", let ip = parseHexAddress(words[2]) else { return [] }
    var backtrace: [UInt64] = []
    var stackTop: UInt64? = nil
    var index = 3
    while index < words.count {
        if words[index] == "top", index + 1 < words.count {
            stackTop = parseHexAddress(words[index + 1])
            index += 2
        } else if words[index] == "bt" {
            backtrace = words[(index + 1)...].compactMap { parseHexAddress($0) }
            break
        } else {
            index += 1
        }
    }
    func name(_ address: UInt64) -> String {
        guard address >= loadBase, let text = guest?.describe(address - loadBase) else { return "??" }
        return text
    }
    // A crash in a function without a frame (a leaf built without frame pointers, or before
    // its prologue): rbp still belongs to the caller's frame, and the caller's return address
    // is the word at rsp. Take it only when it follows a direct call to this very function.
    if let top = stackTop, let code, ip >= loadBase, let (function, _) = guest?.symbol(containing: ip - loadBase),
       backtrace.first != top, code.isReturnFromDirectCall(top, to: function.start + loadBase) {
        backtrace.insert(top, at: 0)
    }
    var lines = ["\(programName): ip \(hex(ip)) is in \(name(ip))"]
    if !backtrace.isEmpty {
        lines.append("\(programName): backtrace (frame pointers):")
        lines.append("  #0 \(hex(ip)) in \(name(ip))")
        for (i, address) in backtrace.enumerated() {
            // A return address points just after the call, which may be the next function's
            // first byte when the call ends a noreturn function: look up address - 1.
            let caller = address > 0 ? name(address - 1).replacingOffset(plusOne: true) : "??"
            lines.append("  #\(i + 1) \(hex(address)) in \(caller)")
        }
    }
    return lines
}

/// Lines to print after a kernel panic that names an instruction ("... at rip 0x7f80...").
public func symbolizePanic(message: String, kernel: SymbolTable?) -> [String] {
    guard let range = message.range(of: "rip 0x") else { return [] }
    let digits = message[range.upperBound...].prefix { $0.isHexDigit }
    guard let rip = UInt64(digits, radix: 16) else { return [] }
    guard let text = kernel?.describe(rip) else { return ["kernel rip \(hex(rip)) has no symbol in kernel.elf"] }
    return ["kernel rip \(hex(rip)) is in \(demangleSwiftSymbol(text))"]
}

func parseHexAddress(_ word: Substring) -> UInt64? {
    guard word.hasPrefix("0x") else { return nil }
    return UInt64(word.dropFirst(2), radix: 16)
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

extension String {
    /// For return addresses looked up at address-1: "outer+0x1f" back to "outer+0x20".
    func replacingOffset(plusOne: Bool) -> String {
        guard plusOne, let plus = range(of: "+0x", options: .backwards),
              let offset = UInt64(self[plus.upperBound...], radix: 16) else { return self }
        return String(self[..<plus.lowerBound]) + "+0x" + String(offset + 1, radix: 16)
    }
}

/// "$e6Kernel5panicyyF+0x12" (Embedded Swift mangles with $e, Swift with $s) → "panic() + 0x12" via the toolchain's swift-demangle
/// when it is installed; the name unchanged otherwise.
public func demangleSwiftSymbol(_ text: String) -> String {
    guard text.hasPrefix("$s") || text.hasPrefix("$e") else { return text }
    let parts = text.components(separatedBy: "+0x")
    let candidates = ["/opt/swift/usr/bin/swift-demangle", "/usr/bin/swift-demangle", "/usr/local/bin/swift-demangle"]
    guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return text }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = ["--simplified", "--compact", parts[0]]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return text }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0, !name.isEmpty else { return text }
    return parts.count > 1 ? name + " + 0x" + parts[1] + " (" + parts[0] + ")" : name
}

/// Everything egg adds after a run: the symbolized "crash" lines of the control channel and
/// the kernel function of a panic's rip.
public func symbolizedReport(_ report: ControlReport, guestPath: String, guest: [UInt8], kernelPath: String) -> [String] {
    var lines: [String] = []
    let crashes = report.diagnostics.filter { $0.hasPrefix("crash ip ") }
    if !crashes.isEmpty {
        let table = SymbolTable(elfBytes: guest)
        let base = guestLoadBase(guest)
        let code = GuestCode(executable: guest)
        for line in crashes {
            lines += symbolizeCrash(controlLine: line, guest: table, loadBase: base,
                                    programName: guestExecutablePath(forHostPath: guestPath), code: code)
        }
    }
    if let message = report.panicMessage {
        lines += symbolizePanic(message: message, kernel: SymbolTable(path: kernelPath))
    }
    return lines
}
