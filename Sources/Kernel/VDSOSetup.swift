// VDSOSetup — the vDSO's frames and data page, made once at boot (Kernel layer).
//
// The Makefile links the vDSO image (Sources/KernelArch/vdso/vdso.c, linked by vdso.lds
// into build/kernel/vdso.so) into the kernel's read-only data (vdso_image.S). Here it is
// copied into frames of the pool, whose reference the kernel keeps for ever, and the data
// page gets the clock calibration (Clock.swift) — before ProgramLoader maps them into the
// first process (Sources/KernelCore/Process/VDSO.swift), which also updates the wall-clock
// base on clock_settime.
import HW
import KernelArch
import KernelCore

enum VDSOSetup {
    /// Builds ProgramLoader.vdso; leaves it nil (no vDSO, every time call a system call)
    /// when the pool has no frames to spare.
    static func install(frames: FramePool, memory: DirectMapMemory) {
        let start = hw_vdso_start(), end = hw_vdso_end()
        guard end > start else { return }
        let size = Int(end - start)
        var code: [UInt64] = []
        var offset = 0
        while offset < size {
            guard let frame = frames.allocateFrame() else { return }
            memory.fill(frame, count: 4096, value: 0)
            // The image lies in the kernel's rodata; its physical address is the linked
            // address minus the kernel's offset (Main.swift, kernelVirtualOffset).
            memory.copy(from: start + UInt64(offset) - kernelVirtualOffset, to: frame, count: min(4096, size - offset))
            code.append(frame)
            offset += 4096
        }
        guard let data = frames.allocateFrame() else { return }
        memory.fill(data, count: 4096, value: 0)
        // struct egg_vvar (vdso.c): sequence, TSC base, TSC Hz, realtime base.
        memory.store64(data + 8, Clock.tscAtBoot)
        memory.store64(data + 16, Clock.tscHz)
        memory.store64(data + 24, UInt64(bitPattern: Clock.bootUnixSeconds &* 1_000_000_000))
        ProgramLoader.vdso = VDSOImage(codeFrames: code, dataFrame: data)
    }
}
