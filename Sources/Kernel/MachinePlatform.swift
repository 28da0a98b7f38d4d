// MachinePlatform — KernelCore's Platform on real (or QEMU) hardware (Kernel layer).
//
// Console: COM1 and the PS/2 keyboard in (raw bytes for the kernel's line discipline), COM1
// and the screen out. Host control channel: text lines on I/O port 0xE9 (QEMU isa-debugcon,
// read by egg: "exit N", "panic MESSAGE"), then isa-debug-exit at 0xF4 ends QEMU.
// Randomness: RDSEED/RDRAND when the CPU has them, mixed into a ChaCha20 generator
// (Sources/KernelCore/Entropy.swift) that is otherwise seeded from TSC jitter.
import HW
import Drivers
import KernelArch
import KernelCore

enum HostChannel {
    static func write(_ text: String) {
        for b in text.utf8 { hw_outb(0xE9, b) }
    }
    static func exit(status: Int) -> Never {
        write("exit \(status)\n")
        // Under egg's QEMU this ends the run at once, before anything below reaches the
        // program's stdout.
        hw_outb(0xF4, UInt8(truncatingIfNeeded: status))
        // Still here: no isa-debug-exit (a PC, or QEMU started without egg). Say how the
        // program ended on COM1 and the screen, then switch off (ACPIPowerOff.swift).
        let line = "\negg: program exited with status \(status)\n"
        let serial = UART16550(io: X86PortIO(), base: 0x3F8)
        for b in line.utf8 { serial.write(b) }
        Screen.console?.write(line)
        ACPIPowerOff.attempt()
        CPU.halt()  // no ACPI, or the machine did not switch off
    }
}

final class MachinePlatform: Platform {
    let uart = UART16550(io: X86PortIO(), base: 0x3F8)
    var random: EntropyPool

    init() {
        uart.enableReceiveInterrupt()
        keyboard.initialize()
        var seed = [UInt8](repeating: 0, count: 32)
        MachinePlatform.hardwareEntropy(&seed)
        random = EntropyPool(seed: seed)
    }

    static func hardwareEntropy(_ out: inout [UInt8]) {
        var i = 0
        while i < out.count {
            var v: UInt64 = 0
            var ok = false
            if CPU.features.rdseed { ok = hw_rdseed64(&v) != 0 }
            if !ok && CPU.features.rdrand { ok = hw_rdrand64(&v) != 0 }
            if !ok {
                // TSC jitter across a few port reads: weak alone, mixed by ChaCha20.
                var x = hw_rdtsc()
                for _ in 0..<8 { _ = hw_inb(0x80); x = (x << 7 | x >> 57) ^ hw_rdtsc() }
                v = x
            }
            for b in 0..<8 where i < out.count {
                out[i] ^= UInt8(truncatingIfNeeded: v >> (8 * UInt64(b)))
                i += 1
            }
        }
    }

    func consoleWrite(_ bytes: [UInt8], count: Int) {
        // Bytes go out unchanged: QEMU's stdio backend keeps the host tty's output
        // processing (OPOST), so a terminal still gets \r\n and a pipe gets exact bytes.
        for i in 0..<count { uart.write(bytes[i]) }
        Screen.console?.write(bytes, count: count)  // the screen, if any (FramebufferSetup.swift)
    }

    /// Console input not yet taken by the kernel: bytes received on COM1, drained by its
    /// receive interrupt (drainInput) so the UART never overflows while the guest is busy,
    /// and keys typed on the PS/2 keyboard (drainKeyboard, IRQ 1). The meaning of the bytes
    /// (echo, editing, ^C) is the kernel's line discipline, Sources/KernelCore/Devices/.
    var input: [UInt8] = []
    let keyboard = PS2Keyboard(io: X86PortIO())
    var keys = PS2KeyboardDecoder()

    func drainInput() {
        while let b = uart.readByte() { input.append(b) }
    }

