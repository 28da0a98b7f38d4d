// ExecSyscalls — execve(2) and execveat(2): replace the calling process's program with a
// static ELF file (ET_EXEC or static-PIE) from the VFS, or a "#!" script whose interpreter is
// one (KernelCore layer).
//
// The order follows Linux's fs/exec.c: everything that can fail with an error the caller
// sees (open the file — ENOENT, EACCES —, copy argv/envp — EFAULT, E2BIG —, recognise the
// format — ENOEXEC, ELOOP —, plan the image and the initial stack — ENOMEM, E2BIG) happens
// first, while the old program is intact. Then the point of no return (begin_new_exec): the
// other threads end (de_thread), caught signals go back to their default action (ignored stay
// ignored, the mask and pending signals stay: flush_signal_handlers), close-on-exec
// descriptors close, the thread's clear_child_tid, robust list, alternate signal stack,
// TLS base and FPU state are reset, the old mappings are freed and the new image is loaded into the same
// AddressSpace (same page-table root, so no CR3 switch: AddressSpaceTeardown.swift,
// Process/ProgramLoader.swift). A failure past that point kills the process with SIGSEGV, as
// Linux's force_fatal_sig(SIGSEGV) does. The script rules are ELF/ScriptHeader.swift.
import ELF
import LinuxABI

enum ExecSyscalls {
    static let atEmptyPath: UInt64 = 0x1000, atSymlinkNofollow: UInt64 = 0x100
    /// exec_binprm gives ELOOP past this many format handlers' worth of interpreter hops
    /// ("if (depth > 5) return -ELOOP"): a script may name a script, five deep.
    static let maximumInterpreterDepth = 5
    /// Pointer arrays are bounded by the byte limit (each entry costs at least its pointer
    /// and a NUL); MAX_ARG_STRINGS (0x7FFFFFFF) is never the binding one.
    static let pointerSize = 8

    static func execve(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try execute(k, dirfd: PathSyscalls.atFDCWD, pathAddress: a.address(0), argv: a.address(1),
                    envp: a.address(2), flags: 0, isExecveat: false)
    }

    /// execveat(dirfd, pathname, argv, envp, flags): AT_EMPTY_PATH runs the file open at
    /// dirfd itself, AT_SYMLINK_NOFOLLOW refuses a final symlink with ELOOP.
    static func execveat(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = try a.flags(4, known: atEmptyPath | atSymlinkNofollow)
        return try execute(k, dirfd: a.int32(0), pathAddress: a.address(1), argv: a.address(2),
                           envp: a.address(3), flags: flags, isExecveat: true)
    }

    // MARK: before the point of no return

    /// The file to run: a regular file with an execute bit (may_open / inode_permission with
    /// MAY_EXEC: a directory or anything not regular is EACCES, as is a file with no x bit even
    /// for root). /proc/self/exe and /proc/PID/exe name the process's own file even when no
    /// path reaches it any more (the boot executable is not in the tree), as proc's magic
    /// links do.
    static func openExecutable(_ k: KernelState, _ path: [UInt8], from base: Inode, follow: Bool) throws(Errno) -> Inode {
        let fs = k.files.fileSystem
        let unfollowed = try fs.resolve(path, from: base, followFinal: false).get()
        var inode = unfollowed
        if unfollowed.isSymlink {
            if let own = k.process.executableInode, unfollowed.mount == .proc,
               unfollowed.linkTarget == k.process.executablePath {
                inode = own
            } else {
                guard follow else { throw .ELOOP }
                inode = try fs.resolve(path, from: base, followFinal: true).get()
            }
        }
        try checkExecutable(inode, k)
        return inode
    }

    static func checkExecutable(_ inode: Inode, _ k: KernelState) throws(Errno) {
        guard inode.isRegular, inode.permissions & 0o111 != 0 else { throw .EACCES }
        // The caller's ids against the mode (VFS/Permissions.swift, inode_permission).
        if let e = Permissions.mayExecute(inode, k.currentThread.credentials) { throw e }
    }

