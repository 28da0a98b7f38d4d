// VDSO — the vDSO and its data page in every process (KernelCore layer).
//
// The image (Sources/KernelArch/vdso/vdso.c, built into the kernel by the Makefile) is
// copied once at boot into frames the kernel keeps (Sources/Kernel/VDSOSetup.swift), next
// to one data page ([vvar]) holding the TSC calibration and the wall-clock base. Every
// address space ProgramLoader populates (boot and execve) maps both, read-only, at fixed
// addresses below the stack, and the initial stack announces the image with
// AT_SYSINFO_EHDR. Each mapping takes one more reference on the frames, so fork shares them
// (Process/CopyOnWrite.swift) and teardown or munmap drops only that reference; the kernel's
// own reference keeps them alive. clock_settime moves the wall-clock base under the page's
// sequence count (`publishRealtime`), so the vDSO's CLOCK_REALTIME follows at once. Linux:
// arch/x86/entry/vdso/vma.c (map_vdso), kernel/time/vsyscall.c (update_vsyscall).
import ELF
import LinuxABI

public struct VDSOImage {
    /// Frames holding the ELF image, in order (the last one zero-padded).
    public let codeFrames: [UInt64]
    /// The data page: [0] sequence (odd while written), [1] TSC at calibration, [2] TSC Hz,
    /// [3] CLOCK_REALTIME at monotonic 0 in ns — the layout vdso.c's struct egg_vvar reads.
    public let dataFrame: UInt64

    /// Where [vdso] goes: 1 MiB below the stack's 8 MiB, above the mmap area (Linux places
    /// it above the stack with randomization; egg lays out address spaces without it).
    public static let codeAddress: UInt64 = ProgramLoader.stackTop - ProgramLoader.stackSize - 0x10_0000
    /// [vvar]: the page right below the image, as vdso.lds expects.
    public static var dataAddress: UInt64 { codeAddress - pageSize }

    public static let sequenceOffset: UInt64 = 0
    public static let realtimeBaseOffset: UInt64 = 24

    public init(codeFrames: [UInt64], dataFrame: UInt64) {
        self.codeFrames = codeFrames
        self.dataFrame = dataFrame
    }

    /// Maps [vvar] and [vdso] into `space` (read-only; PROT_WRITE can never be added, as
    /// Linux's special mappings lack VM_MAYWRITE). Anonymous areas with their frames present,
    /// not image areas: /proc's code range (startcode, endcode, VmExe) stays the program's,
    /// as on Linux. False when memory runs out.
    func map(into space: AddressSpace) -> Bool {
        let codeLength = UInt64(codeFrames.count) * pageSize
        if case .failure = space.map.map(at: VDSOImage.dataAddress, length: pageSize, protection: [.read], placement: .fixed,
                                         backing: .anonymous, shared: false, name: "[vvar]", mayWrite: false) {
            return false
        }
        if case .failure = space.map.map(at: VDSOImage.codeAddress, length: codeLength, protection: [.read, .execute],
                                         placement: .fixed, backing: .anonymous, shared: false, name: "[vdso]",
                                         mayWrite: false) {
            return false
        }
        guard space.install(frame: dataFrame, at: VDSOImage.dataAddress, protection: [.read]) else { return false }
        space.frames.addReference(dataFrame)
        for (i, frame) in codeFrames.enumerated() {
            guard space.install(frame: frame, at: VDSOImage.codeAddress + UInt64(i) * pageSize,
                                protection: [.read, .execute]) else { return false }
            space.frames.addReference(frame)
        }
        return true
    }

    /// A new CLOCK_REALTIME base (ns at monotonic 0) for the vDSO, written as a seqlock
    /// writer: sequence odd, the field, sequence even. Callers hold the kernel lock, so
    /// there is one writer; x86 keeps stores in order, and readers retry on an odd or
    /// changed sequence (vdso.c, now_ns).
    public func publishRealtime(base: Int64, memory: any PhysicalMemory) {
        let sequence = memory.load64(dataFrame + VDSOImage.sequenceOffset)
        memory.store64(dataFrame + VDSOImage.sequenceOffset, sequence &+ 1)
        memory.store64(dataFrame + VDSOImage.realtimeBaseOffset, UInt64(bitPattern: base))
        memory.store64(dataFrame + VDSOImage.sequenceOffset, sequence &+ 2)
    }
}

extension ProgramLoader {
    /// The vDSO every new image gets; nil (no [vdso], no AT_SYSINFO_EHDR) until the kernel
    /// set it up at boot, and in host tests.
    nonisolated(unsafe) public static var vdso: VDSOImage? = nil
}

extension KernelState {
    /// Tells the vDSO's data page that CLOCK_REALTIME moved (clock_settime, settimeofday,
    /// adjtimex): its base is the boot wall clock plus the offset set, as realtimeNow().
    func publishRealtimeToVDSO() {
        guard let vdso = ProgramLoader.vdso else { return }
        let base = bootRealtimeSeconds &* 1_000_000_000 &+ timers.realtimeOffset
        vdso.publishRealtime(base: base, memory: memory.memory)
    }
}
