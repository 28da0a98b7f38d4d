// ProcessLifecycle — creating processes (fork, vfork, clone without CLONE_THREAD), ending
// them (exit_group, death by signal: zombies, SIGCHLD, orphans adopted by PID 1) and
// signalling other processes (KernelCore layer).
//
// The process tree lives in Process (KernelState.swift); threads in Threads/; the address
// space copy in CopyOnWrite.swift and its teardown in AddressSpaceTeardown.swift; the wait
// calls in WaitSyscalls.swift. PID 1 is the container's init: when it ends the
// machine ends with its status, and it adopts every orphan (kernel/exit.c
// forget_original_parent, with the child subreaper being init). References: fork(2),
// vfork(2), clone(2), _exit(2), wait(2), signal(7).
import LinuxABI

extension FileTable {
    /// fork's copy: the same open file descriptions (offsets and status flags shared) at
    /// the same numbers with their own FD_CLOEXEC, and the same working directory.
    func copyForFork() -> FileTable {
        let copy = FileTable(fileSystem: fileSystem)
        copy.workingDirectory = workingDirectory
        copy.root = root   // chroot(2) is inherited
        for fd in 0..<descriptors.count {
            if let f = descriptors[fd] { copy.install(f, at: fd, closeOnExec: closeOnExecFlags[fd]) }
        }
        return copy
    }
}

extension AddressSpace {
    /// How many processes use this address space (vfork and CLONE_VM children share it).
    public var users: Int {
        get { sharingProcesses }
        set { sharingProcesses = newValue }
    }
}

let sigchld = 17
let saNoClDWait: UInt64 = 2

extension KernelState {
    // MARK: creation

    /// A new process for fork, vfork or clone without CLONE_THREAD. Returns the child's pid
    /// in the parent; the child resumes with rax = 0. EAGAIN at the process cap (RLIMIT_NPROC
    /// semantics, fork(2)), ENOMEM when the copy of the address space or the kernel stack
    /// does not fit.
    func createProcess(flags: UInt64, exitSignal: Int, stack: UInt64, parentTID: UserAddress,
                       childTID: UserAddress, tls: UInt64) throws(Errno) -> Int {
        guard processes.count < processLimit else { throw .EAGAIN }
        guard frames.freeBytes >= ThreadSyscalls.memoryNeededPerThread else { throw .ENOMEM }
        let parent = process
        let sharesMemory = flags & ThreadSyscalls.cloneVM != 0
        let space: AddressSpace
        if sharesMemory {
            space = parent.addressSpace
        } else {
            guard let copy = parent.addressSpace.forkCopy() else { throw .ENOMEM }
            space = copy
        }
        var registers = platform.currentUserRegisters()
        registers.rax = 0
        if stack != 0 { registers.rsp = stack }
        let fsBase = flags & ThreadSyscalls.cloneSettls != 0 ? tls : platform.fsBase()
        guard let context = platform.makeThread(registers: registers, fsBase: fsBase) else {
            if !sharesMemory { space.releaseAll() }
            throw .EAGAIN
        }
        if sharesMemory { space.users += 1 }
        let pid = scheduler.allocateTID()
        let child = Process(pid: pid, addressSpace: space, executablePath: parent.executablePath)
        child.umask = parent.umask
        child.fileTable = files.copyForFork()
        child.signalHandlers = parent.signalHandlers
        child.signalFlags = parent.signalFlags
        child.signalRestorers = parent.signalRestorers
        child.signalMasks = parent.signalMasks
        child.parent = parent
        child.processGroup = parent.processGroup
        child.session = parent.session
        child.droppedConsole = parent.droppedConsole
        child.exitSignal = exitSignal
        parent.children.append(child)
        processes[pid] = child

        let thread = Thread(tid: pid, context: context)
        thread.process = child
        thread.signalMask = currentThread.signalMask
        thread.alternateStack = currentThread.alternateStack
        thread.credentials = currentThread.credentials   // fork(2): the child's are the parent's
        thread.name = currentThread.name
        thread.controls.timerSlack = currentThread.controls.timerSlack
        thread.scheduling = currentThread.scheduling.forChild   // sched(7): inherited, SCHED_RESET_ON_FORK
        child.limits = parent.limits                      // getrlimit(2): inherited by fork
        child.startStack = parent.startStack
        child.executableInode = parent.executableInode
        child.threads = [thread]
        if flags & ThreadSyscalls.cloneChildCleartid != 0 { thread.clearChildTID = childTID.value }
        // CLONE_CHILD_SETTID writes into the child's memory, CLONE_PARENT_SETTID into the
        // parent's (before the copy is made they are one; after, each its own page).
        if flags & ThreadSyscalls.cloneChildSettid != 0 { _ = space.writeUInt32(childTID, UInt32(pid)) }
        if flags & ThreadSyscalls.cloneParentSettid != 0 { _ = memory.writeUInt32(parentTID, UInt32(pid)) }
        scheduler.add(thread)

        if flags & ThreadSyscalls.cloneVfork != 0 {
            // vfork(2): the parent sleeps until the child execs or ends. Only the child's
            // release wakes it (Linux waits killably; signals wait until after).
            let queue = WaitQueue()
            child.vforkParentWaits = queue
            let me = currentThread
            let mask = me.signalMask
            me.signalMask = ~UInt64(0)
            while child.vforkParentWaits != nil && !parent.exiting { _ = wait(on: queue) }
            me.signalMask = mask
        }
        return pid
    }

