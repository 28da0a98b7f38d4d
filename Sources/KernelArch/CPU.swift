// CPU — descriptor tables, system-call MSRs, FPU/SSE enabling and per-CPU data (KernelArch).
//
// The GDT layout is fixed by SYSCALL/SYSRET: kernel code 0x08, kernel data 0x10, user data
// 0x18, user code 0x20 (STAR[63:48] = 0x10), then the 16-byte TSS descriptor at 0x28.
// The IDT points every vector at the stubs in entry.S; #DF and NMI run on IST stacks so a
// broken kernel stack still produces a panic report. References: Intel SDM vol. 3 §3.4.5,
// §6.14, §7.7 (64-bit TSS), §13 (XSAVE); AMD APM vol. 2 §6.1 (SYSCALL).
import HW

public enum Selector {
    public static let kernelCode: UInt16 = 0x08
    public static let kernelData: UInt16 = 0x10
    public static let userData: UInt16 = 0x18 | 3
    public static let userCode: UInt16 = 0x20 | 3
    public static let tss: UInt16 = 0x28
}

enum MSR {
    static let efer: UInt32 = 0xC000_0080
    static let star: UInt32 = 0xC000_0081
    static let lstar: UInt32 = 0xC000_0082
    static let fmask: UInt32 = 0xC000_0084
    static let fsBase: UInt32 = 0xC000_0100
    static let gsBase: UInt32 = 0xC000_0101
    static let kernelGSBase: UInt32 = 0xC000_0102
}

/// What the boot CPU supports, read once from CPUID.
public struct CPUFeatures {
    public var rdrand = false
    public var rdseed = false
    public var xsave = false
    public var noExecute = false
    public var hugePages1G = false
    public var invariantTSC = false
    public var xsaveMask: UInt64 = 0
    public var xsaveAreaSize: UInt32 = 512
    public var hwcap: UInt64 = 0          // CPUID.1:EDX, what Linux reports as AT_HWCAP
    public var vendor: [UInt8] = []
    public var brand: [UInt8] = []
    public var family: UInt32 = 0, model: UInt32 = 0, stepping: UInt32 = 0

    public static func detect() -> CPUFeatures {
        var f = CPUFeatures()
        let l0 = hw_cpuid(0, 0)
        for r in [l0.ebx, l0.edx, l0.ecx] { for i in 0..<4 { f.vendor.append(UInt8(truncatingIfNeeded: r >> (8 * UInt32(i)))) } }
        let l1 = hw_cpuid(1, 0)
        f.hwcap = UInt64(l1.edx)
        f.rdrand = l1.ecx & (1 << 30) != 0
        f.xsave = l1.ecx & (1 << 26) != 0
        f.stepping = l1.eax & 0xF
        f.model = (l1.eax >> 4) & 0xF | ((l1.eax >> 12) & 0xF0)
        f.family = (l1.eax >> 8) & 0xF + ((l1.eax >> 20) & 0xFF)
        if l0.eax >= 7 { f.rdseed = hw_cpuid(7, 0).ebx & (1 << 18) != 0 }
        let ext = hw_cpuid(0x8000_0000, 0).eax
        if ext >= 0x8000_0001 {
            let e1 = hw_cpuid(0x8000_0001, 0)
            f.noExecute = e1.edx & (1 << 20) != 0
            f.hugePages1G = e1.edx & (1 << 26) != 0
        }
        if ext >= 0x8000_0004 {
            for leaf in UInt32(0x8000_0002)...0x8000_0004 {
                let r = hw_cpuid(leaf, 0)
                for reg in [r.eax, r.ebx, r.ecx, r.edx] {
                    for i in 0..<4 {
                        let c = UInt8(truncatingIfNeeded: reg >> (8 * UInt32(i)))
                        if c != 0 { f.brand.append(c) }
                    }
                }
            }
        }
        if ext >= 0x8000_0007 { f.invariantTSC = hw_cpuid(0x8000_0007, 0).edx & (1 << 8) != 0 }
        if f.xsave && l0.eax >= 0xD {
            let d = hw_cpuid(0xD, 0)
            f.xsaveMask = UInt64(d.eax) & 0x7   // x87, SSE, AVX: the state egg saves
        }
        return f
    }
}

