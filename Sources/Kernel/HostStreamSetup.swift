// HostStreamSetup — the virtio console that carries egg's stdin, stdout, stderr and control
// port (Kernel layer). The driver is Sources/Drivers/VirtioConsole.swift; the descriptors
// over it are Sources/KernelCore/Devices/HostStream.swift; the host side is
// Sources/EggHost/HostStreams.swift.
//
// With the bundle option "hostcontrol=virtio" instead (terminal mode) only the control port
// is used: signals and "winsize" lines, while the UART terminal keeps stdio.
// Only with the bundle option "stdio=virtio" (egg's stdin or stdout is not a terminal) and a
// virtio-serial PCI function (vendor 1AF4, device 1043, or transitional 1003 with subsystem
// 3) whose ports egg named, or on microvm (no PCI) a virtio-mmio console (device ID 3),
// polled on the timer tick. Otherwise — no option, no such device, an image booted without
// egg — nothing changes: the console stays the UART terminal (MachinePlatform.swift). The
// UART also keeps kernel diagnostics and panics in every case.
// Interrupts: INTx through the legacy PIC like the network card (NetworkSetup.swift), vector
// 32 + line from Traps.swift; the timer tick also polls, so a lost interrupt only costs time.
// At exit, powerOff waits (bounded) until the device has taken every byte of stdout/stderr.
import HW
import Drivers
import KernelArch
import KernelCore
import LinuxABI

typealias KernelVirtioConsole = VirtioConsole<KernelVirtioTransport, FrameDMAMemory>

/// KernelCore's HostStreamChannel over the virtio console.
final class VirtioHostChannel: HostStreamChannel {
    let console: KernelVirtioConsole
    init(console: KernelVirtioConsole) { self.console = console }

    func refresh() { _ = console.poll() }
    func inputAvailable(port: Int) -> Int { console.availableInput(port: port) }
    func receive(_ k: KernelState, port: Int, into address: UserAddress, maximum: Int) throws(Errno) -> Int {
        var done = 0
        while done < maximum, let segment = console.inputSegment(port: port) {
            let n = min(segment.length, maximum - done)
            if let e = k.memory.copyOut(address.advanced(by: done), count: n, fromPhysical: segment.address) {
                if done > 0 { return done } else { throw e }
            }
            console.consumeInput(port: port, count: n)
            done += n
        }
        return done
    }
    func inputEnded(port: Int) -> Bool { console.atEndOfInput(port: port) }
    func transmit(_ k: KernelState, port: Int, from address: UserAddress, count: Int) throws(Errno) -> Int {
        guard count > 0, let slot = console.transmitSlot(port: port) else { return 0 }
        let n = min(count, console.transmitBufferSize)
        if let e = k.memory.copyIn(address, count: n, toPhysical: slot) { throw e }
        console.commitTransmit(port: port, length: n)
        return n
    }
    func outputClosed(port: Int) -> Bool { port < console.portCount && console.ports[port].hostClosed }
}

enum HostStreamDevice {
    nonisolated(unsafe) static var channel: VirtioHostChannel? = nil
    nonisolated(unsafe) static var irq = -1
    nonisolated(unsafe) static var controlPort = -1
    nonisolated(unsafe) static var outputPorts: [Int] = []
    nonisolated(unsafe) static var control = HostControlParser()

    static func isVirtioConsole(_ f: PCIFunction, _ pci: PCIBus<PCIConfigPorts>) -> Bool {
        guard f.vendorID == 0x1AF4 else { return false }
        if f.deviceID == 0x1043 { return true }
        return f.deviceID == 0x1003 && pci.access.read16(f.address, offset: 0x2E) == 3
    }

