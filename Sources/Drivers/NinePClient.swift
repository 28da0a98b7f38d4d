// NinePClient — a synchronous 9P2000.L client: one request in flight, fids handed out by
// the client (Drivers layer, pure logic; host-tested against a fake server in
// Tests/KernelCoreTests/NinePTests.swift).
//
// The transport is a closure that sends one T-message and returns the R-message (the kernel
// passes VirtioNineP.exchange, which puts both in one virtqueue chain; virtio 1.2 §5.9 and
// QEMU's hw/9pfs/virtio-9p-device.c). Message layouts follow the Linux client
// (net/9p/client.c: p9_client_version, _attach, _walk, _lopen, _create_dotl, _read_once,
// _write, _getattr_dotl, _readdir, _mkdir_dotl, _unlinkat, _renameat, _symlink, _readlink,
// _fsync, _statfs, _clunk). NinePVolume.swift builds the mounted tree on top.
import LinuxABI

public final class NinePClient {
    public typealias Exchange = ([UInt8]) -> [UInt8]?

    let exchange: Exchange
    /// The negotiated maximum message size (Tversion/Rversion).
    public private(set) var messageSize: UInt32
    /// The fid of the attached root.
    public let rootFid: UInt32 = 0
    var nextFid: UInt32 = 1
    var freeFids: [UInt32] = []
    let tag: UInt16 = 1

    /// Bytes of message header Twrite and Rread carry around their data (size type tag fid
    /// offset count = 4+1+2+4+8+4); the Linux client's P9_IOHDRSZ.
    public static let ioHeader: UInt32 = 24

    public init(exchange: @escaping Exchange, messageSize: UInt32) {
        self.exchange = exchange
        self.messageSize = messageSize
    }

    func send(_ request: NinePRequest, expecting type: UInt8) throws(NinePFailure) -> NinePReply {
        guard let reply = exchange(request.finish()) else { throw .transport }
        return try NinePReply(reply, expecting: type, tag: tag)
    }

    func allocateFid() -> UInt32 {
        if let f = freeFids.popLast() { return f }
        nextFid += 1
        return nextFid - 1
    }

    // MARK: session

    /// Tversion (tag NOTAG, 0xFFFF) then Tattach of the export's root as `rootFid`.
    public func connect(user: UInt32 = 0) throws(NinePFailure) -> NinePQid {
        var v = NinePRequest(type: NinePType.tversion, tag: 0xFFFF)
        v.u32(messageSize)
        v.string(Array("9P2000.L".utf8))
        guard let raw = exchange(v.finish()) else { throw .transport }
        var r = try NinePReply(raw, expecting: NinePType.tversion, tag: 0xFFFF)
        let size = try r.u32()
        let version = try r.string()
        guard version == Array("9P2000.L".utf8), size >= 4096 else { throw .protocolViolation }
        messageSize = min(messageSize, size)
        var a = NinePRequest(type: NinePType.tattach, tag: tag)
        a.u32(rootFid)
        a.u32(0xFFFF_FFFF)      // afid: no authentication
        a.string(Array("root".utf8))
        a.string([])
        a.u32(user)             // n_uname
        var ra = try send(a, expecting: NinePType.tattach)
        return try ra.qid()
    }

    // MARK: fids

    /// Twalk from `fid` through `names` (at most 16 per message, as MAXWELEM) to a new fid.
    public func walk(from fid: UInt32, _ names: [[UInt8]]) throws(NinePFailure) -> UInt32 {
        let newFid = allocateFid()
        var current = fid
        var rest = names[...]
        var first = true
        repeat {
            let step = Array(rest.prefix(16))
            rest = rest.dropFirst(step.count)
            var w = NinePRequest(type: NinePType.twalk, tag: tag)
            w.u32(current)
            w.u32(newFid)
            w.u16(UInt16(step.count))
            for n in step { w.string(n) }
            do throws(NinePFailure) {
                var r = try send(w, expecting: NinePType.twalk)
                let count = try r.u16()
                // A partial walk (fewer qids than names) leaves newfid unset: the first name
                // that was missing is ENOENT (walk(5)).
                if Int(count) != step.count { throw NinePFailure.error(.ENOENT) }
            } catch {
                if !first { clunk(newFid) } else { freeFids.append(newFid) }
                throw error
            }
            current = newFid
            first = false
        } while !rest.isEmpty
        return newFid
    }

