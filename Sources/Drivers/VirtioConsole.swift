// VirtioConsole — the virtio console device with multiple ports (Drivers layer; virtio 1.2
// §5.3, VIRTIO_CONSOLE_F_MULTIPORT). egg's host streams (stdin, stdout, stderr and a control
// port) travel over it instead of the 16550 UART.
//
// Over either transport (VirtioTransport: PCI in VirtioPCI.swift, MMIO in VirtioMMIO.swift),
// like VirtioNet.swift. Queue layout (§5.3.2): port 0 receive/transmit are queues 0/1, the
// control receive/transmit queues 2/3, port n ≥ 1 uses 2n+2 and 2n+3. Every queue of the
// ports the driver accepts is set up before DRIVER_OK (§3.1.1); buffers are given to a port
// only when the device announces it (DEVICE_ADD), so unused ports cost no memory.
// Control flow (§5.3.6.2, and QEMU hw/char/virtio-serial-bus.c handle_control_message):
// driver → DEVICE_READY; device → DEVICE_ADD per port; driver → PORT_READY; device →
// PORT_NAME and PORT_OPEN (host side connected or not); driver → PORT_OPEN 1 (the guest
// side is open, without which QEMU sends a port no data). The host side closing (PORT_OPEN 0)
// is end of input for that port.
// Received data stays in its DMA buffer until taken: a buffer is posted again only once read,
// so a program that does not read stops the device (flow control) instead of filling memory.
// The kernel side is Sources/Kernel/HostStreamSetup.swift; host tests
// Tests/NetTests/VirtioConsoleTests.swift.

public enum VirtioConsoleFeature {
    public static let size: UInt64 = 1 << 0
    public static let multiport: UInt64 = 1 << 1
}

/// Control message events (struct virtio_console_control, §5.3.6.2).
public enum VirtioConsoleEvent {
    public static let deviceReady: UInt16 = 0
    public static let deviceAdd: UInt16 = 1
    public static let deviceRemove: UInt16 = 2
    public static let portReady: UInt16 = 3
    public static let consolePort: UInt16 = 4
    public static let resize: UInt16 = 5
    public static let portOpen: UInt16 = 6
    public static let portName: UInt16 = 7
}

/// struct virtio_console_control { le32 id; le16 event; le16 value; } and, for PORT_NAME,
/// the name's bytes after it.
public struct VirtioConsoleControl: Equatable {
    public var port: UInt32
    public var event: UInt16
    public var value: UInt16
    public var payload: [UInt8]

    public static var headerSize: Int { 8 }

    public init(port: UInt32, event: UInt16, value: UInt16, payload: [UInt8] = []) {
        self.port = port
        self.event = event
        self.value = value
        self.payload = payload
    }

    public func encode() -> [UInt8] {
        [UInt8(truncatingIfNeeded: port), UInt8(truncatingIfNeeded: port >> 8),
         UInt8(truncatingIfNeeded: port >> 16), UInt8(truncatingIfNeeded: port >> 24),
         UInt8(truncatingIfNeeded: event), UInt8(truncatingIfNeeded: event >> 8),
         UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] + payload
    }

    public static func decode(_ b: [UInt8]) -> VirtioConsoleControl? {
        guard b.count >= headerSize else { return nil }
        let port = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        return VirtioConsoleControl(port: port, event: UInt16(b[4]) | UInt16(b[5]) << 8,
                                    value: UInt16(b[6]) | UInt16(b[7]) << 8, payload: Array(b[headerSize...]))
    }
}

/// One port as the driver knows it.
public struct VirtioConsolePortState {
    public var added = false
    public var name = ""
    /// The host side is connected (PORT_OPEN from the device). Starts false: QEMU announces
    /// an open host side right after PORT_READY.
    public var hostConnected = false
    /// The host side was connected once and then closed: end of input.
    public var hostClosed = false
    /// Received bytes not yet taken: (descriptor id, offset, length) of used receive buffers.
    var pending: [(id: UInt16, offset: Int, length: Int)] = []
    var receiveBuffers: [UInt64] = []
    var transmitBuffers: [UInt64] = []
}