    /// A NULL-terminated array of string pointers from the guest (argv or envp); `budget` is
    /// what the byte limit still allows and shrinks as strings are read (E2BIG past it).
    static func readStrings(_ k: KernelState, _ array: UserAddress, budget: inout Int) throws(Errno) -> [[UInt8]] {
        var out: [[UInt8]] = []
        if array.isNull { return out }  // Linux accepts NULL argv/envp as empty
        var at = array
        while true {
            let pointer = try k.memory.readUInt64(at).get()
            if pointer == 0 { return out }
            let s: [UInt8]
            switch k.memory.readCString(UserAddress(pointer), maximum: ProgramLoader.maximumStringLength) {
            case .success(let bytes): s = bytes
            case .failure(.ENAMETOOLONG): throw .E2BIG   // longer than MAX_ARG_STRLEN
            case .failure(let e): throw e
            }
            budget -= s.count + 1 + pointerSize
            guard budget >= 0 else { throw .E2BIG }
            out.append(s)
            at = at.advanced(by: pointerSize)
        }
    }

    /// The name the new program sees as AT_EXECFN and a script's interpreter sees as its
    /// script argument: the path as given, or "/dev/fd/N[/path]" when it was relative to a
    /// descriptor (alloc_bprm in fs/exec.c).
    static func displayName(_ path: [UInt8], dirfd: Int32) -> [UInt8] {
        if path.first == FileSystem.slash || dirfd == PathSyscalls.atFDCWD { return path }
        var name = Array("/dev/fd/".utf8) + Array(String(dirfd).utf8)
        if !path.isEmpty { name += [FileSystem.slash] + path }
        return name
    }

    /// An absolute path for /proc/self/exe (d_path of the file opened), made from the
    /// directory the lookup started in when the path was relative.
    static func absolutePath(_ k: KernelState, _ path: [UInt8], base: Inode) -> [UInt8] {
        if path.first == FileSystem.slash { return path }
        guard case .success(let directory) = k.files.fileSystem.path(of: base) else { return path }
        if path.isEmpty { return directory }
        return directory == [FileSystem.slash] ? directory + path : directory + [FileSystem.slash] + path
    }

    struct Prepared {
        var file: Inode
        var image: FileImage
        var plan: LoadPlan
        var stack: InitialStack
        var executablePath: [UInt8]
    }

    static func execute(_ k: KernelState, dirfd: Int32, pathAddress: UserAddress, argv: UserAddress, envp: UserAddress,
                        flags: UInt64, isExecveat: Bool) throws(Errno) -> Int {
        if k.tracer != nil {
            SyscallTraceFormatter.execArgumentsBeforeExec = SyscallTraceFormatter.execTraceArguments(
                dirfd: dirfd, path: pathAddress, argv: argv, envp: envp, flags: flags, isExecveat: isExecveat, memory: k.memory)
        }
        let prepared = try prepare(k, dirfd: dirfd, pathAddress: pathAddress, argv: argv, envp: envp, flags: flags)
        commit(k, prepared)
        return 0
    }