    /// The vfork parent of `child` may run again: the child called execve (the exec code
    /// calls this once the new image is in place) or ended.
    public func releaseVforkParent(_ child: Process) {
        guard let queue = child.vforkParentWaits else { return }
        child.vforkParentWaits = nil
        wake(queue)
    }

    /// One process fewer uses `space`; the last frees it. The caller's CPU must not have
    /// it loaded (exit loads the kernel's root first; exec loads the new image's).
    public func dropAddressSpace(_ space: AddressSpace) {
        space.users -= 1
        if space.users == 0 { space.releaseAll() }
    }

    // MARK: ending

    /// exit_group(2): the current process ends with exit code `status` (low 8 bits).
    public func terminate(status: Int) -> Never {
        endCurrentProcess(waitStatus: WaitOptions.exitedStatus(Int32(truncatingIfNeeded: status)), eggStatus: status & 0xFF)
    }

    /// The current process dies of signal `s` (default action, fatal fault, OOM kill).
    public func terminate(signal s: Int) -> Never {
        endCurrentProcess(waitStatus: WaitOptions.signaledStatus(Int32(s)), eggStatus: 128 + s)
    }

    /// Ends every thread of the current process. PID 1 ends the machine with it, as a
    /// container ends with its init; any other process becomes a zombie for its parent.
    func endCurrentProcess(waitStatus: Int32, eggStatus: Int) -> Never {
        let p = process
        if p === initProcess { powerOff(status: eggStatus) }
        if !p.exiting {
            p.exiting = true
            p.waitStatus = waitStatus
            p.exitStatus = eggStatus
        }
        // The other threads leave on their next way out of the kernel (returnToUser); a
        // blocked one is woken for it.
        for t in p.threads where t !== currentThread { scheduler.interrupt(t) }
        scheduler.exitCurrent(self)
    }

