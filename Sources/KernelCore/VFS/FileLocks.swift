// FileLocks — advisory file locks (KernelCore/VFS): POSIX record locks (fcntl F_SETLK,
// F_SETLKW, F_GETLK), open file description locks (F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK)
// and flock(2) locks, per fcntl(2) "Advisory record locking" / "Open file description
// locks" and flock(2). The fcntl and flock calls that decode struct flock are in
// Syscalls/FileSyscalls.swift; the table lives in KernelState.fileLocks.
//
// Rules followed (fs/locks.c):
// - A record lock covers bytes [start, end]; end == Int64.max means "to end of file, however
//   it grows" (l_len 0). A read lock conflicts with another owner's write lock, a write lock
//   with any lock of another owner; one owner's locks never conflict with each other.
// - Setting a lock first removes the owner's own locks over the range (splitting those that
//   stick out), then adds the new one and merges it with touching locks of the same type
//   (posix_lock_inode). F_UNLCK only removes.
// - POSIX locks belong to the process (owner: `KernelState.lockOwnerProcess`) and all of a
//   process's locks on a file go when it closes ANY descriptor of that file; OFD locks belong
//   to the open file description and go with its last descriptor. The two kinds conflict
//   with each other. flock locks are a separate space (they never meet record locks).
// - F_SETLKW waits; EDEADLK when the owner holding the lock is itself waiting for one of
//   ours (the two-owner cycle of posix_locks_deadlock; POSIX locks only, as Linux).
import LinuxABI

/// Who owns a record lock.
enum LockOwner: Equatable {
    /// POSIX (fcntl F_SETLK): a process, by pid.
    case process(Int)
    /// OFD (F_OFD_SETLK) and flock: an open file description.
    case description(ObjectIdentifier)
}

/// One byte-range lock.
struct RecordLock: Equatable {
    var owner: LockOwner
    var exclusive: Bool
    var start: Int64
    /// Inclusive; Int64.max: to end of file.
    var end: Int64
    /// l_pid F_GETLK reports: the owning process, or -1 for an OFD lock.
    var pid: Int32

    func overlaps(_ start: Int64, _ end: Int64) -> Bool { self.start <= end && start <= self.end }
    func conflicts(with other: RecordLock) -> Bool {
        owner != other.owner && (exclusive || other.exclusive) && overlaps(other.start, other.end)
    }
}

/// The record locks of one file: pure range arithmetic, host-tested.
struct RecordLockList {
    var locks: [RecordLock] = []

    /// The first lock of another owner that `wanted` conflicts with.
    func conflict(with wanted: RecordLock) -> RecordLock? {
        for l in locks where l.conflicts(with: wanted) { return l }
        return nil
    }

    /// Remove `owner`'s locks over [start, end], keeping the parts outside.
    mutating func remove(owner: LockOwner, start: Int64, end: Int64) {
        var kept: [RecordLock] = []
        for l in locks {
            guard l.owner == owner, l.overlaps(start, end) else { kept.append(l); continue }
            if l.start < start {
                var left = l
                left.end = start - 1
                kept.append(left)
            }
            if l.end > end {
                var right = l
                right.start = end + 1
                kept.append(right)
            }
        }
        locks = kept
    }

    /// Put `lock` in place of whatever its owner held over its range, merging it with the
    /// owner's touching or overlapping locks of the same type. The caller checked conflicts.
    mutating func set(_ lock: RecordLock) {
        remove(owner: lock.owner, start: lock.start, end: lock.end)
        var merged = lock
        var kept: [RecordLock] = []
        for l in locks {
            let touches = l.owner == merged.owner && l.exclusive == merged.exclusive
                && (l.end == Int64.max || l.end + 1 >= merged.start)
                && (merged.end == Int64.max || merged.end + 1 >= l.start)
            if touches {
                merged.start = min(merged.start, l.start)
                merged.end = max(merged.end, l.end)
            } else {
                kept.append(l)
            }
        }
        kept.append(merged)
        kept.sort { $0.start < $1.start }
        locks = kept
    }

    /// `owner`'s locks, in order (for tests and /proc/locks-like views).
    func held(by owner: LockOwner) -> [RecordLock] { locks.filter { $0.owner == owner } }
}

/// One flock(2) lock: per open file description, shared or exclusive.
struct WholeFileLock {
    var description: ObjectIdentifier
    var exclusive: Bool
}

/// Every lock in the system, by inode.
final class FileLockTable {
    struct Entry {
        let inode: Inode
        var records = RecordLockList()
        var whole: [WholeFileLock] = []
    }
    var entries: [Entry] = []
    /// Threads waiting in F_SETLKW or a blocking flock; woken on every release.
    let waiters = WaitQueue()
    /// F_SETLKW waiters: which owner waits for which (for EDEADLK).
    var waitingFor: [(waiter: LockOwner, holder: LockOwner)] = []

    func index(_ inode: Inode) -> Int? { entries.firstIndex { $0.inode === inode } }

    func records(_ inode: Inode) -> RecordLockList { index(inode).map { entries[$0].records } ?? RecordLockList() }

    func update(_ inode: Inode, _ change: (inout Entry) -> Void) {
        if let i = index(inode) {
            change(&entries[i])
            if entries[i].records.locks.isEmpty && entries[i].whole.isEmpty { entries.remove(at: i) }
        } else {
            var e = Entry(inode: inode)
            change(&e)
            if !e.records.locks.isEmpty || !e.whole.isEmpty { entries.append(e) }
        }
    }

    /// Would `waiter` waiting for `holder` close a cycle (holder already waits for waiter)?
    func wouldDeadlock(_ waiter: LockOwner, on holder: LockOwner) -> Bool {
        for w in waitingFor where w.waiter == holder && w.holder == waiter { return true }
        return false
    }
}

extension KernelState {
    /// The owner of POSIX record locks taken now: the calling process. The one place to
    /// change when processes are many (fork: the child does not inherit them).
    var lockOwnerProcess: LockOwner { .process(process.pid) }

    /// A descriptor of `file` was closed by the process: its POSIX locks on the file go (any
    /// close, fcntl(2) NOTES); with the description's last descriptor, its OFD and flock
    /// locks go too. Waiters look again.
    func releaseLocks(closing file: OpenFile, wasLast: Bool) {
        guard let inode = file.inode, fileLocks.index(inode) != nil else { return }
        let owner = lockOwnerProcess
        let description = LockOwner.description(ObjectIdentifier(file))
        fileLocks.update(inode) { e in
            e.records.remove(owner: owner, start: 0, end: Int64.max)
            if wasLast {
                e.records.remove(owner: description, start: 0, end: Int64.max)
                e.whole.removeAll { $0.description == ObjectIdentifier(file) }
            }
        }
        wake(fileLocks.waiters)
    }
}
