// NetworkSetup — finding the network card at boot, the TCP/IP stack over it, and the two
// things that drive it afterwards: the card's interrupt and the timer tick (Kernel layer).
//
// The card is a virtio-net PCI function (Sources/Drivers/VirtioNet.swift, over the access
// types in NetworkHardware.swift). Its frames meet the stack (Sources/Net/NetworkStack.swift)
// in KernelState.network / networkInterface, which the socket layer
// (Sources/KernelCore/Sockets/) uses; `pumpNetwork` moves frames both ways and wakes sockets.
// No card: the stack still exists, with loopback only. The IPv4 plan comes from the boot
// bundle's options (NetworkBootPlan in Sources/KernelCore/Sockets/NetworkInterface.swift):
// egg passes QEMU user networking's fixed address; otherwise DHCP runs in the background.
// Interrupts: INTx through the legacy PIC (level-triggered; reading the ISR register
// deasserts the line, virtio 1.2 §4.1.4.5), vector 32 + line, handled in Traps.swift.
// Machines without PCI (QEMU microvm): the first virtio-net among the virtio-mmio windows
// (Sources/Drivers/VirtioMMIO.swift). Its interrupt would arrive through the I/O APIC (GSI
// 16 + slot), which the kernel does not program yet: that card is polled from the 250 Hz
// timer tick (`tick` polls whenever no interrupt has been seen).
import HW
import Drivers
import KernelArch
import KernelCore
import LinuxABI
import Net

typealias KernelVirtioNet = VirtioNet<KernelVirtioTransport, FrameDMAMemory>

/// The virtio-net card as KernelCore's NetworkInterface. Frames the transmit ring cannot
/// take wait in a bounded backlog (sent as the device frees descriptors, which it signals
/// with an interrupt) instead of being dropped at once, so a burst from TCP does not turn
/// into retransmissions.
final class VirtioNetworkInterface: NetworkInterface {
    let card: KernelVirtioNet
    /// Frames the ring had no room for (Sources/KernelCore/Sockets/TransmitBacklog.swift).
    var backlog = TransmitBacklog(maximumFrameLength: KernelVirtioNet.bufferSize - KernelVirtioNet.headerLength)
    var droppedFrames: Int { backlog.droppedFrames }

    init(card: KernelVirtioNet) { self.card = card }

    var macAddress: [UInt8] { card.mac }

    func transmit(_ frames: [[UInt8]]) {
        backlog.enqueue(frames)
        flush()
    }

    func receive() -> [[UInt8]] {
        let frames = card.poll()   // also reclaims sent descriptors
        flush()
        return frames
    }

    func flush() {
        let card = self.card
        backlog.flush { card.send(frames: $0) }
    }

    var hasBacklog: Bool { !backlog.isEmpty }
}

enum NetworkDevice {
    nonisolated(unsafe) static var interface: VirtioNetworkInterface? = nil
    /// The card's legacy IRQ (PIC line), or -1 when it has none and the tick polls it.
    nonisolated(unsafe) static var irq = -1
    /// The virtio-mmio card's I/O APIC GSI (microvm, IOAPIC.networkVector), or -1.
    nonisolated(unsafe) static var gsi = -1
    nonisolated(unsafe) static var interrupts = 0
    nonisolated(unsafe) static var announcedConfiguration = false

    /// virtio-net: vendor 1AF4, device 1041 (modern) or 1000 (transitional, subsystem 1).
    static func isVirtioNet(_ f: PCIFunction, _ pci: PCIBus<PCIConfigPorts>) -> Bool {
        guard f.vendorID == 0x1AF4 else { return false }
        if f.deviceID == 0x1041 { return true }
        return f.deviceID == 0x1000 && pci.access.read16(f.address, offset: 0x2E) == 1
    }

    /// Connections a listener holds for QEMU user-networking peers whatever its backlog:
    /// a burst of this many clients, served one at a time, all get in.
    static let slirpListenQueueFloor = 512

    /// The fixed plan waiting for the first socket() (see setUp), and the kernel's table.
    nonisolated(unsafe) static var deferredPlan: NetworkBootPlan? = nil
    nonisolated(unsafe) static var kernelTable: PageTable? = nil

