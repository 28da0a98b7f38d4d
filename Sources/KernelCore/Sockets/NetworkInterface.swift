// NetworkInterface — what the kernel's socket layer needs from a network card (KernelCore).
//
// Sources/Kernel/ implements it over the virtio-net driver (Sources/Drivers/VirtioNet.swift);
// host tests implement it with in-memory queues. The protocol side (ARP, IPv4, TCP, UDP) is
// Net's NetworkStack; KernelState.network holds both and Sockets/ moves frames between them.

public protocol NetworkInterface: AnyObject {
    /// The card's Ethernet address (six bytes).
    var macAddress: [UInt8] { get }
    /// Queue Ethernet frames (no FCS) for sending; frames the card cannot take are dropped,
    /// as a full transmit ring drops on real hardware (TCP retransmits).
    func transmit(_ frames: [[UInt8]])
    /// Frames received since the last call, oldest first (never blocks).
    func receive() -> [[UInt8]]
}