    /// Tclunk: the fid is forgotten whatever the server says.
    public func clunk(_ fid: UInt32) {
        var c = NinePRequest(type: NinePType.tclunk, tag: tag)
        c.u32(fid)
        _ = try? send(c, expecting: NinePType.tclunk)
        freeFids.append(fid)
    }

    // MARK: files

    /// Tlopen with Linux open flags; returns the iounit (0: use msize - header).
    @discardableResult
    public func open(_ fid: UInt32, flags: UInt32) throws(NinePFailure) -> UInt32 {
        var o = NinePRequest(type: NinePType.tlopen, tag: tag)
        o.u32(fid)
        o.u32(flags)
        var r = try send(o, expecting: NinePType.tlopen)
        _ = try r.qid()
        return try r.u32()
    }

    /// Tlcreate: creates `name` in the directory `fid` and opens it; `fid` becomes the file.
    public func create(_ fid: UInt32, name: [UInt8], flags: UInt32, mode: UInt32, gid: UInt32 = 0) throws(NinePFailure) {
        var c = NinePRequest(type: NinePType.tlcreate, tag: tag)
        c.u32(fid)
        c.string(name)
        c.u32(flags)
        c.u32(mode)
        c.u32(gid)
        var r = try send(c, expecting: NinePType.tlcreate)
        _ = try r.qid()
    }

    /// The most data one Tread/Twrite carries.
    public var chunk: Int { Int(messageSize - NinePClient.ioHeader) }

    /// Tread: at most `count` bytes at `offset` (fewer at the end of the file).
    public func read(_ fid: UInt32, offset: UInt64, count: Int) throws(NinePFailure) -> [UInt8] {
        var q = NinePRequest(type: NinePType.tread, tag: tag)
        q.u32(fid)
        q.u64(offset)
        q.u32(UInt32(min(count, chunk)))
        var r = try send(q, expecting: NinePType.tread)
        let n = try r.u32()
        guard Int(n) <= min(count, chunk) else { throw .protocolViolation }
        return try r.raw(Int(n))
    }

