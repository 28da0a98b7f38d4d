// NinePVirtio — the virtio 9P transport: one request queue, each request a two-descriptor
// chain (T-message out, room for the R-message in), completed synchronously by polling
// (Drivers layer; virtio 1.2 §5.9 "Plan 9 transport"; QEMU hw/9pfs/virtio-9p-device.c).
//
// The device's configuration space holds the mount tag (struct virtio_9p_config: le16
// tag_len, then the bytes; feature VIRTIO_9P_MOUNT_TAG, bit 0). The kernel side that finds
// the PCI function and mounts the volume is Sources/Kernel/NinePSetup.swift; the messages
// are NinePMessages.swift and NinePClient.swift.

public final class NinePVirtio<Transport: VirtioTransport, Memory: DMAMemory> {
    public let transport: Transport
    let memory: Memory
    var queue: SplitVirtqueue
    let requestBuffer: UInt64
    let replyBuffer: UInt64
    /// The largest message either way (the msize offered in Tversion).
    public let messageSize: Int
    public let tag: [UInt8]
    /// Called while waiting for the device with the number of earlier calls for this
    /// request (0 first); returns false to give up (the caller's timeout).
    let wait: (Int) -> Bool

    public static var mountTagFeature: UInt64 { 1 }

    public init(transport: Transport, memory: Memory, messageSize: Int, wait: @escaping (Int) -> Bool) throws(VirtioError) {
        self.transport = transport
        self.memory = memory
        self.messageSize = messageSize
        self.wait = wait
        _ = try transport.negotiate(wanted: NinePVirtio.mountTagFeature)
        queue = try transport.setUpQueue(0, maximumSize: 16, memory: memory)
        guard let request = memory.allocate(bytes: messageSize, alignment: 4096),
              let reply = memory.allocate(bytes: messageSize, alignment: 4096) else {
            transport.addStatus(VirtioStatus.failed)
            throw .outOfMemory
        }
        requestBuffer = request
        replyBuffer = reply
        let length = Int(transport.readDeviceConfig8(0)) | Int(transport.readDeviceConfig8(1)) << 8
        var name: [UInt8] = []
        for i in 0..<min(length, 255) { name.append(transport.readDeviceConfig8(UInt64(2 + i))) }
        tag = name
        // Interrupts are not used: every exchange polls the used ring.
        queue.suppressInterrupts(memory: memory)
        transport.addStatus(VirtioStatus.driverOK)
    }

    /// Sends one T-message and returns the R-message, or nil if it is too large or the
    /// device does not answer before `wait` gives up.
    public func exchange(_ request: [UInt8]) -> [UInt8]? {
        guard request.count <= messageSize else { return nil }
        memory.write(requestBuffer, request)
        guard queue.addPair(request: requestBuffer, requestLength: request.count, reply: replyBuffer,
                            replyLength: messageSize, memory: memory) != nil else { return nil }
        transport.notify(queue)
        var waits = 0
        while true {
            if let used = queue.takeUsed(memory: memory) {
                guard used.length >= 7 else { return nil }
                let header = memory.read(replyBuffer, count: 4)
                let size = Int(header[0]) | Int(header[1]) << 8 | Int(header[2]) << 16 | Int(header[3]) << 24
                guard size >= 7, size <= messageSize else { return nil }
                return memory.read(replyBuffer, count: size)
            }
            if !wait(waits) { return nil }
            waits += 1
        }
    }
}