    static func prepare(_ k: KernelState, dirfd: Int32, pathAddress: UserAddress, argv: UserAddress, envp: UserAddress,
                        flags: UInt64) throws(Errno) -> Prepared {
        // The file first, then the strings (alloc_bprm opens the file before counting argv).
        var path: [UInt8] = []
        if !(flags & atEmptyPath != 0 && pathAddress.isNull) {
            path = try PathSyscalls.readPath(k, pathAddress).get()
        }
        var file: Inode
        var base: Inode
        if path.isEmpty {
            guard flags & atEmptyPath != 0 else { throw .ENOENT }
            guard dirfd >= 0, let open = k.files[Int(dirfd)] else { throw .EBADF }
            guard let inode = open.inode else { throw .EACCES }
            try checkExecutable(inode, k)
            file = inode
            base = k.files.workingDirectory
        } else {
            base = try PathSyscalls.base(k, dirfd, path).get()
            file = try openExecutable(k, path, from: base, follow: flags & atSymlinkNofollow == 0)
        }
        let filename = displayName(path, dirfd: dirfd)
        // What /proc/self/exe will say: the process's own file keeps its name (it may be
        // reachable only through the magic link); a descriptor's file has no path to hand.
        var executablePath: [UInt8]
        if file === k.process.executableInode {
            executablePath = k.process.executablePath
        } else if path.isEmpty {
            executablePath = filename
        } else {
            executablePath = absolutePath(k, path, base: base)
        }

        var budget = ProgramLoader.maximumArgumentBytes
        var arguments = try readStrings(k, argv, budget: &budget)
        let environment = try readStrings(k, envp, budget: &budget)
        // Since Linux 5.18 an empty argv gets "" as argv[0], so argc is never 0.
        if arguments.isEmpty { arguments = [[]] }

        // Recognise the format: "#!" scripts hand over to their interpreter, up to the depth
        // limit; then the file must be a static ELF.
        var currentName = filename
        var depth = 0
        while true {
            let image = FileImage(file.contents)
            switch ScriptHeader.parse(image.head) {
            case .malformed:
                throw .ENOEXEC
            case .script(let interpreter, let argument):
                depth += 1
                guard depth <= maximumInterpreterDepth else { throw .ELOOP }
                arguments = ScriptHeader.interpreterArguments(interpreter: interpreter, argument: argument,
                                                              scriptPath: currentName, originalArguments: arguments)
                guard ProgramLoader.argumentsFit(arguments, environment) else { throw .E2BIG }
                // open_exec(i_name): relative to the working directory, symlinks followed.
                let interpreterBase = try PathSyscalls.base(k, PathSyscalls.atFDCWD, interpreter).get()
                file = try openExecutable(k, interpreter, from: interpreterBase, follow: true)
                executablePath = absolutePath(k, interpreter, base: interpreterBase)
                currentName = interpreter
                continue
            case .notScript:
                break
            }
            if let interpreter = elfInterpreterPath(image) {
                // A dynamically linked program: Linux opens its interpreter (ENOENT when it is
                // missing); egg runs no dynamic linker, so one that exists is still ENOEXEC.
                let interpreterBase = try PathSyscalls.base(k, PathSyscalls.atFDCWD, interpreter).get()
                _ = try k.files.fileSystem.resolve(interpreter, from: interpreterBase, followFinal: true).get()
                throw .ENOEXEC
            }
            let plan: LoadPlan
            switch ProgramLoader.plan(image) {
            case .success(let p): plan = p
            case .failure: throw .ENOEXEC
            }
            // Room for the image's file pages and their page tables, counting the old
            // image's frames that the point of no return frees.
            let available = Int(k.frames.freeBytes / pageSize) + k.memory.residentPages
            guard ProgramLoader.imageFrameCount(plan) + 64 <= available else { throw .ENOMEM }
            let stack: InitialStack
            switch ProgramLoader.initialStack(plan: plan, arguments: arguments, environment: environment,
                                              executableName: filename, platform: k.platform) {
            case .success(let s): stack = s
            case .failure: throw .E2BIG
            }
            return Prepared(file: file, image: image, plan: plan, stack: stack, executablePath: executablePath)
        }
    }

    // MARK: the point of no return

