// VirtioNetTests — PCI enumeration and the virtio-net driver against FakeVirtioNetDevice,
// and a NetworkStack talking through the driver (Sources/Drivers/PCIBus.swift,
// VirtioPCI.swift, VirtioNet.swift).
import XCTest
import Drivers
import Net

final class VirtioNetTests: XCTestCase {
    func makeDriver(queueSize: UInt16 = 256) throws -> (FakeVirtioNetDevice, FakeDMAMemory,
                                                         VirtioNet<VirtioPCITransport<FakeVirtioNetDevice, FakeVirtioNetDevice>, FakeDMAMemory>) {
        let memory = FakeDMAMemory()
        let device = FakeVirtioNetDevice(memory: memory)
        let pci = PCIBus(access: device)
        let driver = try VirtioNet(pci: pci, bus: device, memory: memory, address: FakeVirtioNetDevice.slot,
                                   queueSize: queueSize)
        return (device, memory, driver)
    }

    func testEnumerationFindsDeviceCapabilitiesAndBAR() {
        let device = FakeVirtioNetDevice(memory: FakeDMAMemory())
        let pci = PCIBus(access: device)
        let functions = pci.enumerate()
        XCTAssertEqual(functions.count, 1)
        XCTAssertEqual(functions.first?.vendorID, 0x1AF4)
        XCTAssertEqual(functions.first?.deviceID, 0x1041)
        XCTAssertEqual(functions.first?.interruptLine, 11)
        XCTAssertEqual(pci.capabilities(of: FakeVirtioNetDevice.slot).map { $0.id }, [9, 9, 9, 9, 5])
        XCTAssertEqual(pci.memoryBAR(of: FakeVirtioNetDevice.slot, index: 4), FakeVirtioNetDevice.bar)
        XCTAssertNil(pci.memoryBAR(of: FakeVirtioNetDevice.slot, index: 0))
    }

    func testInitializationNegotiatesAndPostsReceiveBuffers() throws {
        let (device, _, driver) = try makeDriver()
        XCTAssertEqual(device.command & 0x6, 0x6, "memory space and bus master enabled")
        XCTAssertEqual(device.driverFeatures, (1 << 32) | (1 << 5) | (1 << 16), "no MRG_RXBUF")
        XCTAssertEqual(device.status, 1 | 2 | 8 | 4)
        XCTAssertEqual(driver.mac, device.mac)
        XCTAssertEqual(driver.interruptLine, 11)
        XCTAssertTrue(driver.linkUp)
        XCTAssertTrue(device.queues[0].enabled && device.queues[1].enabled)
        XCTAssertEqual(device.postedReceiveBuffers, 256)
        XCTAssertGreaterThan(device.notifications[0], 0)
        // Transmit completions need no interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT); receive does.
        XCTAssertEqual(device.memory.read16(device.queues[1].avail), 1)
        XCTAssertEqual(device.memory.read16(device.queues[0].avail), 0)
    }

    func testDeviceWithoutVersionOneIsRefused() {
        let memory = FakeDMAMemory()
        let device = FakeVirtioNetDevice(memory: memory)
        device.offeredFeatures = 1 << 5
        XCTAssertThrowsError(try VirtioNet(pci: PCIBus(access: device), bus: device, memory: memory,
                                           address: FakeVirtioNetDevice.slot)) { error in
            XCTAssertEqual(error as? VirtioError, .versionOneNotOffered)
        }
        XCTAssertEqual(device.status & VirtioStatus.failed, VirtioStatus.failed)
    }

    func testTransmitRecyclesDescriptorsAndReportsFullRing() throws {
        let (device, _, driver) = try makeDriver(queueSize: 8)
        for i in 0..<50 { XCTAssertTrue(driver.send([UInt8](repeating: UInt8(i), count: 60 + i))) }
        XCTAssertEqual(device.transmitted.count, 50)
        XCTAssertEqual(device.transmitted[49], [UInt8](repeating: 49, count: 109))
        device.completeTransmits = false
        for _ in 0..<8 { XCTAssertTrue(driver.send([1, 2, 3])) }
        XCTAssertFalse(driver.send([4]), "ring full while the device holds every buffer")
        device.processTransmits()
        XCTAssertTrue(driver.send([5]))
    }

    func testReceivePollReturnsFramesInOrderAndReposts() throws {
        let (device, _, driver) = try makeDriver(queueSize: 16)
        var expected: [[UInt8]] = []
        for round in 0..<20 {
            for k in 0..<10 {
                let frame = [UInt8](repeating: UInt8(truncatingIfNeeded: round * 10 + k), count: 60 + k * 100)
                XCTAssertTrue(device.deliver(frame))
                expected.append(frame)
            }
            XCTAssertTrue(driver.acknowledgeInterrupt())
            XCTAssertFalse(driver.acknowledgeInterrupt(), "reading the ISR clears it")
            let got = driver.poll()
            XCTAssertEqual(got, Array(expected.suffix(10)))
        }
        XCTAssertEqual(driver.framesReceived, 200)
        XCTAssertEqual(device.postedReceiveBuffers, 16)
        // Without polling, the device runs out of buffers after the queue size.
        var delivered = 0
        while device.deliver([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]) { delivered += 1 }
        XCTAssertEqual(delivered, 16)
        XCTAssertEqual(driver.poll().count, 16)
    }

    func testStackPingsThroughDriverAndFakeDevice() throws {
        let (device, _, driver) = try makeDriver()
        let guest = NetworkStack(mac: MACAddress(driver.mac), randomSeed: 1)
        guest.configure(.qemuUserNetworking)
        let host = NetworkStack(mac: MACAddress(0x52, 0x55, 0x0A, 0, 2, 2), randomSeed: 2)
        host.configure(IPv4Configuration(address: IPv4Address(10, 0, 2, 2), prefixLength: 24,
                                         gateway: IPv4Address(10, 0, 2, 2), dns: .any))
        _ = guest.sendEchoRequest(to: IPv4Address(10, 0, 2, 2), identifier: 7, sequence: 1, data: [1, 2, 3], now: 0)
        var now: UInt64 = 0
        for _ in 0..<20 where guest.echoReplies.isEmpty {
            _ = driver.send(frames: guest.poll(now: now))
            for frame in device.transmitted { host.receive(frame: frame, now: now) }
            device.transmitted = []
            for frame in host.poll(now: now) { device.deliver(frame) }
            for frame in driver.poll() { guest.receive(frame: frame, now: now) }
            now += 1_000_000
        }
        XCTAssertEqual(guest.echoReplies.first?.identifier, 7)
        XCTAssertEqual(guest.echoReplies.first?.from, IPv4Address(10, 0, 2, 2))
    }
}
