// NinePTests — the 9P2000.L codec and client against a small fake server, and a volume's
// load, write-through and host refresh (Sources/Drivers/NineP*.swift) over the in-memory
// VFS, directly and through the wrapped system calls (NinePSyncCalls.swift) on a TestKernel.
import XCTest
@testable import Drivers
@testable import KernelCore
import LinuxABI

/// A 9P2000.L server over an in-memory tree: paths to nodes, fids to paths. Enough of
/// QEMU's behaviour (hw/9pfs/9p.c) for the client's requests; errors as Rlerror.
final class FakeNinePServer {
    enum Node: Equatable { case directory, file([UInt8]), symlink([UInt8]) }
    var nodes: [String: Node] = ["": .directory]
    var fids: [UInt32: String] = [:]
    var log: [UInt8] = []   // message types seen
    var qidPaths: [String: UInt64] = [:]
    var nextQid: UInt64 = 1
    /// Permission bits set by Tsetattr/Tlcreate/Tmkdir (absent: 0644 files, 0755 dirs), and
    /// mtimes in seconds (bumped by Twrite and by `hostWrite`, as a host change would).
    var modes: [String: UInt32] = [:]
    var mtimes: [String: UInt64] = [:]
    var clock: UInt64 = 100

    /// A change made on the host side, behind the guest's back.
    func hostWrite(_ path: String, _ bytes: [UInt8]) {
        nodes[path] = .file(bytes)
        clock += 1
        mtimes[path] = clock
    }

    func qid(_ path: String) -> (UInt8, UInt64) {
        if qidPaths[path] == nil { qidPaths[path] = nextQid; nextQid += 1 }
        switch nodes[path] {
        case .directory?: return (0x80, qidPaths[path]!)
        case .symlink?: return (0x02, qidPaths[path]!)
        default: return (0, qidPaths[path]!)
        }
    }

    static func join(_ a: String, _ b: String) -> String { a.isEmpty ? b : a + "/" + b }

    func reply(_ type: UInt8, _ tag: UInt16, _ body: (inout ByteWriter) -> Void) -> [UInt8] {
        var w = ByteWriter()
        w.u32(0); w.u8(type + 1); w.u16(tag)
        body(&w)
        var bytes = w.bytes
        let n = UInt32(bytes.count)
        for i in 0..<4 { bytes[i] = UInt8(truncatingIfNeeded: n >> (8 * UInt32(i))) }
        return bytes
    }

    func error(_ tag: UInt16, _ e: Errno) -> [UInt8] {
        var w = ByteWriter()
        w.u32(11); w.u8(7); w.u16(tag); w.u32(UInt32(e.rawValue))
        return w.bytes
    }

    func putQid(_ w: inout ByteWriter, _ path: String) {
        let (t, p) = qid(path)
        w.u8(t); w.u32(0); w.u64(p)
    }

