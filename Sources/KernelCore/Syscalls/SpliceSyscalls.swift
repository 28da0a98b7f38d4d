// SpliceSyscalls — splice(2), tee(2), vmsplice(2) and copy_file_range(2) (KernelCore layer).
//
// Linux moves page references between a pipe's ring and the page cache; egg's pipes hold
// bytes (Events/Pipe.swift) and its files hold blocks (VFS/FileData.swift), so these calls
// copy, at most one pipe's capacity (64 KiB) per call between a pipe and a file, which is
// also what Linux moves per call into an empty pipe of default size. A short count is a
// result, as splice(2) documents; callers loop. Errors follow fs/splice.c (do_splice,
// splice_pipe_to_pipe, link_pipe, vmsplice) and fs/read_write.c (copy_file_range,
// generic_copy_file_checks). Endpoints other than pipes/FIFOs and regular files (sockets, the
// console) are EINVAL here, which Linux gives for files without splice operations.
// `PipeEndpoint` is the helper that sendfile into a pipe (FileSyscalls.swift) can share.
import LinuxABI

/// One end of a pipe or FIFO behind an open file description.
struct PipeEndpoint {
    let end: PipeEnd
    var buffer: PipeBuffer { end.buffer }

    /// The read end (`reading`) or write end of the pipe `f` is, or nil when `f` is not a
    /// pipe or FIFO; a pipe end of the wrong direction is EBADF.
    static func of(_ f: OpenFile, reading: Bool) throws(Errno) -> PipeEndpoint? {
        var end: PipeEnd? = nil
        var isPipe = false
        if let p = f.object as? PipeEnd {
            isPipe = true
            if p.isReadEnd == reading { end = p }
        } else if let fifo = f.object as? FifoEnd {
            isPipe = true
            end = reading ? fifo.reader : fifo.writer
        }
        guard isPipe else { return nil }
        guard let end else { throw .EBADF }
        return PipeEndpoint(end: end)
    }

    /// Waits until the pipe holds bytes; false: no writer is left (end of file).
    /// EAGAIN when non-blocking, EINTR when a signal interrupts the wait.
    func waitForInput(_ k: KernelState, nonblocking: Bool) throws(Errno) -> Bool {
        while buffer.available == 0 {
            if buffer.writers == 0 { return false }
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters) else { throw .EINTR }
        }
        return true
    }

    /// Takes up to `count` bytes out of the pipe (they must be there).
    func take(_ k: KernelState, _ count: Int) -> [UInt8] {
        let n = min(count, buffer.available)
        let bytes = Array(buffer.bytes[buffer.start..<(buffer.start + n)])
        buffer.start += n
        if buffer.start == buffer.bytes.count {
            buffer.bytes.removeAll(keepingCapacity: true)
            buffer.start = 0
        }
        k.notifyPollers()
        return bytes
    }

    /// Puts bytes back at the front of the pipe (a write that took fewer than were read).
    func giveBack(_ k: KernelState, _ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        let rest = Array(buffer.bytes[buffer.start...])
        buffer.bytes = Array(bytes) + rest
        buffer.start = 0
        k.notifyPollers()
    }
}

enum SpliceSyscalls {
    // SPLICE_F_MOVE 1, NONBLOCK 2, MORE 4, GIFT 8 (include/linux/splice.h).
    static let knownFlags: UInt64 = 0x0F, spliceNonblock: UInt64 = 0x02

    /// The position a splice side uses: *offset when the pointer is not NULL (negative:
    /// EINVAL), else the description's offset.
    static func position(_ k: KernelState, _ f: OpenFile, _ pointer: UserAddress) throws(Errno) -> Int {
        if pointer.isNull { return f.offset }
        let v = Int64(bitPattern: try k.memory.readUInt64(pointer).get())
        guard v >= 0 else { throw .EINVAL }
        return Int(v)
    }

    static func storePosition(_ k: KernelState, _ f: OpenFile, _ pointer: UserAddress, _ value: Int) throws(Errno) {
        if pointer.isNull { f.offset = value; return }
        if let e = k.memory.writeUInt64(pointer, UInt64(value)) { throw e }
    }

    /// A regular file a splice may read from or write to (anything else: EINVAL).
    static func regularFile(_ f: OpenFile) throws(Errno) -> Inode {
        guard f.kind == .inode, let inode = f.inode, inode.isRegular, inode.synthetic == nil else { throw .EINVAL }
        return inode
    }

