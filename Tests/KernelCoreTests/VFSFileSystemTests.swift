// VFSFileSystemTests — the in-memory file system's namespace logic without syscalls:
// path resolution, symlinks, unlink/rmdir/rename semantics, getcwd paths and the cpio
// archive (Sources/KernelCore/VFS/).
import XCTest
@testable import KernelCore
import LinuxABI

final class VFSFileSystemTests: XCTestCase {
    var fs = FileSystem()
    /// RAM for the files' blocks (FileData.swift).
    var machine = TestMachine()

    /// A file system whose blocks come from a fake machine's frame pool.
    func makeFileSystem() -> FileSystem {
        let store = FileBlockStore()
        store.bind(memory: machine.memory, frames: machine.pool)
        return FileSystem(blocks: store)
    }

    override func setUp() {
        machine = TestMachine()
        fs = makeFileSystem()
        fs.writeFile(b("/etc/passwd"), contents: b("root\n"))
        fs.makeDirectories(b("/usr/bin"))
        fs.writeFile(b("/usr/bin/tool"), contents: b("x"), permissions: 0o755)
    }

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    func resolve(_ path: String, follow: Bool = true, from base: Inode? = nil) -> Result<Inode, Errno> {
        fs.resolve(b(path), from: base ?? fs.root, followFinal: follow)
    }

    func testDotDotAndRootParent() throws {
        let etc = try resolve("/etc").get()
        XCTAssertTrue(try resolve("/usr/../etc/./passwd").get() === etc.lookup(b("passwd")))
        XCTAssertTrue(try resolve("/../../etc").get() === etc, "'..' of the root is the root")
        XCTAssertTrue(try resolve("..", from: etc).get() === fs.root)
        XCTAssertTrue(try resolve("passwd", from: etc).get().isRegular)
    }

    func testErrorsOfLookup() {
        XCTAssertEqual(resolve("/nope").failureValue, .ENOENT)
        XCTAssertEqual(resolve("").failureValue, .ENOENT)
        XCTAssertEqual(resolve("/etc/passwd/x").failureValue, .ENOTDIR)
        XCTAssertEqual(resolve("/etc/passwd/").failureValue, .ENOTDIR, "a trailing slash demands a directory")
        XCTAssertNotNil(try? resolve("/etc/").get())
        XCTAssertEqual(resolve("/" + String(repeating: "a", count: 256)).failureValue, .ENAMETOOLONG)
        XCTAssertEqual(resolve("/" + String(repeating: "a", count: 255)).failureValue, .ENOENT)
    }

    func testSymlinksFollowedAndLoopLimit() throws {
        try fs.makeSymlink(b("/bin"), target: b("usr/bin"), from: fs.root).get()
        try fs.makeSymlink(b("/usr/bin/t2"), target: b("../bin/tool"), from: fs.root).get()
        let tool = try resolve("/usr/bin/tool").get()
        XCTAssertTrue(try resolve("/bin/tool").get() === tool)
        XCTAssertTrue(try resolve("/bin/t2").get() === tool, "relative targets resolve from the link's directory")
        XCTAssertTrue(try resolve("/bin/t2", follow: false).get().isSymlink)
        XCTAssertTrue(try resolve("/bin", follow: false).get().isSymlink)
        XCTAssertTrue(try resolve("/bin/", follow: false).get().isDirectory, "a trailing slash follows")
        try fs.makeSymlink(b("/loop1"), target: b("/loop2"), from: fs.root).get()
        try fs.makeSymlink(b("/loop2"), target: b("/loop1"), from: fs.root).get()
        XCTAssertEqual(resolve("/loop1").failureValue, .ELOOP)
        // A chain of exactly 40 links resolves; 41 is ELOOP (MAXSYMLINKS).
        for i in 0..<41 { try fs.makeSymlink(b("/c\(i)"), target: b(i == 0 ? "/etc" : "/c\(i - 1)"), from: fs.root).get() }
        XCTAssertNoThrow(try resolve("/c39").get())
        XCTAssertEqual(resolve("/c40").failureValue, .ELOOP)
        try fs.makeSymlink(b("/dangling"), target: b("/nowhere"), from: fs.root).get()
        XCTAssertEqual(resolve("/dangling").failureValue, .ENOENT)
    }