public final class VirtioConsole<Transport: VirtioTransport, Memory: DMAMemory> {
    public static var controlReceiveQueue: UInt16 { 2 }
    public static var controlTransmitQueue: UInt16 { 3 }
    static var controlBufferSize: Int { 256 }

    public let transport: Transport
    let memory: Memory
    public let features: UInt64
    public let interruptLine: UInt8
    /// Ports this driver accepts (0..<portCount): min(the device's max_nr_ports, asked).
    public let portCount: Int
    public let receiveBufferSize: Int
    public let transmitBufferSize: Int
    let buffersPerQueue: Int
    var controlReceive: SplitVirtqueue
    var controlTransmit: SplitVirtqueue
    var controlReceiveBuffers: [UInt64] = []
    var controlTransmitBuffers: [UInt64] = []
    var controlBacklog: [[UInt8]] = []
    var receiveQueues: [SplitVirtqueue] = []
    var transmitQueues: [SplitVirtqueue] = []
    public private(set) var ports: [VirtioConsolePortState]

    public static func receiveQueueIndex(port: Int) -> UInt16 { port == 0 ? 0 : UInt16(2 * port + 2) }
    public static func transmitQueueIndex(port: Int) -> UInt16 { receiveQueueIndex(port: port) + 1 }

    /// Starts the device (§3.1.1) and sends DEVICE_READY. Throws featuresRejected when the
    /// device lacks MULTIPORT (port names are what egg's streams are found by).
    public init(transport: Transport, memory: Memory, interruptLine: UInt8 = 0, maximumPorts: Int = 8,
                queueSize: UInt16 = 64, receiveBufferSize: Int = 4096, transmitBufferSize: Int = 16384,
                buffersPerQueue: Int = 32) throws(VirtioError) {
        self.transport = transport
        self.memory = memory
        self.interruptLine = interruptLine
        self.receiveBufferSize = receiveBufferSize
        self.transmitBufferSize = transmitBufferSize
        features = try transport.negotiate(wanted: VirtioConsoleFeature.multiport)
        guard features & VirtioConsoleFeature.multiport != 0 else {
            transport.addStatus(VirtioStatus.failed)
            throw .featuresRejected
        }
        // struct virtio_console_config { le16 cols; le16 rows; le32 max_nr_ports; le32 emerg_wr; }
        var offered: UInt32 = 0
        for i in 0..<4 { offered |= UInt32(transport.readDeviceConfig8(UInt64(4 + i))) << (8 * UInt32(i)) }
        portCount = max(0, min(Int(offered), maximumPorts))
        controlReceive = try transport.setUpQueue(VirtioConsole.controlReceiveQueue, maximumSize: queueSize, memory: memory)
        controlTransmit = try transport.setUpQueue(VirtioConsole.controlTransmitQueue, maximumSize: queueSize, memory: memory)
        for port in 0..<portCount {
            receiveQueues.append(try transport.setUpQueue(VirtioConsole.receiveQueueIndex(port: port),
                                                          maximumSize: queueSize, memory: memory))
            transmitQueues.append(try transport.setUpQueue(VirtioConsole.transmitQueueIndex(port: port),
                                                           maximumSize: queueSize, memory: memory))
        }
        self.buffersPerQueue = buffersPerQueue
        ports = [VirtioConsolePortState](repeating: VirtioConsolePortState(), count: portCount)
        for _ in 0..<Int(controlReceive.size) {
            guard let b = memory.allocate(bytes: VirtioConsole.controlBufferSize, alignment: 16) else { throw .outOfMemory }
            controlReceiveBuffers.append(b)
        }
        for _ in 0..<Int(controlTransmit.size) {
            guard let b = memory.allocate(bytes: VirtioConsole.controlBufferSize, alignment: 16) else { throw .outOfMemory }
            controlTransmitBuffers.append(b)
        }
        transport.addStatus(VirtioStatus.driverOK)
        while let id = controlReceive.freeDescriptors.last {
            guard controlReceive.add(buffer: controlReceiveBuffers[Int(id)], length: VirtioConsole.controlBufferSize,
                                     deviceWrites: true, memory: memory) != nil else { break }
        }
        transport.notify(controlReceive)
        sendControl(VirtioConsoleControl(port: 0, event: VirtioConsoleEvent.deviceReady, value: 1))
    }