    /// Boot: decide when to start the card. Call once the heap, the kernel's page tables and
    /// KernelState exist.
    ///   - DHCP (no address given, e.g. an `egg pack` image on a PC): now, so the lease is
    ///     likely there by the time the program wants the network.
    ///   - a fixed address (what `egg run` passes): on the program's first socket() call.
    ///     Under TCG, finding and starting the card is several milliseconds of freshly
    ///     translated code, which a program that never opens a socket should not pay for.
    ///   - "net=none": never; the socket layer makes a loopback-only stack when asked.
    static func setUp(state: KernelState, options: [String], kernelTable: PageTable) {
        let (plan, rejected) = NetworkBootPlan.parse(options)
        for option in rejected { HostChannel.write("info net ignored option \(option)\n") }
        NetworkDevice.kernelTable = kernelTable
        switch plan {
        case .disabled:
            return
        case .dhcp:
            bringUp(state: state, plan: plan)
        case .fixed:
            deferredPlan = plan
            // socket(2) of any family: the stack the socket layer keeps must be this one.
            state.syscalls.wrap(SyscallNumber.socket.rawValue) { k, a, original throws(Errno) -> Int in
                if let plan = NetworkDevice.deferredPlan {
                    NetworkDevice.deferredPlan = nil
                    NetworkDevice.bringUp(state: k, plan: plan)
                }
                return try original(k, a)
            }
        }
    }

    /// Finds the card, starts it and the stack over it (loopback only when there is none).
    static func bringUp(state: KernelState, plan: NetworkBootPlan) {
        guard state.network == nil, let kernelTable else { return }
        var seedBytes = [UInt8](repeating: 0, count: 8)
        state.platform.fillRandom(&seedBytes, count: 8)
        var seed: UInt64 = 0
        for b in seedBytes { seed = seed << 8 | UInt64(b) }

        let pci = PCIBus(access: PCIConfigPorts())
        let functions = pci.enumerate()
        guard let function = functions.first(where: { isVirtioNet($0, pci) }) else {
            // No PCI at all (microvm): look for a virtio-mmio card instead.
            if functions.isEmpty, let base = findMMIOCard(kernelTable: kernelTable) {
                bringUpMMIO(state: state, plan: plan, base: base, seed: seed)
                return
            }
            state.network = NetworkStack(mac: nil, randomSeed: seed)
            HostChannel.write("info net no network card: loopback only\n")
            return
        }
        // Map every register window the virtio capabilities name (virtio 1.2 §4.1.4:
        // cap.bar at +4, offset at +8, length at +12) before the driver touches them.
        for cap in pci.capabilities(of: function.address) where cap.id == 0x09 {
            let bar = Int(pci.access.read8(function.address, offset: cap.offset + 4))
            let offset = UInt64(pci.access.read32(function.address, offset: cap.offset + 8))
            let length = UInt64(pci.access.read32(function.address, offset: cap.offset + 12))
            guard let base = pci.memoryBAR(of: function.address, index: bar) else { continue }
            if !KernelMMIO.mapUncached(base + offset, length: length, in: kernelTable) {
                HostChannel.write("info net cannot map the card's registers at \(hex(base + offset)): loopback only\n")
                state.network = NetworkStack(mac: nil, randomSeed: seed)
                return
            }
        }
        guard let (dma, queueSize) = makeDMA(state: state, seed: seed) else { return }
        let card: KernelVirtioNet
        do {
            pci.enableMemoryAndBusMaster(function.address)
            let transport = try VirtioPCITransport(pci: pci, bus: KernelMMIO(), address: function.address)
            card = try VirtioNet(transport: KernelVirtioTransport.pci(transport), memory: dma,
                                 interruptLine: pci.access.read8(function.address, offset: PCIRegister.interruptLine),
                                 queueSize: queueSize)
        } catch {
            HostChannel.write("info net virtio-net at \(pciName(function.address)) failed to start (\(describe(error))): loopback only\n")
            state.network = NetworkStack(mac: nil, randomSeed: seed)
            return
        }
        start(state: state, plan: plan, card: card, seed: seed)

        let line = Int(card.interruptLine)
        if function.interruptPin != 0 && line > 0 && line < 16 && line != 2 {
            irq = line
            setLevelTriggered(irq: line)
            unmask(irq: line)
        }
        var text = "info net virtio-net \(macText(card.mac)) at \(pciName(function.address))"
        text += irq >= 0 ? " irq \(irq)" : " polled"
        announce(state: state, text: text, plan: plan, card: card, queueSize: queueSize)
    }

    /// The DMA block for two rings of up to 256 two-KiB buffers plus the rings themselves;
    /// half that on small machines. nil (and a loopback-only stack) when RAM is short.
    static func makeDMA(state: KernelState, seed: UInt64) -> (FrameDMAMemory, UInt16)? {
        let queueSize: UInt16 = state.frames.totalBytes >= 64 << 20 ? 256 : 128
        let dmaBytes = 2 * Int(queueSize) * (KernelVirtioNet.bufferSize + 32) + 64 * 1024
        guard let dma = FrameDMAMemory(frames: state.frames, bytes: dmaBytes) else {
            HostChannel.write("info net not enough memory for the card's rings: loopback only\n")
            state.network = NetworkStack(mac: nil, randomSeed: seed)
            return nil
        }
        return (dma, queueSize)
    }

