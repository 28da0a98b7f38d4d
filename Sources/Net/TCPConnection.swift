// TCPConnection — one TCP control block: the RFC 9293 state machine, retransmission
// (RFC 6298 RTO, Karn), fast retransmit and NewReno recovery (RFC 5681, RFC 6582), window
// scaling and MSS (RFC 7323, RFC 9293 §3.7.1), Nagle with TCP_NODELAY, zero-window
// probing, delayed ACKs, TIME_WAIT, and the listen backlog (Net layer).
//
// It never touches the wire: it appends segments to `outbox`, which NetworkStack.swift
// drains into IPv4 datagrams. Time is always passed in (`now`, nanoseconds).

import LinuxABI

public enum TCPState: Equatable, Sendable {
    case closed, listen, synSent, synReceived, established
    case finWait1, finWait2, closeWait, closing, lastAck, timeWait
}

/// Tunables shared by every connection of a stack.
public struct TCPParameters: Sendable {
    public var sendBufferSize = 128 * 1024
    public var receiveBufferSize = 128 * 1024
    /// RFC 6298 §2.1: 1 s before any sample.
    public var initialRTO: UInt64 = 1_000_000_000
    /// RFC 6298 §2.4 says 1 s; like Linux (TCP_RTO_MIN) we use 200 ms, which the RFC allows
    /// as a local choice and which keeps loss recovery quick on a LAN.
    public var minimumRTO: UInt64 = 200_000_000
    public var maximumRTO: UInt64 = 60_000_000_000
    /// Clock granularity G of RFC 6298 §2.
    public var clockGranularity: UInt64 = 1_000_000
    public var delayedAckTimeout: UInt64 = 40_000_000
    /// 2*MSL; Linux keeps TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN).
    public var timeWaitDuration: UInt64 = 60_000_000_000
    /// How long an orphaned connection may sit in FIN_WAIT_2 (Linux tcp_fin_timeout).
    public var finWait2Timeout: UInt64 = 60_000_000_000
    public var synRetries = 6
    public var dataRetries = 15
    public var initialWindowSegments = 10          // RFC 6928
    /// The fewest connections a listener holds (half-open plus waiting for accept) for
    /// peers reached through the card, whatever its backlog; 0 keeps the backlog exactly,
    /// as Linux. The kernel raises it behind QEMU's user networking (Sources/Kernel/
    /// NetworkSetup.swift): libslirp abandons a connection whose SYN goes unanswered for
    /// 75 s (TCPTV_KEEP_INIT) where a Linux client keeps retrying for 127 s, so a burst
    /// larger than a small backlog, served slowly, would lose connections that the same
    /// program accepts natively. A guest cannot observe the difference: those peers have
    /// already been accepted by QEMU on the host.
    public var remoteListenQueueFloor = 0
    public init() {}
}

public final class TCPConnection {
    public internal(set) var state: TCPState = .closed
    public internal(set) var local: SocketAddress
    public internal(set) var remote: SocketAddress
    let parameters: TCPParameters

    // Send sequence space (RFC 9293 §3.3.1). Data in `sendBuffer` starts at `sndUna` once the
    // SYN is acknowledged; `sndMax` is the highest sequence ever sent.
    var iss: UInt32 = 0
    var sndUna: UInt32 = 0
    var sndNxt: UInt32 = 0
    var sndMax: UInt32 = 0
    var sndWnd: UInt32 = 0
    var sndWl1: UInt32 = 0
    var sndWl2: UInt32 = 0
    var maxSndWnd: UInt32 = 0
    var sendBuffer: ByteRing
    var finQueued = false          // the application has no more to send
    var finAcked = false

    // Receive sequence space.
    var irs: UInt32 = 0
    var rcvNxt: UInt32 = 0
    var receiveBuffer: ByteRing
    var outOfOrder: [(sequence: UInt32, data: [UInt8], fin: Bool)] = []
    var finReceived = false
    var readShutdown = false       // shutdown(SHUT_RD): incoming data is discarded
    var advertisedEdge: UInt32 = 0 // rcvNxt + window last advertised

