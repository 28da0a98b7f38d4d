// TestELFBuilder — builds small ELF64 images byte by byte for the ELF module's host tests
// (Tests/ELFTests). Every field is a plain variable so a test can break exactly one thing.

import ELF

struct TestELFBuilder {
    var magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
    var elfClass: UInt8 = 2
    var data: UInt8 = 1
    var type: UInt16 = 2
    var machine: UInt16 = 62
    var entry: UInt64 = 0x401010
    var programHeaderOffset: UInt64 = 64
    var programHeaderEntrySize: UInt16 = 56
    /// nil: the number of `headers`.
    var programHeaderCount: UInt16? = nil
    var headers: [ProgramHeader]
    /// Total file length; the image is zero-padded (or cut) to it. nil: just past the end of
    /// the furthest segment or header table.
    var fileLength: Int? = nil
    /// Bytes written at given file offsets after the headers (segment contents).
    var patches: [(offset: Int, bytes: [UInt8])] = []

    /// A valid static ET_EXEC: headers in a read-only first segment, code, data with .bss
    /// and .tdata/.tbss, and a non-executable PT_GNU_STACK.
    static func staticExecutable() -> TestELFBuilder {
        TestELFBuilder(headers: [
            ProgramHeader(type: ProgramHeaderType.load, flags: ProgramHeaderFlags.readable,
                          offset: 0, virtualAddress: 0x400000, fileSize: 0x1b8,
                          memorySize: 0x1b8, alignment: 0x1000),
            ProgramHeader(type: ProgramHeaderType.load,
                          flags: ProgramHeaderFlags.readable | ProgramHeaderFlags.executable,
                          offset: 0x1000, virtualAddress: 0x401000, fileSize: 0x40,
                          memorySize: 0x40, alignment: 0x1000),
            ProgramHeader(type: ProgramHeaderType.load,
                          flags: ProgramHeaderFlags.readable | ProgramHeaderFlags.writable,
                          offset: 0x1f80, virtualAddress: 0x402f80, fileSize: 0x100,
                          memorySize: 0x1100, alignment: 0x1000),
            ProgramHeader(type: ProgramHeaderType.threadLocalStorage,
                          flags: ProgramHeaderFlags.readable, offset: 0x1f80,
                          virtualAddress: 0x402f80, fileSize: 0x10, memorySize: 0x28,
                          alignment: 8),
            ProgramHeader(type: ProgramHeaderType.gnuStack,
                          flags: ProgramHeaderFlags.readable | ProgramHeaderFlags.writable,
                          offset: 0, virtualAddress: 0, fileSize: 0, memorySize: 0,
                          alignment: 16),
        ], patches: [(0x1010, [0xf4]), (0x1f80, [1, 2, 3, 4])])
    }

    /// A valid static-PIE (ET_DYN linked at 0, with PT_PHDR) like gcc -static-pie makes.
    static func staticPIE() -> TestELFBuilder {
        var builder = TestELFBuilder(headers: [
            ProgramHeader(type: ProgramHeaderType.programHeaderTable,
                          flags: ProgramHeaderFlags.readable, offset: 64, virtualAddress: 64,
                          fileSize: 4 * 56, memorySize: 4 * 56, alignment: 8),
            ProgramHeader(type: ProgramHeaderType.load, flags: ProgramHeaderFlags.readable,
                          offset: 0, virtualAddress: 0, fileSize: 0x200, memorySize: 0x200,
                          alignment: 0x1000),
            ProgramHeader(type: ProgramHeaderType.load,
                          flags: ProgramHeaderFlags.readable | ProgramHeaderFlags.executable,
                          offset: 0x1000, virtualAddress: 0x1000, fileSize: 0x80,
                          memorySize: 0x80, alignment: 0x1000),
            ProgramHeader(type: ProgramHeaderType.load,
                          flags: ProgramHeaderFlags.readable | ProgramHeaderFlags.writable,
                          offset: 0x1800, virtualAddress: 0x2800, fileSize: 0x40,
                          memorySize: 0x2000, alignment: 0x1000),
        ])
        builder.type = 3
        builder.entry = 0x1020
        return builder
    }

    func bytes() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        for (i, b) in magic.enumerated() where i < 4 { out[i] = b }
        out[4] = elfClass
        out[5] = data
        out[6] = 1 // EI_VERSION
        write16(&out, 16, type)
        write16(&out, 18, machine)
        write32(&out, 20, 1)
        write64(&out, 24, entry)
        write64(&out, 32, programHeaderOffset)
        write16(&out, 52, 64)
        write16(&out, 54, programHeaderEntrySize)
        write16(&out, 56, programHeaderCount ?? UInt16(headers.count))

        // Absurd offsets (tests of the parser's range checks) are written to the header only.
        let tableInFile = programHeaderOffset < 1 << 24
        var end = tableInFile ? Int(programHeaderOffset) + headers.count * 56 : 64
        for h in headers where h.fileSize < 1 << 24 && h.offset < 1 << 24 {
            end = max(end, Int(h.offset + h.fileSize))
        }
        for patch in patches { end = max(end, patch.offset + patch.bytes.count) }
        let length = fileLength ?? end
        let fullLength = max(length, end)
        if out.count < fullLength { out += [UInt8](repeating: 0, count: fullLength - out.count) }
        for (i, h) in headers.enumerated() where tableInFile {
            let at = Int(programHeaderOffset) + i * 56
            write32(&out, at, h.type)
            write32(&out, at + 4, h.flags)
            write64(&out, at + 8, h.offset)
            write64(&out, at + 16, h.virtualAddress)
            write64(&out, at + 24, h.physicalAddress)
            write64(&out, at + 32, h.fileSize)
            write64(&out, at + 40, h.memorySize)
            write64(&out, at + 48, h.alignment)
        }
        for patch in patches {
            for (i, b) in patch.bytes.enumerated() { out[patch.offset + i] = b }
        }
        return Array(out.prefix(length))
    }
}

func write16(_ a: inout [UInt8], _ at: Int, _ v: UInt16) {
    for i in 0..<2 { a[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt16(i))) }
}
func write32(_ a: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { a[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}
func write64(_ a: inout [UInt8], _ at: Int, _ v: UInt64) {
    for i in 0..<8 { a[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}
func read64(_ a: [UInt8], _ at: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(a[at + i]) << (8 * UInt64(i)) }
    return v
}

/// Parses and returns the error, or nil if the image is accepted.
func parseError(_ bytes: [UInt8]) -> ELFError? {
    do {
        _ = try ELFImage(bytes)
        return nil
    } catch {
        return error
    }
}
