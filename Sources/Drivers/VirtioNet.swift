// VirtioNet — the virtio network device driver (Drivers layer; virtio 1.2 §5.1).
//
// Over either modern transport (VirtioTransport: PCI in VirtioPCI.swift, MMIO in
// VirtioMMIO.swift); VERSION_1 + MAC + STATUS, no merged receive
// buffers and no offloads, so every packet is a 12-byte virtio_net_hdr plus one Ethernet
// frame in a single 2 KiB buffer. The receive queue keeps every buffer posted. Interrupt
// friendly: the kernel's handler calls `acknowledgeInterrupt()`, then `poll()` (from the
// handler or a deferred context) collects received frames and recycles sent buffers.
// The frames go to Net's NetworkStack (Sources/Net/NetworkStack.swift), wired by the kernel.

public enum VirtioNetFeature {
    public static let mac: UInt64 = 1 << 5
    public static let mergeableRxBuffers: UInt64 = 1 << 15
    public static let status: UInt64 = 1 << 16
}

public final class VirtioNet<Transport: VirtioTransport, Memory: DMAMemory> {
    public static var headerLength: Int { 12 }     // struct virtio_net_hdr with num_buffers
    public static var bufferSize: Int { 2048 }
    public static var receiveQueueIndex: UInt16 { 0 }
    public static var transmitQueueIndex: UInt16 { 1 }

    public let transport: Transport
    let memory: Memory
    public let features: UInt64
    /// The device's MAC address (six bytes), from its configuration space.
    public let mac: [UInt8]
    public let interruptLine: UInt8
    var receiveQueue: SplitVirtqueue
    var transmitQueue: SplitVirtqueue
    var receiveBuffers: [UInt64]    // by descriptor id
    var transmitBuffers: [UInt64]   // by descriptor id
    public private(set) var framesSent = 0
    public private(set) var framesReceived = 0
    public private(set) var transmitRingFull = 0

    /// Starts the device behind `transport` (virtio 1.2 §3.1.1). `interruptLine` is only
    /// reported back (the PCI INTx line; 0 when unknown).
    public init(transport: Transport, memory: Memory, interruptLine: UInt8 = 0,
                queueSize: UInt16 = 256) throws(VirtioError) {
        self.transport = transport
        self.memory = memory
        features = try transport.negotiate(wanted: VirtioNetFeature.mac | VirtioNetFeature.status)
        receiveQueue = try transport.setUpQueue(VirtioNet.receiveQueueIndex, maximumSize: queueSize, memory: memory)
        transmitQueue = try transport.setUpQueue(VirtioNet.transmitQueueIndex, maximumSize: queueSize, memory: memory)
        if features & VirtioNetFeature.mac != 0 {
            mac = (0..<6).map { transport.readDeviceConfig8(UInt64($0)) }
        } else {
            mac = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
        }
        self.interruptLine = interruptLine
        receiveBuffers = []
        transmitBuffers = []
        for _ in 0..<Int(receiveQueue.size) {
            guard let b = memory.allocate(bytes: VirtioNet.bufferSize, alignment: 16) else { throw .outOfMemory }
            receiveBuffers.append(b)
        }
        for _ in 0..<Int(transmitQueue.size) {
            guard let b = memory.allocate(bytes: VirtioNet.bufferSize, alignment: 16) else { throw .outOfMemory }
            transmitBuffers.append(b)
        }
        // Sent buffers are reclaimed on the next send or receive poll: no interrupt per sent
        // frame (halves the interrupts of a request/response load).
        transmitQueue.suppressInterrupts(memory: memory)
        transport.addStatus(VirtioStatus.driverOK)
        // Post every receive buffer (§5.1.6.3: "fill the receive queue").
        while let id = peekFreeReceive() {
            guard receiveQueue.add(buffer: receiveBuffers[Int(id)], length: VirtioNet.bufferSize,
                                   deviceWrites: true, memory: memory) != nil else { break }
        }
        transport.notify(receiveQueue)
    }

    func peekFreeReceive() -> UInt16? { receiveQueue.freeDescriptors.last }