    /// The port the host named `name` (PORT_NAME), if it has been added.
    public func port(named name: String) -> Int? {
        ports.firstIndex { $0.added && $0.name == name }
    }

    // MARK: control queue

    func sendControl(_ message: VirtioConsoleControl) {
        controlBacklog.append(message.encode())
        flushControl()
    }

    func flushControl() {
        while controlTransmit.takeUsed(memory: memory) != nil {}
        var sent = false
        while !controlBacklog.isEmpty, let id = controlTransmit.freeDescriptors.last {
            var bytes = controlBacklog.removeFirst()
            if bytes.count > VirtioConsole.controlBufferSize { bytes = Array(bytes[0..<VirtioConsole.controlBufferSize]) }
            memory.write(controlTransmitBuffers[Int(id)], bytes)
            _ = controlTransmit.add(buffer: controlTransmitBuffers[Int(id)], length: bytes.count,
                                    deviceWrites: false, memory: memory)
            sent = true
        }
        if sent { transport.notify(controlTransmit) }
    }

    func handle(_ message: VirtioConsoleControl) {
        let id = Int(message.port)
        switch message.event {
        case VirtioConsoleEvent.deviceAdd:
            guard id < portCount, !ports[id].added, addPort(id) else {
                // A port beyond the queues set up, or no memory for its buffers: refuse it.
                sendControl(VirtioConsoleControl(port: message.port, event: VirtioConsoleEvent.portReady, value: 0))
                return
            }
            sendControl(VirtioConsoleControl(port: message.port, event: VirtioConsoleEvent.portReady, value: 1))
            // The guest side is open from the start: the kernel owns every port for egg.
            sendControl(VirtioConsoleControl(port: message.port, event: VirtioConsoleEvent.portOpen, value: 1))
        case VirtioConsoleEvent.deviceRemove:
            guard id < portCount else { return }
            if ports[id].hostConnected { ports[id].hostClosed = true }
            ports[id].hostConnected = false
        case VirtioConsoleEvent.portName:
            guard id < portCount else { return }
            var name = message.payload
            while name.last == 0 { name.removeLast() }
            ports[id].name = String(decoding: name, as: UTF8.self)
        case VirtioConsoleEvent.portOpen:
            guard id < portCount else { return }
            if message.value != 0 {
                ports[id].hostConnected = true
                ports[id].hostClosed = false
            } else {
                if ports[id].hostConnected { ports[id].hostClosed = true }
                ports[id].hostConnected = false
            }
        case VirtioConsoleEvent.consolePort:
            // A console port (virtconsole): opened above already, nothing else to do.
            break
        default:
            break   // RESIZE: the terminal path keeps using the UART
        }
    }

    func addPort(_ id: Int) -> Bool {
        var state = ports[id]
        let count = min(buffersPerQueue, Int(receiveQueues[id].size))
        for _ in 0..<count {
            guard let b = memory.allocate(bytes: receiveBufferSize, alignment: 16) else { return false }
            state.receiveBuffers.append(b)
        }
        state.added = true
        ports[id] = state
        // Descriptor ids and buffers pair by index; only the first `count` ids are used.
        var queue = receiveQueues[id]
        queue.freeDescriptors = (0..<UInt16(count)).reversed().map { $0 }
        while let d = queue.freeDescriptors.last {
            _ = queue.add(buffer: state.receiveBuffers[Int(d)], length: receiveBufferSize, deviceWrites: true, memory: memory)
        }
        transport.notify(queue)
        receiveQueues[id] = queue
        return true
    }