    // Options negotiated on the SYNs.
    var sendScale: UInt8 = 0       // shift applied to the peer's window field
    var receiveScale: UInt8 = 0    // shift the peer applies to ours
    var offeredScale: UInt8 = 0
    public internal(set) var mss: Int = 536
    var localMSS: Int

    // RFC 6298 state.
    var srtt: UInt64 = 0
    var rttvar: UInt64 = 0
    var hasRTTSample = false
    var rto: UInt64
    var rttSequence: UInt32? = nil  // the segment being timed (Karn: never a retransmission)
    var rttStart: UInt64 = 0
    var retransmitDeadline: UInt64? = nil
    var retransmitCount = 0
    var persistDeadline: UInt64? = nil
    var persistBackoff = 0

    // Congestion control (RFC 5681 + NewReno RFC 6582), in bytes.
    var cwnd: UInt32 = 0
    var ssthresh: UInt32 = 0xFFFF_FFFF
    var duplicateAcks = 0
    var inRecovery = false
    var recover: UInt32 = 0
    public internal(set) var fastRetransmits = 0
    public internal(set) var timeouts = 0

    // ACK scheduling.
    var ackNow = false
    var delayedAckDeadline: UInt64? = nil
    var unackedSegments = 0

    var timeWaitDeadline: UInt64? = nil
    var finWait2Deadline: UInt64? = nil

    /// Socket options.
    public var noDelay = false
    public var keepAlive = false
    public var reuseAddress = false
    public var reusePort = false
    var reportedReadiness: UInt32 = 0

    /// An error for SO_ERROR / the next call (ECONNREFUSED, ECONNRESET, ETIMEDOUT).
    public internal(set) var pendingError: Errno? = nil
    /// Whether the connection ever reached ESTABLISHED (for readiness and errors).
    public internal(set) var wasConnected = false
    /// Whether it was ended by a reset or a timeout rather than an orderly close.
    public internal(set) var aborted = false
    var writeShutdown = false

    // Listening sockets.
    public internal(set) var backlog = 0
    var acceptQueue: [TCPConnection] = []
    // Strong: the cycle through `acceptQueue` is broken by accept and by closing the listener.
    var listener: TCPConnection? = nil

    /// The socket table slot, when an application holds this connection.
    var socketID: Int? = nil
    /// No file descriptor refers to it any more (closed by the application).
    var orphaned = false

    var outbox: [TCPSegment] = []

    init(local: SocketAddress, remote: SocketAddress, parameters: TCPParameters, localMSS: Int) {
        self.local = local
        self.remote = remote
        self.parameters = parameters
        self.localMSS = localMSS
        sendBuffer = ByteRing(capacity: parameters.sendBufferSize)
        receiveBuffer = ByteRing(capacity: parameters.receiveBufferSize)
        rto = parameters.initialRTO
    }

    // MARK: Application side

    var isSynchronized: Bool {
        switch state {
        case .closed, .listen, .synSent, .synReceived: return false
        default: return true
        }
    }

    func openActive(iss: UInt32, now: UInt64) {
        self.iss = iss
        sndUna = iss
        sndNxt = iss
        sndMax = iss
        offeredScale = scaleFor(receiveBuffer.capacity)
        state = .synSent
        output(now: now)
    }

    /// Queues bytes for sending; returns how many fitted.
    func write(_ bytes: [UInt8], now: UInt64) -> Int {
        let n = sendBuffer.append(bytes)
        if n > 0 { output(now: now) }
        return n
    }

    func read(maximum: Int, peek: Bool, now: UInt64) -> [UInt8] {
        let data = peek ? receiveBuffer.peek(offset: 0, count: maximum) : receiveBuffer.read(maximum)
        if !peek && !data.isEmpty && isSynchronized {
            // Window update when the window grew by 2 segments or half the buffer (RFC 1122
            // §4.2.3.3 receiver-side SWS avoidance).
            let edge = rcvNxt &+ currentWindow()
            let growth = edge &- advertisedEdge
            if Int32(bitPattern: growth) > 0
                && (Int(growth) >= 2 * mss || Int(growth) >= receiveBuffer.capacity / 2) {
                ackNow = true
                output(now: now)
            }
        }
        return data
    }