    func testCreateThroughDanglingSymlinkAndExclusive() throws {
        try fs.makeSymlink(b("/new"), target: b("/tmpfile"), from: fs.root).get()
        let r = try fs.openOrCreate(b("/new"), from: fs.root, permissions: 0o600, exclusive: false, followFinal: true).get()
        XCTAssertTrue(r.created)
        XCTAssertTrue(try resolve("/tmpfile").get() === r.inode)
        XCTAssertEqual(fs.openOrCreate(b("/new"), from: fs.root, permissions: 0, exclusive: true, followFinal: true).failureValue, .EEXIST)
        XCTAssertEqual(fs.openOrCreate(b("/new"), from: fs.root, permissions: 0, exclusive: false, followFinal: false).failureValue, .ELOOP)
        XCTAssertEqual(fs.openOrCreate(b("/etc"), from: fs.root, permissions: 0, exclusive: false, followFinal: true).failureValue, .EISDIR)
        XCTAssertEqual(fs.openOrCreate(b("/x/"), from: fs.root, permissions: 0, exclusive: false, followFinal: true).failureValue, .EISDIR)
    }

    func testUnlinkAndRmdirErrors() throws {
        XCTAssertEqual(fs.unlink(b("/etc"), from: fs.root).failureValue, .EISDIR)
        XCTAssertEqual(fs.unlink(b("/etc/nope"), from: fs.root).failureValue, .ENOENT)
        XCTAssertEqual(fs.unlink(b("/etc/passwd/"), from: fs.root).failureValue, .ENOTDIR)
        XCTAssertEqual(fs.removeDirectory(b("/etc"), from: fs.root).failureValue, .ENOTEMPTY)
        XCTAssertEqual(fs.removeDirectory(b("/etc/passwd"), from: fs.root).failureValue, .ENOTDIR)
        XCTAssertEqual(fs.removeDirectory(b("/"), from: fs.root).failureValue, .EBUSY)
        XCTAssertEqual(fs.removeDirectory(b("/etc/."), from: fs.root).failureValue, .EINVAL)
        XCTAssertEqual(fs.removeDirectory(b("/etc/.."), from: fs.root).failureValue, .ENOTEMPTY)
        let passwd = try resolve("/etc/passwd").get()
        try fs.unlink(b("/etc/passwd"), from: fs.root).get()
        XCTAssertEqual(passwd.linkCount, 0)
        XCTAssertEqual(passwd.contents.bytes(), b("root\n"), "an unlinked file keeps its data for open descriptors")
        let etc = try resolve("/etc").get()
        XCTAssertEqual(fs.root.linkCount, 4, "/, ., etc/.., usr/..")
        try fs.removeDirectory(b("/etc"), from: fs.root).get()
        XCTAssertEqual(fs.root.linkCount, 3)
        XCTAssertEqual(fs.path(of: etc).failureValue, .ENOENT, "getcwd of a removed directory")
    }

    func testMkdirErrors() throws {
        XCTAssertEqual(fs.makeDirectory(b("/etc"), from: fs.root, permissions: 0o755).failureValue, .EEXIST)
        XCTAssertEqual(fs.makeDirectory(b("/"), from: fs.root, permissions: 0o755).failureValue, .EEXIST)
        XCTAssertEqual(fs.makeDirectory(b("/a/b"), from: fs.root, permissions: 0o755).failureValue, .ENOENT)
        let d = try fs.makeDirectory(b("/a/"), from: fs.root, permissions: 0o750).get()
        XCTAssertEqual(d.mode, 0o040750)
        XCTAssertEqual(d.linkCount, 2)
    }