    func handle(_ m: [UInt8]) -> [UInt8]? {
        var r = ByteReader(m)
        guard let _ = try? r.u32(), let type = try? r.u8(), let tag = try? r.u16() else { return nil }
        log.append(type)
        func str() -> String { let n = try! r.u16(); return String(decoding: try! r.raw(Int(n)), as: UTF8.self) }
        switch type {
        case NinePType.tversion:
            let size = try! r.u32(); _ = str()
            return reply(type, tag) { $0.u32(min(size, 8192)); $0.u16(8); $0.append(Array("9P2000.L".utf8)) }
        case NinePType.tattach:
            let fid = try! r.u32(); fids[fid] = ""
            return reply(type, tag) { putQid(&$0, "") }
        case NinePType.twalk:
            let fid = try! r.u32(), newFid = try! r.u32(), n = try! r.u16()
            guard var path = fids[fid] else { return error(tag, .EBADF) }
            var qids: [String] = []
            for _ in 0..<n {
                let name = str()
                let next = FakeNinePServer.join(path, name)
                if nodes[next] == nil { break }
                path = next; qids.append(next)
            }
            if qids.isEmpty && n > 0 { return error(tag, .ENOENT) }
            if qids.count == Int(n) { fids[newFid] = path }
            return reply(type, tag) { w in w.u16(UInt16(qids.count)); for q in qids { putQid(&w, q) } }
        case NinePType.tclunk:
            fids[try! r.u32()] = nil
            return reply(type, tag) { _ in }
        case NinePType.tgetattr:
            guard let path = fids[try! r.u32()], let node = nodes[path] else { return error(tag, .EBADF) }
            var mode: UInt32 = 0o100000 | (modes[path] ?? 0o644), size = 0
            switch node {
            case .directory: mode = 0o40000 | (modes[path] ?? 0o755)
            case .file(let b): size = b.count
            case .symlink(let t): mode = 0o120777; size = t.count
            }
            let mtime = mtimes[path] ?? 0
            return reply(type, tag) { w in
                w.u64(0x7FF); putQid(&w, path); w.u32(mode); w.u32(0); w.u32(0); w.u64(1); w.u64(0)
                w.u64(UInt64(size)); w.u64(4096); w.u64(0)
                w.u64(0); w.u64(0)              // atime
                w.u64(mtime); w.u64(0)          // mtime
                for _ in 0..<8 { w.u64(0) }
            }
        case NinePType.tsetattr:
            guard let path = fids[try! r.u32()] else { return error(tag, .EBADF) }
            let valid = try! r.u32(), mode = try! r.u32()
            _ = try! r.u32(); _ = try! r.u32()
            let size = try! r.u64()
            if valid & 1 != 0 { modes[path] = mode & 0o7777 }
            if valid & 8 != 0, case .file(var bytes)? = nodes[path] {
                bytes = Array(bytes.prefix(Int(size))) + [UInt8](repeating: 0, count: max(0, Int(size) - bytes.count))
                nodes[path] = .file(bytes)
            }
            return reply(type, tag) { _ in }
        case NinePType.tstatfs:
            return reply(type, tag) { w in
                w.u32(0x01021997); w.u32(4096); w.u64(1000); w.u64(600); w.u64(500); w.u64(64); w.u64(32); w.u64(7); w.u32(255)
            }
        case NinePType.tlopen:
            guard let path = fids[try! r.u32()] else { return error(tag, .EBADF) }
            let flags = try! r.u32()
            if flags & 0o1000 != 0, case .file = nodes[path] { nodes[path] = .file([]) }
            return reply(type, tag) { putQid(&$0, path); $0.u32(0) }
        case NinePType.tlcreate:
            let fid = try! r.u32(); let name = str(); _ = try! r.u32(); let mode = try! r.u32()
            guard let dir = fids[fid] else { return error(tag, .EBADF) }
            let path = FakeNinePServer.join(dir, name)
            nodes[path] = .file([]); fids[fid] = path; modes[path] = mode & 0o7777
            return reply(type, tag) { putQid(&$0, path); $0.u32(0) }
        case NinePType.tread:
            guard let path = fids[try! r.u32()], case .file(let bytes)? = nodes[path] else { return error(tag, .EISDIR) }
            let offset = Int(try! r.u64()), count = Int(try! r.u32())
            let part = offset < bytes.count ? Array(bytes[offset..<min(bytes.count, offset + count)]) : []
            return reply(type, tag) { $0.u32(UInt32(part.count)); $0.append(part) }
        case NinePType.twrite:
            guard let path = fids[try! r.u32()], case .file(var bytes)? = nodes[path] else { return error(tag, .EBADF) }
            let offset = Int(try! r.u64()), count = Int(try! r.u32())
            let data = try! r.raw(count)
            if bytes.count < offset + count { bytes += [UInt8](repeating: 0, count: offset + count - bytes.count) }
            bytes.replaceSubrange(offset..<offset + count, with: data)
            nodes[path] = .file(bytes)
            clock += 1; mtimes[path] = clock
            return reply(type, tag) { $0.u32(UInt32(count)) }
        case NinePType.treaddir:
            guard let path = fids[try! r.u32()] else { return error(tag, .EBADF) }
            let offset = Int(try! r.u64())
            let names = nodes.keys.filter { k in
                !k.isEmpty && (path.isEmpty ? !k.contains("/") : k.hasPrefix(path + "/") && !k.dropFirst(path.count + 1).contains("/"))
            }.sorted()
            var entries: [NinePDirectoryEntry] = []
            for (i, k) in names.enumerated() where i >= offset {
                let (t, p) = qid(k)
                entries.append(NinePDirectoryEntry(qid: NinePQid(type: t, version: 0, path: p), offset: UInt64(i + 1),
                                                   type: 0, name: Array(k.split(separator: "/").last!.utf8)))
            }
            let data = NinePDecode.encode(entries)
            return reply(type, tag) { $0.u32(UInt32(data.count)); $0.append(data) }
        case NinePType.treadlink:
            guard let path = fids[try! r.u32()], case .symlink(let t)? = nodes[path] else { return error(tag, .EINVAL) }
            return reply(type, tag) { $0.u16(UInt16(t.count)); $0.append(t) }
        case NinePType.tfsync:
            return reply(type, tag) { _ in }
        case NinePType.tmkdir:
            let dir = fids[try! r.u32()]!; let path = FakeNinePServer.join(dir, str())
            if nodes[path] != nil { return error(tag, .EEXIST) }
            nodes[path] = .directory
            return reply(type, tag) { putQid(&$0, path) }
        case NinePType.tsymlink:
            let dir = fids[try! r.u32()]!; let path = FakeNinePServer.join(dir, str()); let target = str()
            if nodes[path] != nil { return error(tag, .EEXIST) }
            nodes[path] = .symlink(Array(target.utf8))
            return reply(type, tag) { putQid(&$0, path) }
        case NinePType.tunlinkat:
            let dir = fids[try! r.u32()]!; let path = FakeNinePServer.join(dir, str()); let flags = try! r.u32()
            guard let node = nodes[path] else { return error(tag, .ENOENT) }
            if node == .directory {
                guard flags & 0x200 != 0 else { return error(tag, .EISDIR) }
                if nodes.keys.contains(where: { $0.hasPrefix(path + "/") }) { return error(tag, .ENOTEMPTY) }
            }
            nodes[path] = nil
            return reply(type, tag) { _ in }
        case NinePType.trenameat:
            let a = FakeNinePServer.join(fids[try! r.u32()]!, str())
            let b = FakeNinePServer.join(fids[try! r.u32()]!, str())
            guard let node = nodes[a] else { return error(tag, .ENOENT) }
            nodes[a] = nil; nodes[b] = node
            return reply(type, tag) { _ in }
        default:
            return error(tag, .EOPNOTSUPP)
        }
    }
}