    /// The stack over a started card, published in KernelState.
    static func start(state: KernelState, plan: NetworkBootPlan, card: KernelVirtioNet, seed: UInt64) {
        let nic = VirtioNetworkInterface(card: card)
        var parameters = TCPParameters()
        if case .fixed = plan {
            // The fixed plan is QEMU's user networking (`egg run`): every peer comes through
            // libslirp, which gives up on an unanswered SYN after 75 s (TCPParameters).
            parameters.remoteListenQueueFloor = NetworkDevice.slirpListenQueueFloor
        }
        let stack = NetworkStack(mac: MACAddress(card.mac), randomSeed: seed, parameters: parameters)
        switch plan {
        case .fixed(let configuration):
            stack.configure(configuration)
        case .dhcp, .disabled:
            stack.startDHCP(now: state.platform.monotonicNanoseconds())
        }
        state.network = stack
        state.networkInterface = nic
        interface = nic
    }

    static func announce(state: KernelState, text: String, plan: NetworkBootPlan, card: KernelVirtioNet,
                         queueSize: UInt16) {
        var text = text
        text += " queues \(queueSize)"
        if case .fixed(let c) = plan {
            text += " " + configurationText(c)
            announcedConfiguration = true
        } else {
            text += " dhcp"
        }
        HostChannel.write(text + (card.linkUp ? "\n" : " link down\n"))
        // Frames the stack queued while starting (DHCP discover, gratuitous work).
        state.pumpNetwork()
    }

    // MARK: virtio-mmio (QEMU microvm)

    /// QEMU microvm's virtio-mmio transports: 24 windows of 0x200 bytes from 0xFEB00000
    /// (QEMU hw/i386/microvm.c: VIRTIO_MMIO_BASE, VIRTIO_NUM_TRANSPORTS; interrupts on GSI
    /// 24 + slot with the second I/O APIC, see IOAPIC.microvmVirtioGSI).
    static let mmioBase: UInt64 = 0xFEB0_0000
    static let mmioSlotSize: UInt64 = 0x200
    static let mmioSlots: UInt64 = 24

    /// Maps the windows uncached and returns the first one holding a modern virtio-net device.
    static func findMMIOCard(kernelTable: PageTable) -> UInt64? {
        guard KernelMMIO.mapUncached(mmioBase, length: mmioSlots * mmioSlotSize, in: kernelTable) else { return nil }
        for slot in 0..<mmioSlots {
            let base = mmioBase + slot * mmioSlotSize
            if VirtioMMIOTransport.probe(bus: KernelMMIO(), base: base, deviceID: 1) { return base }
            // A legacy (version 1) window: say why it is skipped.
            let bus = KernelMMIO()
            if bus.read32(base) == VirtioMMIOTransport<KernelMMIO>.magic && bus.read32(base + 4) == 1
                && bus.read32(base + 8) == 1 {
                HostChannel.write("info net legacy virtio-mmio card at \(hex(base)) ignored (version 2 only)\n")
            }
        }
        return nil
    }

    /// Starts the virtio-mmio card at `base`; its interrupt comes through the I/O APIC, or the
    /// timer tick polls it when that cannot be routed.
    static func bringUpMMIO(state: KernelState, plan: NetworkBootPlan, base: UInt64, seed: UInt64) {
        guard let (dma, queueSize) = makeDMA(state: state, seed: seed) else { return }
        let card: KernelVirtioNet
        do {
            let transport = try VirtioMMIOTransport(bus: KernelMMIO(), base: base)
            card = try VirtioNet(transport: KernelVirtioTransport.mmio(transport), memory: dma, queueSize: queueSize)
        } catch {
            HostChannel.write("info net virtio-mmio card at \(hex(base)) failed to start (\(describe(error))): loopback only\n")
            state.network = NetworkStack(mac: nil, randomSeed: seed)
            return
        }
        start(state: state, plan: plan, card: card, seed: seed)
        // Its interrupt through the I/O APIC (IOAPIC.swift) to the boot CPU; polled if that fails.
        let slot = UInt32((base - mmioBase) / mmioSlotSize)
        if let kernelTable, let (line, controllers) = IOAPIC.microvmVirtioGSI(slot: slot),
           let (ioapic, pin) = IOAPIC.route(gsi: line, vector: IOAPIC.networkVector, levelTriggered: true,
                                            activeLow: false, destination: SMP.bootAPICID,
                                            controllers: controllers, kernelTable: kernelTable) {
            gsi = Int(line)
            IOAPIC.unmask(base: ioapic, pin: pin)
        }
        var text = "info net virtio-net \(macText(card.mac)) at mmio \(hex(base))"
        text += gsi >= 0 ? " irq gsi \(gsi)" : " polled"
        announce(state: state, text: text, plan: plan, card: card, queueSize: queueSize)
    }

