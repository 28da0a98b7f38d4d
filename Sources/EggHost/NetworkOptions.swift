// NetworkOptions — `egg run -p/--publish` and `--net`: parsing, checks and the QEMU network
// arguments (EggHost layer, host only; pure except `hostPortIsFree`).
//
// The guest gets a virtio-net card on QEMU's user-mode network (slirp: the guest is
// 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3, outbound TCP/UDP is NATed through the host)
// unless `--net none`. The kernel is told that fixed plan through boot options
// (NetworkBootPlan, Sources/KernelCore/Sockets/NetworkInterface.swift) so it need not wait
// for DHCP; it drives the card from Sources/Kernel/NetworkSetup.swift. Published ports are
// slirp `hostfwd` rules, written like docker's: HOST:GUEST, HOST:GUEST/udp,
// ADDRESS:HOST:GUEST. QEMUCommand.swift and ISORun.swift add `qemuArguments`. For `egg run`,
// a TCP rule's host port is egg's own listener (PortRelay.swift: slirp's backlog of 1 lost
// bursts of connections) and QEMU's hostfwd moves to a private 127.0.0.1 port; UDP rules
// (and `egg run` of a packed image, ISORun.swift) stay direct hostfwd rules.

import Foundation
import KernelCore
import Net

public enum PortProtocol: String, Equatable, Sendable {
    case tcp, udp
}

/// One `-p` rule.
public struct PortForward: Equatable, Sendable {
    public var portProtocol: PortProtocol
    /// The host address to listen on; nil: every interface (as docker -p does).
    public var hostAddress: String?
    public var hostPort: Int
    public var guestPort: Int

    public init(portProtocol: PortProtocol = .tcp, hostAddress: String? = nil, hostPort: Int, guestPort: Int) {
        self.portProtocol = portProtocol
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestPort = guestPort
    }

    /// QEMU's `hostfwd=` value: proto:hostaddr:hostport-guestaddr:guestport (the guest
    /// address left empty means slirp's first DHCP address, 10.0.2.15).
    public var hostfwd: String {
        "\(portProtocol.rawValue):\(hostAddress ?? ""):\(hostPort)-:\(guestPort)"
    }

    /// As the user wrote it, normalized: "8080:80", "127.0.0.1:8080:80/udp".
    public var text: String {
        (hostAddress.map { $0 + ":" } ?? "") + "\(hostPort):\(guestPort)" + (portProtocol == .udp ? "/udp" : "")
    }
}

public enum NetworkOptionError: Error, Equatable {
    case malformedPublish(String)
    case badPort(String, String)
    case badHostAddress(String, String)
    case duplicateHostPort(String, String)
    case hostPortInUse(String)
    case hostPortDenied(String)
    case hostAddressUnavailable(String, String)
    case badMode(String)
    case publishWithoutNetwork
    case unsupportedMachine(String)

    /// One line, for `egg: ...` (exit status 125).
    public var message: String {
        switch self {
        case .malformedPublish(let text):
            return "-p \(text): expected HOST:GUEST, HOST:GUEST/udp or ADDRESS:HOST:GUEST (for example -p 8080:80)"
        case .badPort(let text, let port):
            return "-p \(text): \(port) is not a port number (1 to 65535)"
        case .badHostAddress(let text, let address):
            return "-p \(text): \(address) is not an IPv4 address"
        case .duplicateHostPort(let first, let second):
            return "-p \(second): the host port is already published by -p \(first)"
        case .hostPortInUse(let text):
            return "-p \(text): the host port is in use by another program"
        case .hostAddressUnavailable(let text, let address):
            return "-p \(text): \(address) is not an address of this host"
        case .hostPortDenied(let text):
            return "-p \(text): not allowed to listen on that host port (ports below 1024 need root)"
        case .badMode(let mode):
            return "--net \(mode): expected user (the default: a virtio-net card on QEMU user networking) or none"
        case .publishWithoutNetwork:
            return "-p needs a network card: drop --net none"
        case .unsupportedMachine(let machine):
            return "--machine \(machine) has no PCI bus for the network card: use pc or q35, or --net none"
        }
    }
}

/// Parses one `-p` value.
public func parsePortForward(_ text: String) -> Result<PortForward, NetworkOptionError> {
    var body = Substring(text)
    var proto = PortProtocol.tcp
    if let slash = body.lastIndex(of: "/") {
        guard let p = PortProtocol(rawValue: body[body.index(after: slash)...].lowercased()) else {
            return .failure(.malformedPublish(text))
        }
        proto = p
        body = body[..<slash]
    }
    let parts = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let address: String?, hostText: String, guestText: String
    switch parts.count {
    case 2: (address, hostText, guestText) = (nil, parts[0], parts[1])
    case 3: (address, hostText, guestText) = (parts[0], parts[1], parts[2])
    default: return .failure(.malformedPublish(text))
    }
    func port(_ s: String) -> Int? {
        guard !s.isEmpty, s.count <= 5, s.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(s),
              (1...65535).contains(v) else { return nil }
        return v
    }
    if hostText.isEmpty || guestText.isEmpty { return .failure(.malformedPublish(text)) }
    guard let host = port(hostText) else { return .failure(.badPort(text, hostText)) }
    guard let guest = port(guestText) else { return .failure(.badPort(text, guestText)) }
    var hostAddress: String? = nil
    if let address {
        guard NetworkBootPlan.parseIPv4(address) != nil else { return .failure(.badHostAddress(text, address)) }
        hostAddress = address
    }
    return .success(PortForward(portProtocol: proto, hostAddress: hostAddress, hostPort: host, guestPort: guest))
}

