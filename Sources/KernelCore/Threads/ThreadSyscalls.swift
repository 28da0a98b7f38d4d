// ThreadSyscalls — clone, clone3, exit, set_tid_address, set_robust_list, futex,
// sched_yield and the sleeps (KernelCore layer).
//
// Threads share their process's address space, descriptor table and signal handlers; clone
// without CLONE_THREAD makes a new process (Process/ProcessLifecycle.swift: fork with
// copy-on-write, or vfork with CLONE_VM|CLONE_VFORK). clone(2), clone3(2), futex(2),
// set_tid_address(2), nanosleep(2).
import LinuxABI

enum ThreadSyscalls {
    static let cloneVM: UInt64 = 0x100, cloneFS: UInt64 = 0x200, cloneFiles: UInt64 = 0x400
    static let cloneSighand: UInt64 = 0x800, clonePidfd: UInt64 = 0x1000, cloneVfork: UInt64 = 0x4000
    static let cloneThread: UInt64 = 0x1_0000, cloneSysvsem: UInt64 = 0x4_0000
    static let cloneSettls: UInt64 = 0x8_0000, cloneParentSettid: UInt64 = 0x10_0000
    static let cloneChildCleartid: UInt64 = 0x20_0000, cloneDetached: UInt64 = 0x40_0000
    static let cloneChildSettid: UInt64 = 0x100_0000

    /// Free physical memory a new thread needs before the platform is asked for one: its
    /// 64 KiB kernel stack and 4 KiB FPU area (Sources/Kernel/ThreadSwitch.swift) plus room
    /// for one heap growth (2 MiB: the 1 MiB minimum run, and the frames' fragmentation).
    static let memoryNeededPerThread: UInt64 = (2 << 20) + (68 << 10)

    /// The common part of clone and clone3.
    static func spawn(_ k: KernelState, flags: UInt64, exitSignal: Int = 0, stack: UInt64, parentTID: UserAddress,
                      childTID: UserAddress, tls: UInt64, pidfdSlot: UserAddress = UserAddress(0)) throws(Errno) -> Int {
        guard flags & cloneThread == 0 || flags & cloneSighand != 0 else { throw .EINVAL }
        guard flags & cloneSighand == 0 || flags & cloneVM != 0 else { throw .EINVAL }
        // CLONE_PIDFD makes a pidfd for a new process only: with CLONE_THREAD or
        // CLONE_DETACHED it is EINVAL (copy_process before Linux 6.9's thread pidfds).
        if flags & clonePidfd != 0 && flags & (cloneThread | cloneDetached) != 0 { throw .EINVAL }
        guard flags & cloneThread != 0 else {
            guard flags & clonePidfd != 0 else {
                return try k.createProcess(flags: flags, exitSignal: exitSignal, stack: stack, parentTID: parentTID,
                                           childTID: childTID, tls: tls)
            }
            return try spawnWithPidfd(k, flags: flags, exitSignal: exitSignal, stack: stack, parentTID: parentTID,
                                      childTID: childTID, tls: tls, pidfdSlot: pidfdSlot)
        }
        var registers = k.platform.currentUserRegisters()
        registers.rax = 0
        if stack != 0 { registers.rsp = stack }
        let fsBase = flags & cloneSettls != 0 ? tls : k.platform.fsBase()
        // The platform's new thread takes a kernel stack and an FPU area from the kernel heap,
        // and the heap grows from free frames in runs of at least 1 MiB; a heap that cannot
        // grow panics rather than fail, so makeThread's nil is not to be relied on. Refuse
        // while the margin is not there (clone(2): ENOMEM, "cannot allocate sufficient
        // memory to allocate a task structure").
        guard k.frames.freeBytes >= ThreadSyscalls.memoryNeededPerThread else { throw .ENOMEM }
        let tid = k.scheduler.allocateTID()
        guard let context = k.platform.makeThread(registers: registers, fsBase: fsBase) else {
            throw .EAGAIN
        }
        let child = Thread(tid: tid, context: context)
        child.process = k.process
        child.signalMask = k.currentThread.signalMask
        child.credentials = k.currentThread.credentials
        child.scheduling = k.currentThread.scheduling.forChild   // sched_fork: the creator's policy
        child.name = k.currentThread.name                 // comm is copied to new threads
        child.controls.timerSlack = k.currentThread.controls.timerSlack
        if flags & cloneChildCleartid != 0 { child.clearChildTID = childTID.value }
        if flags & cloneParentSettid != 0, let e = k.memory.writeUInt32(parentTID, UInt32(tid)) {
            k.platform.releaseThread(context)
            throw e
        }
        if flags & cloneChildSettid != 0, let e = k.memory.writeUInt32(childTID, UInt32(tid)) {
            k.platform.releaseThread(context)
            throw e
        }
        k.process.threads.append(child)
        k.memory.multiThreaded = true  // shootdowns needed from now on (AddressSpace)
        k.scheduler.add(child)
        return tid
    }

