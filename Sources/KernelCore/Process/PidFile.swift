// PidFile — process file descriptors: pidfd_open, pidfd_send_signal, pidfd_getfd, and the
// object waitid(P_PIDFD) and poll use (KernelCore layer).
//
// A pidfd names one process for as long as it is open, whatever pid reuse happens; it is
// readable (POLLIN) once the process has ended (its last thread is gone, zombie or reaped),
// as kernel/pid.c pidfd_poll. Signals go through ProcessLifecycle.postSignal like kill(2);
// waitid's P_PIDFD is in WaitSyscalls.swift. References: pidfd_open(2),
// pidfd_send_signal(2), pidfd_getfd(2), kernel/pid.c, kernel/signal.c.
import LinuxABI

final class PidFile: PollableObject {
    let target: Process
    init(_ target: Process) { self.target = target }

    var fileMode: UInt32 { 0o600 }

    /// The process ended: every thread is gone (processEnded ran, which notifies pollers).
    var ended: Bool { target.threads.isEmpty && target.waitStatus != nil }

    func pollEvents(_ k: KernelState) -> UInt32 { ended ? PollEvents.input : 0 }
    func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        throw .EINVAL
    }
    func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        throw .EINVAL
    }
    func closed(_ k: KernelState) {}

    static let pidfdNonblock: UInt64 = 0o4000   // PIDFD_NONBLOCK = O_NONBLOCK

    /// The process behind descriptor `fd`: EBADF when not open or not a pidfd (kernel/pid.c
    /// pidfd_get_pid, pidfd_to_pid).
    static func process(_ k: KernelState, fd: Int32) throws(Errno) -> Process {
        guard fd >= 0, let file = k.files[Int(fd)] else { throw .EBADF }
        guard let p = file.object as? PidFile else { throw .EBADF }
        return p.target
    }

    /// pidfd_open(pid, flags): a close-on-exec descriptor for process `pid` (EINVAL for a
    /// pid <= 0 or unknown flags, ESRCH when no such process exists).
    static func pidfdOpen(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let pid = a.int32(0)
        let flags = try a.flags(1, known: pidfdNonblock)
        guard pid > 0 else { throw .EINVAL }
        guard let p = k.processes[Int(pid)], !p.threads.isEmpty || p.waitStatus != nil else { throw .ESRCH }
        return try k.installObject(PidFile(p), flags: flags & pidfdNonblock, closeOnExec: true)
    }

    /// pidfd_send_signal(pidfd, sig, info, flags): kill(2) to the pidfd's process. flags must
    /// be 0. A caller-supplied siginfo is refused with EINVAL: egg's pending signals carry no
    /// sender data to put it in (SignalDelivery.swift), and dropping it silently would lie.
    static func pidfdSendSignal(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let p = try process(k, fd: a.int32(0))
        let s = a.int(1)
        _ = try a.flags(3, known: 0)
        guard s >= 0 && s <= 64 else { throw .EINVAL }
        guard a.address(2).isNull else { throw .EINVAL }
        // Reaped or ended: the process is gone (Linux: ESRCH once it has exited).
        guard k.processes[p.pid] === p, !p.exiting else { throw .ESRCH }
        if s != 0 { k.postSignal(s, to: p) }
        return 0
    }

    /// pidfd_getfd(pidfd, targetfd, flags): a copy (same open file description) of the
    /// target's descriptor, close-on-exec. The caller must be allowed to ptrace-attach
    /// (kernel/ptrace.c __ptrace_may_access): the same process, CAP_SYS_PTRACE, or real uid
    /// equal to the target's real, effective and saved uid (and likewise the gids).
    static func pidfdGetfd(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let p = try process(k, fd: a.int32(0))
        let target = try a.fd(1)
        _ = try a.flags(2, known: 0)
        guard k.processes[p.pid] === p, !p.exiting, let victim = p.threads.first else { throw .ESRCH }
        let me = k.currentThread.credentials
        let them = victim.credentials
        let sameIDs = me.uid == them.uid && me.uid == them.euid && me.uid == them.suid
            && me.gid == them.gid && me.gid == them.egid && me.gid == them.sgid
        guard p === k.process || me.capable(capSysPtrace) || sameIDs else { throw .EPERM }
        guard let table = p.fileTable, let file = table[target] else { throw .EBADF }
        return try k.files.install(file, closeOnExec: true).get()
    }

    static let capSysPtrace = 19
}
