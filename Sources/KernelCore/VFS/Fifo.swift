// Fifo — named pipes: a FIFO inode (mknod(2) S_IFIFO, mkfifo(3)) joins every open of it to
// one shared pipe (KernelCore/VFS, pure logic; the pipe is Sources/KernelCore/Events/
// Pipe.swift, the open(2) that calls this is Sources/KernelCore/Syscalls/PathSyscalls.swift).
//
// Open semantics follow fifo(7), open(2) and fs/pipe.c (fifo_open):
//   O_RDONLY            blocks until a writer has opened (any time since), unless O_NONBLOCK;
//   O_WRONLY            blocks until a reader has opened; with O_NONBLOCK and no reader: ENXIO;
//   O_RDWR              never blocks (the description is both a reader and a writer).
// A signal during the wait gives EINTR and undoes the open. Readers see EOF once no writer
// is left, and POLLHUP only after a writer has come and gone since their open (pipe_poll's
// w_counter check). The pipe, with any unread bytes, goes away when the last end closes.
import LinuxABI

/// The pipe behind a FIFO inode while it is open, with Linux's r_counter/w_counter: how many
/// reader and writer opens there have been, which waiting opens watch for a change.
final class FifoChannel {
    let buffer = PipeBuffer()
    var readerOpens = 0
    var writerOpens = 0

    init() {
        buffer.readers = 0
        buffer.writers = 0
    }

    var isUnused: Bool { buffer.readers == 0 && buffer.writers == 0 }
}

/// One open file description of a FIFO: a read end, a write end, or both (O_RDWR).
public final class FifoEnd: PollableObject {
    let inode: Inode
    let channel: FifoChannel
    let reader: PipeEnd?
    let writer: PipeEnd?
    /// For an O_RDONLY|O_NONBLOCK open made with no writer: the channel's writer-open count
    /// then; POLLHUP stays off until it changes (f_version in fifo_open). -1 otherwise.
    let writerOpensAtOpen: Int

    init(inode: Inode, channel: FifoChannel, reads: Bool, writes: Bool, hangUpMark: Int = -1) {
        self.inode = inode
        self.channel = channel
        reader = reads ? PipeEnd(buffer: channel.buffer, isReadEnd: true) : nil
        writer = writes ? PipeEnd(buffer: channel.buffer, isReadEnd: false) : nil
        writerOpensAtOpen = hangUpMark
    }

    var buffer: PipeBuffer { channel.buffer }

    public var fileMode: UInt32 { FileMode.S_IFIFO | inode.permissions }

    public func pollEvents(_ k: KernelState) -> UInt32 {
        var events: UInt32 = 0
        if let reader {
            events |= reader.pollEvents(k)
            if buffer.writers == 0 && channel.writerOpens == writerOpensAtOpen { events &= ~PollEvents.hangUp }
        }
        if let writer { events |= writer.pollEvents(k) }
        return events
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard let reader else { throw .EBADF }
        return try reader.read(k, into: address, count: count, nonblocking: nonblocking)
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard let writer else { throw .EBADF }
        return try writer.write(k, from: address, count: count, nonblocking: nonblocking)
    }

    /// sendfile(2) into the FIFO.
    func write(_ k: KernelState, bytes: [UInt8], nonblocking: Bool) throws(Errno) -> Int {
        guard let writer else { throw .EBADF }
        return try writer.write(k, bytes: bytes, nonblocking: nonblocking)
    }

    public func closed(_ k: KernelState) {
        reader?.closed(k)
        writer?.closed(k)
        if channel.isUnused && inode.fifoChannel === channel { inode.fifoChannel = nil }
    }
}

extension KernelState {
    /// open(2) of a FIFO inode: waits for the partner as fifo(7) says, then installs the end.
    /// `statusFlags` are what F_GETFL will report (access mode, O_NONBLOCK...).
    func openFifo(_ inode: Inode, statusFlags: UInt64, closeOnExec: Bool) throws(Errno) -> Int {
        let accessMode = statusFlags & 3
        guard accessMode != 3 else { throw .EINVAL }
        let channel = inode.fifoChannel ?? FifoChannel()
        inode.fifoChannel = channel
        let b = channel.buffer
        let nonblocking = statusFlags & nonblockFlag != 0
        let hangUpMark = accessMode == 0 && nonblocking && b.writers == 0 ? channel.writerOpens : -1
        func abandon(_ error: Errno) throws(Errno) -> Int {
            if channel.isUnused && inode.fifoChannel === channel { inode.fifoChannel = nil }
            notifyPollers()
            throw error
        }
        switch accessMode {
        case 0:  // O_RDONLY
            b.readers += 1
            channel.readerOpens += 1
            notifyPollers()   // a writer waiting in open
            if b.writers == 0 && !nonblocking {
                let seen = channel.writerOpens
                while channel.writerOpens == seen {
                    guard wait(on: pollWaiters) else {
                        b.readers -= 1
                        return try abandon(.EINTR)
                    }
                }
            }
        case 1:  // O_WRONLY
            if b.readers == 0 && nonblocking { return try abandon(.ENXIO) }
            b.writers += 1
            channel.writerOpens += 1
            notifyPollers()
            if b.readers == 0 {
                let seen = channel.readerOpens
                while channel.readerOpens == seen {
                    guard wait(on: pollWaiters) else {
                        b.writers -= 1
                        return try abandon(.EINTR)
                    }
                }
            }
        default:  // O_RDWR: POSIX leaves it undefined; Linux never blocks
            b.readers += 1
            b.writers += 1
            channel.readerOpens += 1
            channel.writerOpens += 1
            notifyPollers()
        }
        let end = FifoEnd(inode: inode, channel: channel, reads: accessMode != 1, writes: accessMode != 0,
                          hangUpMark: hangUpMark)
        let file = OpenFile(kind: .object, statusFlags: statusFlags)
        file.object = end
        file.inode = inode
        switch files.install(file, closeOnExec: closeOnExec) {
        case .failure(let e):
            end.closed(self)
            throw e
        case .success(let fd):
            return fd
        }
    }
}
