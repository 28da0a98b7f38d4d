// VirtioConsoleTests — the multiport virtio console driver (Sources/Drivers/VirtioConsole.swift)
// against FakeVirtioConsole: a transport whose device side plays QEMU's virtio-serial
// (hw/char/virtio-serial-bus.c): control messages, per-port queues, data both ways, the
// host side closing. DMA memory is FakeDMAMemory (FakeVirtioNetDevice.swift).
import XCTest
@testable import Drivers

final class FakeVirtioConsoleDevice {
    let memory: FakeDMAMemory
    var offeredFeatures: UInt64 = (1 << 32) | VirtioConsoleFeature.multiport | VirtioConsoleFeature.size
    var driverFeatures: UInt64 = 0
    var status: UInt8 = 0
    var maxPorts: UInt32 = 4
    var interruptStatus: UInt8 = 0
    struct Queue { var size: UInt16 = 0; var desc: UInt64 = 0; var avail: UInt64 = 0; var used: UInt64 = 0
                   var lastAvail: UInt16 = 0; var usedIndex: UInt16 = 0 }
    var queues: [UInt16: Queue] = [:]
    /// Control messages the driver sent, decoded.
    var controlReceived: [VirtioConsoleControl] = []
    /// Bytes the driver sent, by port.
    var output: [Int: [UInt8]] = [:]
    /// Transmit buffers are completed at notify time unless this is false (a slow host).
    var completeTransmits = true

    init(memory: FakeDMAMemory) { self.memory = memory }

    func descriptor(_ q: Queue, _ id: UInt16) -> (addr: UInt64, len: Int, flags: UInt16) {
        let d = q.desc + UInt64(id) * 16
        return (memory.readLE(d, 8), Int(memory.read32(d + 8)), memory.read16(d + 12))
    }

    /// The next posted buffer of queue `index`, taken off the available ring.
    func popAvailable(_ index: UInt16) -> (id: UInt16, addr: UInt64, len: Int, flags: UInt16)? {
        guard var q = queues[index], memory.read16(q.avail + 2) != q.lastAvail else { return nil }
        let id = memory.read16(q.avail + 4 + UInt64(q.lastAvail % q.size) * 2)
        q.lastAvail &+= 1
        queues[index] = q
        let d = descriptor(q, id)
        return (id, d.addr, d.len, d.flags)
    }

    func pushUsed(_ index: UInt16, id: UInt16, length: Int) {
        var q = queues[index]!
        let entry = q.used + 4 + UInt64(q.usedIndex % q.size) * 8
        memory.write32(entry, UInt32(id))
        memory.write32(entry + 4, UInt32(length))
        q.usedIndex &+= 1
        memory.write16(q.used + 2, q.usedIndex)
        queues[index] = q
        interruptStatus |= 1
    }

    func posted(_ index: UInt16) -> Int {
        guard let q = queues[index] else { return 0 }
        return Int(memory.read16(q.avail + 2) &- q.lastAvail)
    }

    /// Device → driver control message; false when no control buffer is posted.
    @discardableResult
    func sendControl(_ m: VirtioConsoleControl) -> Bool {
        guard let b = popAvailable(2) else { return false }
        XCTAssertNotEqual(b.flags & 2, 0, "control receive buffers are device-writable")
        let bytes = m.encode()
        memory.write(b.addr, Array(bytes.prefix(b.len)))
        pushUsed(2, id: b.id, length: min(bytes.count, b.len))
        return true
    }

    /// Host → guest data on `port`: fills posted receive buffers; returns bytes delivered.
    @discardableResult
    func deliver(port: Int, _ bytes: [UInt8]) -> Int {
        var done = 0
        while done < bytes.count, let b = popAvailable(VirtioConsole<FakeConsoleTransport, FakeDMAMemory>.receiveQueueIndex(port: port)) {
            let n = min(b.len, bytes.count - done)
            memory.write(b.addr, Array(bytes[done..<(done + n)]))
            pushUsed(VirtioConsole<FakeConsoleTransport, FakeDMAMemory>.receiveQueueIndex(port: port), id: b.id, length: n)
            done += n
        }
        return done
    }