    /// shutdown(SHUT_WR) and the write half of close(2).
    func shutdownWrite(now: UInt64) {
        guard !writeShutdown else { return }
        writeShutdown = true
        switch state {
        case .closed, .listen, .synSent:
            enterClosed()
        case .synReceived, .established:
            finQueued = true
            state = .finWait1
        case .closeWait:
            finQueued = true
            state = .lastAck
        default:
            break
        }
        output(now: now)
    }

    /// Ends the connection with a reset (close with unread data, SO_LINGER 0, or a listener
    /// closing its unaccepted children).
    func abort(now: UInt64) {
        if state != .closed && state != .listen && state != .synSent && state != .timeWait {
            outbox.append(segment(sequence: sndNxt, flags: [.rst, .ack]))
        }
        for child in acceptQueue { child.abort(now: now) }
        acceptQueue = []
        aborted = true
        enterClosed()
    }

    func enterClosed() {
        state = .closed
        retransmitDeadline = nil
        persistDeadline = nil
        delayedAckDeadline = nil
        timeWaitDeadline = nil
        finWait2Deadline = nil
        outOfOrder = []
    }

    // MARK: Windows and segments

    func scaleFor(_ capacity: Int) -> UInt8 {
        var shift: UInt8 = 0
        while shift < 14 && (capacity >> Int(shift)) > 65_535 { shift += 1 }
        return shift
    }

    func currentWindow() -> UInt32 {
        if readShutdown { return UInt32(receiveBuffer.capacity) }
        let free = UInt32(receiveBuffer.free)
        let limit = UInt32(65_535) << UInt32(receiveScale)
        // Only whole units of the scale can be advertised.
        return (min(free, limit) >> UInt32(receiveScale)) << UInt32(receiveScale)
    }

    func segment(sequence: UInt32, flags: TCPFlags, payload: [UInt8] = []) -> TCPSegment {
        var flags = flags
        var window: UInt16
        if flags.contains(.syn) {
            window = UInt16(min(receiveBuffer.free, 65_535))
        } else {
            let w = currentWindow()
            window = UInt16(truncatingIfNeeded: w >> UInt32(receiveScale))
            advertisedEdge = rcvNxt &+ w
        }
        if !(state == .synSent && flags.contains(.syn)) { flags.insert(.ack) }
        if flags.contains(.ack) {
            ackNow = false
            delayedAckDeadline = nil
            unackedSegments = 0
        }
        var s = TCPSegment(sourcePort: local.port, destinationPort: remote.port, sequence: sequence,
                           acknowledgment: flags.contains(.ack) ? rcvNxt : 0, flags: flags,
                           window: window, payload: payload)
        if flags.contains(.syn) {
            s.maximumSegmentSize = UInt16(min(localMSS, 65_535))
            if state == .synSent || peerOfferedScale { s.windowScale = offeredScale }
        }
        return s
    }

    var peerOfferedScale = false

    var flightSize: UInt32 { sndMax &- sndUna }

