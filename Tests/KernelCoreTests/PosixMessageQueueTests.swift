// PosixMessageQueueTests — the POSIX message queue's ordering and limits
// (Sources/KernelCore/IPC/PosixMessageQueue.swift) and the queued-signal bookkeeping and
// signalfd record layout (Sources/KernelCore/Signals/QueuedSignals.swift, SignalFD.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class PosixMessageQueueTests: XCTestCase {
    func user(_ u: UInt32) -> Credentials { try! Credentials.root.settingRESUID(u, u, u).get() }

    func testHighestPriorityFirstAndFIFOWithinAPriority() {
        var s = MessageStore(capacity: 8, messageSize: 16)
        s.insert([1], priority: 1)
        s.insert([2], priority: 5)
        s.insert([3], priority: 1)
        s.insert([4], priority: 0)
        s.insert([5], priority: 5)
        var order: [UInt8] = []
        while let m = s.takeFirst() { order.append(m.body[0]) }
        XCTAssertEqual(order, [2, 5, 1, 3, 4])
    }

    func testFullAtCapacityAndTotalBytes() {
        var s = MessageStore(capacity: 2, messageSize: 16)
        XCTAssertTrue(s.isEmpty)
        s.insert([1, 2, 3], priority: 0)
        XCTAssertFalse(s.isFull)
        s.insert([4], priority: 0)
        XCTAssertTrue(s.isFull)
        XCTAssertEqual(s.totalBytes, 4)
    }

    func testAttributeLimitsAsProcSysFsMqueue() {
        let ok = MessageQueueAttributes(flags: 0, maxMessages: 10, messageSize: 8192, currentMessages: 0)
        XCTAssertNil(MessageQueueLimits.validate(ok, privileged: false))
        var a = ok
        a.maxMessages = 11
        XCTAssertEqual(MessageQueueLimits.validate(a, privileged: false), .EINVAL)
        XCTAssertNil(MessageQueueLimits.validate(a, privileged: true))
        a = ok
        a.messageSize = 0
        XCTAssertEqual(MessageQueueLimits.validate(a, privileged: true), .EINVAL)
        a.messageSize = 8193
        XCTAssertEqual(MessageQueueLimits.validate(a, privileged: false), .EINVAL)
        a.messageSize = Int64(MessageQueueLimits.hardMessageSizeMax) + 1
        XCTAssertEqual(MessageQueueLimits.validate(a, privileged: true), .EINVAL)
    }

    func testAttributesRoundTripAs64Bytes() {
        let a = MessageQueueAttributes(flags: 0o4000, maxMessages: 4, messageSize: 64, currentMessages: 2)
        let b = a.encode()
        XCTAssertEqual(b.count, 64)
        XCTAssertEqual(MessageQueueAttributes(b), a)
    }

    func testNamesAsLookupOneLen() {
        XCTAssertNil(MessageQueueNamespace.checkName(Array("q".utf8)))
        XCTAssertEqual(MessageQueueNamespace.checkName([]), .EACCES)
        XCTAssertEqual(MessageQueueNamespace.checkName(Array("a/b".utf8)), .EACCES)
        XCTAssertEqual(MessageQueueNamespace.checkName(Array("..".utf8)), .EACCES)
        XCTAssertEqual(MessageQueueNamespace.checkName([UInt8](repeating: 97, count: 256)), .ENAMETOOLONG)
    }

    func testPermissionsUseOwnerGroupOtherBits() {
        let q = PosixMessageQueue(maxMessages: 1, messageSize: 1, uid: 1000, gid: 1000, mode: 0o640)
        XCTAssertFalse(q.denies(6, user(1000)))
        XCTAssertTrue(q.denies(4, user(2000)))
        XCTAssertFalse(q.denies(6, .root))   // CAP_DAC_OVERRIDE
    }

    func testRealtimeInstancesQueueInOrderPerTarget() {
        var q = SignalQueue()
        let info = { (v: UInt64) in Siginfo(signal: 40, code: -1, detail: .queued(pid: 1, uid: 0, value: v)) }
        q.append(QueuedSignal(signal: 40, tid: nil, info: info(1)))
        q.append(QueuedSignal(signal: 40, tid: 7, info: info(2)))
        q.append(QueuedSignal(signal: 40, tid: nil, info: info(3)))
        XCTAssertEqual(q.take(signal: 40, tid: nil)?.info, info(1))
        XCTAssertTrue(q.contains(signal: 40, tid: nil))
        XCTAssertEqual(q.take(signal: 40, tid: nil)?.info, info(3))
        XCTAssertNil(q.take(signal: 40, tid: nil))
        q.discard(signal: 40, tid: 7)
        XCTAssertTrue(q.entries.isEmpty)
    }

    func testSignalfdSiginfoLayout() {
        let b = SignalfdSiginfo.encode(Siginfo(signal: 10, code: -1, detail: .queued(pid: 42, uid: 1000, value: 0x1_0000_0007)))
        XCTAssertEqual(b.count, 128)
        let r = ByteReader(b)
        XCTAssertEqual(r.u32(0), 10)
        XCTAssertEqual(Int32(bitPattern: r.u32(8)), -1)
        XCTAssertEqual(r.u32(12), 42)       // ssi_pid
        XCTAssertEqual(r.u32(16), 1000)     // ssi_uid
        XCTAssertEqual(r.u32(44), 7)        // ssi_int
        XCTAssertEqual(r.u64(48), 0x1_0000_0007)  // ssi_ptr
        let c = SignalfdSiginfo.encode(Siginfo(signal: 17, code: 1, detail: .child(pid: 5, uid: 0, status: 3, userTime: 1, systemTime: 2)))
        let rc = ByteReader(c)
        XCTAssertEqual(rc.u32(40), 3)       // ssi_status
        XCTAssertEqual(rc.u64(56), 1)       // ssi_utime
        XCTAssertEqual(rc.u64(64), 2)       // ssi_stime
    }

    func testTraceRendersMqAttrAndSigeventAsStrace() {
        let a = MessageQueueAttributes(flags: 0o4000, maxMessages: 4, messageSize: 64, currentMessages: 1).encode()
        XCTAssertEqual(SyscallTraceFormatter.messageQueueAttributes(a),
                       "{mq_flags=O_NONBLOCK, mq_maxmsg=4, mq_msgsize=64, mq_curmsgs=1}")
        var w = ByteWriter()
        w.u64(1234); w.u32(10); w.u32(0); w.zeros(48)
        XCTAssertEqual(SyscallTraceFormatter.sigevent(w.bytes),
                       "{sigev_value={sival_int=1234, sival_ptr=0x4d2}, sigev_signo=SIGUSR1, sigev_notify=SIGEV_SIGNAL}")
    }
}