    func notified(_ index: UInt16) {
        if index == 3 {
            while let b = popAvailable(3) {
                if let m = VirtioConsoleControl.decode(memory.read(b.addr, count: b.len)) { controlReceived.append(m) }
                pushUsed(3, id: b.id, length: 0)
            }
        } else if index >= 5 && index % 2 == 1 && completeTransmits {
            completeTransmitsNow(index)
        }
    }

    func completeTransmitsNow(_ index: UInt16) {
        let port = Int(index - 3) / 2
        while let b = popAvailable(index) {
            XCTAssertEqual(b.flags & 2, 0, "transmit buffers are device-readable")
            output[port, default: []] += memory.read(b.addr, count: b.len)
            pushUsed(index, id: b.id, length: 0)
        }
    }

    /// QEMU's start-up conversation for ports 1...names.count: DEVICE_ADD, then (after the
    /// driver's PORT_READY) PORT_NAME and PORT_OPEN 1.
    func announce(names: [String], driverPoll: () -> Void) {
        for (i, _) in names.enumerated() { sendControl(VirtioConsoleControl(port: UInt32(i + 1), event: VirtioConsoleEvent.deviceAdd, value: 1)) }
        driverPoll()
        for (i, name) in names.enumerated() {
            sendControl(VirtioConsoleControl(port: UInt32(i + 1), event: VirtioConsoleEvent.portName, value: 1,
                                             payload: Array(name.utf8)))
            sendControl(VirtioConsoleControl(port: UInt32(i + 1), event: VirtioConsoleEvent.portOpen, value: 1))
        }
        driverPoll()
    }
}

/// The fake as a VirtioTransport (the register details are VirtioPCI/VirtioMMIO's and tested
/// in VirtioNetTests/VirtioMMIOTests).
struct FakeConsoleTransport: VirtioTransport {
    let device: FakeVirtioConsoleDevice
    var status: UInt8 { device.status }
    func setStatus(_ value: UInt8) {
        device.status = value
        if value == 0 { device.queues = [:]; device.driverFeatures = 0 }
        if value & VirtioStatus.featuresOK != 0 && device.driverFeatures & ~device.offeredFeatures != 0 {
            device.status &= ~VirtioStatus.featuresOK
        }
    }
    func deviceFeatures() -> UInt64 { device.offeredFeatures }
    func setDriverFeatures(_ features: UInt64) { device.driverFeatures = features }
    func setUpQueue<Memory: DMAMemory>(_ index: UInt16, maximumSize: UInt16, memory: Memory) throws(VirtioError) -> SplitVirtqueue {
        XCTAssertEqual(device.status & VirtioStatus.driverOK, 0, "queues are set up before DRIVER_OK")
        guard let q = SplitVirtqueue(index: index, size: min(maximumSize, 128), memory: memory) else { throw .outOfMemory }
        device.queues[index] = FakeVirtioConsoleDevice.Queue(size: q.size, desc: q.descriptorTable, avail: q.availableRing,
                                                             used: q.usedRing)
        return q
    }
    func notify(_ queue: SplitVirtqueue) { device.notified(queue.index) }
    func acknowledgeInterrupt() -> UInt8 { let v = device.interruptStatus; device.interruptStatus = 0; return v }
    func readDeviceConfig8(_ offset: UInt64) -> UInt8 {
        // cols, rows (0), then max_nr_ports, little-endian.
        guard offset >= 4 && offset < 8 else { return 0 }
        return UInt8(truncatingIfNeeded: device.maxPorts >> (8 * UInt32(offset - 4)))
    }
}

final class VirtioConsoleTests: XCTestCase {
    typealias Console = VirtioConsole<FakeConsoleTransport, FakeDMAMemory>

    func makeConsole(_ device: FakeVirtioConsoleDevice, names: [String] = ["egg.stdin", "egg.stdout", "egg.stderr", "egg.control"],
                     buffers: Int = 4, receiveSize: Int = 64, transmitSize: Int = 32) throws -> Console {
        device.maxPorts = UInt32(names.count + 1)
        let console = try Console(transport: FakeConsoleTransport(device: device), memory: device.memory,
                                  receiveBufferSize: receiveSize, transmitBufferSize: transmitSize, buffersPerQueue: buffers)
        device.announce(names: names) { console.poll() }
        return console
    }

