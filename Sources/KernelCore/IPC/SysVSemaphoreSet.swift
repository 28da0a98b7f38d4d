// SysVSemaphoreSet — one System V semaphore set: values, last pids, the all-or-nothing
// semop rule, the waiters' counts for GETNCNT/GETZCNT, and SEM_UNDO adjustments (KernelCore
// layer, pure logic; host-tested in Tests/KernelCoreTests/SysVIPCTests.swift).
//
// Follows ipc/sem.c (perform_atomic_semop, count_semcnt's "blocking operation" rule,
// semctl_main, semctl_setval) and semop(2), semctl(2). Blocking and copying are
// Syscalls/SysVIPCSyscalls.swift; ids and permissions are SysVIPC.swift.
import LinuxABI

public final class SysVSemaphoreSet {
    /// SEMMSL, SEMOPM, SEMVMX, SEMAEM (include/uapi/linux/sem.h).
    public static let setMax = 32000, operationsMax = 500, valueMax = 32767, adjustMax = 32767
    public static let noWait: Int16 = 0o4000, undo: Int16 = 0x1000

    public struct Operation: Equatable {
        public var number: Int
        public var delta: Int
        public var flags: Int16
        public init(number: Int, delta: Int, flags: Int16) { self.number = number; self.delta = delta; self.flags = flags }
    }

    public var values: [Int]
    public var lastPIDs: [Int]
    public var operationTime: Int64 = 0, changeTime: Int64
    public var removed = false
    public let waiters = WaitQueue()
    /// The operation each sleeping semop is blocked on (count_semcnt counts these).
    public var blockedOn: [Operation] = []
    /// SEM_UNDO adjustments by process id: what to add to each value when it exits.
    public var adjustments: [Int: [Int]] = [:]

    public init(count: Int, now: Int64) {
        values = [Int](repeating: 0, count: count)
        lastPIDs = [Int](repeating: 0, count: count)
        changeTime = now
    }

    public var count: Int { values.count }

    public enum Outcome: Equatable {
        case done
        /// Would block on this operation (EAGAIN with IPC_NOWAIT).
        case blocked(Operation)
        case failed(Errno)
    }

    /// perform_atomic_semop: all operations or none. An operation that would take a value
    /// below 0, or waits for zero on a non-zero value, blocks the whole array; one that would
    /// pass SEMVMX (or an undo past SEMAEM) is ERANGE.
    public func perform(_ ops: [Operation], pid: Int, now: Int64) -> Outcome {
        var v = values
        var adjust = adjustments[pid] ?? [Int](repeating: 0, count: count)
        for op in ops {
            let result = v[op.number] + op.delta
            if op.delta == 0 && v[op.number] != 0 { return .blocked(op) }
            if result < 0 { return .blocked(op) }
            if result > SysVSemaphoreSet.valueMax { return .failed(.ERANGE) }
            if op.flags & SysVSemaphoreSet.undo != 0 {
                let a = adjust[op.number] - op.delta
                if a < -SysVSemaphoreSet.adjustMax - 1 || a > SysVSemaphoreSet.adjustMax { return .failed(.ERANGE) }
                adjust[op.number] = a
            }
            v[op.number] = result
        }
        values = v
        for op in ops { lastPIDs[op.number] = pid }
        if ops.contains(where: { $0.flags & SysVSemaphoreSet.undo != 0 }) { adjustments[pid] = adjust }
        operationTime = now
        return .done
    }

    /// GETNCNT / GETZCNT: sleepers blocked on a decrement / a wait-for-zero of `number`.
    public func waitingCount(_ number: Int, forZero: Bool) -> Int {
        blockedOn.filter { $0.number == number && (forZero ? $0.delta == 0 : $0.delta < 0) }.count
    }

    /// SETVAL and SETALL clear every process's adjustment of the values they set.
    public func set(_ number: Int, to value: Int, pid: Int, now: Int64) {
        values[number] = value
        lastPIDs[number] = pid
        for key in adjustments.keys { adjustments[key]?[number] = 0 }
        changeTime = now
    }

    /// exit_sem for one set: apply the process's adjustments, clamped to 0...SEMVMX.
    public func applyUndo(pid: Int) {
        guard let adjust = adjustments.removeValue(forKey: pid) else { return }
        for i in 0..<count where adjust[i] != 0 {
            values[i] = min(max(values[i] + adjust[i], 0), SysVSemaphoreSet.valueMax)
            lastPIDs[i] = pid
        }
    }
}
