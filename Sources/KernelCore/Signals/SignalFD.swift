// SignalFD — signalfd(2)/signalfd4: a descriptor that reads the caller's pending signals
// as struct signalfd_siginfo (KernelCore/Signals; a PollableObject like Events/EventFD.swift).
//
// As Linux's fs/signalfd.c: the descriptor holds only a mask; reading (and polling) looks at
// the pending signals of whichever thread reads, taking them through dequeueSignal
// (QueuedSignals.swift) so a queued siginfo or a timer's comes out as it would in a
// handler. Readers block on KernelState.pollWaiters, which signalGenerated() wakes.
import LinuxABI

/// struct signalfd_siginfo (include/uapi/linux/signalfd.h): 128 bytes. The fields filled
/// follow signalfd_copyinfo: pid/uid for kill and sigqueue, ssi_int/ssi_ptr for sigqueue
/// and timers, status/utime/stime for SIGCHLD, addr for faults.
public enum SignalfdSiginfo {
    public static let byteSize = 128

    public static func encode(_ info: Siginfo) -> [UInt8] {
        var pid: UInt32 = 0, uid: UInt32 = 0, tid: UInt32 = 0, overrun: UInt32 = 0, status: Int32 = 0
        var value: UInt64 = 0, utime: UInt64 = 0, stime: UInt64 = 0, addr: UInt64 = 0
        var syscallNumber: Int32 = 0, callAddress: UInt64 = 0, arch: UInt32 = 0
        switch info.detail {
        case .none: break
        case let .sender(p, u): pid = UInt32(bitPattern: p); uid = u
        case let .queued(p, u, v): pid = UInt32(bitPattern: p); uid = u; value = v
        case let .fault(a): addr = a
        case let .child(p, u, s, ut, st):
            pid = UInt32(bitPattern: p); uid = u; status = s
            utime = UInt64(bitPattern: ut); stime = UInt64(bitPattern: st)
        case let .timer(id, o, v): tid = UInt32(bitPattern: id); overrun = UInt32(bitPattern: o); value = v
        case let .syscall(c, n, a): callAddress = c; syscallNumber = n; arch = a
        }
        var w = ByteWriter()
        w.u32(UInt32(bitPattern: info.signal))  // 0  ssi_signo
        w.i32(info.errno)                        // 4  ssi_errno
        w.i32(info.code)                         // 8  ssi_code
        w.u32(pid)                               // 12 ssi_pid
        w.u32(uid)                               // 16 ssi_uid
        w.i32(0)                                 // 20 ssi_fd
        w.u32(tid)                               // 24 ssi_tid
        w.u32(0)                                 // 28 ssi_band
        w.u32(overrun)                           // 32 ssi_overrun
        w.u32(0)                                 // 36 ssi_trapno
        w.i32(status)                            // 40 ssi_status
        w.i32(Int32(truncatingIfNeeded: value))  // 44 ssi_int
        w.u64(value)                             // 48 ssi_ptr
        w.u64(utime)                             // 56 ssi_utime
        w.u64(stime)                             // 64 ssi_stime
        w.u64(addr)                              // 72 ssi_addr
        w.u16(0); w.u16(0)                       // 80 ssi_addr_lsb, __pad2
        w.i32(syscallNumber)                     // 84 ssi_syscall
        w.u64(callAddress)                       // 88 ssi_call_addr
        w.u32(arch)                              // 96 ssi_arch
        w.zeros(byteSize - w.count)              // 100 __pad
        return w.bytes
    }
}

public final class SignalFile: PollableObject {
    /// Signals this descriptor reads (never SIGKILL or SIGSTOP).
    var mask: UInt64
    init(mask: UInt64) { self.mask = mask }

    public var fileMode: UInt32 { 0o600 }

    public func pollEvents(_ k: KernelState) -> UInt32 {
        k.pendingSignals(of: k.currentThread, mask: mask) != 0 ? PollEvents.input : 0
    }

    /// signalfd_read: as many whole records as fit; blocks (unless O_NONBLOCK) for the first.
    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        let room = count / SignalfdSiginfo.byteSize
        guard room > 0 else { throw .EINVAL }
        let t = k.currentThread
        var out: [UInt8] = []
        while out.count / SignalfdSiginfo.byteSize < room {
            if let info = k.dequeueSignal(t, mask: mask) {
                out += SignalfdSiginfo.encode(info)
                continue
            }
            if !out.isEmpty { break }
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters) else { throw .EINTR }
        }
        if let e = k.memory.copyOut(address, from: out) { throw e }
        return out.count
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        throw .EINVAL
    }

    public func closed(_ k: KernelState) {}
}

extension SignalSyscalls {
    static let sfdNonblock: UInt64 = 0o4000, sfdCloexec: UInt64 = 0o2000000

    /// signalfd4(fd, mask, sizemask, flags): fd -1 makes a descriptor; an existing signalfd
    /// gets the new mask (EINVAL for another kind of descriptor, EBADF for none).
    static func signalfd4(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        guard a[2] == 8 else { throw .EINVAL }
        let flags = try a.flags(3, known: sfdNonblock | sfdCloexec)
        guard case .success(let requested) = k.memory.readUInt64(a.address(1)) else { throw .EFAULT }
        let mask = requested & ~unblockable
        let fd = a.int32(0)
        if fd == -1 {
            return try k.installObject(SignalFile(mask: mask), flags: 2 | (flags & sfdNonblock),
                                       closeOnExec: flags & sfdCloexec != 0)
        }
        guard fd >= 0, Int(fd) < k.files.count, let f = k.files[Int(fd)] else { throw .EBADF }
        guard let s = f.object as? SignalFile else { throw .EINVAL }
        s.mask = mask
        k.notifyPollers()
        return Int(fd)
    }

    /// signalfd(fd, mask, sizemask): signalfd4 without flags.
    static func signalfd(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try signalfd4(k, SyscallArguments(number: 289, a[0], a[1], a[2], 0))
    }
}