    func testStartUpSendsDeviceReadyThenPortReadyAndOpenForEachAddedPort() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        let console = try makeConsole(device)
        XCTAssertEqual(device.status & VirtioStatus.driverOK, VirtioStatus.driverOK)
        XCTAssertNotEqual(device.driverFeatures & VirtioConsoleFeature.multiport, 0)
        XCTAssertEqual(device.driverFeatures & VirtioConsoleFeature.size, 0, "not asked for")
        XCTAssertEqual(device.controlReceived.first, VirtioConsoleControl(port: 0, event: VirtioConsoleEvent.deviceReady, value: 1))
        for port in 1...4 {
            XCTAssertTrue(device.controlReceived.contains(VirtioConsoleControl(port: UInt32(port), event: VirtioConsoleEvent.portReady, value: 1)))
            XCTAssertTrue(device.controlReceived.contains(VirtioConsoleControl(port: UInt32(port), event: VirtioConsoleEvent.portOpen, value: 1)))
        }
        XCTAssertEqual(console.port(named: "egg.stdin"), 1)
        XCTAssertEqual(console.port(named: "egg.stderr"), 3)
        XCTAssertEqual(console.port(named: "egg.control"), 4)
        XCTAssertNil(console.port(named: "egg.other"))
        XCTAssertTrue(console.ports[1].hostConnected)
        XCTAssertEqual(device.posted(Console.receiveQueueIndex(port: 1)), 4, "every receive buffer posted")
    }

    func testDeviceWithoutMultiportIsRefused() {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        device.offeredFeatures = 1 << 32
        XCTAssertThrowsError(try Console(transport: FakeConsoleTransport(device: device), memory: device.memory)) {
            XCTAssertEqual($0 as? VirtioError, .featuresRejected)
        }
    }

    func testPortBeyondTheQueuesSetUpIsRefusedWithPortReadyZero() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        device.maxPorts = 2
        let console = try Console(transport: FakeConsoleTransport(device: device), memory: device.memory, buffersPerQueue: 2)
        device.sendControl(VirtioConsoleControl(port: 5, event: VirtioConsoleEvent.deviceAdd, value: 1))
        console.poll()
        XCTAssertTrue(device.controlReceived.contains(VirtioConsoleControl(port: 5, event: VirtioConsoleEvent.portReady, value: 0)))
        XCTAssertEqual(console.portCount, 2)
    }

    func testBinaryInputArrivesExactlyAcrossBuffersAndBuffersAreRepostedOnlyOnceTaken() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        let console = try makeConsole(device)
        let data = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 4) } + [0x04, 0x00, 0xFF, 0x0D, 0x0A]
        // 4 buffers of 64 bytes: 256 bytes fit before the driver takes any.
        XCTAssertEqual(device.deliver(port: 1, data), data.count)
        console.poll()
        XCTAssertEqual(console.availableInput(port: 1), data.count)
        XCTAssertEqual(device.posted(Console.receiveQueueIndex(port: 1)), 0, "nothing reposted before it is read")
        XCTAssertEqual(device.deliver(port: 1, [1]), 0, "flow control: the device waits for the reader")
        var got: [UInt8] = []
        got += console.takeInput(port: 1, maximum: 10)
        got += console.takeInput(port: 1, maximum: 100)
        got += console.takeInput(port: 1, maximum: 1000)
        XCTAssertEqual(got, data)
        XCTAssertEqual(device.posted(Console.receiveQueueIndex(port: 1)), 4)
        XCTAssertFalse(console.atEndOfInput(port: 1))
    }

    func testHostClosingThePortIsEndOfInputAfterTheLastByte() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        let console = try makeConsole(device)
        device.deliver(port: 1, [9, 8, 7])
        device.sendControl(VirtioConsoleControl(port: 1, event: VirtioConsoleEvent.portOpen, value: 0))
        console.poll()
        XCTAssertFalse(console.atEndOfInput(port: 1), "bytes still queued")
        XCTAssertEqual(console.takeInput(port: 1, maximum: 10), [9, 8, 7])
        XCTAssertTrue(console.atEndOfInput(port: 1))
        XCTAssertFalse(console.atEndOfInput(port: 2), "other ports are unaffected")
    }

    func testSendSplitsIntoTransmitBuffersOnTheRightPortAndWaitsForTheDevice() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        let console = try makeConsole(device)
        let data = (0..<100).map { UInt8($0) }
        var done = 0
        while done < data.count {
            let n = console.send(port: 3, data, offset: done, count: data.count - done)
            XCTAssertGreaterThan(n, 0)
            XCTAssertLessThanOrEqual(n, 32)
            done += n
        }
        XCTAssertEqual(device.output[3], data)
        XCTAssertNil(device.output[2], "stderr's bytes did not go to stdout")
        XCTAssertTrue(console.transmitIdle(port: 3))

        device.completeTransmits = false
        var queued = 0
        for _ in 0..<10 { queued += console.send(port: 2, data, count: 32) }
        XCTAssertEqual(queued, 4 * 32, "four buffers, then the sender must wait")
        XCTAssertFalse(console.transmitIdle(port: 2))
        device.completeTransmitsNow(Console.transmitQueueIndex(port: 2))
        XCTAssertTrue(console.transmitIdle(port: 2))
        XCTAssertEqual(console.send(port: 2, data, count: 5), 5)
    }

    func testControlMessageEncodingMatchesTheSpecLayout() {
        let m = VirtioConsoleControl(port: 0x0102_0304, event: VirtioConsoleEvent.portName, value: 1, payload: Array("ab".utf8))
        XCTAssertEqual(m.encode(), [4, 3, 2, 1, 7, 0, 1, 0, 0x61, 0x62])
        XCTAssertEqual(VirtioConsoleControl.decode(m.encode()), m)
        XCTAssertNil(VirtioConsoleControl.decode([1, 2, 3]))
    }
}

