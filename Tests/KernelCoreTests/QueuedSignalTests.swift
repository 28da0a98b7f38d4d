// QueuedSignalTests — queued signals, sigtimedwait's bookkeeping and the "blocked signals
// are never ignored" rule (Sources/KernelCore/Signals/QueuedSignals.swift, kernel/signal.c
// sig_ignored, __send_signal's legacy_queue), through the TestKernel harness (Fakes.swift).
@testable import KernelCore
import LinuxABI
import XCTest

final class QueuedSignalTests: XCTestCase {
    let sigusr1 = 10, sigchld = 17, rt = 40

    func queued(_ s: Int, value: UInt64) -> Siginfo {
        Siginfo(signal: Int32(s), code: -1, detail: .queued(pid: 1, uid: 0, value: value))
    }

    func testRealtimeSignalQueuesEveryInstanceInOrder() throws {
        let k = TestKernel()
        let t = k.state.currentThread
        let p = k.state.process
        t.signalMask = signalBit(rt)
        try k.state.postQueuedSignal(queued(rt, value: 1), to: p, thread: nil)
        try k.state.postQueuedSignal(queued(rt, value: 2), to: p, thread: nil)
        XCTAssertEqual(k.state.dequeueSignal(t, mask: signalBit(rt)), queued(rt, value: 1))
        XCTAssertEqual(k.state.dequeueSignal(t, mask: signalBit(rt)), queued(rt, value: 2))
        XCTAssertNil(k.state.dequeueSignal(t, mask: signalBit(rt)))
    }

    func testStandardSignalAlreadyPendingIsNotQueuedAgain() throws {
        let k = TestKernel()
        let t = k.state.currentThread
        t.signalMask = signalBit(sigusr1)
        try k.state.postQueuedSignal(queued(sigusr1, value: 1), to: k.state.process, thread: nil)
        try k.state.postQueuedSignal(queued(sigusr1, value: 2), to: k.state.process, thread: nil)
        XCTAssertEqual(k.state.dequeueSignal(t, mask: signalBit(sigusr1)), queued(sigusr1, value: 1))
        XCTAssertNil(k.state.dequeueSignal(t, mask: signalBit(sigusr1)))
        XCTAssertTrue(k.state.process.queuedSignals.entries.isEmpty)
    }

    func testBlockedSignalWithIgnoreDefaultStaysPendingButWakesNoOne() {
        let k = TestKernel()
        let t = k.state.currentThread
        t.signalMask = signalBit(sigchld)
        k.state.postSignal(sigchld, to: k.state.process)
        XCTAssertEqual(k.state.pendingSignals(of: t, mask: signalBit(sigchld)), signalBit(sigchld))
        t.signalMask = 0
        XCTAssertFalse(k.state.hasDeliverableSignal(t))   // delivery would drop it
        XCTAssertEqual(k.state.pendingSignals(of: t, mask: signalBit(sigchld)), 0)   // and did, as get_signal
        // Unblocked and ignored: never pending (kernel/signal.c sig_ignored).
        k.state.process.processPendingSignals = 0
        k.state.postSignal(sigchld, to: k.state.process)
        XCTAssertEqual(k.state.process.processPendingSignals, 0)
    }

    func testKillRecordsTheSender() {
        let k = TestKernel()
        let t = k.state.currentThread
        t.signalMask = signalBit(sigusr1)
        k.state.postSignalFromSender(sigusr1, to: k.state.process, thread: nil)
        let info = k.state.dequeueSignal(t, mask: signalBit(sigusr1))
        XCTAssertEqual(info?.code, 0)   // SI_USER
        XCTAssertEqual(info?.detail, .sender(pid: Int32(k.state.process.pid), uid: t.credentials.uid))
    }
}
