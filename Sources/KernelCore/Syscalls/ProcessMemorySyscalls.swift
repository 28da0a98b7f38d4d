// ProcessMemorySyscalls — reaching into another process: process_vm_readv and
// process_vm_writev copy between address spaces, kcmp compares the kernel objects two
// processes use (KernelCore layer).
//
// Both work on egg's real objects: the other process's AddressSpace (its page tables, with
// copy-on-write and demand paging resolved as for the owner: Process/AddressSpace.swift's
// checked path), and for kcmp the open file descriptions, address spaces and descriptor
// tables themselves. Access follows ptrace's PTRACE_MODE_ATTACH_REALCREDS rule as egg has
// it: the same real uid as the target's ids, or CAP_SYS_PTRACE (19). Neighbours:
// SchedulingSyscalls.swift, Process/PidFile.swift (pidfd_getfd). References:
// process_vm_readv(2), kcmp(2), mm/process_vm_access.c (process_vm_rw_core: the transfer
// stops at the first failing element; bytes done so far are the result, EFAULT if none),
// kernel/kcmp.c (kcmp_ptr: 0 equal, 1 less, 2 greater).
import LinuxABI

enum ProcessMemorySyscalls {
    static let capSysPtrace = 19

    /// The process owning thread `tid` (a pid or any thread id), ESRCH if none or ended.
    static func process(_ k: KernelState, _ tid: Int32) throws(Errno) -> Process {
        guard tid > 0, let t = k.scheduler.thread(withID: Int(tid)), let p = t.process, !p.exiting else { throw .ESRCH }
        return p
    }

    /// ptrace_may_access for another process: the caller's real uid is every one of the
    /// target's uids, or it holds CAP_SYS_PTRACE.
    static func mayAccess(_ k: KernelState, _ p: Process) -> Bool {
        if p === k.process { return true }
        let me = k.currentThread.credentials
        if me.capable(capSysPtrace) { return true }
        guard let them = p.threads.first?.credentials else { return false }
        return me.uid == them.uid && me.uid == them.euid && me.uid == them.suid
    }

    // MARK: process_vm_readv(2), process_vm_writev(2)

    static func processVMReadv(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try transfer(k, a, write: false)
    }

    static func processVMWritev(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try transfer(k, a, write: true)
    }

    /// The remote elements are taken in order; each goes through a kernel buffer between
    /// the two address spaces, in 64 KiB pieces. A fault on either side ends the transfer:
    /// the bytes moved so far are the result, or EFAULT when none were.
    static func transfer(_ k: KernelState, _ a: SyscallArguments, write: Bool) throws(Errno) -> Int {
        guard a[5] == 0 else { throw .EINVAL }          // flags: none defined
        let local = try FileSyscalls.iovecs(k, a.address(1), a.int(2)).get()
        let remote = try FileSyscalls.iovecs(k, a.address(3), a.int(4)).get()
        let target = try process(k, a.int32(0))
        guard mayAccess(k, target) else { throw .EPERM }
        let mine = k.memory, theirs = target.addressSpace
        var localIndex = 0, localOffset = 0
        var done = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        outer: for (base, length) in remote {
            var offset = 0
            while offset < length {
                // Skip spent local elements.
                while localIndex < local.count && localOffset >= local[localIndex].1 { localIndex += 1; localOffset = 0 }
                guard localIndex < local.count else { break outer }
                let (localBase, localLength) = local[localIndex]
                let n = min(length - offset, localLength - localOffset, buffer.count)
                let remoteAt = base.advanced(by: offset), localAt = localBase.advanced(by: localOffset)
                let (from, fromAt, to, toAt) = write ? (mine, localAt, theirs, remoteAt) : (theirs, remoteAt, mine, localAt)
                if from.copyIn(fromAt, count: n, into: &buffer) != nil || to.copyOut(toAt, from: buffer, count: n) != nil {
                    if done == 0 { throw .EFAULT }
                    break outer
                }
                offset += n
                localOffset += n
                done += n
            }
        }
        return done
    }

    // MARK: kcmp(2)

    static let kcmpFile = 0, kcmpVM = 1, kcmpFiles = 2, kcmpFS = 3, kcmpSighand = 4, kcmpIO = 5, kcmpSysvsem = 6
    static let kcmpEpollTFD = 7

    /// Orders two objects as kcmp_ptr does: 0 the same, 1 or 2 by identity (a stable order
    /// for sorting; Linux obfuscates its pointers the same way, keeping only the order).
    static func order(_ x: ObjectIdentifier, _ y: ObjectIdentifier) -> Int {
        x == y ? 0 : (x < y ? 1 : 2)
    }

    static func kcmp(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let p1 = try process(k, a.int32(0)), p2 = try process(k, a.int32(1))
        guard mayAccess(k, p1), mayAccess(k, p2) else { throw .EPERM }
        switch a.int(2) {
        case kcmpFile:
            guard let f1 = p1.fileTable?[Int(a.int32(3))], let f2 = p2.fileTable?[Int(a.int32(4))] else { throw .EBADF }
            return order(ObjectIdentifier(f1), ObjectIdentifier(f2))
        case kcmpVM:
            return order(ObjectIdentifier(p1.addressSpace), ObjectIdentifier(p2.addressSpace))
        case kcmpFiles, kcmpFS:
            // The descriptor table also holds the working directory in egg: a process has
            // its own of both unless it is the same process.
            guard let t1 = p1.fileTable, let t2 = p2.fileTable else { throw .ESRCH }
            return order(ObjectIdentifier(t1), ObjectIdentifier(t2))
        case kcmpSighand, kcmpSysvsem:
            // Signal dispositions and System V undo lists are per process in egg.
            return order(ObjectIdentifier(p1), ObjectIdentifier(p2))
        case kcmpIO:
            // No I/O contexts are shared (CLONE_IO is not kept): per process.
            return order(ObjectIdentifier(p1), ObjectIdentifier(p2))
        case kcmpEpollTFD:
            // Linux answers EOPNOTSUPP when it cannot look into epoll sets (CONFIG_EPOLL off);
            // egg does not look into them either.
            throw .EOPNOTSUPP
        default:
            throw .EINVAL
        }
    }
}