    /// CLONE_PIDFD (clone(2)): the parent gets a close-on-exec pidfd for the child, its
    /// number stored as an int at `pidfdSlot`. Linux makes the descriptor and checks the
    /// slot before the child exists (copy_process: pidfd_prepare, put_user), so an EFAULT
    /// or EMFILE leaves no child behind; egg checks both first for the same reason.
    static func spawnWithPidfd(_ k: KernelState, flags: UInt64, exitSignal: Int, stack: UInt64, parentTID: UserAddress,
                               childTID: UserAddress, tls: UInt64, pidfdSlot: UserAddress) throws(Errno) -> Int {
        if flags & cloneParentSettid != 0 && pidfdSlot.value == parentTID.value { throw .EINVAL }
        if let e = k.memory.writeUInt32(pidfdSlot, 0xFFFF_FFFF) { throw e }
        guard FileSyscalls.lowestFreeDescriptor(k, from: 0) != nil else { throw .EMFILE }
        let pid = try k.createProcess(flags: flags, exitSignal: exitSignal, stack: stack, parentTID: parentTID,
                                      childTID: childTID, tls: tls)
        guard let child = k.processes[pid] else { return pid }
        // Cannot fail now: the slot was free and the kernel lock is held since.
        if let fd = try? k.installObject(PidFile(child), flags: 0, closeOnExec: true) {
            _ = k.memory.writeUInt32(pidfdSlot, UInt32(truncatingIfNeeded: fd))
        }
        return pid
    }

    /// clone(flags, newsp, parent_tid, child_tid, tls) — the x86-64 argument order. With
    /// CLONE_PIDFD the pidfd goes to parent_tid, so CLONE_PARENT_SETTID too is EINVAL
    /// (kernel/fork.c kernel_clone: "args->pidfd == args->parent_tid").
    static func clone(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = a[0] & ~0xFF
        return try spawn(k, flags: flags, exitSignal: Int(a[0] & 0xFF), stack: a[1], parentTID: a.address(2),
                         childTID: a.address(3), tls: a[4], pidfdSlot: a.address(2))
    }

    /// clone3(struct clone_args *, size): flags, pidfd, child_tid, parent_tid, exit_signal,
    /// stack, stack_size, tls, set_tid, set_tid_size, cgroup (include/uapi/linux/sched.h).
    static func clone3(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let size = a.size(1)
        guard size >= 64 && size <= 4096 else { throw .EINVAL }
        let b = try k.memory.copyIn(a.address(0), count: min(size, 88)).get()
        let r = ByteReader(b + [UInt8](repeating: 0, count: max(0, 88 - b.count)))
        let flags = r.u64(0)
        if r.u64(32) & ~0xFF != 0 || r.u64(72) != 0 { throw .EINVAL }
        let stackBase = r.u64(40), stackSize = r.u64(48)
        guard (stackBase == 0) == (stackSize == 0) else { throw .EINVAL }
        // cl_args.pidfd (offset 8): where CLONE_PIDFD stores the descriptor (clone3(2)).
        return try spawn(k, flags: flags, exitSignal: Int(r.u64(32)), stack: stackBase &+ stackSize, parentTID: UserAddress(r.u64(24)),
                     childTID: UserAddress(r.u64(16)), tls: r.u64(56), pidfdSlot: UserAddress(r.u64(8)))
    }

    /// exit(2) ends the calling thread: clear and wake its clear_child_tid word (that is
    /// how pthread_join learns of it), then leave the CPU for good.
    static func exit(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let me = k.currentThread
        if k.process.threads.count == 1 { k.process.exitStatus = Int(a.int32(0) & 0xFF) }
        FutexSyscalls.releaseRobustList(k, me)  // robust mutexes it holds: OWNER_DIED (Futex.swift)
        if me.clearChildTID != 0 {
            _ = k.memory.writeUInt32(UserAddress(me.clearChildTID), 0)
            wakeFutex(k, address: me.clearChildTID, count: 1)
        }
        k.scheduler.exitCurrent(k)
    }

