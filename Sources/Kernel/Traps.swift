// Traps — the safe side of every kernel entry (Kernel layer).
//
// entry.S saves the registers as a trap_frame and calls one of these at once. System calls
// go to KernelState's table; page faults from ring 3 go to the address space (demand
// paging); any other guest exception, or a fault the address space refuses, kills the guest
// with a Linux-like report and exit status 128+signal. A fault in ring 0 is a kernel bug:
// panic report, status 250 through egg. References: Intel SDM vol. 3 §6.15 (exception
// list, page-fault error code); Linux arch/x86/mm/fault.c show_signal_msg for the format.
import HW
import Drivers
import KernelArch
import KernelCore
import LinuxABI

@_cdecl("egg_syscall_entry")
public func syscallEntry(_ frame: UnsafeMutablePointer<trap_frame>) {
    // egg run --profile (Profiler.swift): off, this one test is all it costs.
    if Profiler.enabled {
        let start = hw_rdtsc()
        let number = frame.pointee.rax
        hw_kernel_lock()
        let locked = hw_rdtsc()
        runSyscall(frame)
        hw_kernel_unlock()
        Profiler.recordSyscall(number: number, start: start, locked: locked, end: hw_rdtsc())
        return
    }
    hw_kernel_lock()
    runSyscall(frame)
    hw_kernel_unlock()
}

/// One system call with the kernel lock held: dispatch, then the signal and exit checks of
/// the way back to user mode.
@inline(__always)
func runSyscall(_ frame: UnsafeMutablePointer<trap_frame>) {
    guard let state = kernel else { panic("system call before the kernel was ready") }
    let f = frame.pointee
    state.accountKernelEntry()  // CPU time (KernelCore/Threads/IntervalTimers.swift)
    let args = SyscallArguments(number: Int(Int64(bitPattern: f.rax)), f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9)
    frame.pointee.rax = SyscallTable.encode(state.dispatch(args))
    state.returnToUser()
    state.accountKernelExit()
}

@_cdecl("egg_trap_entry")
public func trapEntry(_ frame: UnsafeMutablePointer<trap_frame>) {
    // egg run --profile: page faults and interrupts, counted with their time (Profiler.swift).
    if Profiler.enabled {
        let start = hw_rdtsc()
        let vector = frame.pointee.vector
        handleTrap(frame)
        if vector == 14 { Profiler.recordFault(cycles: hw_rdtsc() &- start) }
        if vector >= 32 { Profiler.recordInterrupt(cycles: hw_rdtsc() &- start) }
        return
    }
    handleTrap(frame)
}