/// The guest's network: QEMU user networking with these forwards.
public struct GuestNetwork: Equatable, Sendable {
    public var forwards: [PortForward]
    public var mac: String
    /// On QEMU's microvm (no PCI): the card is a virtio-mmio device (Sources/Drivers/VirtioMMIO.swift).
    public var mmio: Bool

    public init(forwards: [PortForward] = [], mac: String = "52:54:00:12:34:56", mmio: Bool = false) {
        self.forwards = forwards
        self.mac = mac
        self.mmio = mmio
    }

    /// `-netdev user` (IPv6 off: the kernel speaks IPv4 only, so slirp's router
    /// advertisements would only wake it) and the card, without its option ROM (the
    /// firmware would load it for nothing on a -kernel boot). On microvm: virtio-net-device
    /// on the machine's virtio-mmio transports, which QEMU 7.2 makes legacy (version 1) unless
    /// told otherwise; the kernel speaks version 2 only.
    public var qemuArguments: [String] {
        var netdev = "user,id=net0,ipv6=off"
        for forward in forwards { netdev += ",hostfwd=" + forward.hostfwd }
        if mmio {
            return ["-global", "virtio-mmio.force-legacy=false",
                    "-netdev", netdev, "-device", "virtio-net-device,netdev=net0,mac=\(mac)"]
        }
        return ["-netdev", netdev, "-device", "virtio-net-pci,netdev=net0,romfile=,mac=\(mac)"]
    }

    /// Boot options for the kernel: slirp's fixed plan, so no DHCP wait.
    public var kernelOptions: [String] { NetworkBootPlan.options(for: .qemuUserNetworking) }
}

/// The kernel options for a run with `network` (nil: no card, so "net=none" and the kernel
/// does not look for one).
public func networkKernelOptions(_ network: GuestNetwork?) -> [String] {
    network?.kernelOptions ?? [NetworkBootPlan.disabledOption]
}

/// `--net` and every `-p` into the run's network (nil: no card). `checkHostPort` is asked
/// about each host port after the syntax checks (`checkHostPortFree` in real runs).
public func planGuestNetwork(mode: String?, publish: [String], machine: MachineType,
                             checkHostPort: (PortForward) -> NetworkOptionError?) -> Result<GuestNetwork?, NetworkOptionError> {
    let chosen = mode ?? "user"
    guard chosen == "user" || chosen == "none" else { return .failure(.badMode(chosen)) }
    var forwards: [PortForward] = []
    for text in publish {
        switch parsePortForward(text) {
        case .failure(let error): return .failure(error)
        case .success(let forward):
            // Same protocol and port on overlapping addresses cannot both be bound.
            if let earlier = forwards.first(where: {
                $0.portProtocol == forward.portProtocol && $0.hostPort == forward.hostPort
                    && ($0.hostAddress == nil || forward.hostAddress == nil || $0.hostAddress == forward.hostAddress)
            }) {
                return .failure(.duplicateHostPort(earlier.text, text))
            }
            forwards.append(forward)
        }
    }
    if chosen == "none" {
        return forwards.isEmpty ? .success(nil) : .failure(.publishWithoutNetwork)
    }
    // microvm: a card only when asked for (-p or --net user), so plain runs stay lean.
    if machine == .microvm && forwards.isEmpty && mode == nil { return .success(nil) }
    for forward in forwards {
        if let problem = checkHostPort(forward) { return .failure(problem) }
    }
    return .success(GuestNetwork(forwards: forwards, mmio: machine == .microvm))
}

/// Whether QEMU (UDP, images) or egg's relay (TCP) will be able to bind the forward's host port: binds and closes a socket of
/// the same kind (SO_REUSEADDR, as slirp sets, so a port in TIME_WAIT counts as free).
/// nil when it can (or when egg cannot tell: QEMU then reports its own error).
public func checkHostPortFree(_ forward: PortForward) -> NetworkOptionError? {
    let kind = forward.portProtocol == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
    let fd = socket(AF_INET, kind, 0)
    guard fd >= 0 else { return nil }  // cannot tell: let QEMU try
    defer { close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(forward.hostPort).bigEndian)
    address.sin_addr.s_addr = (NetworkBootPlan.parseIPv4(forward.hostAddress ?? "0.0.0.0")?.value ?? 0).bigEndian
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard bound != 0 else { return nil }
    switch errno {
    case EADDRINUSE: return .hostPortInUse(forward.text)
    case EACCES: return .hostPortDenied(forward.text)
    case EADDRNOTAVAIL: return .hostAddressUnavailable(forward.text, forward.hostAddress ?? "0.0.0.0")
    default: return nil
    }
}
