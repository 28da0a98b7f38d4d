// VirtioMMIOTests — the virtio-mmio transport (Sources/Drivers/VirtioMMIO.swift) and
// VirtioNet over it, against FakeVirtioMMIONet: one version-2 register window (virtio 1.2
// §4.2.2) with the device side of the split virtqueues over FakeDMAMemory
// (FakeVirtioNetDevice.swift holds the PCI fake and the DMA memory).
import XCTest
import Drivers

final class FakeVirtioMMIONet: MMIOAccess {
    static let base: UInt64 = 0xFEB0_0E00
    let memory: FakeDMAMemory
    var version: UInt32 = 2
    var deviceID: UInt32 = 1
    var offeredFeatures: UInt64 = (1 << 32) | (1 << 5) | (1 << 16) | (1 << 15)
    var deviceFeatureSelect: UInt32 = 0, driverFeatureSelect: UInt32 = 0
    var driverFeatures: UInt64 = 0
    var status: UInt32 = 0
    var queueSelect = 0
    var interruptStatus: UInt32 = 0
    var acknowledged: UInt32 = 0
    var narrowRegisterAccesses = 0
    let mac: [UInt8] = [0x52, 0x54, 0x00, 0x11, 0x22, 0x33]
    struct Queue { var maximum: UInt32 = 128; var size: UInt32 = 0; var desc: UInt64 = 0; var avail: UInt64 = 0
                   var used: UInt64 = 0; var ready = false; var lastAvail: UInt16 = 0; var usedIndex: UInt16 = 0 }
    var queues = [Queue(), Queue()]
    var transmitted: [[UInt8]] = []
    var notifications = [0, 0]

    init(memory: FakeDMAMemory) { self.memory = memory }

    func offset(_ p: UInt64) -> UInt64 {
        precondition(p >= FakeVirtioMMIONet.base && p < FakeVirtioMMIONet.base + 0x200, "outside the window")
        return p - FakeVirtioMMIONet.base
    }

    func read8(_ p: UInt64) -> UInt8 {
        let o = offset(p)
        if o < 0x100 { narrowRegisterAccesses += 1; return 0 }
        switch o - 0x100 {
        case 0..<6: return mac[Int(o - 0x100)]
        case 6: return 1        // VIRTIO_NET_S_LINK_UP
        default: return 0
        }
    }
    func read16(_ p: UInt64) -> UInt16 { narrowRegisterAccesses += 1; return 0 }
    func write8(_ p: UInt64, _ v: UInt8) { narrowRegisterAccesses += 1 }
    func write16(_ p: UInt64, _ v: UInt16) { narrowRegisterAccesses += 1 }

    func read32(_ p: UInt64) -> UInt32 {
        switch offset(p) {
        case 0x000: return 0x7472_6976
        case 0x004: return version
        case 0x008: return deviceID
        case 0x00C: return 0x554D_4551
        case 0x010: return UInt32(truncatingIfNeeded: offeredFeatures >> (deviceFeatureSelect == 0 ? 0 : 32))
        case 0x034: return queueSelect < queues.count ? queues[queueSelect].maximum : 0
        case 0x044: return queueSelect < queues.count && queues[queueSelect].ready ? 1 : 0
        case 0x060: return interruptStatus
        case 0x070: return status
        default: return 0
        }
    }

    func write32(_ p: UInt64, _ v: UInt32) {
        let value = UInt64(v)
        func low(_ x: inout UInt64) { x = (x & ~0xFFFF_FFFF) | value }
        func high(_ x: inout UInt64) { x = (x & 0xFFFF_FFFF) | value << 32 }
        switch offset(p) {
        case 0x014: deviceFeatureSelect = v
        case 0x020:
            if driverFeatureSelect == 0 { low(&driverFeatures) } else { high(&driverFeatures) }
        case 0x024: driverFeatureSelect = v
        case 0x030: queueSelect = Int(v)
        case 0x038: queues[queueSelect].size = v
        case 0x044: queues[queueSelect].ready = v == 1
        case 0x050:
            notifications[Int(v)] += 1
            if v == 1 { processTransmits() }
        case 0x064: acknowledged |= v; interruptStatus &= ~v
        case 0x070:
            status = v
            if v == 0 { queues = [Queue(), Queue()]; driverFeatures = 0 }
            if status & 8 != 0 && driverFeatures & ~offeredFeatures != 0 { status &= ~8 }
        case 0x080: low(&queues[queueSelect].desc)
        case 0x084: high(&queues[queueSelect].desc)
        case 0x090: low(&queues[queueSelect].avail)
        case 0x094: high(&queues[queueSelect].avail)
        case 0x0A0: low(&queues[queueSelect].used)
        case 0x0A4: high(&queues[queueSelect].used)
        default: break
        }
    }

    func pushUsed(_ queue: Int, id: UInt16, length: Int) {
        var q = queues[queue]
        let entry = q.used + 4 + UInt64(UInt32(q.usedIndex) % q.size) * 8
        memory.write32(entry, UInt32(id))
        memory.write32(entry + 4, UInt32(length))
        q.usedIndex &+= 1
        memory.write16(q.used + 2, q.usedIndex)
        queues[queue] = q
        interruptStatus |= 1
    }