    /// The whole file, read chunk by chunk until a short or empty read.
    public func readAll(_ fid: UInt32, limit: Int) throws(NinePFailure) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < limit {
            let part = try read(fid, offset: UInt64(out.count), count: min(chunk, limit - out.count))
            if part.isEmpty { break }
            out.append(contentsOf: part)
        }
        return out
    }

    /// Twrite: returns how many bytes the server took.
    public func write(_ fid: UInt32, offset: UInt64, _ data: ArraySlice<UInt8>) throws(NinePFailure) -> Int {
        let n = min(data.count, chunk)
        var q = NinePRequest(type: NinePType.twrite, tag: tag)
        q.u32(fid)
        q.u64(offset)
        q.u32(UInt32(n))
        q.raw(Array(data.prefix(n)))
        var r = try send(q, expecting: NinePType.twrite)
        let done = try r.u32()
        guard Int(done) <= n else { throw .protocolViolation }
        return Int(done)
    }

    /// Writes all of `data` from offset 0 (a short write that takes nothing is EIO).
    public func writeAll(_ fid: UInt32, _ data: [UInt8]) throws(NinePFailure) {
        var at = 0
        while at < data.count {
            let n = try write(fid, offset: UInt64(at), data[at...])
            if n == 0 { throw .error(.EIO) }
            at += n
        }
    }

    /// Tgetattr with P9_GETATTR_BASIC.
    public func attributes(_ fid: UInt32) throws(NinePFailure) -> NinePAttributes {
        var q = NinePRequest(type: NinePType.tgetattr, tag: tag)
        q.u32(fid)
        q.u64(0x7FF)
        var r = try send(q, expecting: NinePType.tgetattr)
        _ = try r.u64()                  // valid
        let qid = try r.qid()
        let mode = try r.u32()
        let uid = try r.u32()
        let gid = try r.u32()
        let nlink = try r.u64()
        _ = try r.u64()                  // rdev
        let size = try r.u64()
        _ = try r.u64()                  // blksize
        _ = try r.u64()                  // blocks
        _ = try r.u64(); _ = try r.u64() // atime
        let mtimeSeconds = try r.u64()
        let mtimeNanoseconds = try r.u64()
        return NinePAttributes(qid: qid, mode: mode, uid: uid, gid: gid, linkCount: nlink, size: size,
                               modifySeconds: mtimeSeconds, modifyNanoseconds: mtimeNanoseconds)
    }

    /// Tsetattr of the mode (P9_ATTR_MODE, 1) and/or size (P9_ATTR_SIZE, 8).
    public func setAttributes(_ fid: UInt32, mode: UInt32? = nil, size: UInt64? = nil) throws(NinePFailure) {
        var q = NinePRequest(type: NinePType.tsetattr, tag: tag)
        q.u32(fid)
        q.u32((mode != nil ? 1 : 0) | (size != nil ? 8 : 0))
        q.u32(mode ?? 0)
        q.u32(0); q.u32(0)              // uid, gid
        q.u64(size ?? 0)
        q.u64(0); q.u64(0); q.u64(0); q.u64(0)   // atime, mtime
        _ = try send(q, expecting: NinePType.tsetattr)
    }

    /// Every entry of the open directory `fid` (Treaddir until an empty reply), "." and ".."
    /// left out.
    public func readDirectory(_ fid: UInt32) throws(NinePFailure) -> [NinePDirectoryEntry] {
        var out: [NinePDirectoryEntry] = []
        var offset: UInt64 = 0
        while true {
            var q = NinePRequest(type: NinePType.treaddir, tag: tag)
            q.u32(fid)
            q.u64(offset)
            q.u32(UInt32(chunk))
            var r = try send(q, expecting: NinePType.treaddir)
            let n = try r.u32()
            let entries = try NinePDecode.directoryEntries(try r.raw(Int(n)))
            if entries.isEmpty { return out }
            for e in entries {
                offset = e.offset
                if e.name == [0x2E] || e.name == [0x2E, 0x2E] { continue }
                out.append(e)
            }
        }
    }

    /// Treadlink.
    public func readLink(_ fid: UInt32) throws(NinePFailure) -> [UInt8] {
        var q = NinePRequest(type: NinePType.treadlink, tag: tag)
        q.u32(fid)
        var r = try send(q, expecting: NinePType.treadlink)
        return try r.string()
    }

    /// Tfsync (datasync 0).
    public func fsync(_ fid: UInt32) throws(NinePFailure) {
        var q = NinePRequest(type: NinePType.tfsync, tag: tag)
        q.u32(fid)
        q.u32(0)
        _ = try send(q, expecting: NinePType.tfsync)
    }

    // MARK: directories

    public func makeDirectory(in directory: UInt32, name: [UInt8], mode: UInt32) throws(NinePFailure) {
        var q = NinePRequest(type: NinePType.tmkdir, tag: tag)
        q.u32(directory)
        q.string(name)
        q.u32(mode)
        q.u32(0)
        _ = try send(q, expecting: NinePType.tmkdir)
    }

    public func makeSymlink(in directory: UInt32, name: [UInt8], target: [UInt8]) throws(NinePFailure) {
        var q = NinePRequest(type: NinePType.tsymlink, tag: tag)
        q.u32(directory)
        q.string(name)
        q.string(target)
        q.u32(0)
        _ = try send(q, expecting: NinePType.tsymlink)
    }

    /// Tunlinkat; `removeDirectory` is AT_REMOVEDIR (0x200).
    public func unlink(in directory: UInt32, name: [UInt8], removeDirectory: Bool) throws(NinePFailure) {
        var q = NinePRequest(type: NinePType.tunlinkat, tag: tag)
        q.u32(directory)
        q.string(name)
        q.u32(removeDirectory ? 0x200 : 0)
        _ = try send(q, expecting: NinePType.tunlinkat)
    }

    public func rename(in oldDirectory: UInt32, _ oldName: [UInt8], to newDirectory: UInt32, _ newName: [UInt8]) throws(NinePFailure) {
        var q = NinePRequest(type: NinePType.trenameat, tag: tag)
        q.u32(oldDirectory)
        q.string(oldName)
        q.u32(newDirectory)
        q.string(newName)
        _ = try send(q, expecting: NinePType.trenameat)
    }

    public func statistics(_ fid: UInt32) throws(NinePFailure) -> NinePStatfs {
        var q = NinePRequest(type: NinePType.tstatfs, tag: tag)
        q.u32(fid)
        var r = try send(q, expecting: NinePType.tstatfs)
        return NinePStatfs(type: try r.u32(), blockSize: try r.u32(), blocks: try r.u64(), blocksFree: try r.u64(),
                           blocksAvailable: try r.u64(), files: try r.u64(), filesFree: try r.u64(),
                           fsid: try r.u64(), nameLength: try r.u32())
    }
}