    /// Sends whatever the state, windows, Nagle and pending ACKs allow.
    func output(now: UInt64) {
        switch state {
        case .closed, .listen, .timeWait:
            if ackNow && state == .timeWait {
                outbox.append(segment(sequence: sndNxt, flags: [.ack]))
            }
            return
        case .synSent, .synReceived:
            if sndNxt == iss {
                let flags: TCPFlags = state == .synSent ? [.syn] : [.syn, .ack]
                outbox.append(segment(sequence: iss, flags: flags))
                sndNxt = iss &+ 1
                if seqGT(sndNxt, sndMax) { sndMax = sndNxt }
                if rttSequence == nil && retransmitCount == 0 {
                    rttSequence = iss
                    rttStart = now
                }
                if retransmitDeadline == nil { retransmitDeadline = now &+ rto }
            } else if ackNow && state == .synReceived {
                outbox.append(segment(sequence: sndNxt, flags: [.ack]))
            }
            return
        default:
            break
        }
        var sentSomething = false
        while true {
            let offset = Int(sndNxt &- sndUna)
            let available = sendBuffer.count - offset
            let window = min(sndWnd, cwnd)
            let inFlight = sndNxt &- sndUna
            let usable = window > inFlight ? Int(window - inFlight) : 0
            var length = max(0, min(mss, available, usable))
            let finPending = finQueued && !finAcked && offset + length == sendBuffer.count
                && offset <= sendBuffer.count
            if length > 0 && length < mss {
                // Nagle (RFC 896 / RFC 1122 §4.2.3.4) and sender SWS avoidance.
                let allQueued = length == available
                let idle = inFlight == 0
                let windowLimited = length < available
                var send = finPending
                if allQueued && (noDelay || idle) { send = true }
                if windowLimited && idle { send = true }
                if UInt32(length) >= maxSndWnd / 2 && maxSndWnd > 0 && (noDelay || idle) { send = true }
                if !send { length = 0 }
            }
            let sendFin = finPending && (length > 0 || available == 0)
                && offset + length == sendBuffer.count
                && offset <= sendBuffer.count
            if length == 0 && !sendFin { break }
            var flags: TCPFlags = [.ack]
            if sendFin { flags.insert(.fin) }
            if length > 0 && offset + length == sendBuffer.count { flags.insert(.psh) }
            let payload = length > 0 ? sendBuffer.peek(offset: offset, count: length) : []
            outbox.append(segment(sequence: sndNxt, flags: flags, payload: payload))
            sentSomething = true
            let isNew = sndNxt == sndMax
            if isNew && rttSequence == nil {
                rttSequence = sndNxt
                rttStart = now
            }
            sndNxt = sndNxt &+ UInt32(length) &+ (sendFin ? 1 : 0)
            if seqGT(sndNxt, sndMax) { sndMax = sndNxt }
            if retransmitDeadline == nil { retransmitDeadline = now &+ rto }
            persistDeadline = nil
            if sendFin { break }
        }
        // Zero window with data waiting and nothing in flight: probe (RFC 9293 §3.8.6.1).
        if !sentSomething && sndWnd == 0 && sndUna == sndMax
            && (sendBuffer.count > Int(sndNxt &- sndUna) || (finQueued && !finAcked))
            && persistDeadline == nil {
            persistDeadline = now &+ persistInterval()
        }
        if ackNow {
            outbox.append(segment(sequence: sndNxt, flags: [.ack]))
        }
    }

    func persistInterval() -> UInt64 {
        var interval = max(rto, parameters.minimumRTO)
        for _ in 0..<min(persistBackoff, 10) { interval = interval &* 2 }
        return min(interval, parameters.maximumRTO)
    }

    /// Retransmits the first unacknowledged segment without moving sndNxt (fast retransmit,
    /// NewReno partial acknowledgement).
    func retransmitFirst(now: UInt64) {
        let available = sendBuffer.count
        let length = min(mss, available)
        let fin = finQueued && !finAcked && length == available
        guard length > 0 || fin else { return }
        var flags: TCPFlags = [.ack]
        if fin { flags.insert(.fin) }
        outbox.append(segment(sequence: sndUna, flags: flags,
                              payload: sendBuffer.peek(offset: 0, count: length)))
        if rttSequence != nil && seqLE(sndUna, rttSequence!) { rttSequence = nil }
        retransmitDeadline = now &+ rto
    }

    // MARK: Timers

    public func nextDeadline() -> UInt64? {
        var best: UInt64? = nil
        for d in [retransmitDeadline, persistDeadline, delayedAckDeadline, timeWaitDeadline,
                  finWait2Deadline] {
            if let d { best = min(best ?? d, d) }
        }
        return best
    }

