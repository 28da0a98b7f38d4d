// TransmitBacklog — frames waiting for room in a network card's transmit ring (KernelCore/
// Sockets, pure, host-tested in Tests/KernelCoreTests/SocketSyscallTests.swift).
//
// The stack (Sources/Net/NetworkStack.swift) hands over a burst of frames at once; the card
// (Sources/Drivers/VirtioNet.swift) takes what its ring has descriptors for. The rest waits
// here, in order, and goes out as the device frees descriptors (Sources/Kernel/
// NetworkSetup.swift flushes on every interrupt and poll), so a burst from TCP does not turn
// into drops and retransmissions. Bounded: past `limit` frames, or for a frame the card can
// never carry, the frame is dropped and counted, as a full Linux qdisc drops.

public struct TransmitBacklog {
    public let limit: Int
    /// The largest frame the card carries (its buffer less its header).
    public let maximumFrameLength: Int
    public private(set) var frames: [[UInt8]] = []
    public private(set) var droppedFrames = 0

    public init(limit: Int = 2048, maximumFrameLength: Int) {
        self.limit = limit
        self.maximumFrameLength = maximumFrameLength
    }

    public var isEmpty: Bool { frames.isEmpty }

    /// Queue `new` behind what already waits (dropping empty, oversized and overflow frames).
    public mutating func enqueue(_ new: [[UInt8]]) {
        for frame in new {
            guard !frame.isEmpty, frame.count <= maximumFrameLength, frames.count < limit else {
                droppedFrames += 1
                continue
            }
            frames.append(frame)
        }
    }

    /// Offer the waiting frames to `send`, which returns how many of them (from the front) it
    /// took; those leave the backlog.
    public mutating func flush(_ send: ([[UInt8]]) -> Int) {
        guard !frames.isEmpty else { return }
        let sent = min(max(0, send(frames)), frames.count)
        if sent == frames.count {
            frames.removeAll(keepingCapacity: true)
        } else if sent > 0 {
            frames.removeFirst(sent)
        }
    }
}
