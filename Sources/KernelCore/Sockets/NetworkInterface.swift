// NetworkInterface — what the kernel's socket layer needs from a network card (KernelCore).
//
// Sources/Kernel/ implements it over the virtio-net driver (Sources/Drivers/VirtioNet.swift);
// host tests implement it with in-memory queues. The protocol side (ARP, IPv4, TCP, UDP) is
// Net's NetworkStack; KernelState.network holds both and Sockets/ moves frames between them.

import Net

public protocol NetworkInterface: AnyObject {
    /// The card's Ethernet address (six bytes).
    var macAddress: [UInt8] { get }
    /// Queue Ethernet frames (no FCS) for sending; frames the card cannot take are dropped,
    /// as a full transmit ring drops on real hardware (TCP retransmits).
    func transmit(_ frames: [[UInt8]])
    /// Frames received since the last call, oldest first (never blocks).
    func receive() -> [[UInt8]]
}

/// How the kernel configures the card's IPv4 address at boot, from the bundle's "key=value"
/// options (Sources/KernelCore/BootBundle.swift). egg (Sources/EggHost/NetworkOptions.swift)
/// passes QEMU user networking's fixed plan so no DHCP round trip delays the guest:
///   net.ip=10.0.2.15/24  net.gateway=10.0.2.2  net.dns=10.0.2.3
/// Without net.ip (e.g. an `egg pack` image booted on a PC) the kernel runs DHCP
/// (Sources/Net/DHCPClient.swift); "net=none" (egg run --net none) leaves any card alone
/// (loopback only). A malformed value is reported and ignored.
public enum NetworkBootPlan: Equatable {
    case dhcp
    case fixed(IPv4Configuration)
    case disabled

    /// The option that asks for `.disabled`.
    public static let disabledOption = "net=none"

    public static let addressKey = "net.ip"
    public static let gatewayKey = "net.gateway"
    public static let dnsKey = "net.dns"

    /// The plan and the options that could not be understood (for a diagnostic).
    public static func parse(_ options: [String]) -> (plan: NetworkBootPlan, rejected: [String]) {
        var address: (IPv4Address, Int)? = nil
        var gateway: IPv4Address? = nil
        var dns: IPv4Address? = nil
        var rejected: [String] = []
        var disabled = false
        for option in options where option.hasPrefix("net.") || option.hasPrefix("net=") {
            if option == disabledOption {
                disabled = true
                continue
            }
            let parts = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { rejected.append(option); continue }
            let key = String(parts[0]), value = String(parts[1])
            switch key {
            case addressKey:
                if let parsed = parseAddressWithPrefix(value) { address = parsed } else { rejected.append(option) }
            case gatewayKey:
                if let parsed = parseIPv4(value) { gateway = parsed } else { rejected.append(option) }
            case dnsKey:
                if let parsed = parseIPv4(value) { dns = parsed } else { rejected.append(option) }
            default:
                rejected.append(option)
            }
        }
        if disabled { return (.disabled, rejected) }
        guard let (ip, prefix) = address else { return (.dhcp, rejected) }
        // No gateway given: the first host of the subnet, as QEMU's slirp and most LANs use.
        let netmask: UInt32 = prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix)
        let defaultGateway = IPv4Address((ip.value & netmask) | 1)
        return (.fixed(IPv4Configuration(address: ip, prefixLength: prefix, gateway: gateway ?? defaultGateway,
                                          dns: dns ?? gateway ?? defaultGateway)), rejected)
    }

    /// The options that ask for `configuration` (egg's side of the contract).
    public static func options(for configuration: IPv4Configuration) -> [String] {
        ["\(addressKey)=\(configuration.address.text)/\(configuration.prefixLength)",
         "\(gatewayKey)=\(configuration.gateway.text)",
         "\(dnsKey)=\(configuration.dns.text)"]
    }

    /// "A.B.C.D" with each part 0...255 and no leading junk.
    public static func parseIPv4(_ text: String) -> IPv4Address? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let byte = parseDecimal(part), byte <= 255 else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return IPv4Address(value)
    }

    /// "A.B.C.D/N" (N 1...32; a bare address means /24).
    static func parseAddressWithPrefix(_ text: String) -> (IPv4Address, Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let ip = parseIPv4(String(parts[0])) else { return nil }
        guard parts.count == 2 else { return (ip, 24) }
        guard parts[1].count <= 2, let prefix = parseDecimal(parts[1]), prefix >= 1, prefix <= 32 else { return nil }
        return (ip, prefix)
    }

    static func parseDecimal(_ text: Substring) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for c in text.utf8 {
            guard c >= 0x30 && c <= 0x39 else { return nil }
            value = value * 10 + Int(c - 0x30)
        }
        return value
    }
}
