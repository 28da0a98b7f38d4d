// PositionedVectorSyscalls — preadv(2), pwritev(2), preadv2(2), pwritev2(2) (KernelCore layer).
//
// Scatter/gather I/O at an explicit offset, built on FileSyscalls' readBytes/writeBytes and
// its iovec import (IOV_MAX, access_ok per segment, MAX_RW_COUNT in all). The rules are
// fs/read_write.c: on x86-64 the offset is the whole of pos_l (pos_from_hilo shifts pos_h
// out); a negative offset is EINVAL before the descriptor is looked at; a descriptor
// without pread/pwrite (pipe, socket, console) is ESPIPE. preadv2/pwritev2 take RWF_ flags
// (include/uapi/linux/fs.h): unknown bits are EOPNOTSUPP (kiocb_set_rw_flags); an offset of
// -1 means the file's own position, as readv/writev. RWF_HIPRI (polled completion, only
// meaningful with O_DIRECT), RWF_DSYNC and RWF_SYNC change nothing on egg's tmpfs, where a
// write is durable as soon as it returns; RWF_NOWAIT makes a pipe or socket transfer
// non-blocking (EAGAIN); RWF_APPEND writes at the end of the file like O_APPEND for this
// call only (with an explicit offset the file position does not move: pwritev2(2)).
import LinuxABI

enum PositionedVectorSyscalls {
    static let rwfHipri: UInt64 = 0x1, rwfDsync: UInt64 = 0x2, rwfSync: UInt64 = 0x4
    static let rwfNowait: UInt64 = 0x8, rwfAppend: UInt64 = 0x10
    static let rwfSupported: UInt64 = rwfHipri | rwfDsync | rwfSync | rwfNowait | rwfAppend

    /// Moves each iovec in turn at `position` (advancing), or at the file position when
    /// nil; stops at the first short transfer; an error after some bytes gives the count.
    static func transfer(_ k: KernelState, _ f: OpenFile, _ vectors: [(UserAddress, Int)], at position: Int?,
                         write: Bool) throws(Errno) -> Int {
        var total = 0
        for (base, len) in vectors where len > 0 {
            let n: Int
            do {
                let at: Int? = position.map { $0 + total }
                n = write ? try FileSyscalls.writeBytes(k, f, base, len, at: at)
                          : try FileSyscalls.readBytes(k, f, base, len, at: at)
            } catch {
                if total > 0 { return total } else { throw error }
            }
            total += n
            if n < len { return total }
        }
        if total == 0 && vectors.isEmpty {
            // No segments: still EBADF for a descriptor not open for this direction.
            if f.isPathOnly || (write ? !f.canWrite : !f.canRead) { throw .EBADF }
        }
        return total
    }

    /// The common path of all four calls; `flags` is 0 for preadv/pwritev.
    static func vectorIO(_ k: KernelState, _ a: SyscallArguments, flags: UInt64, hasFlags: Bool, write: Bool) throws(Errno) -> Int {
        let offset = a.int(3)
        let current = hasFlags && offset == -1
        if !current { guard offset >= 0 else { throw .EINVAL } }
        let f = try FileSyscalls.file(k, a, 0)
        if !current { guard FileSyscalls.isSeekable(f) else { throw .ESPIPE } }
        guard flags & ~rwfSupported == 0 else { throw .EOPNOTSUPP }
        let vectors = try FileSyscalls.iovecs(k, a.address(1), a.int(2)).get()
        // The flags hold for this call only: set them on the description around it (the
        // kernel lock keeps other threads out meanwhile) and put the old ones back.
        let saved = f.statusFlags
        if flags & rwfNowait != 0 { f.statusFlags |= nonblockFlag }
        // Only files: they never block here, so no other thread sees the borrowed flag.
        if write && flags & rwfAppend != 0 && f.kind == .inode { f.statusFlags |= FileSyscalls.oAppend }
        defer { f.statusFlags = saved }
        let run = { () throws(Errno) -> Int in try transfer(k, f, vectors, at: current ? nil : offset, write: write) }
        return write ? try k.countingWrite(run) : try k.countingRead(run)
    }

    static func preadv(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try vectorIO(k, a, flags: 0, hasFlags: false, write: false)
    }

    static func pwritev(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try vectorIO(k, a, flags: 0, hasFlags: false, write: true)
    }

    static func preadv2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try vectorIO(k, a, flags: a[5] & 0xffff_ffff, hasFlags: true, write: false)
    }

    static func pwritev2(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        try vectorIO(k, a, flags: a[5] & 0xffff_ffff, hasFlags: true, write: true)
    }
}
