// NetworkOptionsTests — `egg run -p/--publish` and `--net` (tests for
// Sources/EggHost/NetworkOptions.swift and the network part of QEMUCommand.swift).

import EggHost
import KernelCore
import Net
import XCTest

final class NetworkOptionsTests: XCTestCase {
    func parsed(_ text: String) -> PortForward? {
        if case .success(let f) = parsePortForward(text) { return f }
        return nil
    }

    func error(_ text: String) -> NetworkOptionError? {
        if case .failure(let e) = parsePortForward(text) { return e }
        return nil
    }

    func testHostGuestForms() {
        XCTAssertEqual(parsed("8000:8000"), PortForward(hostPort: 8000, guestPort: 8000))
        XCTAssertEqual(parsed("8080:80/tcp"), PortForward(hostPort: 8080, guestPort: 80))
        XCTAssertEqual(parsed("5353:53/udp"), PortForward(portProtocol: .udp, hostPort: 5353, guestPort: 53))
        XCTAssertEqual(parsed("127.0.0.1:8080:80"),
                       PortForward(hostAddress: "127.0.0.1", hostPort: 8080, guestPort: 80))
        XCTAssertEqual(parsed("8080:80/UDP")?.portProtocol, .udp)
    }

    func testMalformedValuesNameTheProblem() {
        XCTAssertEqual(error("8080"), .malformedPublish("8080"))
        XCTAssertEqual(error(""), .malformedPublish(""))
        XCTAssertEqual(error(":80"), .malformedPublish(":80"))
        XCTAssertEqual(error("8080:"), .malformedPublish("8080:"))
        XCTAssertEqual(error("1:2:3:4"), .malformedPublish("1:2:3:4"))
        XCTAssertEqual(error("8080:80/sctp"), .malformedPublish("8080:80/sctp"))
        XCTAssertEqual(error("0:80"), .badPort("0:80", "0"))
        XCTAssertEqual(error("8080:65536"), .badPort("8080:65536", "65536"))
        XCTAssertEqual(error("http:80"), .badPort("http:80", "http"))
        XCTAssertEqual(error("-1:80"), .badPort("-1:80", "-1"))
        XCTAssertEqual(error("localhost:8080:80"), .badHostAddress("localhost:8080:80", "localhost"))
        XCTAssertEqual(error("256.0.0.1:8080:80"), .badHostAddress("256.0.0.1:8080:80", "256.0.0.1"))
        // Every message is one line and quotes the value.
        for e in [error("8080"), error("0:80"), error("x.y:1:2")].compactMap({ $0 }) {
            XCTAssertFalse(e.message.contains("\n"))
            XCTAssertTrue(e.message.hasPrefix("-p "), e.message)
        }
    }

    func testHostfwdRule() {
        XCTAssertEqual(PortForward(hostPort: 8000, guestPort: 80).hostfwd, "tcp::8000-:80")
        XCTAssertEqual(PortForward(portProtocol: .udp, hostAddress: "127.0.0.1", hostPort: 5353, guestPort: 53).hostfwd,
                       "udp:127.0.0.1:5353-:53")
    }

    func plan(_ mode: String?, _ publish: [String], machine: MachineType = .pc,
              busy: [Int] = []) -> Result<GuestNetwork?, NetworkOptionError> {
        planGuestNetwork(mode: mode, publish: publish, machine: machine) { f in
            busy.contains(f.hostPort) ? .hostPortInUse(f.text) : nil
        }
    }

    func testTheCardIsOnByDefaultAndOffWithNetNone() {
        XCTAssertEqual(try plan(nil, []).get(), GuestNetwork())
        XCTAssertEqual(try plan("user", []).get(), GuestNetwork())
        XCTAssertNil(try plan("none", []).get())
        XCTAssertEqual(plan("tap", []), .failure(.badMode("tap")))
        XCTAssertEqual(plan("none", ["8080:80"]), .failure(.publishWithoutNetwork))
    }

