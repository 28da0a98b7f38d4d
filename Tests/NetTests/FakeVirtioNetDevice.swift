// FakeVirtioNetDevice — a virtio-net device in software for host tests: PCI config space
// with virtio vendor capabilities, the BAR's common/notify/ISR/device registers, and the
// device side of the split virtqueues over a fake DMA memory (Sources/Drivers/Virtio*.swift).
import Drivers

/// Guest "physical" memory for DMA, from 0x10_0000 upwards.
final class FakeDMAMemory: DMAMemory {
    let base: UInt64 = 0x10_0000
    var bytes: [UInt8] = []
    var barriers = 0

    func allocate(bytes count: Int, alignment: Int) -> UInt64? {
        while bytes.count % alignment != 0 { bytes.append(0) }
        let address = base + UInt64(bytes.count)
        bytes += [UInt8](repeating: 0, count: count)
        return address
    }
    func index(_ p: UInt64) -> Int { Int(p - base) }
    func read(_ p: UInt64, count: Int) -> [UInt8] { Array(bytes[index(p)..<(index(p) + count)]) }
    func write(_ p: UInt64, _ data: [UInt8]) { for (k, b) in data.enumerated() { bytes[index(p) + k] = b } }
    func readLE(_ p: UInt64, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(bytes[index(p) + k]) << (8 * UInt64(k)) }
        return v
    }
    func writeLE(_ p: UInt64, _ v: UInt64, _ n: Int) {
        for k in 0..<n { bytes[index(p) + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
    }
    func read16(_ p: UInt64) -> UInt16 { UInt16(readLE(p, 2)) }
    func read32(_ p: UInt64) -> UInt32 { UInt32(readLE(p, 4)) }
    func write16(_ p: UInt64, _ v: UInt16) { writeLE(p, UInt64(v), 2) }
    func write32(_ p: UInt64, _ v: UInt32) { writeLE(p, UInt64(v), 4) }
    func write64(_ p: UInt64, _ v: UInt64) { writeLE(p, v, 8) }
    func barrier() { barriers += 1 }
}

final class FakeVirtioNetDevice: PCIConfigAccess, MMIOAccess {
    static let slot = PCIAddress(bus: 0, device: 3, function: 0)
    static let bar: UInt64 = 0xFE00_0000
    static let commonOffset: UInt64 = 0x0000, isrOffset: UInt64 = 0x1000
    static let deviceOffset: UInt64 = 0x2000, notifyOffset: UInt64 = 0x3000
    static let notifyMultiplier: UInt32 = 4

    var config = [UInt8](repeating: 0, count: 256)
    let memory: FakeDMAMemory
    var offeredFeatures: UInt64 = (1 << 32) | (1 << 5) | (1 << 16) | (1 << 15)
    var deviceFeatureSelect: UInt32 = 0
    var driverFeatureSelect: UInt32 = 0
    var driverFeatures: UInt64 = 0
    var status: UInt8 = 0
    var queueSelect: UInt16 = 0
    var isr: UInt8 = 0
    let mac: [UInt8] = [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF]
    struct Queue { var size: UInt16 = 256; var desc: UInt64 = 0; var avail: UInt64 = 0; var used: UInt64 = 0
                   var enabled = false; var lastAvail: UInt16 = 0; var usedIndex: UInt16 = 0 }
    var queues = [Queue(), Queue()]
    var transmitted: [[UInt8]] = []
    var notifications = [0, 0]
    /// Device-side completion of transmits can be held back to fill the ring.
    var completeTransmits = true

    init(memory: FakeDMAMemory) {
        self.memory = memory
        put16(0x00, 0x1AF4); put16(0x02, 0x1041)
        put16(0x06, 1 << 4)                  // capabilities list
        config[0x0B] = 0x02                  // network controller
        config[0x3C] = 11; config[0x3D] = 1  // INTx line 11, pin A
        put32(0x20, UInt32(FakeVirtioNetDevice.bar & 0xFFFF_FFFF) | 0xC)   // BAR4: 64-bit prefetchable
        put32(0x24, UInt32(FakeVirtioNetDevice.bar >> 32))
        config[0x34] = 0x40
        capability(at: 0x40, next: 0x54, type: 1, offset: FakeVirtioNetDevice.commonOffset, length: 0x38)
        capability(at: 0x54, next: 0x6C, type: 2, offset: FakeVirtioNetDevice.notifyOffset, length: 0x100)
        put32(0x54 + 16, FakeVirtioNetDevice.notifyMultiplier)
        capability(at: 0x6C, next: 0x80, type: 3, offset: FakeVirtioNetDevice.isrOffset, length: 4)
        capability(at: 0x80, next: 0x90, type: 4, offset: FakeVirtioNetDevice.deviceOffset, length: 16)
        config[0x90] = 0x05                  // an MSI capability to skip over
        config[0x91] = 0
    }

    func put16(_ o: Int, _ v: UInt16) { config[o] = UInt8(v & 0xFF); config[o + 1] = UInt8(v >> 8) }
    func put32(_ o: Int, _ v: UInt32) { put16(o, UInt16(v & 0xFFFF)); put16(o + 2, UInt16(v >> 16)) }
    func capability(at o: Int, next: UInt8, type: UInt8, offset: UInt64, length: UInt32) {
        config[o] = 0x09; config[o + 1] = next; config[o + 2] = 16; config[o + 3] = type
        config[o + 4] = 4                    // BAR4
        put32(o + 8, UInt32(offset)); put32(o + 12, length)
    }

    // PCIConfigAccess
    func read32(_ address: PCIAddress, offset: UInt8) -> UInt32 {
        guard address == FakeVirtioNetDevice.slot else { return 0xFFFF_FFFF }
        let o = Int(offset)
        return UInt32(config[o]) | UInt32(config[o + 1]) << 8 | UInt32(config[o + 2]) << 16 | UInt32(config[o + 3]) << 24
    }
    func write32(_ address: PCIAddress, offset: UInt8, _ value: UInt32) {
        guard address == FakeVirtioNetDevice.slot, offset == 0x04 else { return }
        put32(4, value)
    }
    var command: UInt16 { UInt16(config[4]) | UInt16(config[5]) << 8 }

    // MMIOAccess
    func read8(_ p: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: mmioRead(p, 1)) }
    func read16(_ p: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: mmioRead(p, 2)) }
    func read32(_ p: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: mmioRead(p, 4)) }
    func write8(_ p: UInt64, _ v: UInt8) { mmioWrite(p, UInt64(v)) }
    func write16(_ p: UInt64, _ v: UInt16) { mmioWrite(p, UInt64(v)) }
    func write32(_ p: UInt64, _ v: UInt32) { mmioWrite(p, UInt64(v)) }

    func mmioRead(_ p: UInt64, _ width: Int) -> UInt64 {
        precondition(command & 2 != 0, "memory decoding must be enabled before BAR access")
        let o = p - FakeVirtioNetDevice.bar
        switch o {
        case 0x04: return (offeredFeatures >> (deviceFeatureSelect == 0 ? 0 : 32)) & 0xFFFF_FFFF
        case 0x12: return 2
        case 0x14: return UInt64(status)
        case 0x18: return UInt64(queues[Int(queueSelect)].size)
        case 0x1E: return UInt64(queueSelect)
        case FakeVirtioNetDevice.isrOffset:
            let v = isr; isr = 0; return UInt64(v)
        case FakeVirtioNetDevice.deviceOffset..<(FakeVirtioNetDevice.deviceOffset + 6):
            return UInt64(mac[Int(o - FakeVirtioNetDevice.deviceOffset)])
        case FakeVirtioNetDevice.deviceOffset + 6: return 1      // VIRTIO_NET_S_LINK_UP
        case FakeVirtioNetDevice.deviceOffset + 7: return 0
        default: return 0
        }
    }

    func mmioWrite(_ p: UInt64, _ v: UInt64) {
        let o = p - FakeVirtioNetDevice.bar
        var q: Queue { get { queues[Int(queueSelect)] } set { queues[Int(queueSelect)] = newValue } }
        switch o {
        case 0x00: deviceFeatureSelect = UInt32(v)
        case 0x08: driverFeatureSelect = UInt32(v)
        case 0x0C:
            if driverFeatureSelect == 0 { driverFeatures = (driverFeatures & ~0xFFFF_FFFF) | v }
            else { driverFeatures = (driverFeatures & 0xFFFF_FFFF) | (v << 32) }
        case 0x14:
            status = UInt8(v)
            if v == 0 { queues = [Queue(), Queue()]; driverFeatures = 0 }
            // Refuse features we never offered.
            if status & 8 != 0 && driverFeatures & ~offeredFeatures != 0 { status &= ~8 }
        case 0x16: queueSelect = UInt16(v)
        case 0x18: q.size = UInt16(v)
        case 0x1C: q.enabled = v == 1
        case 0x20: q.desc = (q.desc & ~0xFFFF_FFFF) | v
        case 0x24: q.desc = (q.desc & 0xFFFF_FFFF) | v << 32
        case 0x28: q.avail = (q.avail & ~0xFFFF_FFFF) | v
        case 0x2C: q.avail = (q.avail & 0xFFFF_FFFF) | v << 32
        case 0x30: q.used = (q.used & ~0xFFFF_FFFF) | v
        case 0x34: q.used = (q.used & 0xFFFF_FFFF) | v << 32
        case FakeVirtioNetDevice.notifyOffset...:
            let queue = Int((o - FakeVirtioNetDevice.notifyOffset) / UInt64(FakeVirtioNetDevice.notifyMultiplier))
            precondition(UInt64(queue) == v, "notify value is the queue index")
            notifications[queue] += 1
            if queue == 1 && completeTransmits { processTransmits() }
        default: break
        }
    }

    func descriptor(_ q: Queue, _ id: UInt16) -> (addr: UInt64, len: Int, flags: UInt16) {
        let d = q.desc + UInt64(id) * 16
        return (memory.readLE(d, 8), Int(memory.read32(d + 8)), memory.read16(d + 12))
    }

    func pushUsed(_ queue: Int, id: UInt16, length: Int) {
        var q = queues[queue]
        let entry = q.used + 4 + UInt64(q.usedIndex % q.size) * 8
        memory.write32(entry, UInt32(id))
        memory.write32(entry + 4, UInt32(length))
        q.usedIndex &+= 1
        memory.write16(q.used + 2, q.usedIndex)
        queues[queue] = q
        isr |= 1
    }

    func processTransmits() {
        var q = queues[1]
        let availIndex = memory.read16(q.avail + 2)
        while q.lastAvail != availIndex {
            let id = memory.read16(q.avail + 4 + UInt64(q.lastAvail % q.size) * 2)
            let d = descriptor(q, id)
            precondition(d.flags & 2 == 0, "transmit buffers are device-readable")
            let packet = memory.read(d.addr, count: d.len)
            precondition(packet.prefix(12).allSatisfy { $0 == 0 }, "plain virtio_net_hdr")
            transmitted.append(Array(packet[12...]))
            q.lastAvail &+= 1
            queues[1] = q
            pushUsed(1, id: id, length: 0)
            q = queues[1]
        }
    }

    var postedReceiveBuffers: Int {
        let q = queues[0]
        return Int(memory.read16(q.avail + 2) &- q.lastAvail)
    }

    /// Puts a frame into the next posted receive buffer; false when none is posted.
    @discardableResult
    func deliver(_ frame: [UInt8]) -> Bool {
        var q = queues[0]
        guard q.enabled, memory.read16(q.avail + 2) != q.lastAvail else { return false }
        let id = memory.read16(q.avail + 4 + UInt64(q.lastAvail % q.size) * 2)
        let d = descriptor(q, id)
        precondition(d.flags & 2 != 0, "receive buffers are device-writable")
        let packet = [UInt8](repeating: 0, count: 12) + frame
        precondition(packet.count <= d.len)
        memory.write(d.addr, packet)
        q.lastAvail &+= 1
        queues[0] = q
        pushUsed(0, id: id, length: packet.count)
        return true
    }
}