/// Per-CPU block reached through GS in the kernel (layout shared with entry.S).
public struct PerCPU {
    public let address: UInt64
    public var kernelStackTop: UInt64 {
        get { hw_load64(address + 8) }
        nonmutating set { hw_store64(address + 8, newValue) }
    }
}

public enum CPU {
    public static let maximumCPUs = 64
    nonisolated(unsafe) public static var features = CPUFeatures()
    /// Per-CPU TSS and per-CPU block (GS base), indexed by CPU number (0 = boot CPU).
    nonisolated(unsafe) static var tss = [UInt64](repeating: 0, count: maximumCPUs)
    nonisolated(unsafe) static var perCPUBlocks = [UInt64](repeating: 0, count: maximumCPUs)
    nonisolated(unsafe) static var idt: UInt64 = 0
    /// A 64-byte-aligned 4 KiB scratch area per CPU (FPU images for signal frames).
    nonisolated(unsafe) static var scratch = [UInt64](repeating: 0, count: maximumCPUs)

    /// The running CPU's number, from its per-CPU block (GS:24).
    @inline(__always) public static var index: Int { Int(hw_gs_load64(24)) }
    public static var perCPU: PerCPU { PerCPU(address: perCPUBlocks[index]) }
    public static var permanentScratch: UInt64 { scratch[index] }

    /// Allocate zeroed, permanently owned kernel memory (descriptor tables, stacks).
    public static func permanentAllocation(bytes: Int, alignment: Int = 4096) -> UInt64 {
        // SAFETY: the memory is never freed and only reached through the returned address.
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return UInt64(UInt(bitPattern: p))
    }

    /// Boot CPU: detect features, build the shared IDT, then the per-CPU parts.
    public static func setUp() {
        features = CPUFeatures.detect()
        buildIDT()
        setUpThisCPU(index: 0)
    }

    /// Every CPU: its GDT and TSS, the shared IDT, its per-CPU block, SYSCALL, FPU.
    public static func setUpThisCPU(index: Int) {
        hw_lidt(idt, 4095)
        scratch[index] = permanentAllocation(bytes: 4096, alignment: 64)
        let gdt = permanentAllocation(bytes: 4096)
        let entries: [UInt64] = [0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF,
                                 0x00CF_F200_0000_FFFF, 0x00AF_FA00_0000_FFFF]
        for (i, e) in entries.enumerated() { hw_store64(gdt + UInt64(i * 8), e) }
        // TSS with rsp0 filled in later per thread, IST1 for #DF/NMI/#MC.
        let t = permanentAllocation(bytes: 4096)
        tss[index] = t
        let istStack = permanentAllocation(bytes: 16384)
        storeUnaligned64(t + 36, istStack + 16384)                  // IST1
        hw_store16(t + 102, 104)                                    // no I/O bitmap
        let limit: UInt64 = 103
        let low = (limit & 0xFFFF) | ((t & 0xFF_FFFF) << 16) | (UInt64(0x89) << 40)
            | (((limit >> 16) & 0xF) << 48) | (((t >> 24) & 0xFF) << 56)
        hw_store64(gdt + 40, low)
        hw_store64(gdt + 48, t >> 32)
        hw_lgdt(gdt, 7 * 8 - 1)
        hw_reload_segments(UInt16(Selector.kernelCode), Selector.kernelData)
        hw_ltr(Selector.tss)

        let percpu = permanentAllocation(bytes: 4096)
        hw_store64(percpu, percpu)
        hw_store64(percpu + 24, UInt64(index))
        perCPUBlocks[index] = percpu
        hw_wrmsr(MSR.gsBase, percpu)
        hw_wrmsr(MSR.kernelGSBase, 0)
        setUpSyscalls()
        enableFPU()
    }

    static func buildIDT() {
        idt = permanentAllocation(bytes: 4096)
        for vector in 0..<256 {
            let handler = hw_isr_stub(Int32(vector))
            let ist: UInt64 = (vector == 2 || vector == 8 || vector == 18) ? 1 : 0
            let low = (handler & 0xFFFF) | (UInt64(Selector.kernelCode) << 16) | (ist << 32)
                | (UInt64(0x8E) << 40) | (((handler >> 16) & 0xFFFF) << 48)
            hw_store64(idt + UInt64(vector * 16), low)
            hw_store64(idt + UInt64(vector * 16 + 8), handler >> 32)
        }
    }