    // MARK: polling

    /// Reads and acknowledges the interrupt status; true when the interrupt was this device's.
    public func acknowledgeInterrupt() -> Bool { transport.acknowledgeInterrupt() != 0 }

    /// Handles control messages, collects received data (left in place until taken) and
    /// reclaims sent buffers. True when something arrived.
    @discardableResult
    public func poll() -> Bool {
        var changed = false
        var reposted = false
        while let used = controlReceive.takeUsed(memory: memory) {
            let length = min(used.length, VirtioConsole.controlBufferSize)
            if let message = VirtioConsoleControl.decode(memory.read(controlReceiveBuffers[Int(used.id)], count: length)) {
                handle(message)
                changed = true
            }
            if let d = controlReceive.freeDescriptors.last {
                _ = controlReceive.add(buffer: controlReceiveBuffers[Int(d)], length: VirtioConsole.controlBufferSize,
                                       deviceWrites: true, memory: memory)
                reposted = true
            }
        }
        if reposted { transport.notify(controlReceive) }
        flushControl()
        for id in 0..<portCount where ports[id].added {
            while let used = receiveQueues[id].takeUsed(memory: memory) {
                let length = min(used.length, receiveBufferSize)
                if length > 0 {
                    ports[id].pending.append((used.id, 0, length))
                    changed = true
                } else {
                    repost(port: id, descriptor: used.id)
                }
            }
            while transmitQueues[id].takeUsed(memory: memory) != nil {}
        }
        return changed
    }

    func repost(port id: Int, descriptor d: UInt16) {
        // takeUsed put `d` on the free list; post exactly that one again (its buffer pairs by id).
        guard let i = receiveQueues[id].freeDescriptors.lastIndex(of: d) else { return }
        receiveQueues[id].freeDescriptors.remove(at: i)
        receiveQueues[id].freeDescriptors.append(d)
        _ = receiveQueues[id].add(buffer: ports[id].receiveBuffers[Int(d)], length: receiveBufferSize,
                                  deviceWrites: true, memory: memory)
        transport.notify(receiveQueues[id])
    }

    // MARK: data

    /// Bytes received on `port` and not yet taken.
    public func availableInput(port id: Int) -> Int {
        guard id >= 0 && id < portCount else { return 0 }
        var n = 0
        for p in ports[id].pending { n += p.length }
        return n
    }

    /// Takes up to `maximum` received bytes of `port`, oldest first; emptied buffers go back
    /// to the device.
    public func takeInput(port id: Int, maximum: Int) -> [UInt8] {
        guard id >= 0 && id < portCount else { return [] }
        var out: [UInt8] = []
        while out.count < maximum, !ports[id].pending.isEmpty {
            let p = ports[id].pending[0]
            let n = min(p.length, maximum - out.count)
            out += memory.read(ports[id].receiveBuffers[Int(p.id)] + UInt64(p.offset), count: n)
            if n == p.length {
                ports[id].pending.removeFirst()
                repost(port: id, descriptor: p.id)
            } else {
                ports[id].pending[0] = (p.id, p.offset + n, p.length - n)
            }
        }
        return out
    }

    /// The oldest received bytes of `port` in place: (physical address, length), or nil.
    /// `consumeInput` then says how many of them were used.
    public func inputSegment(port id: Int) -> (address: UInt64, length: Int)? {
        guard id >= 0 && id < portCount, let p = ports[id].pending.first else { return nil }
        return (ports[id].receiveBuffers[Int(p.id)] + UInt64(p.offset), p.length)
    }

    /// Marks `count` bytes of the segment `inputSegment` gave as taken.
    public func consumeInput(port id: Int, count: Int) {
        guard id >= 0 && id < portCount, let p = ports[id].pending.first, count > 0 else { return }
        if count >= p.length {
            ports[id].pending.removeFirst()
            repost(port: id, descriptor: p.id)
        } else {
            ports[id].pending[0] = (p.id, p.offset + count, p.length - count)
        }
    }