    func testDuplicateHostPorts() {
        XCTAssertEqual(plan(nil, ["8080:80", "8080:81"]), .failure(.duplicateHostPort("8080:80", "8080:81")))
        XCTAssertEqual(plan(nil, ["8080:80", "127.0.0.1:8080:81"]),
                       .failure(.duplicateHostPort("8080:80", "127.0.0.1:8080:81")))
        // Same number, other protocol or other specific address: both can be bound.
        XCTAssertEqual(try plan(nil, ["8080:80", "8080:80/udp"]).get()?.forwards.count, 2)
        XCTAssertEqual(try plan(nil, ["127.0.0.1:8080:80", "127.0.0.2:8080:81"]).get()?.forwards.count, 2)
    }

    func testPortInUseIsCheckedAfterSyntax() {
        XCTAssertEqual(plan(nil, ["9000:90", "9001:91"], busy: [9001]), .failure(.hostPortInUse("9001:91")))
        // A syntax error wins over the in-use check of an earlier value.
        XCTAssertEqual(plan(nil, ["9001:91", "x"], busy: [9001]), .failure(.malformedPublish("x")))
    }

    func testMicrovmHasNoCardUnlessAsked() {
        XCTAssertNil(try plan(nil, [], machine: .microvm).get())
        XCTAssertNotNil(try plan("user", [], machine: .microvm).get())
    }

    func testMicrovmCardIsVirtioMMIO() throws {
        let network = try XCTUnwrap(try plan(nil, ["8080:80"], machine: .microvm).get())
        XCTAssertTrue(network.mmio)
        let args = network.qemuArguments
        XCTAssertTrue(args.contains("virtio-net-device,netdev=net0,mac=52:54:00:12:34:56"))
        XCTAssertFalse(args.contains { $0.hasPrefix("virtio-net-pci") })
        let global = try XCTUnwrap(args.firstIndex(of: "-global"))
        XCTAssertEqual(args[global + 1], "virtio-mmio.force-legacy=false")
        XCTAssertTrue(args.contains { $0.hasPrefix("user,id=net0,") && $0.contains("hostfwd=tcp::8080-:80") })
        // pc keeps the PCI card.
        let pc = try XCTUnwrap(try plan(nil, ["8080:80"], machine: .pc).get())
        XCTAssertFalse(pc.mmio)
        XCTAssertTrue(pc.qemuArguments.contains { $0.hasPrefix("virtio-net-pci,") })
        XCTAssertFalse(pc.qemuArguments.contains("-global"))
    }

    func testRealPortCheckSeesAListener() throws {
        // A socket this test holds: bound and listening, so the port is in use.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = 0
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0)
        XCTAssertEqual(listen(fd, 1), 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        XCTAssertEqual(checkHostPortFree(PortForward(hostPort: port, guestPort: 80)),
                       .hostPortInUse("\(port):80"))
        // UDP on the same number is free.
        XCTAssertNil(checkHostPortFree(PortForward(portProtocol: .udp, hostPort: port, guestPort: 80)))
    }

    func testQEMUArgumentsAndKernelOptions() {
        let network = GuestNetwork(forwards: [PortForward(hostPort: 8000, guestPort: 8000),
                                              PortForward(portProtocol: .udp, hostAddress: "127.0.0.1",
                                                          hostPort: 5353, guestPort: 53)])
        var c = QEMUConfiguration(kernelPath: "/k", bundlePath: "/b", controlPath: "/c")
        XCTAssertFalse(c.arguments.contains("-netdev"), "no card unless asked")
        c.network = network
        let args = c.arguments
        guard let n = args.firstIndex(of: "-netdev"), let d = args.firstIndex(of: "-device", after: n) else {
            return XCTFail("no -netdev/-device in \(args)")
        }
        XCTAssertEqual(args[n + 1], "user,id=net0,ipv6=off,hostfwd=tcp::8000-:8000,hostfwd=udp:127.0.0.1:5353-:53")
        XCTAssertEqual(args[d + 1], "virtio-net-pci,netdev=net0,romfile=,mac=52:54:00:12:34:56")
        XCTAssertEqual(network.kernelOptions, ["net.ip=10.0.2.15/24", "net.gateway=10.0.2.2", "net.dns=10.0.2.3"])
        // What egg passes is what the kernel reads back.
        XCTAssertEqual(NetworkBootPlan.parse(network.kernelOptions).plan, .fixed(.qemuUserNetworking))
    }
}

extension Array where Element == String {
    func firstIndex(of element: String, after index: Int) -> Int? {
        self[(index + 1)...].firstIndex(of: element)
    }
}