    func tick(now: UInt64) {
        if let d = timeWaitDeadline, now >= d { enterClosed(); return }
        if let d = finWait2Deadline, now >= d, state == .finWait2 { enterClosed(); return }
        if let d = delayedAckDeadline, now >= d {
            delayedAckDeadline = nil
            ackNow = true
        }
        if let d = persistDeadline, now >= d {
            persistDeadline = nil
            persistBackoff += 1
            // Linux-style probe: an old sequence number forces an ACK with the window.
            outbox.append(segment(sequence: sndUna &- 1, flags: [.ack]))
            persistDeadline = now &+ persistInterval()
        }
        if let d = retransmitDeadline, now >= d { retransmitTimeout(now: now) }
        output(now: now)
    }

    func retransmitTimeout(now: UInt64) {
        retransmitDeadline = nil
        retransmitCount += 1
        timeouts += 1
        let limit = isSynchronized ? parameters.dataRetries : parameters.synRetries
        if retransmitCount > limit {
            pendingError = .ETIMEDOUT
            aborted = true
            enterClosed()
            return
        }
        // RFC 6298 §5.5-5.7: back off, retransmit the earliest segment.
        rto = min(rto &* 2, parameters.maximumRTO)
        rttSequence = nil
        if state == .synSent || state == .synReceived {
            sndNxt = iss
            return
        }
        // RFC 5681 §3.1 eq. 4 and loss window; go back to sndUna.
        ssthresh = max(flightSize / 2, UInt32(2 * mss))
        cwnd = UInt32(mss)
        inRecovery = false
        duplicateAcks = 0
        recover = sndMax
        sndNxt = sndUna
    }

    func updateRTT(sample: UInt64) {
        // RFC 6298 §2.2-2.3, alpha 1/8, beta 1/4.
        if !hasRTTSample {
            srtt = sample
            rttvar = sample / 2
            hasRTTSample = true
        } else {
            let delta = srtt > sample ? srtt - sample : sample - srtt
            rttvar = (3 * rttvar + delta) / 4
            srtt = (7 * srtt + sample) / 8
        }
        rto = srtt + max(parameters.clockGranularity, 4 * rttvar)
        rto = min(max(rto, parameters.minimumRTO), parameters.maximumRTO)
    }

    public var smoothedRTT: UInt64 { srtt }
    public var retransmissionTimeout: UInt64 { rto }
    public var congestionWindow: UInt32 { cwnd }

    // MARK: Input (RFC 9293 §3.10.7.4 "Other states")

    func applySynOptions(_ seg: TCPSegment) {
        if let m = seg.maximumSegmentSize { mss = min(Int(m), localMSS) } else { mss = min(536, localMSS) }
        mss = max(mss, 64)
        if let scale = seg.windowScale {
            peerOfferedScale = true
            sendScale = scale
            receiveScale = offeredScale
        } else {
            peerOfferedScale = false
            sendScale = 0
            receiveScale = 0
        }
        cwnd = UInt32(parameters.initialWindowSegments * mss)
    }

    func establish(now: UInt64) {
        state = .established
        wasConnected = true
        recover = iss              // RFC 6582 §3.2 step 1
        retransmitCount = 0
        if !hasRTTSample { rto = parameters.initialRTO }
    }