    /// Called from Traps.swift for vector 32 + irq, or IOAPIC.networkVector.
    static func interrupt() {
        guard let nic = interface else { return }
        _ = nic.card.acknowledgeInterrupt()
        interrupts &+= 1
        guard let state = kernel else { return }
        state.pumpNetwork()
    }

    /// Called on every timer tick of CPU 0: runs the stack's timers when due, and polls a
    /// card whose interrupt has not been seen (no IRQ line, or one the firmware misrouted).
    static func tick() {
        guard let state = kernel, let stack = state.network else { return }
        let polling = interface.map { interrupts == 0 || $0.hasBacklog } ?? false
        if polling || state.networkTimerDue(now: state.platform.monotonicNanoseconds()) {
            state.pumpNetwork()
        }
        if !announcedConfiguration, let c = stack.configuration {
            announcedConfiguration = true
            HostChannel.write("info net \(c.fromDHCP ? "dhcp" : "dhcp timed out, fallback") \(configurationText(c))\n")
        }
    }

    /// At exit: Linux keeps sending a closed socket's queued data after the process is gone,
    /// but here the machine goes with it. So keep pumping (polled: interrupts are off) while
    /// the stack has a timer due within a few seconds — retransmission, persist, delayed ACK,
    /// an unacknowledged FIN — and at most `limit`; TIME_WAIT, FIN_WAIT_2 and keep-alive
    /// timers lie further out and do not hold the machine up.
    static func lingerBeforeExit(limit: UInt64 = 2_000_000_000) {
        guard let state = kernel, let stack = state.network, let nic = interface else { return }
        let start = Clock.nanosecondsSinceBoot()
        state.closeSocketsAtExit()  // FIN for what the program left open, as a Linux exit does
        while true {
            state.pumpNetwork()
            let now = Clock.nanosecondsSinceBoot()
            guard let deadline = stack.nextDeadline(), deadline < now &+ 3_000_000_000,
                  now &- start < limit else { break }
            let until = min(max(deadline, now &+ 200_000), now &+ 1_000_000)
            while Clock.nanosecondsSinceBoot() < until { hw_pause() }
        }
        let lingered = (Clock.nanosecondsSinceBoot() &- start) / 1_000_000
        HostChannel.write("info net frames received \(nic.card.framesReceived) sent \(nic.card.framesSent), interrupts \(interrupts), transmit ring full \(nic.card.transmitRingFull) times, dropped \(nic.droppedFrames), tcp resets sent \(stack.statistics.tcpResetsSent), listen overflows \(stack.statistics.listenOverflowDropped), exit linger \(lingered) ms\n")
    }

    // MARK: Legacy PIC (8259A) and ELCR

    static func unmask(irq: Int) {
        if irq < 8 {
            hw_outb(0x21, hw_inb(0x21) & ~UInt8(1 << irq))
        } else {
            hw_outb(0xA1, hw_inb(0xA1) & ~UInt8(1 << (irq - 8)))
            hw_outb(0x21, hw_inb(0x21) & ~UInt8(1 << 2))   // the cascade
        }
    }

    /// PCI INTx lines are level-triggered: the PIIX/ICH edge/level control registers
    /// (ports 0x4D0/0x4D1) say so per IRQ. SeaBIOS sets them; this keeps other firmware safe.
    static func setLevelTriggered(irq: Int) {
        let port: UInt16 = irq < 8 ? 0x4D0 : 0x4D1
        hw_outb(port, hw_inb(port) | UInt8(1 << (irq & 7)))
    }

    // MARK: Text for the control channel

    static func pciName(_ a: PCIAddress) -> String {
        twoHex(a.bus) + ":" + twoHex(a.device) + "." + String(a.function)
    }

    static func twoHex(_ v: UInt8) -> String {
        let digits = String(v, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    static func macText(_ mac: [UInt8]) -> String {
        var out = ""
        for (i, b) in mac.enumerated() { out += (i == 0 ? "" : ":") + twoHex(b) }
        return out
    }

    static func configurationText(_ c: IPv4Configuration) -> String {
        "ip \(c.address.text)/\(c.prefixLength) gw \(c.gateway.text) dns \(c.dns.text)"
    }

    static func describe(_ error: VirtioError) -> String {
        switch error {
        case .notVirtio: return "not virtio"
        case .missingCapability(let type): return "capability \(type) missing"
        case .missingBAR: return "BAR missing"
        case .featuresRejected: return "features rejected"
        case .versionOneNotOffered: return "no VERSION_1"
        case .queueUnavailable(let index): return "queue \(index) unavailable"
        case .outOfMemory: return "out of memory"
        case .resetTimedOut: return "reset timed out"
        case .unsupportedVersion(let version): return "virtio-mmio version \(version)"
        }
    }
}