    /// Boot: with "stdio=virtio", find the device, start it, and make fds 0-2 its ports.
    static func setUp(state: KernelState, options: [String], kernelTable: PageTable) {
        // "hostcontrol=virtio": terminal mode; the UART terminal keeps stdio and the device
        // carries only egg.control (signals, window size; HostStream.swift's header).
        let controlOnly = !options.contains("stdio=virtio") && options.contains("hostcontrol=virtio")
        guard options.contains("stdio=virtio") || controlOnly else { return }
        let pci = PCIBus(access: PCIConfigPorts())
        let functions = pci.enumerate()
        let function = functions.first(where: { isVirtioConsole($0, pci) })
        // No PCI at all (microvm): a virtio-serial-device among the virtio-mmio windows.
        let mmioBase = function == nil && functions.isEmpty ? findMMIOConsole(kernelTable: kernelTable) : nil
        if function == nil && mmioBase == nil {
            HostChannel.write("info stdio no virtio console: the UART terminal stays\n")
            return
        }
        for cap in function.map({ pci.capabilities(of: $0.address) }) ?? [] where cap.id == 0x09 {
            guard let function else { break }
            let bar = Int(pci.access.read8(function.address, offset: cap.offset + 4))
            let offset = UInt64(pci.access.read32(function.address, offset: cap.offset + 8))
            let length = UInt64(pci.access.read32(function.address, offset: cap.offset + 12))
            guard let base = pci.memoryBAR(of: function.address, index: bar) else { continue }
            guard KernelMMIO.mapUncached(base + offset, length: length, in: kernelTable) else {
                HostChannel.write("info stdio cannot map the virtio console's registers: the UART terminal stays\n")
                return
            }
        }
        // Rings for 8 ports' 16 queues plus the control pair, 32 receive buffers of 4 KiB per
        // port that egg adds (4), 32 transmit buffers of 64 KiB for each output port (2).
        guard let dma = FrameDMAMemory(frames: state.frames, bytes: 5 << 20) else {
            HostChannel.write("info stdio not enough memory for the virtio console: the UART terminal stays\n")
            return
        }
        let console: KernelVirtioConsole
        do {
            if let function {
                pci.enableMemoryAndBusMaster(function.address)
                let transport = try VirtioPCITransport(pci: pci, bus: KernelMMIO(), address: function.address)
                console = try VirtioConsole(transport: KernelVirtioTransport.pci(transport), memory: dma,
                                            interruptLine: pci.access.read8(function.address, offset: PCIRegister.interruptLine),
                                            maximumPorts: 8, queueSize: 64, receiveBufferSize: 4096,
                                            transmitBufferSize: 65536, buffersPerQueue: 32)
            } else {
                // microvm: polled on every timer tick (service), no interrupt routed.
                let transport = try VirtioMMIOTransport(bus: KernelMMIO(), base: mmioBase ?? 0)
                console = try VirtioConsole(transport: KernelVirtioTransport.mmio(transport), memory: dma,
                                            interruptLine: 0, maximumPorts: 8, queueSize: 64, receiveBufferSize: 4096,
                                            transmitBufferSize: 65536, buffersPerQueue: 32)
            }
        } catch {
            HostChannel.write("info stdio virtio console failed to start (\(NetworkDevice.describe(error))): the UART terminal stays\n")
            return
        }
        // QEMU answers each control message as it is sent (under TCG, in the notifying
        // vCPU's thread), so the names usually arrive within a few polls; the bound is 5 s,
        // not less: on a host loaded by other QEMUs and compilers a 500 ms bound ran out,
        // the streams stayed on the UART and `bench --cat`'s stdin never came (a hang).
        let names = ["egg.stdin", "egg.stdout", "egg.stderr"]
        let start = Clock.nanosecondsSinceBoot()
        while Clock.nanosecondsSinceBoot() &- start < 5_000_000_000 {
            console.poll()
            if (controlOnly || names.allSatisfy({ console.port(named: $0) != nil })) && console.port(named: "egg.control") != nil { break }
            hw_pause()
        }
        if controlOnly {
            guard let port = console.port(named: "egg.control") else {
                HostChannel.write("info stdio virtio console without egg.control: no signals or resizes from egg\n")
                return
            }
            channel = VirtioHostChannel(console: console)
            controlPort = port
            outputPorts = []
            enableInterrupt(function, console)
            HostChannel.write("info stdio control port \(controlPort) (terminal mode)" + (irq >= 0 ? " irq \(irq)\n" : " polled\n"))
            return
        }
        guard let input = console.port(named: names[0]), let output = console.port(named: names[1]),
              let errors = console.port(named: names[2]) else {
            HostChannel.write("info stdio virtio console without egg's ports: the UART terminal stays\n")
            return
        }
        let host = VirtioHostChannel(console: console)
        channel = host
        controlPort = console.port(named: "egg.control") ?? -1
        outputPorts = [output, errors]
        state.installHostStreams(channel: host, stdin: input, stdout: output, stderr: errors)
        enableInterrupt(function, console)
        HostChannel.write("info stdio virtio console ports \(input)/\(output)/\(errors) control \(controlPort)"
                          + (irq >= 0 ? " irq \(irq)\n" : " polled\n"))
    }

    static func enableInterrupt(_ function: PCIFunction?, _ console: KernelVirtioConsole) {
        guard let function else { return }  // virtio-mmio: polled
        let line = Int(console.interruptLine)
        if function.interruptPin != 0 && line > 0 && line < 16 && line != 2 {
            irq = line
            NetworkDevice.setLevelTriggered(irq: line)
            NetworkDevice.unmask(irq: line)
        }
    }

    /// QEMU microvm's virtio-mmio windows (NetworkSetup.swift has their layout): the first
    /// version-2 device with device ID 3 (console, virtio spec 5.3).
    static func findMMIOConsole(kernelTable: PageTable) -> UInt64? {
        let size = NetworkDevice.mmioSlots * NetworkDevice.mmioSlotSize
        guard KernelMMIO.mapUncached(NetworkDevice.mmioBase, length: size, in: kernelTable) else { return nil }
        for slot in 0..<NetworkDevice.mmioSlots {
            let base = NetworkDevice.mmioBase + slot * NetworkDevice.mmioSlotSize
            if VirtioMMIOTransport.probe(bus: KernelMMIO(), base: base, deviceID: 3) { return base }
        }
        return nil
    }

    /// The device's interrupt (Traps.swift): collect, act on control lines, wake waiters.
    static func interrupt() {
        guard let channel else { return }
        _ = channel.console.acknowledgeInterrupt()
        service()
    }

    /// Every timer tick of CPU 0.
    static func tick() {
        guard channel != nil else { return }
        service()
    }

    static func service() {
        guard let channel, let state = kernel else { return }
        channel.console.poll()
        if controlPort >= 0 && channel.console.availableInput(port: controlPort) > 0 {
            for signal in control.feed(channel.console.takeInput(port: controlPort, maximum: 4096)) {
                state.postProcessSignal(signal)
            }
            if let size = control.pendingWindowSize {
                control.pendingWindowSize = nil
                state.resizeConsole(size)
            }
        }
        state.notifyPollers()
    }

    /// At exit: wait until the device has every byte written to stdout and stderr (it hands
    /// a buffer back once the host side took it), at most `limit`.
    static func flushBeforeExit(limit: UInt64 = 5_000_000_000) {
        guard let channel else { return }
        let start = Clock.nanosecondsSinceBoot()
        while Clock.nanosecondsSinceBoot() &- start < limit {
            channel.console.poll()
            if outputPorts.allSatisfy({ channel.console.transmitIdle(port: $0) || channel.outputClosed(port: $0) }) { return }
            hw_pause()
        }
    }
}