    /// Handles a segment addressed to this connection. Listener SYNs are handled by the stack.
    func input(_ seg: TCPSegment, now: UInt64) {
        if state == .synSent { inputSynSent(seg, now: now); output(now: now); return }
        guard state != .closed, state != .listen else { return }

        let segLength = seg.sequenceLength
        let window = currentWindow()
        // 1. Acceptability.
        var acceptable: Bool
        if segLength == 0 {
            if window == 0 { acceptable = seg.sequence == rcvNxt }
            else { acceptable = seqLE(rcvNxt, seg.sequence) && seqLT(seg.sequence, rcvNxt &+ window) }
            // An in-window check that still lets a bare ACK with an old sequence through
            // would be laxer; RFC 9293 keeps it strict.
        } else if window == 0 {
            acceptable = false
        } else {
            let last = seg.sequence &+ segLength &- 1
            acceptable = (seqLE(rcvNxt, seg.sequence) && seqLT(seg.sequence, rcvNxt &+ window))
                || (seqLE(rcvNxt, last) && seqLT(last, rcvNxt &+ window))
        }
        if state == .synReceived && seg.flags.contains(.syn) && !seg.flags.contains(.ack)
            && seg.sequence == irs {
            // Our SYN-ACK was lost: send it again.
            sndNxt = iss
            output(now: now)
            return
        }
        if !acceptable {
            if !seg.flags.contains(.rst) {
                ackNow = true
                if state == .timeWait, seg.flags.contains(.fin) {
                    timeWaitDeadline = now &+ parameters.timeWaitDuration
                }
                // A zero-window ACK that still acknowledges something is worth processing.
                if window == 0 && seg.flags.contains(.ack) && segLength > 0 && seg.sequence == rcvNxt {
                    processAck(seg, now: now)
                }
                output(now: now)
            }
            return
        }
        // 2. RST (RFC 5961 §3.2: exact match resets, otherwise a challenge ACK).
        if seg.flags.contains(.rst) {
            if seg.sequence != rcvNxt {
                ackNow = true
                output(now: now)
                return
            }
            switch state {
            case .synReceived:
                if listener == nil { pendingError = .ECONNREFUSED }
            case .established, .finWait1, .finWait2, .closeWait:
                pendingError = .ECONNRESET
            default:
                break
            }
            aborted = true
            enterClosed()
            return
        }
        // 4. SYN in a synchronized state: challenge ACK (RFC 5961 §4.2).
        if seg.flags.contains(.syn) {
            ackNow = true
            output(now: now)
            return
        }
        // 5. ACK.
        guard seg.flags.contains(.ack) else { return }
        if state == .synReceived {
            guard seqLT(sndUna, seg.acknowledgment) && seqLE(seg.acknowledgment, sndMax) else {
                outbox.append(TCPSegment(sourcePort: local.port, destinationPort: remote.port,
                                         sequence: seg.acknowledgment, acknowledgment: 0,
                                         flags: [.rst], window: 0))
                return
            }
            // The place was reserved when the SYN was admitted (NetworkStack.handleListen).
            if let l = listener, l.state == .listen { l.acceptQueue.append(self) }
            sndUna = sndUna &+ 1        // the SYN
            if let r = rttSequence, r == iss, !hasRTTSample || retransmitCount == 0 {
                updateRTT(sample: now &- rttStart)
            }
            rttSequence = nil
            retransmitDeadline = nil
            establish(now: now)
            sndWnd = UInt32(seg.window) << UInt32(sendScale)
            maxSndWnd = max(maxSndWnd, sndWnd)
            sndWl1 = seg.sequence
            sndWl2 = seg.acknowledgment
        }
        if !processAck(seg, now: now) { output(now: now); return }
        if state == .closed { return }

        // 7. Data.
        var seg = seg
        if (seg.payload.count > 0 || seg.flags.contains(.fin)) {
            switch state {
            case .established, .finWait1, .finWait2:
                receiveData(&seg, now: now)
            default:
                break   // CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT: the FIN was already seen
            }
            if state == .timeWait && seg.flags.contains(.fin) { ackNow = true }
        }
        output(now: now)
    }

    func inputSynSent(_ seg: TCPSegment, now: UInt64) {
        var ackAcceptable = false
        if seg.flags.contains(.ack) {
            if seqLE(seg.acknowledgment, iss) || seqGT(seg.acknowledgment, sndMax) {
                if !seg.flags.contains(.rst) {
                    outbox.append(TCPSegment(sourcePort: local.port, destinationPort: remote.port,
                                             sequence: seg.acknowledgment, acknowledgment: 0,
                                             flags: [.rst], window: 0))
                }
                return
            }
            ackAcceptable = true
        }
        if seg.flags.contains(.rst) {
            if ackAcceptable {
                pendingError = .ECONNREFUSED
                aborted = true
                enterClosed()
            }
            return
        }
        guard seg.flags.contains(.syn) else { return }
        irs = seg.sequence
        rcvNxt = irs &+ 1
        applySynOptions(seg)
        if ackAcceptable {
            sndUna = seg.acknowledgment
            if rttSequence != nil && retransmitCount == 0 { updateRTT(sample: now &- rttStart) }
            rttSequence = nil
            retransmitDeadline = nil
            sndWnd = UInt32(seg.window) << UInt32(sendScale)
            maxSndWnd = sndWnd
            sndWl1 = seg.sequence
            sndWl2 = seg.acknowledgment
            establish(now: now)
            ackNow = true
            var rest = seg
            rest.sequence = rest.sequence &+ 1
            rest.flags.remove(.syn)
            if !rest.payload.isEmpty || rest.flags.contains(.fin) { receiveData(&rest, now: now) }
        } else {
            // Simultaneous open (RFC 9293 §3.5 figure 7).
            state = .synReceived
            peerOfferedScale = seg.windowScale != nil
            sndWnd = UInt32(seg.window)
            sndNxt = iss    // resend our SYN, now with ACK
            retransmitDeadline = nil
        }
    }

