// Pipe — pipe(2)/pipe2(2): a 64 KiB ring shared by a read end and a write end
// (KernelCore/Events). Reads block while empty and writers exist; writes block while full
// and readers exist; writing with no reader raises SIGPIPE and fails with EPIPE (pipe(7)).
// A named FIFO (mkfifo) shares one PipeBuffer among every open of its inode:
// Sources/KernelCore/VFS/Fifo.swift.
import LinuxABI

public final class PipeBuffer {
    static let capacity = 65536
    var bytes: [UInt8] = []
    var start = 0
    var readers = 1
    var writers = 1
    var available: Int { bytes.count - start }
}

public final class PipeEnd: PollableObject {
    let buffer: PipeBuffer
    let isReadEnd: Bool
    init(buffer: PipeBuffer, isReadEnd: Bool) {
        self.buffer = buffer
        self.isReadEnd = isReadEnd
    }

    public var fileMode: UInt32 { 0o010600 }  // S_IFIFO

    public func pollEvents(_ k: KernelState) -> UInt32 {
        if isReadEnd {
            var e: UInt32 = buffer.available > 0 ? PollEvents.input : 0
            if buffer.writers == 0 { e |= PollEvents.hangUp }
            return e
        }
        if buffer.readers == 0 { return PollEvents.error }
        return buffer.available < PipeBuffer.capacity ? PollEvents.output : 0
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard isReadEnd else { throw .EBADF }
        if count == 0 { return 0 }
        while buffer.available == 0 {
            if buffer.writers == 0 { return 0 }
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters) else { throw .EINTR }
        }
        let n = min(count, buffer.available)
        if let e = k.memory.copyOut(address, from: buffer.bytes, offset: buffer.start, count: n) { throw e }
        buffer.start += n
        if buffer.start == buffer.bytes.count {
            buffer.bytes.removeAll(keepingCapacity: true)
            buffer.start = 0
        } else if buffer.start > PipeBuffer.capacity {
            buffer.bytes.removeFirst(buffer.start)
            buffer.start = 0
        }
        k.notifyPollers()
        return n
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        var chunk = [UInt8]()
        return try push(k, count: count, nonblocking: nonblocking) { done, n in
            chunk.removeAll(keepingCapacity: true)
            if let e = k.memory.copyIn(address.advanced(by: done), count: n, into: &chunk) { return e }
            buffer.bytes.append(contentsOf: chunk[0..<n])
            return nil
        }
    }

    /// A write of bytes the kernel already holds (sendfile(2) into a pipe), with the same
    /// blocking, EPIPE and SIGPIPE rules as write(2).
    func write(_ k: KernelState, bytes: [UInt8], nonblocking: Bool) throws(Errno) -> Int {
        try push(k, count: bytes.count, nonblocking: nonblocking) { done, n in
            buffer.bytes.append(contentsOf: bytes[done..<(done + n)])
            return nil
        }
    }

    /// The write loop: `append(done, n)` adds the next n bytes (from byte `done` of the
    /// caller's data) to the buffer, or returns the error that stops the copy.
    func push(_ k: KernelState, count: Int, nonblocking: Bool, append: (Int, Int) -> Errno?) throws(Errno) -> Int {
        guard !isReadEnd else { throw .EBADF }
        var done = 0
        while done < count {
            if buffer.readers == 0 {
                k.postThreadSignal(13, to: k.currentThread)  // SIGPIPE
                if done > 0 { return done } else { throw .EPIPE }
            }
            let room = PipeBuffer.capacity - buffer.available
            if room == 0 {
                if nonblocking { if done > 0 { return done } else { throw .EAGAIN } }
                guard k.wait(on: k.pollWaiters) else { if done > 0 { return done } else { throw .EINTR } }
                continue
            }
            let n = min(room, count - done)
            if let e = append(done, n) { if done > 0 { return done } else { throw e } }
            done += n
            k.pollWakeup(source: buffer, events: PollEvents.input)  // an edge per write (Epoll.swift)
            k.notifyPollers()
        }
        return done
    }

    public func closed(_ k: KernelState) {
        if isReadEnd { buffer.readers -= 1 } else { buffer.writers -= 1 }
        k.notifyPollers()
    }
}