    /// splice(2).
    static func splice(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let input = try FileSyscalls.file(k, a, 0), output = try FileSyscalls.file(k, a, 2)
        let offIn = a.address(1), offOut = a.address(3), count = min(a.size(4), FileSyscalls.maxTransfer)
        let flags = UInt64(a.uint32(5))
        guard flags & ~knownFlags == 0 else { throw .EINVAL }
        if input.isPathOnly || output.isPathOnly { throw .EBADF }
        guard input.canRead || input.object != nil, output.canWrite || output.object != nil else { throw .EBADF }
        let inPipe = try PipeEndpoint.of(input, reading: true)
        let outPipe = try PipeEndpoint.of(output, reading: false)
        let nonblocking = flags & spliceNonblock != 0
            || (input.statusFlags | output.statusFlags) & nonblockFlag != 0
        if count == 0 { return 0 }
        switch (inPipe, outPipe) {
        case (let from?, let to?):
            guard offIn.isNull, offOut.isNull else { throw .ESPIPE }
            guard from.buffer !== to.buffer else { throw .EINVAL }
            guard try from.waitForInput(k, nonblocking: nonblocking) else { return 0 }
            let bytes = from.take(k, count)
            let moved = try writeToPipe(k, to, bytes, nonblocking: nonblocking, from: from)
            return moved
        case (nil, let to?):
            guard offOut.isNull else { throw .ESPIPE }
            guard input.canRead else { throw .EBADF }
            let source = try regularFile(input)
            let start = try position(k, input, offIn)
            let data = source.contents
            guard start < data.size else { return 0 }
            let room = PipeBuffer.capacity - to.buffer.available
            // A full pipe: wait for room like a write (EAGAIN when non-blocking).
            let n = min(count, data.size - start, room > 0 ? room : PipeBuffer.capacity)
            let moved = try writeToPipe(k, to, data.bytes(at: start, count: n), nonblocking: nonblocking, from: nil)
            try storePosition(k, input, offIn, start + moved)
            return moved
        case (let from?, nil):
            guard offIn.isNull else { throw .ESPIPE }
            guard output.canWrite else { throw .EBADF }
            let target = try regularFile(output)
            if output.statusFlags & FileSyscalls.oAppend != 0 { throw .EINVAL }
            let start = try position(k, output, offOut)
            guard try from.waitForInput(k, nonblocking: nonblocking) else { return 0 }
            let data = target.contents
            let n = min(count, from.buffer.available)
            if let e = MemFD.checkWrite(data, start: start, count: n) { throw e }
            guard start <= FileBlockStore.maximumFileSize - n else { throw .EFBIG }
            _ = k.fileBlocks
            let bytes = from.take(k, n)
            let written = data.write(bytes, at: start)
            from.giveBack(k, bytes[written...])
            if written == 0 { throw .ENOSPC }
            FileSyscalls.touch(target, k)
            try storePosition(k, output, offOut, start + written)
            return written
        case (nil, nil):
            throw .EINVAL   // one side must be a pipe
        }
    }

    /// Writes `bytes` into the pipe `to` with write(2)'s blocking, EPIPE and SIGPIPE rules;
    /// bytes it could not take go back to `from` (pipe to pipe) so that nothing is lost.
    static func writeToPipe(_ k: KernelState, _ to: PipeEndpoint, _ bytes: [UInt8], nonblocking: Bool, from: PipeEndpoint?) throws(Errno) -> Int {
        var moved = 0
        do throws(Errno) {
            moved = try to.end.write(k, bytes: bytes, nonblocking: nonblocking)
        } catch {
            from?.giveBack(k, bytes[0...])
            throw error
        }
        from?.giveBack(k, bytes[moved...])
        return moved
    }

    /// tee(2): copies up to `count` bytes from one pipe to another without consuming them.
    /// Both must be pipes (EINVAL), distinct (EINVAL), the right ends (EBADF).
    static func tee(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let input = try FileSyscalls.file(k, a, 0), output = try FileSyscalls.file(k, a, 1)
        let count = min(a.size(2), FileSyscalls.maxTransfer)
        let flags = UInt64(a.uint32(3))
        guard flags & ~knownFlags == 0 else { throw .EINVAL }
        if input.isPathOnly || output.isPathOnly { throw .EBADF }
        guard let from = try PipeEndpoint.of(input, reading: true),
              let to = try PipeEndpoint.of(output, reading: false) else { throw .EINVAL }
        guard from.buffer !== to.buffer else { throw .EINVAL }
        if count == 0 { return 0 }
        let nonblocking = flags & spliceNonblock != 0
        guard try from.waitForInput(k, nonblocking: nonblocking) else { return 0 }
        let n = min(count, from.buffer.available)
        let bytes = Array(from.buffer.bytes[from.buffer.start..<(from.buffer.start + n)])
        return try to.end.write(k, bytes: bytes, nonblocking: nonblocking)
    }