final class VirtioConsoleInPlaceTests: XCTestCase {
    typealias Console = VirtioConsole<FakeConsoleTransport, FakeDMAMemory>

    func testInputSegmentsAreReadInPlaceAndRepostedWhenConsumed() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        device.maxPorts = 3
        let console = try Console(transport: FakeConsoleTransport(device: device), memory: device.memory,
                                  receiveBufferSize: 16, transmitBufferSize: 8, buffersPerQueue: 2)
        device.announce(names: ["egg.stdin", "egg.stdout"]) { console.poll() }
        let data = (0..<24).map { UInt8($0 ^ 0x5A) }
        XCTAssertEqual(device.deliver(port: 1, data), 24)
        console.poll()
        var got: [UInt8] = []
        while let s = console.inputSegment(port: 1) {
            let n = min(5, s.length)
            got += device.memory.read(s.address, count: n)
            console.consumeInput(port: 1, count: n)
        }
        XCTAssertEqual(got, data)
        XCTAssertEqual(device.posted(Console.receiveQueueIndex(port: 1)), 2)
    }

    func testTransmitSlotIsFilledInPlaceAndCommitted() throws {
        let device = FakeVirtioConsoleDevice(memory: FakeDMAMemory())
        device.maxPorts = 3
        let console = try Console(transport: FakeConsoleTransport(device: device), memory: device.memory,
                                  receiveBufferSize: 16, transmitBufferSize: 8, buffersPerQueue: 2)
        device.announce(names: ["egg.stdin", "egg.stdout"]) { console.poll() }
        device.completeTransmits = false
        let a = try XCTUnwrap(console.transmitSlot(port: 2))
        device.memory.write(a, [1, 2, 3])
        console.commitTransmit(port: 2, length: 3)
        let b = try XCTUnwrap(console.transmitSlot(port: 2))
        XCTAssertNotEqual(a, b)
        device.memory.write(b, [4, 5, 6, 7, 8, 9, 10, 11])
        console.commitTransmit(port: 2, length: 8)
        XCTAssertNil(console.transmitSlot(port: 2), "both buffers are with the device")
        device.completeTransmitsNow(Console.transmitQueueIndex(port: 2))
        XCTAssertEqual(device.output[2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
        XCTAssertNotNil(console.transmitSlot(port: 2))
    }
}