    static func storeUnaligned64(_ address: UInt64, _ value: UInt64) {
        hw_store32(address, UInt32(truncatingIfNeeded: value))
        hw_store32(address + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    /// The kernel stack this CPU switches to on entry from ring 3 (TSS.rsp0 and GS:8).
    public static func setKernelStack(top: UInt64) {
        let i = index
        storeUnaligned64(tss[i] + 4, top)
        hw_store64(perCPUBlocks[i] + 8, top)
    }

    static func setUpSyscalls() {
        hw_wrmsr(MSR.efer, hw_rdmsr(MSR.efer) | 1)                 // SCE
        hw_wrmsr(MSR.star, (UInt64(0x10) << 48) | (UInt64(Selector.kernelCode) << 32))
        hw_wrmsr(MSR.lstar, hw_syscall_entry_address())
        // Clear IF, TF, DF, AC, NT on entry: the kernel runs with interrupts off for now.
        hw_wrmsr(MSR.fmask, 0x4_7700)
        // sysretq for the way back (entry.S, syscall_return) stays off unless the boot
        // options ask for it ("sysret=1", Main.swift calls enableSysret). Under TCG (egg's
        // accelerator here) it did not make the null syscall faster: getppid measured
        // 1.7-2.5x slower with it than main's kernel in the same runs, though runs on the
        // loaded 2-core build host varied by 2x and a kernel with it off was not clearly
        // faster either, so the cause is not settled. A likely one: QEMU's translator ends
        // the block after SYSRET with interrupts inhibited, so the next user instruction
        // runs in a block of its own (target/i386/tcg/translate.c, gen_eob_worker). The
        // nested KVM of the build machines failed with it too (DESIGN.md).
        hw_set_sysret_enabled(0)
    }

    /// Turns the sysretq return path on (boot option "sysret=1"; see setUpSyscalls).
    public static func enableSysret() { hw_set_sysret_enabled(1) }

    /// The guest owns x87/SSE/AVX: enable them for ring 3 (the kernel itself never uses them).
    static func enableFPU() {
        var cr0 = hw_read_cr0()
        cr0 &= ~UInt64((1 << 2) | (1 << 3))     // EM, TS off
        cr0 |= (1 << 1) | (1 << 5)              // MP, NE
        hw_write_cr0(cr0)
        var cr4 = hw_read_cr4()
        cr4 |= (1 << 9) | (1 << 10)             // OSFXSR, OSXMMEXCPT
        if features.xsave { cr4 |= 1 << 18 }    // OSXSAVE
        hw_write_cr4(cr4)
        if features.xsave { hw_xsetbv(0, features.xsaveMask | 3) }
    }

    public static func setFSBase(_ value: UInt64) { hw_wrmsr(MSR.fsBase, value) }
    public static func fsBase() -> UInt64 { hw_rdmsr(MSR.fsBase) }
    /// The user GS base lives in KERNEL_GS_BASE while the kernel runs (swapped on entry).
    public static func setUserGSBase(_ value: UInt64) { hw_wrmsr(MSR.kernelGSBase, value) }
    public static func userGSBase() -> UInt64 { hw_rdmsr(MSR.kernelGSBase) }

    public static func halt() -> Never {
        while true { hw_cli(); hw_hlt() }
    }
}

/// The legacy 8259 PICs: remapped to vectors 0x20-0x2F so they never alias exceptions.
public enum LegacyPIC {
    public static func remapAndMask(except unmasked: UInt16 = 0) {
        hw_outb(0x20, 0x11); hw_outb(0xA0, 0x11)    // ICW1: init, expect ICW4
        hw_outb(0x21, 0x20); hw_outb(0xA1, 0x28)    // ICW2: vector offsets
        hw_outb(0x21, 0x04); hw_outb(0xA1, 0x02)    // ICW3: cascade on IRQ2
        hw_outb(0x21, 0x01); hw_outb(0xA1, 0x01)    // ICW4: 8086 mode
        let mask = ~(unmasked | (unmasked > 0xFF ? 0x4 : 0))
        hw_outb(0x21, UInt8(truncatingIfNeeded: mask))
        hw_outb(0xA1, UInt8(truncatingIfNeeded: mask >> 8))
    }

    public static func endOfInterrupt(irq: Int) {
        if irq >= 8 { hw_outb(0xA0, 0x20) }
        hw_outb(0x20, 0x20)
    }
}