    /// vmsplice(2): user memory into a pipe's write end (like writev) or out of its read end
    /// (like readv). EBADF for a descriptor that is not a pipe, EINVAL for unknown flags or
    /// more than UIO_MAXIOV (1024) segments.
    static func vmsplice(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let f = try FileSyscalls.file(k, a, 0)
        let vector = a.address(1), segments = a.size(2), flags = UInt64(a.uint32(3))
        guard flags & ~knownFlags == 0 else { throw .EINVAL }
        guard segments >= 0, segments <= 1024 else { throw .EINVAL }
        guard let object = f.object, object is PipeEnd || object is FifoEnd else { throw .EBADF }
        // A pipe's write end (FMODE_WRITE) takes user memory; a read end gives it.
        var writing = f.canWrite
        if let p = object as? PipeEnd { writing = !p.isReadEnd }
        let nonblocking = flags & spliceNonblock != 0 || f.statusFlags & nonblockFlag != 0
        var total = 0
        for i in 0..<segments {
            let entry = try k.memory.copyIn(vector.advanced(by: i * 16), count: 16).get()
            var base: UInt64 = 0, length: UInt64 = 0
            for b in 0..<8 {
                base |= UInt64(entry[b]) << (8 * UInt64(b))
                length |= UInt64(entry[8 + b]) << (8 * UInt64(b))
            }
            guard Int64(bitPattern: length) >= 0 else { throw .EINVAL }
            let want = min(Int(length), FileSyscalls.maxTransfer - total)
            if want == 0 { continue }
            let n: Int
            do throws(Errno) {
                n = writing ? try object.write(k, from: UserAddress(base), count: want, nonblocking: nonblocking || total > 0)
                    : try object.read(k, into: UserAddress(base), count: want, nonblocking: nonblocking || total > 0)
            } catch {
                if total > 0 { return total }
                throw error
            }
            total += n
            if n < want { break }
        }
        return total
    }

    /// copy_file_range(2): flags must be 0 (EINVAL); both regular files (EISDIR for a
    /// directory, EINVAL otherwise); readable input and writable, non-append output (EBADF);
    /// negative offsets EINVAL; ranges that wrap EOVERFLOW; overlapping ranges of one file
    /// EINVAL (generic_copy_file_checks). Copies stop at the input's end.
    static func copyFileRange(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let input = try FileSyscalls.file(k, a, 0), output = try FileSyscalls.file(k, a, 2)
        let offIn = a.address(1), offOut = a.address(3), count = a.size(4)
        guard a[5] == 0 else { throw .EINVAL }
        if input.isPathOnly || output.isPathOnly { throw .EBADF }
        guard input.canRead, output.canWrite else { throw .EBADF }
        if output.statusFlags & FileSyscalls.oAppend != 0 { throw .EBADF }
        if input.inode?.isDirectory == true || output.inode?.isDirectory == true { throw .EISDIR }
        let source = try regularFile(input), target = try regularFile(output)
        let from = try position(k, input, offIn), to = try position(k, output, offOut)
        let requested = min(max(count, 0), FileSyscalls.maxTransfer)
        guard from <= Int.max - requested, to <= Int.max - requested else { throw .EOVERFLOW }
        if source === target && from + requested > to && to + requested > from { throw .EINVAL }
        if requested == 0 { return 0 }
        let data = source.contents
        let n = from >= data.size ? 0 : min(requested, data.size - from)
        if n == 0 { return 0 }
        if let e = MemFD.checkWrite(target.contents, start: to, count: n) { throw e }
        _ = k.fileBlocks
        var done = 0
        while done < n {
            let chunk = data.bytes(at: from + done, count: min(FileSyscalls.ioChunk, n - done))
            let written = target.contents.write(chunk, at: to + done)
            done += written
            if written < chunk.count { break }   // ENOSPC part-way
        }
        if done == 0 { throw .ENOSPC }
        FileSyscalls.touch(target, k)
        try storePosition(k, input, offIn, from + done)
        try storePosition(k, output, offOut, to + done)
        return done
    }
}
