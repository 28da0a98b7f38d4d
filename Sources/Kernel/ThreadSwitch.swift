// ThreadSwitch — kernel stacks, context switches and FPU state for guest threads (Kernel).
//
// Each thread owns a 64 KiB kernel stack; its user register frame sits at the top (entry.S
// builds it there on every entry from ring 3, TSS.rsp0 and GS:8 point at the top), and its
// saved kernel context (callee-saved registers + return address) below wherever it last
// called egg_context_switch. A new thread's stack is prepared to "return" into
// egg_thread_start, which leaves through trap_return with the frame built here.
// The kernel never touches x87/SSE/AVX, so the guest's vector state is live in the CPU
// while a thread is in the kernel and is saved (xsave, or fxsave) only at a switch.
import HW
import KernelArch
import KernelCore

final class ArchThread: ThreadContext {
    static let stackBytes = 64 * 1024
    static let fpuBytes = 4096
    let stackBase: UInt64
    let stackTop: UInt64
    let fpuArea: UInt64
    var fsBase: UInt64 = 0
    var gsBase: UInt64 = 0
    let owned: Bool

    /// The kernel context is saved in the lowest 8 bytes of the stack allocation.
    var savedStackPointerSlot: UInt64 { stackBase }

    init(stackBase: UInt64, stackTop: UInt64, owned: Bool) {
        self.stackBase = stackBase
        self.stackTop = stackTop
        self.owned = owned
        fpuArea = CPU.permanentAllocation(bytes: ArchThread.fpuBytes, alignment: 64)
    }

    init(stackBase: UInt64, stackTop: UInt64, fpuArea: UInt64) {
        self.stackBase = stackBase
        self.stackTop = stackTop
        self.owned = true
        self.fpuArea = fpuArea
    }

    var frame: UnsafeMutablePointer<trap_frame> {
        // SAFETY: the top of every thread's kernel stack holds its user frame (see above).
        UnsafeMutablePointer<trap_frame>(bitPattern: UInt(stackTop - UInt64(MemoryLayout<trap_frame>.size)))!
    }

    static func allocateStack() -> UInt64 {
        // SAFETY: released only by ThreadSwitch.release once the thread can never run again.
        let p = UnsafeMutableRawPointer.allocate(byteCount: stackBytes, alignment: 16)
        return UInt64(UInt(bitPattern: p))
    }

    /// A guest thread's kernel stack and FPU area, or nil when the kernel heap cannot grow:
    /// clone then fails with EAGAIN (ThreadSyscalls.swift) instead of the heap panicking.
    static func tryAllocate() -> (stack: UInt64, fpu: UInt64)? {
        guard let stack = egg_heap_try_alloc(UInt64(stackBytes), 16) else { return nil }
        guard let fpu = egg_heap_try_alloc(UInt64(fpuBytes), 64) else {
            stack.deallocate()
            return nil
        }
        // The xsave area's header must start zeroed (xrstor checks it; SDM vol. 1 §13.4.2).
        fpu.initializeMemory(as: UInt8.self, repeating: 0, count: fpuBytes)
        return (UInt64(UInt(bitPattern: stack)), UInt64(UInt(bitPattern: fpu)))
    }
}

enum FPU {
    static var useXSave: Bool { CPU.features.xsave }
    static var mask: UInt64 { CPU.features.xsaveMask | 3 }
    static func save(_ area: UInt64) { if useXSave { hw_xsave(area, mask) } else { hw_fxsave(area) } }
    static func restore(_ area: UInt64) { if useXSave { hw_xrstor(area, mask) } else { hw_fxrstor(area) } }
}

extension UserRegisters {
    init(_ f: trap_frame) {
        self.init()
        r15 = f.r15; r14 = f.r14; r13 = f.r13; r12 = f.r12; r11 = f.r11; r10 = f.r10
        r9 = f.r9; r8 = f.r8; rbp = f.rbp; rdi = f.rdi; rsi = f.rsi; rdx = f.rdx
        rcx = f.rcx; rbx = f.rbx; rax = f.rax; rip = f.rip; rflags = f.rflags; rsp = f.rsp
    }

