// NetworkBootPlanTests — how the kernel reads its IPv4 set-up from the boot bundle's options
// (Sources/KernelCore/Sockets/NetworkInterface.swift, NetworkBootPlan).
import KernelCore
import Net
import XCTest

final class NetworkBootPlanTests: XCTestCase {
    func testNoOptionMeansDHCP() {
        let (plan, rejected) = NetworkBootPlan.parse(["trace=1", "other=2"])
        XCTAssertEqual(plan, .dhcp)
        XCTAssertEqual(rejected, [])
    }

    func testFixedPlan() {
        let (plan, rejected) = NetworkBootPlan.parse(["net.ip=192.168.7.20/16", "net.gateway=192.168.0.1", "net.dns=9.9.9.9"])
        XCTAssertEqual(plan, .fixed(IPv4Configuration(address: IPv4Address(192, 168, 7, 20), prefixLength: 16,
                                                      gateway: IPv4Address(192, 168, 0, 1), dns: IPv4Address(9, 9, 9, 9))))
        XCTAssertEqual(rejected, [])
    }

    func testDefaultsForPrefixGatewayAndDNS() {
        let (plan, _) = NetworkBootPlan.parse(["net.ip=10.1.2.3"])
        XCTAssertEqual(plan, .fixed(IPv4Configuration(address: IPv4Address(10, 1, 2, 3), prefixLength: 24,
                                                      gateway: IPv4Address(10, 1, 2, 1), dns: IPv4Address(10, 1, 2, 1))))
    }

    func testMalformedValuesAreRejectedNotGuessed() {
        let bad = ["net.ip=10.0.2", "net.ip=10.0.2.15/33", "net.ip=10.0.2.15/0", "net.ip=300.0.0.1/24",
                   "net.gateway=10.0.2.x", "net.dns=", "net.bogus=1", "net.ip"]
        let (plan, rejected) = NetworkBootPlan.parse(bad)
        XCTAssertEqual(plan, .dhcp)
        XCTAssertEqual(rejected, bad)
        // A good address survives a bad gateway next to it.
        let (mixed, rejectedMixed) = NetworkBootPlan.parse(["net.ip=10.0.2.15/24", "net.gateway=nope"])
        XCTAssertEqual(mixed, .fixed(IPv4Configuration(address: IPv4Address(10, 0, 2, 15), prefixLength: 24,
                                                       gateway: IPv4Address(10, 0, 2, 1), dns: IPv4Address(10, 0, 2, 1))))
        XCTAssertEqual(rejectedMixed, ["net.gateway=nope"])
    }

    func testRoundTrip() {
        let c = IPv4Configuration(address: IPv4Address(172, 16, 5, 9), prefixLength: 20,
                                  gateway: IPv4Address(172, 16, 0, 1), dns: IPv4Address(1, 1, 1, 1))
        XCTAssertEqual(NetworkBootPlan.parse(NetworkBootPlan.options(for: c)).plan, .fixed(c))
    }

    func testIPv4Parsing() {
        XCTAssertEqual(NetworkBootPlan.parseIPv4("0.0.0.0"), IPv4Address(0))
        XCTAssertEqual(NetworkBootPlan.parseIPv4("255.255.255.255"), IPv4Address(0xFFFF_FFFF))
        for bad in ["", "1.2.3", "1.2.3.4.5", "1..3.4", "01234.1.1.1", "a.b.c.d", "1.2.3.4 ", "-1.2.3.4"] {
            XCTAssertNil(NetworkBootPlan.parseIPv4(bad), bad)
        }
    }
}