    /// One scancode per IRQ 1 (the i8042 holds one byte at a time).
    func drainKeyboard() {
        while let code = keyboard.readScancode() { input += keys.decode(code) }
    }

    func consoleTakeInput() -> [UInt8] {
        drainInput()
        drainKeyboard()  // also polled: input keeps flowing if an interrupt is lost
        let bytes = input
        input.removeAll(keepingCapacity: true)
        return bytes
    }

    func monotonicNanoseconds() -> UInt64 { Clock.nanosecondsSinceBoot() }
    func realtimeNanoseconds() -> Int64 { Clock.bootUnixSeconds * 1_000_000_000 + Int64(Clock.nanosecondsSinceBoot()) }

    func fillRandom(_ buffer: inout [UInt8], count: Int) {
        if CPU.features.rdrand {
            var fresh = [UInt8](repeating: 0, count: 32)
            MachinePlatform.hardwareEntropy(&fresh)
            random.mix(fresh)
        }
        random.fill(&buffer, count: count)
    }

    func setFSBase(_ value: UInt64) { CPU.setFSBase(value) }
    func fsBase() -> UInt64 { CPU.fsBase() }
    func setGSBase(_ value: UInt64) { CPU.setUserGSBase(value) }
    func gsBase() -> UInt64 { CPU.userGSBase() }

    /// Halt until the next interrupt (timer tick or serial input); the kernel runs with
    /// interrupts off otherwise.
    func idle() {
        if SMP.usingAPICTimer, let state = kernel {
            // Wake for the earliest deadline, not the next tick (LocalAPIC.rearm, SMP.swift);
            // one already due is expired by the caller without halting.
            let earliest = state.scheduler.earliestWakeDeadline(state)
            if let e = earliest, e <= Clock.nanosecondsSinceBoot() { return }
            LocalAPIC.rearm(earliest: earliest)
        }
        // Let the other CPUs into the kernel while this one waits.
        hw_kernel_unlock()
        if Clock.ticking { hw_sti_hlt() } else { hw_pause() }
        hw_kernel_lock()
    }

    var cpuIndex: Int { CPU.index }

    func currentUserRegisters() -> UserRegisters {
        UserRegisters(ThreadSwitch.current!.frame.pointee)
    }

    func setCurrentUserRegisters(_ registers: UserRegisters) {
        registers.store(into: ThreadSwitch.current!.frame)
    }

    func initialThreadContext() -> any ThreadContext { ThreadSwitch.current! }

    func makeThread(registers: UserRegisters, fsBase: UInt64) -> (any ThreadContext)? {
        ThreadSwitch.makeThread(registers: registers, fsBase: fsBase)
    }

    func switchThread(from: any ThreadContext, to: any ThreadContext) {
        ThreadSwitch.switchTo(from: from as! ArchThread, to: to as! ArchThread)
    }

    func activateAddressSpace(root: UInt64) { DirectMapMemory().activate(root: root) }

    func releaseThread(_ context: any ThreadContext) { ThreadSwitch.release(context as! ArchThread) }

    func captureFPUState() -> [UInt8] { ThreadSwitch.captureFPU() }
    func restoreFPUState(_ image: [UInt8]) { ThreadSwitch.restoreFPU(image) }

    func powerOff(status: Int) -> Never {
        Profiler.report()  // egg run --profile's table, before the exit line (Profiler.swift)
        NinePDevice.synchronizeBeforeExit()  // volumes written back to the host (NinePSetup.swift)
        NetworkDevice.lingerBeforeExit()  // let queued TCP data reach the peer (NetworkSetup.swift)
        HostStreamDevice.flushBeforeExit()  // stdout/stderr bytes still with the device (HostStreamSetup.swift)
        HostChannel.exit(status: status)
    }

    func diagnostic(_ text: String) {
        for b in text.utf8 { uart.write(b) }
        Screen.console?.write(text)
    }
}