    /// A free transmit buffer of `port` (physical address) to fill before `commitTransmit`,
    /// or nil while the device holds all of them.
    public func transmitSlot(port id: Int) -> UInt64? {
        guard id >= 0 && id < portCount, ports[id].added else { return nil }
        prepareTransmitBuffers(port: id)
        while transmitQueues[id].takeUsed(memory: memory) != nil {}
        guard let d = transmitQueues[id].freeDescriptors.last else { return nil }
        return ports[id].transmitBuffers[Int(d)]
    }

    /// Hands the slot `transmitSlot` gave, filled with `length` bytes, to the device.
    public func commitTransmit(port id: Int, length: Int) {
        guard id >= 0 && id < portCount, let d = transmitQueues[id].freeDescriptors.last, length > 0 else { return }
        _ = transmitQueues[id].add(buffer: ports[id].transmitBuffers[Int(d)], length: min(length, transmitBufferSize),
                                   deviceWrites: false, memory: memory)
        transport.notify(transmitQueues[id])
    }

    func prepareTransmitBuffers(port id: Int) {
        guard ports[id].transmitBuffers.isEmpty else { return }
        let n = min(buffersPerQueue, Int(transmitQueues[id].size))
        for _ in 0..<n {
            guard let b = memory.allocate(bytes: transmitBufferSize, alignment: 16) else { break }
            ports[id].transmitBuffers.append(b)
        }
        transmitQueues[id].freeDescriptors = (0..<UInt16(ports[id].transmitBuffers.count)).reversed().map { $0 }
    }

    /// End of input on `port`: the host side closed and every received byte was taken.
    public func atEndOfInput(port id: Int) -> Bool {
        guard id >= 0 && id < portCount else { return true }
        return ports[id].hostClosed && ports[id].pending.isEmpty
    }

    /// Queues up to `transmitBufferSize` bytes from `bytes[offset...]` on `port`; returns how
    /// many were queued (0 when every transmit buffer is still with the device).
    public func send(port id: Int, _ bytes: [UInt8], offset: Int = 0, count: Int) -> Int {
        guard id >= 0 && id < portCount, ports[id].added, count > 0 else { return 0 }
        prepareTransmitBuffers(port: id)
        while transmitQueues[id].takeUsed(memory: memory) != nil {}
        guard let d = transmitQueues[id].freeDescriptors.last else { return 0 }
        let n = min(count, transmitBufferSize)
        let buffer = ports[id].transmitBuffers[Int(d)]
        memory.write(buffer, offset == 0 && n == bytes.count ? bytes : Array(bytes[offset..<(offset + n)]))
        _ = transmitQueues[id].add(buffer: buffer, length: n, deviceWrites: false, memory: memory)
        transport.notify(transmitQueues[id])
        return n
    }

    /// Whether the device has finished with every buffer sent on `port` (the bytes reached
    /// the host side), after reclaiming what it returned.
    public func transmitIdle(port id: Int) -> Bool {
        guard id >= 0 && id < portCount else { return true }
        while transmitQueues[id].takeUsed(memory: memory) != nil {}
        return transmitQueues[id].freeDescriptors.count == max(ports[id].transmitBuffers.count, 0)
            || ports[id].transmitBuffers.isEmpty
    }

    /// Probes and starts the virtio console PCI function at `address`.
    public convenience init<Config: PCIConfigAccess, Bus: MMIOAccess>(
        pci: PCIBus<Config>, bus: Bus, memory: Memory, address: PCIAddress
    ) throws(VirtioError) where Transport == VirtioPCITransport<Config, Bus> {
        pci.enableMemoryAndBusMaster(address)
        let transport = try VirtioPCITransport(pci: pci, bus: bus, address: address)
        try self.init(transport: transport, memory: memory,
                      interruptLine: pci.access.read8(address, offset: PCIRegister.interruptLine))
    }
}
