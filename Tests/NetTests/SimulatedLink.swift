// SimulatedLink — two NetworkStack instances joined by a fake Ethernet cable that can drop,
// duplicate, delay and reorder frames, with simulated time (host tests for Sources/Net).
@testable import Net

/// Deterministic pseudo-random numbers for the link's mischief and payloads.
struct TestRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12; state ^= state << 25; state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next() >> 32) } }
}

/// FNV-1a, to compare what went in with what came out.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

let macA = MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x01)
let macB = MACAddress(0x52, 0x54, 0, 0x12, 0x34, 0x02)
let ipA = IPv4Address(10, 0, 2, 15)
let ipB = IPv4Address(10, 0, 2, 2)

final class SimulatedLink {
    let a: NetworkStack
    let b: NetworkStack
    var now: UInt64 = 1_000_000_000
    var random = TestRandom(42)
    var lossPercent = 0
    var duplicatePercent = 0
    var reorderPercent = 0
    var latency: UInt64 = 500_000
    /// Return false to drop a frame (toB: direction).
    var filter: ((_ frame: [UInt8], _ toB: Bool) -> Bool)? = nil
    var inFlight: [(at: UInt64, toB: Bool, frame: [UInt8])] = []
    var framesCarried = 0

    init(parameters: TCPParameters = TCPParameters()) {
        a = NetworkStack(mac: macA, randomSeed: 1, parameters: parameters)
        b = NetworkStack(mac: macB, randomSeed: 2, parameters: parameters)
        a.configure(IPv4Configuration(address: ipA, prefixLength: 24, gateway: ipB, dns: ipB))
        b.configure(IPv4Configuration(address: ipB, prefixLength: 24, gateway: ipB, dns: ipB))
    }

    func transmit(_ frames: [[UInt8]], toB: Bool) {
        for frame in frames {
            if let filter, !filter(frame, toB) { continue }
            if random.below(100) < lossPercent { continue }
            var at = now + latency
            if random.below(100) < reorderPercent { at += UInt64(1 + random.below(3)) * 1_000_000 }
            inFlight.append((at, toB, frame))
            if random.below(100) < duplicatePercent { inFlight.append((at + 100_000, toB, frame)) }
        }
    }

    /// One step: collect output, deliver what is due, advance the clock.
    func step(_ dt: UInt64 = 250_000) {
        transmit(a.poll(now: now), toB: true)
        transmit(b.poll(now: now), toB: false)
        var i = 0
        inFlight.sort { $0.at < $1.at }
        while i < inFlight.count {
            if inFlight[i].at <= now {
                let f = inFlight.remove(at: i)
                framesCarried += 1
                if f.toB { b.receive(frame: f.frame, now: now) } else { a.receive(frame: f.frame, now: now) }
            } else { i += 1 }
        }
        transmit(a.poll(now: now), toB: true)
        transmit(b.poll(now: now), toB: false)
        // Skip idle time straight to the next timer or delivery.
        var next = now + dt
        if inFlight.isEmpty {
            let deadlines = [a.nextDeadline(), b.nextDeadline()].compactMap { $0 }
            if let d = deadlines.min(), d > next { next = d }
        }
        now = next
    }

    /// Steps until `done` holds or `limit` of simulated time passes.
    @discardableResult
    func run(for limit: UInt64 = 5_000_000_000, until done: () -> Bool = { false }) -> Bool {
        let end = now + limit
        while now < end {
            if done() { return true }
            step()
        }
        return done()
    }

    /// A connected pair: (client on A, server-side accepted socket on B).
    func connectPair(port: UInt16 = 8000) -> (client: SocketID, server: SocketID, listener: SocketID) {
        let listener = b.openTCP()
        _ = b.bind(listener, to: SocketAddress(.any, port))
        _ = b.tcpListen(listener, backlog: 8)
        let client = a.openTCP()
        _ = a.tcpConnect(client, to: SocketAddress(ipB, port), now: now)
        var server: SocketID? = nil
        run(until: {
            if server == nil, case .success(let (id, _)) = b.accept(listener, now: now) { server = id }
            return server != nil && a.tcpState(client) == .established
        })
        return (client, server ?? -1, listener)
    }
}