final class NinePTests: XCTestCase {
    var machine = TestMachine()

    func makeFileSystem() -> FileSystem {
        let store = FileBlockStore()
        store.bind(memory: machine.memory, frames: machine.pool)
        return FileSystem(blocks: store)
    }

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func volume(_ server: FakeNinePServer, _ fs: FileSystem, readOnly: Bool = false) -> NinePVolume {
        let client = NinePClient(exchange: { server.handle($0) }, messageSize: 8192)
        return NinePVolume(client: client, fileSystem: fs, guestPath: b("/data"), readOnly: readOnly, loadLimit: 1 << 20)
    }

    func contents(_ fs: FileSystem, _ path: String) -> [UInt8]? {
        guard case .success(let i) = fs.resolve(b(path), from: fs.root), i.isRegular else { return nil }
        return i.contents.bytes()
    }

    func testRequestEncodingSetsTheSizeAndReplyChecksTypeAndTag() throws {
        var q = NinePRequest(type: NinePType.tclunk, tag: 5)
        q.u32(9)
        XCTAssertEqual(q.finish(), [11, 0, 0, 0, 120, 5, 0, 9, 0, 0, 0])
        XCTAssertNoThrow(try NinePReply([7, 0, 0, 0, 121, 5, 0], expecting: NinePType.tclunk, tag: 5))
        XCTAssertThrowsError(try NinePReply([7, 0, 0, 0, 121, 6, 0], expecting: NinePType.tclunk, tag: 5))
        XCTAssertThrowsError(try NinePReply([7, 0, 0, 0, 119, 5, 0], expecting: NinePType.tclunk, tag: 5))
        XCTAssertThrowsError(try NinePReply([9, 0, 0, 0, 121, 5, 0], expecting: NinePType.tclunk, tag: 5))
    }