    static func exitGroup(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        k.terminate(status: Int(a.int32(0) & 0xFF))
    }

    static func gettid(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int { k.currentThread.tid }

    static func setTIDAddress(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        k.currentThread.clearChildTID = a[0]
        return k.currentThread.tid
    }

    /// set_robust_list(2): sizeof(struct robust_list_head) is 24; anything else is EINVAL.
    static func setRobustList(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[1] == 24 else { throw .EINVAL }
        k.currentThread.robustList = a[0]
        return 0
    }

    static func schedYield(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        k.scheduler.yield(k)
        return 0
    }

    // MARK: futex

    @discardableResult
    static func wakeFutex(_ k: KernelState, address: UInt64, count: Int, bitset: UInt32 = 0xFFFF_FFFF) -> Int {
        let tids = k.futexes.take(address: address, count: count, bitset: bitset)
        for tid in tids {
            if let t = k.scheduler.thread(withID: tid), let q = t.waitQueue { k.wake(q) }
        }
        return tids.count
    }

    /// A futex timeout as a monotonic deadline (futex_init_timeout in kernel/futex/syscalls.c):
    /// relative for FUTEX_WAIT, absolute on the chosen clock for FUTEX_WAIT_BITSET; EINVAL for
    /// an invalid timespec, EFAULT for a bad address; a huge value waits for ever.
    static func deadline(_ k: KernelState, _ address: UserAddress, absolute: Bool, realtime: Bool) -> Result<Deadline, Errno> {
        if address.isNull { return .success(.never) }
        switch TimeSyscalls.readTimespec(k, address) {
        case .failure(let e): return .failure(e)
        case .success(let ns):
            let now = k.platform.monotonicNanoseconds()
            if !absolute { return .success(.after(ns, now: now)) }
            let clockNow = realtime ? k.platform.realtimeNanoseconds() : Int64(now)
            return .success(.at(ns, clockNow: clockNow, now: now))
        }
    }

    static func futexWait(_ k: KernelState, _ address: UserAddress, expected: UInt32, deadline: Deadline, bitset: UInt32) throws(Errno) -> Int {
        guard address.value & 3 == 0 else { throw .EINVAL }
        var word = [UInt8](repeating: 0, count: 4)
        if let e = k.memory.copyIn(address, count: 4, into: &word) { throw e }
        let value = UInt32(word[0]) | UInt32(word[1]) << 8 | UInt32(word[2]) << 16 | UInt32(word[3]) << 24
        guard value == expected else { throw .EAGAIN }
        let me = k.currentThread
        k.futexes.enqueue(address: address.value, tid: me.tid, bitset: bitset)
        let queue = WaitQueue()
        while k.futexes.isWaiting(address: address.value, tid: me.tid) {
            if deadline.hasPassed(now: k.platform.monotonicNanoseconds()) {
                k.futexes.remove(address: address.value, tid: me.tid)
                throw .ETIMEDOUT
            }
            if !k.wait(on: queue, deadline: deadline.monotonic) {
                k.futexes.remove(address: address.value, tid: me.tid)
                throw .EINTR
            }
        }
        return 0
    }

    static func futex(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let op = a.int(1)
        let command = op & 0x7F
        let realtime = op & 256 != 0
        let address = a.address(0)
        let value = a.uint32(2)
        switch command {
        case 0:  // FUTEX_WAIT: relative timeout on CLOCK_MONOTONIC
            let d = try deadline(k, a.address(3), absolute: false, realtime: false).get()
            return try futexWait(k, address, expected: value, deadline: d, bitset: 0xFFFF_FFFF)
        case 9:  // FUTEX_WAIT_BITSET: absolute timeout
            let bitset = a.uint32(5)
            guard bitset != 0 else { throw .EINVAL }
            let d = try deadline(k, a.address(3), absolute: true, realtime: realtime).get()
            return try futexWait(k, address, expected: value, deadline: d, bitset: bitset)
        case 1:  // FUTEX_WAKE
            if FutexSyscalls.hasRequeuePIWaiter(k, address.value) { throw .EINVAL }
            return wakeFutex(k, address: address.value, count: Int(min(value, 0x7FFF_FFFF)))
        case 10:  // FUTEX_WAKE_BITSET
            let bitset = a.uint32(5)
            guard bitset != 0 else { throw .EINVAL }
            if FutexSyscalls.hasRequeuePIWaiter(k, address.value) { throw .EINVAL }
            return wakeFutex(k, address: address.value, count: Int(min(value, 0x7FFF_FFFF)), bitset: bitset)
        case 3, 4:  // FUTEX_REQUEUE, FUTEX_CMP_REQUEUE
            if command == 4 {
                let w = try k.memory.copyIn(address, count: 4).get()
                let current = UInt32(w[0]) | UInt32(w[1]) << 8 | UInt32(w[2]) << 16 | UInt32(w[3]) << 24
                if current != a.uint32(5) { throw .EAGAIN }
            }
            if FutexSyscalls.hasRequeuePIWaiter(k, address.value) { throw .EINVAL }
            let woken = wakeFutex(k, address: address.value, count: Int(min(value, 0x7FFF_FFFF)))
            let moved = k.futexes.requeue(from: address.value, to: a[4], count: Int(min(a.uint32(3), 0x7FFF_FFFF)))
            return woken + moved
        case 5:  // FUTEX_WAKE_OP
            return try futexWakeOp(k, a)
        case 6, 13:  // FUTEX_LOCK_PI: absolute CLOCK_REALTIME timeout; LOCK_PI2: monotonic unless CLOCK_REALTIME
            let d = try deadline(k, a.address(3), absolute: true, realtime: command == 6 || realtime).get()
            return try FutexSyscalls.lockPI(k, address, deadline: d, trying: false)
        case 8:  // FUTEX_TRYLOCK_PI
            return try FutexSyscalls.lockPI(k, address, deadline: .never, trying: true)
        case 7:  // FUTEX_UNLOCK_PI
            return try FutexSyscalls.unlockPI(k, address)
        case 11:  // FUTEX_WAIT_REQUEUE_PI: absolute timeout, CLOCK_MONOTONIC unless CLOCK_REALTIME
            let d = try deadline(k, a.address(3), absolute: true, realtime: realtime).get()
            return try FutexSyscalls.waitRequeuePI(k, address, expected: value, deadline: d, target: a.address(4))
        case 12:  // FUTEX_CMP_REQUEUE_PI
            return try FutexSyscalls.cmpRequeuePI(k, address, target: a.address(4), wake: a.int32(2), requeue: a.int32(3), expected: a.uint32(5))
        default:
            throw .ENOSYS
        }
    }

    /// FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2, oparg); wake val on uaddr; wake val2 on uaddr2
    /// if cmp(old, cmparg). Encoding from include/uapi/linux/futex.h FUTEX_OP().
    static func futexWakeOp(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let encoded = a.uint32(5)
        let opKind = (encoded >> 28) & 7, shiftArg = (encoded >> 28) & 8 != 0
        let cmp = (encoded >> 24) & 15
        var oparg = (encoded >> 12) & 0xFFF, cmparg = encoded & 0xFFF
        if oparg & 0x800 != 0 { oparg |= 0xFFFF_F000 }
        if cmparg & 0x800 != 0 { cmparg |= 0xFFFF_F000 }
        if shiftArg { oparg = 1 << (oparg & 31) }
        let target = a.address(4)
        guard opKind <= 4 else { throw .ENOSYS }
        guard target.value & 3 == 0 else { throw .EINVAL }  // get_futex_key on uaddr2
        // The update is atomic against the guest's own threads on other CPUs, as Linux's
        // arch_futex_atomic_op_inuser (arch/x86/include/asm/futex.h): a cmpxchg loop.
        guard var old = k.memory.load32(target.value) else { throw .EFAULT }
        while true {
            let new: UInt32
            switch opKind {
            case 0: new = oparg
            case 1: new = old &+ oparg
            case 2: new = old | oparg
            case 3: new = old & ~oparg
            default: new = old ^ oparg
            }
            let found = try k.memory.compareExchangeUInt32(target, expected: old, desired: new).get()
            if found == old { break }
            old = found
        }
        var woken = wakeFutex(k, address: a[0], count: Int(min(a.uint32(2), 0x7FFF_FFFF)))
        let o = Int32(bitPattern: old), c = Int32(bitPattern: cmparg)
        let condition: Bool
        switch cmp {
        case 0: condition = o == c
        case 1: condition = o != c
        case 2: condition = o < c
        case 3: condition = o <= c
        case 4: condition = o > c
        case 5: condition = o >= c
        default: throw .ENOSYS
        }
        if condition { woken += wakeFutex(k, address: target.value, count: Int(min(a.uint32(3), 0x7FFF_FFFF))) }
        return woken
    }
}