    func nextAvailable(_ queue: Int) -> (id: UInt16, addr: UInt64, len: Int, flags: UInt16)? {
        var q = queues[queue]
        guard q.ready, memory.read16(q.avail + 2) != q.lastAvail else { return nil }
        let id = memory.read16(q.avail + 4 + UInt64(UInt32(q.lastAvail) % q.size) * 2)
        q.lastAvail &+= 1
        queues[queue] = q
        let d = q.desc + UInt64(id) * 16
        return (id, memory.readLE(d, 8), Int(memory.read32(d + 8)), memory.read16(d + 12))
    }

    func processTransmits() {
        while let d = nextAvailable(1) {
            precondition(d.flags & 2 == 0, "transmit buffers are device-readable")
            transmitted.append(Array(memory.read(d.addr, count: d.len)[12...]))
            pushUsed(1, id: d.id, length: 0)
        }
    }

    @discardableResult
    func deliver(_ frame: [UInt8]) -> Bool {
        guard let d = nextAvailable(0) else { return false }
        precondition(d.flags & 2 != 0 && d.len >= 12 + frame.count)
        memory.write(d.addr, [UInt8](repeating: 0, count: 12) + frame)
        pushUsed(0, id: d.id, length: 12 + frame.count)
        return true
    }
}

final class VirtioMMIOTests: XCTestCase {
    func makeDriver() throws -> (FakeVirtioMMIONet, VirtioNet<VirtioMMIOTransport<FakeVirtioMMIONet>, FakeDMAMemory>) {
        let memory = FakeDMAMemory()
        let device = FakeVirtioMMIONet(memory: memory)
        let transport = try VirtioMMIOTransport(bus: device, base: FakeVirtioMMIONet.base)
        return (device, try VirtioNet(transport: transport, memory: memory, queueSize: 256))
    }

    func testInitializationOverMMIO() throws {
        let (device, driver) = try makeDriver()
        XCTAssertEqual(driver.transport.deviceID, 1)
        XCTAssertEqual(device.status, 1 | 2 | 8 | 4)
        XCTAssertEqual(device.driverFeatures, (1 << 32) | (1 << 5) | (1 << 16), "no MRG_RXBUF")
        XCTAssertEqual(driver.mac, device.mac)
        XCTAssertTrue(driver.linkUp)
        for q in device.queues {
            XCTAssertTrue(q.ready)
            XCTAssertEqual(q.size, 128, "the device's maximum caps the requested 256")
            XCTAssertNotEqual(q.desc, 0); XCTAssertNotEqual(q.avail, 0); XCTAssertNotEqual(q.used, 0)
        }
        XCTAssertEqual(Int(device.memory.read16(device.queues[0].avail + 2)), 128, "receive queue filled")
        XCTAssertGreaterThan(device.notifications[0], 0)
        XCTAssertEqual(device.narrowRegisterAccesses, 0, "registers are accessed 32 bits wide")
    }

    func testSendReceiveAndInterruptAcknowledge() throws {
        let (device, driver) = try makeDriver()
        for i in 0..<300 { XCTAssertTrue(driver.send([UInt8](repeating: UInt8(i & 0xFF), count: 60))) }
        XCTAssertEqual(device.transmitted.count, 300, "descriptors recycled past the ring size")
        XCTAssertEqual(device.transmitted[299], [UInt8](repeating: 43, count: 60))
        XCTAssertTrue(device.deliver([1, 2, 3, 4]))
        XCTAssertTrue(device.deliver([UInt8](repeating: 9, count: 1514)))
        XCTAssertTrue(driver.acknowledgeInterrupt())
        XCTAssertEqual(device.acknowledged, 1)
        XCTAssertEqual(device.interruptStatus, 0)
        XCTAssertFalse(driver.acknowledgeInterrupt(), "nothing pending")
        let frames = driver.poll()
        XCTAssertEqual(frames, [[1, 2, 3, 4], [UInt8](repeating: 9, count: 1514)])
        XCTAssertEqual(Int(device.memory.read16(device.queues[0].avail + 2)), 130, "buffers posted again")
        XCTAssertEqual(device.narrowRegisterAccesses, 0)
    }

    func testLegacyAndEmptyWindowsAreRefused() {
        let memory = FakeDMAMemory()
        let device = FakeVirtioMMIONet(memory: memory)
        device.version = 1
        XCTAssertThrowsError(try VirtioMMIOTransport(bus: device, base: FakeVirtioMMIONet.base)) { error in
            XCTAssertEqual(error as? VirtioError, .unsupportedVersion(1))
        }
        XCTAssertFalse(VirtioMMIOTransport.probe(bus: device, base: FakeVirtioMMIONet.base, deviceID: 1))
        device.version = 2
        XCTAssertTrue(VirtioMMIOTransport.probe(bus: device, base: FakeVirtioMMIONet.base, deviceID: 1))
        device.deviceID = 0     // an empty slot
        XCTAssertFalse(VirtioMMIOTransport.probe(bus: device, base: FakeVirtioMMIONet.base, deviceID: 1))
    }

    func testDeviceWithoutVersionOneFails() throws {
        let memory = FakeDMAMemory()
        let device = FakeVirtioMMIONet(memory: memory)
        device.offeredFeatures = 1 << 5
        let transport = try VirtioMMIOTransport(bus: device, base: FakeVirtioMMIONet.base)
        XCTAssertThrowsError(try VirtioNet(transport: transport, memory: memory)) { error in
            XCTAssertEqual(error as? VirtioError, .versionOneNotOffered)
        }
        XCTAssertEqual(UInt8(device.status) & VirtioStatus.failed, VirtioStatus.failed)
    }
}
