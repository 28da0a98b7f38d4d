// MinimalExecutable — a 132-byte static x86-64 Linux program made in memory (EggHost layer,
// host only). The KVM probe (AcceleratorProbe.swift) boots the real kernel with it.
//
// Layout, from the ELF-64 Object File Format (v1.5) and the System V x86-64 psABI:
//   0x00  Elf64_Ehdr (64 bytes): ET_EXEC, EM_X86_64, entry 0x400078, one program header
//   0x40  Elf64_Phdr (56 bytes): PT_LOAD, R+X, file offset 0 → 0x400000, the whole file
//   0x78  code: mov $60,%eax; mov $42,%edi; syscall      (exit(42), exit(2))

/// The exit status the minimal program reports.
public let minimalExecutableStatus = 42

public func minimalExitExecutable() -> [UInt8] {
    let base: UInt64 = 0x40_0000
    let code: [UInt8] = [
        0xB8, 0x3C, 0x00, 0x00, 0x00,  // mov $60, %eax   (SYS_exit)
        0xBF, 0x2A, 0x00, 0x00, 0x00,  // mov $42, %edi
        0x0F, 0x05,                    // syscall
    ]
    let headerSize = 64, programHeaderSize = 56
    let fileSize = UInt64(headerSize + programHeaderSize + code.count)
    var out: [UInt8] = []
    func le(_ value: UInt64, _ width: Int) {
        for i in 0..<width { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
    // e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, padding.
    out += [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    le(2, 2)                                   // e_type = ET_EXEC
    le(62, 2)                                  // e_machine = EM_X86_64
    le(1, 4)                                   // e_version
    le(base + UInt64(headerSize + programHeaderSize), 8) // e_entry
    le(UInt64(headerSize), 8)                  // e_phoff
    le(0, 8)                                   // e_shoff: no sections
    le(0, 4)                                   // e_flags
    le(UInt64(headerSize), 2)                  // e_ehsize
    le(UInt64(programHeaderSize), 2)           // e_phentsize
    le(1, 2)                                   // e_phnum
    le(64, 2)                                  // e_shentsize
    le(0, 2)                                   // e_shnum
    le(0, 2)                                   // e_shstrndx
    le(1, 4)                                   // p_type = PT_LOAD
    le(5, 4)                                   // p_flags = PF_R | PF_X
    le(0, 8)                                   // p_offset
    le(base, 8)                                // p_vaddr
    le(base, 8)                                // p_paddr
    le(fileSize, 8)                            // p_filesz
    le(fileSize, 8)                            // p_memsz
    le(0x1000, 8)                              // p_align
    out += code
    return out
}