    func testRlerrorCarriesTheServersErrno() {
        do {
            _ = try NinePReply([11, 0, 0, 0, 7, 1, 0, 2, 0, 0, 0], expecting: NinePType.twalk, tag: 1)
            XCTFail("no error")
        } catch {
            XCTAssertEqual(error, .error(.ENOENT))
            XCTAssertEqual(error.errno, .ENOENT)
        }
    }

    func testDirectoryEntriesRoundTrip() throws {
        let e = [NinePDirectoryEntry(qid: NinePQid(type: 0x80, version: 3, path: 77), offset: 1, type: 4, name: b("sub")),
                 NinePDirectoryEntry(qid: NinePQid(type: 0, version: 0, path: 78), offset: 2, type: 8, name: b("f"))]
        XCTAssertEqual(try NinePDecode.directoryEntries(NinePDecode.encode(e)), e)
        XCTAssertThrowsError(try NinePDecode.directoryEntries(Array(NinePDecode.encode(e).dropLast())))
    }

    func testLoadCopiesTheHostTreeUnderTheMountPoint() throws {
        let server = FakeNinePServer()
        server.nodes["a.txt"] = .file(b("hello"))
        server.nodes["sub"] = .directory
        server.nodes["sub/big"] = .file([UInt8](repeating: 7, count: 20000))   // several Treads at msize 8192
        server.nodes["link"] = .symlink(b("a.txt"))
        let fs = makeFileSystem()
        fs.writeFile(b("/data/hidden"), contents: b("from --files"))
        let v = volume(server, fs)
        try v.load()
        XCTAssertEqual(contents(fs, "/data/a.txt"), b("hello"))
        XCTAssertEqual(contents(fs, "/data/sub/big"), [UInt8](repeating: 7, count: 20000))
        XCTAssertEqual(contents(fs, "/data/link"), b("hello"))
        XCTAssertNil(contents(fs, "/data/hidden"), "the mount hides what --files had there")
        XCTAssertNil(v.synchronize())
        XCTAssertFalse(server.log.contains(NinePType.twrite), "nothing changed, nothing written")
    }

    func testWriteBackCreatesChangesAndRemoves() throws {
        let server = FakeNinePServer()
        server.nodes["keep"] = .file(b("same"))
        server.nodes["change"] = .file(b("old"))
        server.nodes["gone"] = .file(b("x"))
        server.nodes["olddir"] = .directory
        server.nodes["olddir/f"] = .file(b("y"))
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        fs.writeFile(b("/data/change"), contents: b("new contents"))
        fs.writeFile(b("/data/new/deep/file"), contents: b("made in the guest"))
        XCTAssertNoThrow(try fs.unlink(b("/data/gone"), from: fs.root).get())
        XCTAssertNoThrow(try fs.unlink(b("/data/olddir/f"), from: fs.root).get())
        XCTAssertNoThrow(try fs.removeDirectory(b("/data/olddir"), from: fs.root).get())
        XCTAssertNoThrow(try fs.makeSymlink(b("/data/ln"), target: b("keep"), from: fs.root).get())
        // Larger than one message: sent in several Twrites, read from the file chunk by chunk.
        let big = (0..<30000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        fs.writeFile(b("/data/big"), contents: big)
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.nodes["big"], .file(big))
        XCTAssertEqual(server.nodes["keep"], .file(b("same")))
        XCTAssertEqual(server.nodes["change"], .file(b("new contents")))
        XCTAssertEqual(server.nodes["new/deep/file"], .file(b("made in the guest")))
        XCTAssertEqual(server.nodes["new/deep"], .directory)
        XCTAssertNil(server.nodes["gone"])
        XCTAssertNil(server.nodes["olddir"])
        XCTAssertNil(server.nodes["olddir/f"])
        XCTAssertEqual(server.nodes["ln"], .symlink(b("keep")))
        // A second write-back with no change sends no writes.
        server.log = []
        XCTAssertNil(v.synchronize())
        XCTAssertFalse(server.log.contains(NinePType.twrite))
    }