    /// Whether the link is up (STATUS feature), else assumed up.
    public var linkUp: Bool {
        guard features & VirtioNetFeature.status != 0 else { return true }
        let s = UInt16(transport.readDeviceConfig8(6)) | UInt16(transport.readDeviceConfig8(7)) << 8
        return s & 1 != 0
    }

    /// Queues one Ethernet frame (no FCS). False when the ring is full: call `poll()` first
    /// (or wait for the next interrupt) and retry, or drop.
    @discardableResult
    public func send(_ frame: [UInt8]) -> Bool {
        guard frame.count + VirtioNet.headerLength <= VirtioNet.bufferSize, !frame.isEmpty else { return false }
        reclaimTransmitted()
        guard let id = transmitQueue.freeDescriptors.last else {
            transmitRingFull += 1
            return false
        }
        let buffer = transmitBuffers[Int(id)]
        var packet = [UInt8](repeating: 0, count: VirtioNet.headerLength)
        packet.append(contentsOf: frame)
        memory.write(buffer, packet)
        guard transmitQueue.add(buffer: buffer, length: packet.count, deviceWrites: false, memory: memory) != nil else {
            return false
        }
        transport.notify(transmitQueue)
        framesSent += 1
        return true
    }

    /// Sends several frames with one notification; returns how many were queued.
    public func send(frames: [[UInt8]]) -> Int {
        reclaimTransmitted()
        var queued = 0
        for frame in frames {
            guard frame.count + VirtioNet.headerLength <= VirtioNet.bufferSize, !frame.isEmpty,
                  let id = transmitQueue.freeDescriptors.last else { break }
            let buffer = transmitBuffers[Int(id)]
            memory.write(buffer, [UInt8](repeating: 0, count: VirtioNet.headerLength) + frame)
            guard transmitQueue.add(buffer: buffer, length: frame.count + VirtioNet.headerLength,
                                    deviceWrites: false, memory: memory) != nil else { break }
            queued += 1
        }
        if queued > 0 { transport.notify(transmitQueue) }
        framesSent += queued
        if queued < frames.count { transmitRingFull += 1 }
        return queued
    }

    func reclaimTransmitted() {
        while transmitQueue.takeUsed(memory: memory) != nil {}
    }

    /// Received frames (headers stripped), oldest first; recycles their buffers and the
    /// transmit ring.
    public func poll() -> [[UInt8]] {
        reclaimTransmitted()
        var frames: [[UInt8]] = []
        var reposted = false
        while let used = receiveQueue.takeUsed(memory: memory) {
            let buffer = receiveBuffers[Int(used.id)]
            if used.length > VirtioNet.headerLength && used.length <= VirtioNet.bufferSize {
                let bytes = memory.read(buffer + UInt64(VirtioNet.headerLength),
                                        count: used.length - VirtioNet.headerLength)
                frames.append(bytes)
                framesReceived += 1
            }
            // The descriptor returned to the free list is the one to post again.
            if let id = receiveQueue.freeDescriptors.last {
                _ = receiveQueue.add(buffer: receiveBuffers[Int(id)], length: VirtioNet.bufferSize,
                                     deviceWrites: true, memory: memory)
                reposted = true
            }
        }
        if reposted { transport.notify(receiveQueue) }
        return frames
    }

    /// Call from the interrupt handler: reads and clears the interrupt status; true when the
    /// interrupt was this device's.
    public func acknowledgeInterrupt() -> Bool { transport.acknowledgeInterrupt() != 0 }

    /// Probes and starts the virtio-net PCI function at `address`.
    public convenience init<Config: PCIConfigAccess, Bus: MMIOAccess>(
        pci: PCIBus<Config>, bus: Bus, memory: Memory, address: PCIAddress, queueSize: UInt16 = 256
    ) throws(VirtioError) where Transport == VirtioPCITransport<Config, Bus> {
        pci.enableMemoryAndBusMaster(address)
        let transport = try VirtioPCITransport(pci: pci, bus: bus, address: address)
        try self.init(transport: transport, memory: memory,
                      interruptLine: pci.access.read8(address, offset: PCIRegister.interruptLine),
                      queueSize: queueSize)
    }
}