    /// ACK field processing; false when the segment must be dropped.
    @discardableResult
    func processAck(_ seg: TCPSegment, now: UInt64) -> Bool {
        let ack = seg.acknowledgment
        if seqGT(ack, sndMax) {
            ackNow = true
            return false
        }
        if seqLT(ack, sndUna) { return true }   // old duplicate: ignore the ACK, keep the data
        let previousWindow = sndWnd
        // Window update (RFC 9293 §3.10.7.4, SND.WL1/WL2 rule).
        if seqLT(sndWl1, seg.sequence) || (sndWl1 == seg.sequence && seqLE(sndWl2, ack)) {
            sndWnd = UInt32(seg.window) << UInt32(sendScale)
            maxSndWnd = max(maxSndWnd, sndWnd)
            sndWl1 = seg.sequence
            sndWl2 = ack
            if sndWnd > 0 {
                persistDeadline = nil
                persistBackoff = 0
            }
        }
        if ack == sndUna {
            // Duplicate ACK (RFC 5681 §2): nothing new, no data, same window, data outstanding.
            if seg.payload.isEmpty && !seg.flags.contains(.fin) && sndWnd == previousWindow
                && sndMax != sndUna {
                duplicateAcks += 1
                if duplicateAcks == 3 && !inRecovery && seqGT(ack &- 1, recover &- 1) {
                    ssthresh = max(flightSize / 2, UInt32(2 * mss))
                    recover = sndMax
                    inRecovery = true
                    fastRetransmits += 1
                    retransmitFirst(now: now)
                    cwnd = ssthresh + UInt32(3 * mss)
                } else if duplicateAcks > 3 && inRecovery {
                    cwnd += UInt32(mss)
                }
            }
            return true
        }
        // New data acknowledged.
        var acked = Int(ack &- sndUna)
        if acked > sendBuffer.count {
            // The FIN is covered.
            finAcked = true
            acked = sendBuffer.count
        }
        sendBuffer.discard(acked)
        let ackedBytes = UInt32(ack &- sndUna)
        sndUna = ack
        if seqLT(sndNxt, sndUna) { sndNxt = sndUna }
        if let r = rttSequence, seqGT(ack, r) {
            updateRTT(sample: now &- rttStart)
            rttSequence = nil
        } else if retransmitCount > 0 && !hasRTTSample {
            rto = parameters.initialRTO
        }
        if retransmitCount > 0 && hasRTTSample {
            rto = min(max(srtt + max(parameters.clockGranularity, 4 * rttvar), parameters.minimumRTO),
                      parameters.maximumRTO)
        }
        retransmitCount = 0
        if inRecovery {
            if seqGE(ack, recover) {
                // Full acknowledgement (RFC 6582 §3.2 step 3, option 1).
                cwnd = min(ssthresh, max(flightSize, 0) + UInt32(mss))
                if cwnd < ssthresh { cwnd = ssthresh }
                inRecovery = false
                duplicateAcks = 0
            } else {
                // Partial acknowledgement: retransmit the next hole, deflate.
                retransmitFirst(now: now)
                cwnd = cwnd > ackedBytes ? cwnd - ackedBytes : 0
                cwnd += UInt32(mss)
                duplicateAcks = 0
            }
        } else {
            duplicateAcks = 0
            if cwnd < ssthresh {
                cwnd += min(ackedBytes, UInt32(mss))                 // slow start
            } else {
                cwnd += max(1, UInt32(mss * mss) / max(cwnd, 1))    // congestion avoidance
            }
        }
        if sndUna == sndMax {
            retransmitDeadline = nil
        } else {
            retransmitDeadline = now &+ rto
        }
        // State changes driven by our FIN being acknowledged.
        if finAcked {
            switch state {
            case .finWait1:
                state = .finWait2
                if orphaned { finWait2Deadline = now &+ parameters.finWait2Timeout }
            case .closing:
                enterTimeWait(now: now)
            case .lastAck:
                enterClosed()
                return false
            default:
                break
            }
        }
        return true
    }