    static func commit(_ k: KernelState, _ p: Prepared) {
        endOtherThreads(k)
        // de_thread (fs/exec.c, exchange_tids): a thread other than the leader takes the
        // leader's TID, now free, so getpid() == gettid() after the exec and the parent's
        // wait sees the pid it knows; the thread's own TID is released.
        if k.currentThread.tid != k.process.pid { k.currentThread.tid = k.process.pid }

        // Signal dispositions: caught ones go back to SIG_DFL; flags, masks and restorers of
        // every signal are cleared (flush_signal_handlers with force_default false).
        for s in 0..<k.signalHandlers.count {
            if k.signalHandlers[s] != 1 { k.signalHandlers[s] = 0 }   // SIG_IGN (1) stays
            k.signalFlags[s] = 0
            k.signalRestorers[s] = 0
            k.signalMasks[s] = 0
        }
        // POSIX timers are deleted, interval timers kept (execve(2); exit_itimers in
        // begin_new_exec).
        k.process.ownTimers.posix.removeAll()
        k.process.ownTimers.queuedSignals.removeAll()
        // Close-on-exec descriptors (do_close_on_exec).
        var fd = 0
        while fd < k.files.count {
            if k.files.closeOnExec(fd) { _ = try? FileSyscalls.closeDescriptor(k, fd) }
            fd += 1
        }
        let me = k.currentThread
        me.clearChildTID = 0
        me.robustList = 0
        me.alternateStack = (0, 0, 2)   // SS_DISABLE
        me.savedSignalMask = nil
        me.restartableSyscall = nil
        k.platform.setFSBase(0)
        k.platform.setGSBase(0)
        // A clean FPU, as fpu_flush_thread leaves it: x87 control word 0x037F, MXCSR 0x1F80
        // (round to nearest, exceptions masked), registers zero. The image is fxsave's
        // layout (Intel SDM vol. 1 §10.5.1); AVX upper halves are not part of it.
        var fpu = [UInt8](repeating: 0, count: 512)
        fpu[0] = 0x7F; fpu[1] = 0x03
        fpu[24] = 0x80; fpu[25] = 0x1F
        k.platform.restoreFPUState(fpu)

        // The old image goes. A vfork child (CLONE_VM) shares its parent's address space:
        // it gets a fresh one and leaves the parent's alone, as exec_mmap gives the caller a
        // new mm (fs/exec.c); otherwise the same root is emptied and reused.
        let old = k.memory
        let space: AddressSpace
        if old.users > 1 {
            guard let fresh = old.emptyCopyForExec() else { k.terminate(signal: 9) }
            k.process.addressSpace = fresh
            k.platform.activateAddressSpace(root: fresh.pageTable.root)
            k.dropAddressSpace(old)
            space = fresh
        } else {
            old.releaseMappings()
            space = old
        }
        if ProgramLoader.populate(space, from: p.image, plan: p.plan) != nil
            || space.copyOut(UserAddress(p.stack.stackPointer), from: p.stack.bytes) != nil {
            k.killedBySignal(11)
        }
        k.process.executablePath = p.executablePath
        k.process.startStack = p.stack.stackPointer   // /proc/PID/cmdline, environ, auxv
        // A vfork parent waits for exactly this moment (vfork(2)).
        k.releaseVforkParent(k.process)
        k.process.executableInode = p.file
        let exeLink = Array(("/proc/" + String(k.process.pid) + "/exe").utf8)
        if case .success(let link) = k.files.fileSystem.resolve(exeLink, from: k.files.fileSystem.root, followFinal: false),
           link.isSymlink {
            link.linkTarget = p.executablePath
        }

        // Registers as ELF_PLAT_INIT and start_thread leave them: all zero but the entry point,
        // the stack pointer and IF in RFLAGS. The syscall's return value (0) lands in RAX.
        var registers = UserRegisters()
        registers.rip = p.plan.entry
        registers.rsp = p.stack.stackPointer
        registers.rflags = 0x202
        k.platform.setCurrentUserRegisters(registers)
    }

    /// de_thread: every other thread of the process ends. Those not on a CPU end at once;
    /// one running on another CPU is let into the kernel first: this thread sleeps a
    /// millisecond at a time (signals held off, so the sleep cannot return early), and the
    /// other CPU's next timer tick finds it runnable and switches to it, which takes the other
    /// thread off its CPU and into the run queue, where the next round ends it. Ending the
    /// idle ones every round matters: with two CPUs and two busy threads, this thread would
    /// otherwise trade places with one of them for ever.
    static func endOtherThreads(_ k: KernelState) {
        let me = k.currentThread
        let ours: (Thread) -> Bool = { t in t !== me && t.process === me.process }
        var doomed: [Int] = []
        for t in k.scheduler.threads where ours(t) { doomed.append(t.tid) }
        let savedMask = me.signalMask
        me.signalMask = ~0
        let pause = WaitQueue()
        while true {
            k.scheduler.discardThreads(where: { ours($0) && !k.scheduler.isRunningElsewhere($0) })
            if !k.scheduler.threads.contains(where: ours) { break }
            _ = k.wait(on: pause, deadline: k.platform.monotonicNanoseconds() + 1_000_000)
        }
        me.signalMask = savedMask
        // They leave the process's thread list too (their CPU time stays the process's), or
        // the process would never end: its last thread's exit waits for an empty list
        // (Scheduler.exitCurrent), and the parent's wait would never see it.
        if let p = me.process {
            for t in p.threads where t !== me { k.retireThreadCPUTime(t) }
            p.threads.removeAll { $0 !== me }
        }
        // Their futex waits go too: the same binary exec'd again has its futex words at the
        // same addresses, and a stale waiter would swallow a wake-up meant for a live one.
        k.futexes.removeWaiters(tids: doomed)
    }
}
