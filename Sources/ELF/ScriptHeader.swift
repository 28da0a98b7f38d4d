// ScriptHeader — the "#!" line of an interpreter script, and the interpreter path an ELF
// asks for (PT_INTERP) (ELF layer: pure parsing, host-tested in Tests/ELFTests).
//
// execve (Sources/KernelCore/Syscalls/ExecSyscalls.swift) reads the first bytes of a file and
// asks here whether it is a script. The rules follow Linux's fs/binfmt_script.c
// (load_script): only the first BINPRM_BUF_SIZE (256) bytes are looked at; blanks (space,
// tab) after "#!" are skipped; the interpreter name ends at a blank or the end of the line;
// everything after it up to the end of the line, blanks trimmed at both ends, is ONE optional
// argument (not split further); a line with no interpreter is ENOEXEC, and so is a line
// cut by the 256-byte window in the middle of the interpreter name.

public enum ScriptHeader {
    /// Linux's BINPRM_BUF_SIZE: how much of a file the kernel reads to recognise it.
    public static let bufferSize = 256

    public enum Parse: Equatable {
        /// Not a script (does not start with "#!"): try the next format.
        case notScript
        /// Starts with "#!" but names no usable interpreter: execve fails with ENOEXEC.
        case malformed
        case script(interpreter: [UInt8], argument: [UInt8]?)
    }

    static func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    /// Parses the start of a file (at most `bufferSize` bytes are used).
    public static func parse(_ head: [UInt8]) -> Parse {
        guard head.count >= 2, head[0] == 0x23, head[1] == 0x21 else { return .notScript }  // "#!"
        let window = min(head.count, bufferSize)
        // The line ends at the first newline in the window; without one, the window is the line.
        var end = 2
        while end < window && head[end] != 0x0A { end += 1 }
        let sawNewline = end < window
        // A NUL ends the line too: C string handling in load_script stops there.
        var nul = 2
        while nul < end && head[nul] != 0 { nul += 1 }
        end = nul
        while end > 2 && isBlank(head[end - 1]) { end -= 1 }   // trailing blanks
        var i = 2
        while i < end && isBlank(head[i]) { i += 1 }
        guard i < end else { return .malformed }                // "#!" and nothing else
        let nameStart = i
        while i < end && !isBlank(head[i]) { i += 1 }
        // Without a newline the name may have been cut by the window (load_script's
        // "truncated interpreter path" check): refuse rather than run a wrong file.
        if !sawNewline && i == end && end == window { return .malformed }
        let interpreter = Array(head[nameStart..<i])
        while i < end && isBlank(head[i]) { i += 1 }
        let argument: [UInt8]? = i < end ? Array(head[i..<end]) : nil
        return .script(interpreter: interpreter, argument: argument)
    }

    /// argv for the interpreter, as load_script builds it: the interpreter name, the optional
    /// argument, the script's path as given to execve (not argv[0]), then argv[1...].
    public static func interpreterArguments(interpreter: [UInt8], argument: [UInt8]?, scriptPath: [UInt8],
                                            originalArguments: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = [interpreter]
        if let argument { out.append(argument) }
        out.append(scriptPath)
        if originalArguments.count > 1 { out.append(contentsOf: originalArguments[1...]) }
        return out
    }
}

/// The path in an ELF file's PT_INTERP segment (the dynamic linker it asks for), or nil when
/// it has none or the header table is unreadable (the full parse reports those). Linux's
/// load_elf_binary reads it to open the interpreter, so a missing one is ENOENT.
public func elfInterpreterPath<S: ByteSource>(_ source: S) -> [UInt8]? {
    let count = source.byteCount
    guard count >= ELFConstants.headerSize, source.byte(at: 0) == 0x7f, source.byte(at: 1) == 0x45,
          source.byte(at: 2) == 0x4c, source.byte(at: 3) == 0x46, source.byte(at: 4) == ELFConstants.classELF64 else {
        return nil
    }
    let offset = source.littleEndian64(at: 32)
    let entrySize = Int(source.littleEndian16(at: 54)), number = Int(source.littleEndian16(at: 56))
    guard entrySize == ELFConstants.programHeaderSize, offset < UInt64(count),
          UInt64(number * entrySize) <= UInt64(count) - offset else { return nil }
    for i in 0..<number {
        let at = Int(offset) + i * entrySize
        guard source.littleEndian32(at: at) == ProgramHeaderType.interpreter else { continue }
        let fileOffset = source.littleEndian64(at: at + 8), size = source.littleEndian64(at: at + 32)
        // Linux: p_filesz between 2 and PATH_MAX, inside the file, NUL-terminated.
        guard size >= 2, size <= 4096, fileOffset < UInt64(count), size <= UInt64(count) - fileOffset else { return nil }
        var path = source.bytes(at: Int(fileOffset), count: Int(size))
        guard path.last == 0 else { return nil }
        path.removeLast()
        return path
    }
    return nil
}