    func testRenameSemantics() throws {
        // Replacing a file, moving directories, and the errors of rename(2).
        fs.writeFile(b("/a"), contents: b("A"))
        fs.writeFile(b("/b"), contents: b("B"))
        try fs.rename(b("/a"), from: fs.root, to: b("/b"), from: fs.root).get()
        XCTAssertEqual(try resolve("/b").get().contents.bytes(), b("A"))
        XCTAssertEqual(resolve("/a").failureValue, .ENOENT)
        XCTAssertEqual(fs.rename(b("/b"), from: fs.root, to: b("/etc"), from: fs.root).failureValue, .EISDIR)
        XCTAssertEqual(fs.rename(b("/etc"), from: fs.root, to: b("/b"), from: fs.root).failureValue, .ENOTDIR)
        XCTAssertEqual(fs.rename(b("/etc"), from: fs.root, to: b("/usr"), from: fs.root).failureValue, .ENOTEMPTY)
        XCTAssertEqual(fs.rename(b("/usr"), from: fs.root, to: b("/usr/bin/x"), from: fs.root).failureValue, .EINVAL)
        XCTAssertEqual(fs.rename(b("/nope"), from: fs.root, to: b("/x"), from: fs.root).failureValue, .ENOENT)
        XCTAssertEqual(fs.rename(b("/b"), from: fs.root, to: b("/x/"), from: fs.root).failureValue, .ENOTDIR)
        XCTAssertEqual(fs.rename(b("/b"), from: fs.root, to: b("/etc/passwd"), from: fs.root,
                                 flags: FileSystem.renameNoReplace).failureValue, .EEXIST)
        try fs.rename(b("/b"), from: fs.root, to: b("/b"), from: fs.root).get()   // same file: no-op
        try fs.makeDirectory(b("/empty"), from: fs.root, permissions: 0o755).get()
        let usr = try resolve("/usr").get()
        try fs.rename(b("/usr"), from: fs.root, to: b("/empty"), from: fs.root).get()
        XCTAssertTrue(try resolve("/empty/bin/tool").get().isRegular)
        XCTAssertTrue(try resolve("/empty").get() === usr)
        XCTAssertEqual(try fs.path(of: try resolve("/empty/bin").get()).get(), b("/empty/bin"))
        try fs.rename(b("/b"), from: fs.root, to: b("/etc/passwd"), from: fs.root, flags: FileSystem.renameExchange).get()
        XCTAssertEqual(try resolve("/etc/passwd").get().contents.bytes(), b("A"))
        XCTAssertEqual(try resolve("/b").get().contents.bytes(), b("root\n"))
    }

    func testHardLinkCounts() throws {
        try fs.makeHardLink(b("/etc/passwd"), from: fs.root, to: b("/pw"), from: fs.root, followFinal: false).get()
        let pw = try resolve("/pw").get()
        XCTAssertEqual(pw.linkCount, 2)
        XCTAssertEqual(fs.makeHardLink(b("/etc"), from: fs.root, to: b("/e"), from: fs.root, followFinal: false).failureValue, .EPERM)
        try fs.unlink(b("/etc/passwd"), from: fs.root).get()
        XCTAssertEqual(pw.linkCount, 1)
    }

    func testCpioRoundTrip() throws {
        let members = [
            CpioMember(name: b("."), mode: 0o040755),
            CpioMember(name: b("bin"), mode: 0o040700, mtime: 1_700_000_000),
            CpioMember(name: b("bin/hello"), mode: 0o100755, uid: 1000, gid: 100, data: b("#!/bin/sh\necho hi\n")),
            CpioMember(name: b("link"), mode: 0o120777, data: b("bin/hello")),
            CpioMember(name: b("odd"), mode: 0o100600, data: [1, 2, 3]),
        ]
        let bytes = CpioArchive.build(members)
        XCTAssertEqual(bytes.count % 4, 0)
        XCTAssertEqual(try CpioArchive.parse(bytes), members)
        XCTAssertThrowsError(try CpioArchive.parse(Array(bytes[0..<50])))
        var bad = bytes; bad[0] = 0x31
        XCTAssertThrowsError(try CpioArchive.parse(bad))
        // Unpacked into a table's file system.
        let table = FileTable(fileSystem: makeFileSystem())
        table.unpack(members)
        let hello = try table.fileSystem.resolve(b("/link"), from: table.fileSystem.root).get()
        XCTAssertEqual(hello.mode, 0o100755)
        XCTAssertEqual(hello.uid, 1000)
        XCTAssertEqual(hello.contents.bytes(), b("#!/bin/sh\necho hi\n"))
        XCTAssertEqual(try table.fileSystem.resolve(b("/bin"), from: table.fileSystem.root).get().mode, 0o040700)
        XCTAssertEqual(try table.fileSystem.resolve(b("/bin"), from: table.fileSystem.root).get().modifyTime,
                       1_700_000_000 * 1_000_000_000)
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