    func store(into f: UnsafeMutablePointer<trap_frame>) {
        f.pointee.r15 = r15; f.pointee.r14 = r14; f.pointee.r13 = r13; f.pointee.r12 = r12
        f.pointee.r11 = r11; f.pointee.r10 = r10; f.pointee.r9 = r9; f.pointee.r8 = r8
        f.pointee.rbp = rbp; f.pointee.rdi = rdi; f.pointee.rsi = rsi; f.pointee.rdx = rdx
        f.pointee.rcx = rcx; f.pointee.rbx = rbx; f.pointee.rax = rax; f.pointee.rip = rip
        f.pointee.rflags = rflags; f.pointee.rsp = rsp
        f.pointee.cs = UInt64(Selector.userCode); f.pointee.ss = UInt64(Selector.userData)
    }
}

enum ThreadSwitch {
    /// What each CPU runs (index = CPU number).
    nonisolated(unsafe) static var running = [ArchThread?](repeating: nil, count: CPU.maximumCPUs)
    static var current: ArchThread? {
        get { running[CPU.index] }
        set { running[CPU.index] = newValue }
    }

    static func makeThread(registers: UserRegisters, fsBase: UInt64) -> ArchThread? {
        guard let (base, fpu) = ArchThread.tryAllocate() else { return nil }
        let t = ArchThread(stackBase: base, stackTop: base + UInt64(ArchThread.stackBytes), fpuArea: fpu)
        t.fsBase = fsBase
        t.gsBase = CPU.userGSBase()
        // The child starts with the parent's FPU state, as clone does on Linux.
        FPU.save(t.fpuArea)
        t.frame.initialize(to: trap_frame())
        registers.store(into: t.frame)
        // Below the frame: r15, r14, r13, r12, rbx, rbp (zero) and the return address.
        let switchFrame = UInt64(UInt(bitPattern: t.frame)) - 7 * 8
        for i in 0..<6 { hw_store64(switchFrame + UInt64(i * 8), 0) }
        hw_store64(switchFrame + 48, hw_thread_start_address())
        hw_store64(t.savedStackPointerSlot, switchFrame)
        return t
    }

    /// A kernel-only context (the idle loop) that starts by calling `entry` on its own stack.
    static func makeKernelThread(entry: UInt64) -> ArchThread {
        let base = ArchThread.allocateStack()
        let t = ArchThread(stackBase: base, stackTop: base + UInt64(ArchThread.stackBytes), owned: true)
        FPU.save(t.fpuArea)
        // r15..rbp zero, then the return address; one more slot keeps the entry's stack
        // 16-byte aligned minus 8, as after a call.
        let switchFrame = t.stackTop - 16 - 7 * 8
        for i in 0..<6 { hw_store64(switchFrame + UInt64(i * 8), 0) }
        hw_store64(switchFrame + 48, entry)
        hw_store64(t.savedStackPointerSlot, switchFrame)
        return t
    }

    static func switchTo(from: ArchThread, to: ArchThread) {
        from.fsBase = CPU.fsBase()
        from.gsBase = CPU.userGSBase()
        FPU.save(from.fpuArea)
        FPU.restore(to.fpuArea)
        CPU.setFSBase(to.fsBase)
        CPU.setUserGSBase(to.gsBase)
        CPU.setKernelStack(top: to.stackTop)
        current = to
        egg_context_switch(UnsafeMutablePointer<UInt64>(bitPattern: UInt(from.savedStackPointerSlot))!,
                           hw_load64(to.savedStackPointerSlot))
    }

    static func release(_ t: ArchThread) {
        guard t.owned, t !== current else { return }
        // SAFETY: the thread exited and is not running (checked above); nothing points into its stack.
        UnsafeMutableRawPointer(bitPattern: UInt(t.stackBase))!.deallocate()
        UnsafeMutableRawPointer(bitPattern: UInt(t.fpuArea))!.deallocate()
    }

    /// fxsave image of the running thread's FPU state (signal frames).
    static func captureFPU() -> [UInt8] {
        let area = CPU.permanentScratch
        hw_fxsave(area)
        var out = [UInt8](repeating: 0, count: 512)
        for i in 0..<512 { out[i] = hw_load8(area + UInt64(i)) }
        return out
    }

    static func restoreFPU(_ image: [UInt8]) {
        guard image.count >= 512 else { return }
        let area = CPU.permanentScratch
        for i in 0..<512 { hw_store8(area + UInt64(i), image[i]) }
        // MXCSR reserved bits would fault fxrstor (#GP): keep only the defined ones.
        let mxcsr = hw_load32(area + 24) & 0xFFFF
        hw_store32(area + 24, mxcsr)
        hw_fxrstor(area)
    }
}