    func testARenamedFileIsRenamedOnTheHostNotRewritten() throws {
        let server = FakeNinePServer()
        server.nodes["db"] = .file(b("version 1"))
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        // The SQLite-like pattern: write a new copy, sync it, rename it over the old one.
        fs.writeFile(b("/data/db-journal"), contents: b("version 2"))
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.nodes["db-journal"], .file(b("version 2")))
        server.log = []
        XCTAssertNoThrow(try fs.rename(b("/data/db-journal"), from: fs.root, to: b("/data/db"), from: fs.root, flags: 0).get())
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.nodes["db"], .file(b("version 2")))
        XCTAssertNil(server.nodes["db-journal"])
        XCTAssertTrue(server.log.contains(NinePType.trenameat))
        XCTAssertFalse(server.log.contains(NinePType.twrite))
    }

    func testReadOnlyVolumeRefusesWritesAndIsNeverWrittenBack() throws {
        let server = FakeNinePServer()
        server.nodes["f"] = .file(b("host"))
        let fs = makeFileSystem()
        let v = volume(server, fs, readOnly: true)
        try v.load()
        if case .success = fs.openOrCreate(b("/data/new"), from: fs.root, permissions: 0o644, exclusive: false, followFinal: true) {
            XCTFail("created a file in a read-only volume")
        }
        server.log = []
        XCTAssertNil(v.synchronize())
        XCTAssertTrue(server.log.isEmpty)
    }

    func testServerErrorsReachTheCaller() throws {
        let server = FakeNinePServer()
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        fs.writeFile(b("/data/f"), contents: b("x"))
        let failing = NinePVolume(client: NinePClient(exchange: { m in
            m[4] == NinePType.tlcreate ? server.error(UInt16(m[5]) | UInt16(m[6]) << 8, .ENOSPC) : server.handle(m)
        }, messageSize: 8192), fileSystem: fs, guestPath: b("/data"), readOnly: false, loadLimit: 1 << 20)
        try failing.load()
        fs.writeFile(b("/data/g"), contents: b("y"))
        XCTAssertEqual(failing.synchronize(), .ENOSPC)
        XCTAssertNil(server.nodes["g"])
    }

    // MARK: live volumes

    func testAModeChangeReachesTheHostAsTsetattr() throws {
        let server = FakeNinePServer()
        server.nodes["f"] = .file(b("x"))
        server.nodes["d"] = .directory
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        guard case .success(let f) = fs.resolve(b("/data/f"), from: fs.root),
              case .success(let d) = fs.resolve(b("/data/d"), from: fs.root) else { return XCTFail("not loaded") }
        f.permissions = 0o600
        d.permissions = 0o700
        server.log = []
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.modes["f"], 0o600)
        XCTAssertEqual(server.modes["d"], 0o700)
        XCTAssertFalse(server.log.contains(NinePType.twrite), "a mode change does not rewrite the bytes")
    }

    func testAPassDoesNotReadUnchangedFilesAgain() throws {
        let server = FakeNinePServer()
        server.nodes["a"] = .file(b("aaaa"))
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        guard case .success(let a) = fs.resolve(b("/data/a"), from: fs.root) else { return XCTFail("not loaded") }
        let count = a.contents.changeCount
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(a.contents.changeCount, count)
        // Changed bytes of the same size are still seen (the count moved, the digest differs).
        a.contents.write(b("bbbb"), at: 0)
        XCTAssertNotEqual(a.contents.changeCount, count)
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.nodes["a"], .file(b("bbbb")))
    }

    func testAFileTheHostChangedIsReloadedAtOpenUnlessTheGuestChangedIt() throws {
        let server = FakeNinePServer()
        server.nodes["h"] = .file(b("host v1"))
        server.nodes["g"] = .file(b("host v1"))
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        guard case .success(let h) = fs.resolve(b("/data/h"), from: fs.root),
              case .success(let g) = fs.resolve(b("/data/g"), from: fs.root) else { return XCTFail("not loaded") }
        XCTAssertNil(v.refreshFile(h))
        XCTAssertEqual(contents(fs, "/data/h"), b("host v1"), "nothing changed: nothing reloaded")
        server.hostWrite("h", b("host version 2"))
        server.hostWrite("g", b("host version 2"))
        g.contents.write(b("GUEST"), at: 0)   // the guest's own change wins until written back
        XCTAssertNil(v.refreshFile(h))
        XCTAssertNil(v.refreshFile(g))
        XCTAssertEqual(contents(fs, "/data/h"), b("host version 2"))
        XCTAssertEqual(contents(fs, "/data/g"), b("GUESTv1"))
        // The reloaded file is not written back (the host already has those bytes).
        server.log = []
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.nodes["h"], .file(b("host version 2")))
        XCTAssertEqual(server.nodes["g"], .file(b("GUESTv1")))
        XCTAssertEqual(server.log.filter { $0 == NinePType.tlopen }.count, 1, "only g is rewritten")
    }

    func testRefreshDirectoryAddsHostNamesAndDropsNamesTheHostRemoved() throws {
        let server = FakeNinePServer()
        server.nodes["old"] = .file(b("o"))
        server.nodes["mine"] = .file(b("m"))
        let fs = makeFileSystem()
        let v = volume(server, fs)
        try v.load()
        guard case .success(let top) = fs.resolve(b("/data"), from: fs.root),
              case .success(let mine) = fs.resolve(b("/data/mine"), from: fs.root) else { return XCTFail("not loaded") }
        server.hostWrite("new", b("from the host"))
        server.nodes["newdir"] = .directory
        server.hostWrite("newdir/inner", b("i"))
        server.nodes["old"] = nil
        server.nodes["mine"] = nil
        mine.contents.write(b("M"), at: 0)   // changed in the guest: kept
        v.refreshDirectory(top)
        XCTAssertEqual(contents(fs, "/data/new"), b("from the host"))
        XCTAssertEqual(contents(fs, "/data/newdir/inner"), b("i"))
        XCTAssertNil(contents(fs, "/data/old"))
        XCTAssertEqual(contents(fs, "/data/mine"), b("M"))
        XCTAssertNil(v.synchronize())
        XCTAssertEqual(server.nodes["mine"], .file(b("M")), "the guest's change reaches the host again")
        XCTAssertNil(server.nodes["old"])
    }

    /// A TestKernel whose file system has the fake server's tree at /data, with the volume's
    /// calls installed as the kernel installs them (NinePSetup.swift).
    func liveKernel(_ server: FakeNinePServer, readOnly: Bool = false) throws -> (TestKernel, NinePVolume) {
        let k = TestKernel()
        let fs = k.state.files.fileSystem
        _ = k.state.fileBlocks
        let client = NinePClient(exchange: { server.handle($0) }, messageSize: 8192)
        let v = NinePVolume(client: client, fileSystem: fs, guestPath: b("/data"), readOnly: readOnly, loadLimit: 1 << 20)
        v.mount = .volume(index: 0, readOnly: readOnly)
        try v.load()
        fs.volumeMounts.append(VolumeMount(path: b("/data"), source: b("vol0"), readOnly: readOnly, statistics: { nil }))
        NinePSyncCalls.install(on: k.state, volumes: [v])
        return (k, v)
    }

    static let atFDCWD = UInt64(bitPattern: -100)

    func testAFileWrittenAndClosedIsOnTheHostBeforeAnyFsync() throws {
        let server = FakeNinePServer()
        let (k, _) = try liveKernel(server)
        let path = k.pokeString("/data/out.txt", at: 32_768)
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, path, 0o101, 0o640)) else { return }
        XCTAssertEqual(server.nodes["out.txt"], .file([]), "O_CREAT reaches the host at once")
        let data = k.poke(b("written"), at: 100)
        XCTAssertEqual(successValue(k.call(.write, UInt64(fd), data, 7)), 7)
        XCTAssertEqual(successValue(k.call(.close, UInt64(fd))), 0)
        XCTAssertEqual(server.nodes["out.txt"], .file(b("written")))
        XCTAssertEqual(server.modes["out.txt"], 0o640)
        // Namespace calls reach the host as they return.
        XCTAssertEqual(successValue(k.call(.mkdir, k.pokeString("/data/d", at: 36_864), 0o755)), 0)
        XCTAssertEqual(server.nodes["d"], .directory)
        XCTAssertEqual(successValue(k.call(.rename, path, k.pokeString("/data/d/moved", at: 40_960))), 0)
        XCTAssertEqual(server.nodes["d/moved"], .file(b("written")))
        XCTAssertNil(server.nodes["out.txt"])
        XCTAssertEqual(successValue(k.call(.unlink, k.pokeString("/data/d/moved", at: 45_056))), 0)
        XCTAssertNil(server.nodes["d/moved"])
    }

    func testANameTheHostMadeDuringTheRunIsFoundAtTheNextLookup() throws {
        let server = FakeNinePServer()
        let (k, _) = try liveKernel(server)
        let path = k.pokeString("/data/late.txt", at: 32_768)
        assertFailure(k.call(.openat, Self.atFDCWD, path, 0), .ENOENT)
        server.hostWrite("late.txt", b("made later"))
        guard let fd = successValue(k.call(.openat, Self.atFDCWD, path, 0)) else { return }
        let buf = k.scratch + 200
        XCTAssertEqual(successValue(k.call(.read, UInt64(fd), buf, 64)), 10)
        XCTAssertEqual(k.peek(buf, count: 10), b("made later"))
        // Changed on the host again: the next open sees the new bytes.
        XCTAssertEqual(successValue(k.call(.close, UInt64(fd))), 0)
        server.hostWrite("late.txt", b("changed again"))
        guard let fd2 = successValue(k.call(.openat, Self.atFDCWD, path, 0)) else { return }
        XCTAssertEqual(successValue(k.call(.read, UInt64(fd2), buf, 64)), 13)
        XCTAssertEqual(k.peek(buf, count: 13), b("changed again"))
    }

    func testAReadOnlyVolumeAnswersEROFSToEveryWritePath() throws {
        let server = FakeNinePServer()
        server.nodes["f"] = .file(b("host"))
        server.nodes["sub"] = .directory
        let (k, _) = try liveKernel(server, readOnly: true)
        let f = k.pokeString("/data/f", at: 32_768)
        let other = k.pokeString("/data/new", at: 36_864)
        assertFailure(k.call(.openat, Self.atFDCWD, f, 1), .EROFS)
        assertFailure(k.call(.openat, Self.atFDCWD, f, 2), .EROFS)
        assertFailure(k.call(.openat, Self.atFDCWD, other, 0o101, 0o644), .EROFS)
        assertFailure(k.call(.unlink, f), .EROFS)
        assertFailure(k.call(.mkdir, other, 0o755), .EROFS)
        assertFailure(k.call(.rmdir, k.pokeString("/data/sub", at: 40_960)), .EROFS)
        assertFailure(k.call(.rename, f, other), .EROFS)
        assertFailure(k.call(.symlink, f, other), .EROFS)
        assertFailure(k.call(.link, f, other), .EROFS)
        assertFailure(k.call(.chmod, f, 0o600), .EROFS)
        assertFailure(k.call(.truncate, f, 1), .EROFS)
        assertFailure(k.call(.utimensat, Self.atFDCWD, f, 0, 0), .EROFS)
        XCTAssertEqual(server.nodes["f"], .file(b("host")))
        XCTAssertNotNil(successValue(k.call(.openat, Self.atFDCWD, f, 0)), "reading works")
    }

    func testStatfsOfAVolumeIsNinePAndItHasItsOwnDevice() throws {
        let server = FakeNinePServer()
        let (k, v) = try liveKernel(server)
        k.state.files.fileSystem.volumeMounts[0].statistics = {
            guard let h = v.statistics() else { return nil }
            var s = Statfs()
            s.blocks = h.blocks
            s.freeBlocks = h.blocksFree
            return s
        }
        let buf = k.scratch + 20_000
        XCTAssertEqual(successValue(k.call(.statfs, k.pokeString("/data", at: 32_768), buf)), 0)
        let s = try Statfs.decode(from: k.peek(buf, count: Statfs.byteSize))
        XCTAssertEqual(s.type, 0x0102_1997)
        XCTAssertEqual(s.blocks, 1000)
        XCTAssertEqual(s.freeBlocks, 600)
        let st = k.scratch + 24_000, rootStat = k.scratch + 26_000
        XCTAssertEqual(successValue(k.call(.stat, k.pokeString("/data", at: 32_768), st)), 0)
        XCTAssertEqual(successValue(k.call(.stat, k.pokeString("/", at: 36_864), rootStat)), 0)
        XCTAssertNotEqual(k.peek64(st), k.peek64(rootStat), "st_dev")
        XCTAssertTrue(k.state.procMounts().contains("vol0 /data 9p rw,"))
        XCTAssertTrue(k.state.procMountinfo().contains(" /data rw,relatime - 9p vol0 "))
    }
}
