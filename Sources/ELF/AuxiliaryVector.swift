// AuxiliaryVector — the auxv entry types and the standard list for a LoadPlan (ELF layer).
//
// Values are from Linux include/uapi/linux/auxvec.h and arch/x86/include/uapi/asm/auxvec.h
// (the ELF module does not import LinuxABI, so they live here). InitialStack.swift places
// the list on the guest's stack; the kernel (Sources/KernelCore) supplies the per-boot values.

/// a_type of an Elf64_auxv_t.
public enum AuxvType: UInt64, Sendable {
    case null = 0            // AT_NULL: end of vector
    case ignore = 1          // AT_IGNORE
    case executableFD = 2    // AT_EXECFD
    case programHeaders = 3  // AT_PHDR
    case programHeaderEntrySize = 4 // AT_PHENT
    case programHeaderCount = 5 // AT_PHNUM
    case pageSize = 6        // AT_PAGESZ
    case interpreterBase = 7 // AT_BASE (0: no interpreter)
    case flags = 8           // AT_FLAGS
    case entry = 9           // AT_ENTRY
    case notELF = 10         // AT_NOTELF
    case uid = 11            // AT_UID
    case euid = 12           // AT_EUID
    case gid = 13            // AT_GID
    case egid = 14           // AT_EGID
    case platform = 15       // AT_PLATFORM: pointer to "x86_64"
    case hardwareCapabilities = 16 // AT_HWCAP: CPUID.1:EDX on x86
    case clockTicks = 17     // AT_CLKTCK: sysconf(_SC_CLK_TCK), 100
    case secure = 23         // AT_SECURE
    case basePlatform = 24   // AT_BASE_PLATFORM
    case random = 25         // AT_RANDOM: pointer to 16 random bytes
    case hardwareCapabilities2 = 26 // AT_HWCAP2: x86 bit 1 = FSGSBASE usable
    case rseqFeatureSize = 27 // AT_RSEQ_FEATURE_SIZE
    case rseqAlignment = 28  // AT_RSEQ_ALIGN
    case executableName = 31 // AT_EXECFN: pointer to the file name passed to execve
    case systemInfoEHDR = 33 // AT_SYSINFO_EHDR: vDSO base (added by KernelCore's ProgramLoader)
    case minimumSignalStackSize = 51 // AT_MINSIGSTKSZ
}

/// One auxv (type, value) pair. `type` is raw so callers can pass types this enum lacks.
public struct AuxvEntry: Equatable, Sendable {
    public var type: UInt64
    public var value: UInt64

    public init(_ type: AuxvType, _ value: UInt64) {
        self.type = type.rawValue
        self.value = value
    }

    public init(rawType: UInt64, value: UInt64) {
        self.type = rawType
        self.value = value
    }
}

/// Per-boot facts that are not in the ELF file.
public struct ProcessCredentials: Equatable, Sendable {
    public var uid: UInt64
    public var euid: UInt64
    public var gid: UInt64
    public var egid: UInt64

    public init(uid: UInt64 = 0, euid: UInt64 = 0, gid: UInt64 = 0, egid: UInt64 = 0) {
        self.uid = uid
        self.euid = euid
        self.gid = gid
        self.egid = egid
    }
}

extension LoadPlan {
    /// The auxv entries Linux's create_elf_tables() emits before AT_RANDOM, in its order,
    /// minus AT_SYSINFO_EHDR (the loader puts the vDSO's first). Pass the result to `buildInitialStack`, which adds
    /// AT_RANDOM, AT_EXECFN, AT_PLATFORM and AT_NULL.
    ///
    /// - Parameters:
    ///   - hardwareCapabilities: AT_HWCAP; Linux x86 reports CPUID.1:EDX.
    ///   - hardwareCapabilities2: AT_HWCAP2; 0 keeps glibc from using FSGSBASE instructions.
    ///   - minimumSignalStackSize: AT_MINSIGSTKSZ; Linux reports the signal frame size for
    ///     the CPU's xstate, 2048 (MINSIGSTKSZ) is a safe floor for an SSE-only frame.
    public func standardAuxiliaryVector(
        credentials: ProcessCredentials = ProcessCredentials(),
        secure: Bool = false,
        hardwareCapabilities: UInt64 = 0,
        hardwareCapabilities2: UInt64 = 0,
        clockTicks: UInt64 = 100,
        minimumSignalStackSize: UInt64 = 2048
    ) -> [AuxvEntry] {
        var entries: [AuxvEntry] = [
            AuxvEntry(.minimumSignalStackSize, minimumSignalStackSize),
            AuxvEntry(.hardwareCapabilities, hardwareCapabilities),
            AuxvEntry(.pageSize, ELFConstants.pageSize),
            AuxvEntry(.clockTicks, clockTicks),
        ]
        if let phdr = programHeaderAddress {
            entries.append(AuxvEntry(.programHeaders, phdr))
        }
        entries.append(contentsOf: [
            AuxvEntry(.programHeaderEntrySize, UInt64(programHeaderEntrySize)),
            AuxvEntry(.programHeaderCount, UInt64(programHeaderCount)),
            AuxvEntry(.interpreterBase, 0),
            AuxvEntry(.flags, 0),
            AuxvEntry(.entry, entry),
            AuxvEntry(.uid, credentials.uid),
            AuxvEntry(.euid, credentials.euid),
            AuxvEntry(.gid, credentials.gid),
            AuxvEntry(.egid, credentials.egid),
            AuxvEntry(.secure, secure ? 1 : 0),
            AuxvEntry(.hardwareCapabilities2, hardwareCapabilities2),
        ])
        return entries
    }
}
