// ProcessIOAccounting — the counters behind /proc/PID/io (KernelCore/VFS, pure logic).
//
// Linux's struct task_io_accounting (include/linux/task_io_accounting.h) as
// fs/read_write.c fills it: every read-like call that reaches the file (read, pread64,
// readv, preadv, preadv2) adds one to syscr and the bytes it returned to rchar; write-like
// calls do the same for syscw and wchar. read_bytes and write_bytes count storage I/O,
// which tmpfs never does (they stay 0 on Linux too); cancelled_write_bytes likewise. The
// counters are per process here (Linux sums its threads' into the process's file).
// Updated by Syscalls/FileSyscalls.swift and PositionedVectorSyscalls.swift; shown by
// ProcFSText.swift.

public struct ProcessIOAccounting {
    public var readBytes: UInt64 = 0
    public var writtenBytes: UInt64 = 0
    public var readCalls: UInt64 = 0
    public var writeCalls: UInt64 = 0

    public init() {}

    /// One read-like call that returned `result` (bytes, or nil on error: still a call).
    public mutating func countRead(_ result: Int?) {
        readCalls &+= 1
        if let n = result, n > 0 { readBytes &+= UInt64(n) }
    }

    public mutating func countWrite(_ result: Int?) {
        writeCalls &+= 1
        if let n = result, n > 0 { writtenBytes &+= UInt64(n) }
    }

    /// proc_pid_io_accounting's text (fs/proc/base.c do_io_accounting).
    public var procText: String {
        "rchar: " + String(readBytes) + "\nwchar: " + String(writtenBytes)
            + "\nsyscr: " + String(readCalls) + "\nsyscw: " + String(writeCalls)
            + "\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"
    }
}