    func enterTimeWait(now: UInt64) {
        enterClosed()
        state = .timeWait
        timeWaitDeadline = now &+ parameters.timeWaitDuration
    }

    func receiveData(_ seg: inout TCPSegment, now: UInt64) {
        // Trim what we already have.
        if seqLT(seg.sequence, rcvNxt) {
            let skip = Int(rcvNxt &- seg.sequence)
            if skip >= seg.payload.count {
                seg.payload = []
            } else {
                seg.payload = Array(seg.payload[skip...])
            }
            seg.sequence = rcvNxt
        }
        // And what lies beyond the window (the FIN goes with it).
        let window = Int(currentWindow())
        if seg.payload.count > window {
            seg.payload = Array(seg.payload[0..<window])
            seg.flags.remove(.fin)
        }
        if seg.sequence != rcvNxt {
            // Out of order: keep it (within the window) and send a duplicate ACK at once.
            let offset = Int(seg.sequence &- rcvNxt)
            if offset < window && !seg.payload.isEmpty || seg.flags.contains(.fin) {
                var payload = seg.payload
                if offset + payload.count > window {
                    payload = Array(payload[0..<max(0, window - offset)])
                }
                if !outOfOrder.contains(where: { $0.sequence == seg.sequence && $0.data.count >= payload.count }) {
                    outOfOrder.append((seg.sequence, payload, seg.flags.contains(.fin)))
                }
            }
            ackNow = true
            return
        }
        deliver(seg.payload, fin: seg.flags.contains(.fin), now: now)
        // Pull in anything the gap was holding back.
        var progressed = true
        while progressed && !outOfOrder.isEmpty {
            progressed = false
            var i = 0
            while i < outOfOrder.count {
                let piece = outOfOrder[i]
                let end = piece.sequence &+ UInt32(piece.data.count)
                if seqLE(piece.sequence, rcvNxt) {
                    outOfOrder.remove(at: i)
                    if seqGT(end, rcvNxt) || (piece.fin && end == rcvNxt) {
                        let skip = Int(rcvNxt &- piece.sequence)
                        let rest = skip < piece.data.count ? Array(piece.data[skip...]) : []
                        deliver(rest, fin: piece.fin, now: now)
                        progressed = true
                    }
                } else {
                    i += 1
                }
            }
        }
        if finReceived { outOfOrder = [] }
    }

    func deliver(_ data: [UInt8], fin: Bool, now: UInt64) {
        if finReceived { return }
        if !data.isEmpty {
            if !readShutdown { receiveBuffer.append(data) }
            rcvNxt = rcvNxt &+ UInt32(data.count)
            unackedSegments += 1
            if unackedSegments >= 2 || !outOfOrder.isEmpty {
                ackNow = true
            } else if delayedAckDeadline == nil {
                delayedAckDeadline = now &+ parameters.delayedAckTimeout
            }
        }
        if fin {
            rcvNxt = rcvNxt &+ 1
            finReceived = true
            ackNow = true
            switch state {
            case .established:
                state = .closeWait
            case .finWait1:
                if finAcked { enterTimeWait(now: now) } else { state = .closing }
            case .finWait2:
                enterTimeWait(now: now)
            default:
                break
            }
        }
    }
}