func handleTrap(_ frame: UnsafeMutablePointer<trap_frame>) {
    let f = frame.pointee
    let fromUser = f.cs & 3 == 3
    if f.vector == UInt64(LocalAPIC.shootdownVector) { SMP.handleShootdown(); return }
    if f.vector == UInt64(LocalAPIC.spuriousVector) { return }
    // A CPU exception in kernel code (e.g. inside a syscall, which holds the kernel lock):
    // panic at once; taking the lock again would deadlock instead of reporting.
    if !fromUser && f.vector < 32 { kernelFault(f) }
    hw_kernel_lock()
    defer { hw_kernel_unlock() }
    // CPU time: what ran in user mode until this entry is user time, the rest system time
    // (KernelCore/Threads/IntervalTimers.swift); the exit charge runs before the unlock.
    if fromUser, let state = kernel { state.accountKernelEntry() }
    defer { if fromUser, let state = kernel { state.accountKernelExit() } }
    if f.vector == UInt64(LocalAPIC.timerVector) {
        LocalAPIC.endOfInterrupt()
        // One-shot timer (SMP.swift): a preemption tick, or a sleeper's or timer's deadline;
        // either way the next interrupt is programmed before anything else.
        let tick = LocalAPIC.takeTick()
        LocalAPIC.rearm(earliest: kernel.flatMap { $0.scheduler.earliestWakeDeadline($0) })
        if tick && CPU.index == 0 { Clock.ticks &+= 1 }
        if tick && CPU.index == 0 { NetworkDevice.tick() }  // the stack's timers (NetworkSetup.swift)
        if tick && CPU.index == 0 { HostStreamDevice.tick() }  // stdio over virtio (HostStreamSetup.swift)
        if fromUser, let state = kernel {
            state.scheduler.preempt(state)
            state.returnToUser()
        }
        return
    }
    if f.vector == UInt64(IOAPIC.networkVector) {
        // The virtio-mmio card through the I/O APIC (IOAPIC.swift): acknowledge it, then
        // end the interrupt at the local APIC (which tells the level-triggered I/O APIC pin).
        NetworkDevice.interrupt()
        LocalAPIC.endOfInterrupt()
        if fromUser, let state = kernel { state.returnToUser() }
        return
    }
    if f.vector >= 32 {
        // Hardware interrupt: the PIT tick wakes a halted CPU and, when it interrupted the
        // guest, ends its time slice; console input goes to the terminal.
        if f.vector == 32 { Clock.ticks &+= 1 }
        if f.vector == 32 { NetworkDevice.tick(); HostStreamDevice.tick() }
        if HostStreamDevice.irq >= 0 && f.vector == UInt64(32 + HostStreamDevice.irq) { HostStreamDevice.interrupt() }
        if NetworkDevice.irq >= 0 && f.vector == UInt64(32 + NetworkDevice.irq) { NetworkDevice.interrupt() }
        if f.vector == 33 || f.vector == 36 {
            // Console input (PS/2 keyboard IRQ 1, COM1 IRQ 4): raw bytes into the line
            // discipline, which echoes, sends ^C's SIGINT and wakes readers
            // (Sources/KernelCore/Devices/ConsoleTerminal.swift).
            if let state = kernel { state.pullConsoleInput() } else { machine?.drainInput(); machine?.drainKeyboard() }
        }
        if f.vector < 48 { LegacyPIC.endOfInterrupt(irq: Int(f.vector - 32)) }
        if fromUser, let state = kernel {
            if f.vector == 32 { state.scheduler.preempt(state) }
            state.returnToUser()
        }
        return
    }
    guard fromUser, let state = kernel else { kernelFault(f) }
    var faultAddress: UInt64? = nil
    if f.vector == 14 {
        let address = hw_read_cr2()
        faultAddress = address
        let access = PageFaultAccess(errorCode: f.error)
        switch state.memory.handleFault(at: address, write: access.write, execute: access.execute) {
        case .resolved:
            return
        case .outOfMemory:
            state.platform.diagnostic("egg: out of memory: killed process \(state.process.pid) (page fault at \(hex(address)))\n")
            state.terminate(signal: 9)
        case .segmentationFault:
            break
        case .busError:
            // A file mapping touched past end-of-file: SIGBUS with BUS_ADRERR (2), as
            // Linux's VM_FAULT_SIGBUS (Sources/KernelCore/Process/FileMappingFaults.swift).
            let bus = FaultSignal(signal: 7, code: 2, address: address)
            if state.deliverFault(bus) { return }
            var report = CrashReport(signal: 7, exceptionName: "bus error (mapping past end of file)", vector: f.vector,
                                     errorCode: f.error, faultAddress: address, registers: registers(of: f),
                                     executable: state.process.executablePath)
            report.captureStack(state.memory)
            if state.processes.count > 1 { state.platform.diagnostic("egg: in process \(state.process.pid):\n") }
            state.platform.diagnostic(report.render())
            HostChannel.write(report.hostChannelLine())
            state.terminate(status: 128 + 7)
        }
    }
    // Which signal and si_code (Sources/KernelCore/Signals/ExceptionSignal.swift). A handler
    // for the signal (e.g. a Go runtime or a test's SIGSEGV handler) runs instead of the
    // crash report.
    let info = ExceptionSignal(vector: f.vector, errorCode: f.error)
    if state.deliverFault(FaultSignal(signal: info.signal, code: info.code, address: faultAddress ?? 0)) { return }
    var report = CrashReport(signal: info.signal, exceptionName: info.name, vector: f.vector,
                             errorCode: f.error, faultAddress: faultAddress, registers: registers(of: f),
                             executable: state.process.executablePath)
    report.captureStack(state.memory)
    if state.processes.count > 1 { state.platform.diagnostic("egg: in process \(state.process.pid):\n") }
    state.platform.diagnostic(report.render())
    HostChannel.write(report.hostChannelLine())  // egg symbolizes it (Sources/EggHost/CrashSymbolizer.swift)
    state.terminate(signal: info.signal)
}

func registers(of f: trap_frame) -> CrashRegisters {
    CrashRegisters(rax: f.rax, rbx: f.rbx, rcx: f.rcx, rdx: f.rdx, rsi: f.rsi, rdi: f.rdi, rbp: f.rbp,
                   rsp: f.rsp, r8: f.r8, r9: f.r9, r10: f.r10, r11: f.r11, r12: f.r12, r13: f.r13,
                   r14: f.r14, r15: f.r15, rip: f.rip, rflags: f.rflags, cs: f.cs, ss: f.ss)
}

func kernelFault(_ f: trap_frame) -> Never {
    let info = ExceptionSignal(vector: f.vector, errorCode: f.error)
    var text = "\(info.name) (vector \(f.vector), error \(hex(f.error))) at rip \(hex(f.rip))"
    if f.vector == 14 { text += ", address \(hex(hw_read_cr2()))" }
    let report = CrashReport(signal: 0, exceptionName: info.name, vector: f.vector, errorCode: f.error,
                             faultAddress: f.vector == 14 ? hw_read_cr2() : nil, registers: registers(of: f),
                             executable: [])
    panic(text, details: report.renderRegisters())
}

func panic(_ message: String, details: String = "") -> Never {
    hw_cli()
    console.write("\negg: KERNEL PANIC: ")
    console.write(message)
    console.write("\n")
    console.write(details)
    HostChannel.write("panic \(message)\n")
    hw_outb(0xF4, 0xFA)
    CPU.halt()
}

@_cdecl("egg_thread_started")
public func threadStarted() {
    hw_kernel_unlock()
}

@_cdecl("egg_panic_out_of_memory")
public func panicOutOfMemory(_ size: UInt64) -> Never {
    panic(size == 0 ? "kernel heap corrupted" : "kernel heap exhausted (request of \(size) bytes)")
}