    /// The last thread of `p` is gone (Scheduler.exitCurrent): close its descriptors, free
    /// its memory, hand its children to PID 1, and tell its parent.
    func processEnded(_ p: Process) {
        if p.waitStatus == nil { p.waitStatus = WaitOptions.exitedStatus(Int32(p.exitStatus ?? 0)) }
        p.exiting = true
        if p === initProcess { powerOff(status: p.exitStatus ?? 0) }
        processLeaving(p)   // orphaned stopped groups, the console's session (Signals/JobControl.swift)
        // The descriptors close as by close(2): the process's POSIX locks go with them
        // (VFS/FileLocks.swift), and its System V semaphore adjustments are applied
        // (SEM_UNDO, ipc/sem.c exit_sem). Both act for `p`, whoever runs this.
        let saved = processOverride
        processOverride = p
        if let table = p.fileTable {
            for fd in 0..<table.count {
                if let (f, wasLast) = table.remove(fd) {
                    releaseLocks(closing: f, wasLast: wasLast)
                    if wasLast, let o = f.object { o.closed(self) }
                }
            }
        }
        for set in sysvIPC.applySemaphoreUndo(pid: p.pid) { wake(set.waiters) }
        processOverride = saved
        releaseVforkParent(p)
        notifyPollers()   // pidfds of p become readable (PidFile.swift)
        // This CPU still runs on p's tables: load the kernel's before freeing them. Tables
        // shared with a vfork parent stay loaded (the scheduler sees the same root next).
        if p.addressSpace.users == 1 && kernelRoot != 0 { platform.activateAddressSpace(root: kernelRoot) }
        dropAddressSpace(p.addressSpace)
        var adoptedZombie = false
        for c in p.children {
            c.parent = initProcess
            initProcess.children.append(c)
            if c.waitStatus != nil && c.threads.isEmpty { adoptedZombie = true }
        }
        p.children = []
        if adoptedZombie { notifyParent(of: nil, parent: initProcess) }
        guard let parent = p.parent else { reap(p); return }
        // SIGCHLD ignored, or SA_NOCLDWAIT: no zombie is kept (wait(2) NOTES).
        if p.exitSignal == sigchld && (parent.signalHandlers[sigchld] == 1 || parent.signalFlags[sigchld] & saNoClDWait != 0) {
            reap(p)
            wake(parent.childEvents)
            return
        }
        notifyParent(of: p, parent: parent)
    }

    /// Wake `parent`'s waiters and send it the child's exit signal with CLD_* siginfo.
    func notifyParent(of child: Process?, parent: Process) {
        wake(parent.childEvents)
        guard let c = child, c.exitSignal > 0 && c.exitSignal <= 64 else { return }
        let status = c.waitStatus ?? 0
        let code: Int32 = status & 0x7F == 0 ? 1 : 2           // CLD_EXITED, CLD_KILLED
        let value: Int32 = code == 1 ? (status >> 8) & 0xFF : status & 0x7F
        parent.childSignalInfo = Siginfo(signal: Int32(c.exitSignal), code: code,
                                         detail: .child(pid: Int32(c.pid), uid: 0, status: value, userTime: 0, systemTime: 0))
        postSignal(c.exitSignal, to: parent)
    }

    /// A zombie's last trace disappears (its status was collected, or nobody will).
    func reap(_ p: Process) {
        processes[p.pid] = nil
        if let parent = p.parent { parent.children.removeAll { $0 === p } }
        p.parent = nil
        p.fileTable = nil
    }

    // MARK: signals between processes

    /// kill(2) to process `p`: pending for the process; any thread not blocking it takes it.
    public func postSignal(_ s: Int, to p: Process) {
        if p.exiting { return }
        prepareSignal(s, for: p)   // SIGCONT resumes even when ignored (Signals/JobControl.swift)
        let handler = p.signalHandlers[s]
        // A signal blocked by the thread Linux checks (the leader) is never ignored: sigwait
        // and signalfd take it (kernel/signal.c sig_ignored; Signals/QueuedSignals.swift).
        let blocked = p.threads.first.map { ($0.signalMask | $0.realBlockedSignals) & signalBit(s) != 0 } ?? false
        if signalDiscarded(s, handler: handler, for: p, blocked: blocked) { return }
        p.processPendingSignals |= signalBit(s)
        signalGenerated()   // signalfd readers and pollers (Signals/QueuedSignals.swift)
        if let t = p.threads.first(where: { $0.signalMask & signalBit(s) == 0 }) { scheduler.interrupt(t) }
    }

    /// The processes `pid` names for kill(2): > 0 one process, 0 the caller's group, -1
    /// every process but PID 1 and the caller, < -1 the group -pid.
    func processes(selectedBy pid: Int32) -> [Process] {
        let me = process
        var out: [Process] = []
        for (_, p) in processes {
            if pid > 0 {
                if p.pid == Int(pid) { out.append(p) }
            } else if pid == 0 {
                if p.processGroup == me.processGroup { out.append(p) }
            } else if pid == -1 {
                if p.pid != 1 && p !== me { out.append(p) }
            } else if p.processGroup == Int(-pid) {
                out.append(p)
            }
        }
        return out
    }
}
