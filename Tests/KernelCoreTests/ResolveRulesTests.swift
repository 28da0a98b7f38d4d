// ResolveRulesTests — openat2's RESOLVE_* rules and chroot's root on FileSystem walks
// (Sources/KernelCore/VFS/ResolveRules.swift, FileSystem.swift), EXDEV/EBUSY across mounts
// and RENAME_WHITEOUT, and the trace text of the new file calls (Trace/FileTraceText.swift).
import XCTest
@testable import KernelCore
import LinuxABI

final class ResolveRulesTests: XCTestCase {
    var fs = FileSystem()
    var jail: Inode!
    var machine = TestMachine()

    func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    override func setUp() {
        machine = TestMachine()
        let store = FileBlockStore()
        store.bind(memory: machine.memory, frames: machine.pool)
        fs = FileSystem(blocks: store)
        fs.writeFile(b("/etc/passwd"), contents: b("root\n"))
        jail = fs.makeDirectories(b("/jail/sub"))
        jail = fs.makeDirectories(b("/jail"))
        fs.writeFile(b("/jail/etc/passwd"), contents: b("jailed\n"))
        _ = fs.makeSymlink(b("/jail/abs"), target: b("/etc"), from: fs.root)
        _ = fs.makeSymlink(b("/jail/rel"), target: b("sub"), from: fs.root)
        fs.makeDirectories(b("/dev/shm")).mount = .shm
    }

    func walk(_ path: String, _ resolve: UInt64, from base: Inode? = nil) -> Result<Inode, Errno> {
        let start = base ?? jail!
        switch ResolveRules.make(resolve, start: start) {
        case .failure(let e): return .failure(e)
        case .success(let r): fs.resolveRules = r
        }
        defer { fs.resolveRules = nil }
        return fs.resolve(b(path), from: start)
    }

    func testFlagValidation() {
        XCTAssertEqual(walk("sub", 0x40).failureValue, .EINVAL)
        XCTAssertEqual(walk("sub", ResolveRules.beneath | ResolveRules.inRoot).failureValue, .EINVAL)
    }

    func testBeneathRefusesEscapes() {
        XCTAssertNoThrow(try walk("sub/../sub", ResolveRules.beneath).get())
        XCTAssertEqual(walk("..", ResolveRules.beneath).failureValue, .EXDEV)
        XCTAssertEqual(walk("/etc", ResolveRules.beneath).failureValue, .EXDEV)
        XCTAssertEqual(walk("abs/passwd", ResolveRules.beneath).failureValue, .EXDEV)
    }

    func testInRootMakesTheStartTheRoot() throws {
        let passwd = try walk("/etc/passwd", ResolveRules.inRoot).get()
        XCTAssertEqual(passwd.contents.size, 7)   // "jailed\n", not the real one
        let viaLink = try walk("abs/passwd", ResolveRules.inRoot).get()
        XCTAssertTrue(viaLink === passwd)
        XCTAssertTrue(try walk("../../..", ResolveRules.inRoot).get() === jail)
        // Without rules the walk is unchanged afterwards.
        XCTAssertEqual(try fs.resolve(b("/etc/passwd"), from: fs.root).get().contents.size, 5)
    }

    func testNoSymlinksAndNoXdev() {
        XCTAssertEqual(walk("rel", ResolveRules.noSymlinks).failureValue, .ELOOP)
        XCTAssertNoThrow(try walk("rel", 0).get())
        XCTAssertEqual(walk("/dev/shm", ResolveRules.noXdev, from: fs.root).failureValue, .EXDEV)
        XCTAssertNoThrow(try walk("/dev", ResolveRules.noXdev, from: fs.root).get())
    }

    func testChrootRootStopsSlashAndDotDot() throws {
        let dev = try fs.resolve(b("/dev"), from: fs.root).get()
        fs.callerRoot = { [jail] in jail }
        XCTAssertEqual(try fs.resolve(b("/etc/passwd"), from: jail).get().contents.size, 7)
        XCTAssertTrue(try fs.resolve(b("/../.."), from: jail).get() === jail)
        XCTAssertEqual(fs.path(of: try fs.resolve(b("/sub"), from: jail).get()), .success(b("/sub")))
        // A directory outside the root: getcwd's "(unreachable)" prefix.
        XCTAssertEqual(fs.path(of: dev), .success(b("(unreachable)/dev")))
        fs.callerRoot = { nil }
    }

    func testRenameAndLinkAcrossMountsAndMountPoints() {
        fs.writeFile(b("/dev/shm/f"), contents: b("x"))
        XCTAssertEqual(fs.rename(b("/dev/shm/f"), from: fs.root, to: b("/f"), from: fs.root).failureValue, .EXDEV)
        XCTAssertEqual(fs.makeHardLink(b("/dev/shm/f"), from: fs.root, to: b("/f"), from: fs.root, followFinal: true).failureValue, .EXDEV)
        XCTAssertEqual(fs.removeDirectory(b("/dev/shm"), from: fs.root).failureValue, .EBUSY)
        XCTAssertEqual(fs.rename(b("/dev/shm"), from: fs.root, to: b("/dev/x"), from: fs.root).failureValue, .EBUSY)
    }

    func testRenameWhiteoutLeavesADeviceZeroZero() throws {
        fs.writeFile(b("/a"), contents: b("x"))
        XCTAssertNoThrow(try fs.rename(b("/a"), from: fs.root, to: b("/b"), from: fs.root, flags: FileSystem.renameWhiteout).get())
        let w = try fs.resolve(b("/a"), from: fs.root, followFinal: false).get()
        XCTAssertEqual(w.mode, FileMode.S_IFCHR)
        XCTAssertTrue(w.device! == .other(major: 0, minor: 0))
        XCTAssertEqual(fs.rename(b("/b"), from: fs.root, to: b("/a"), from: fs.root,
                                 flags: FileSystem.renameWhiteout | FileSystem.renameExchange).failureValue, .EINVAL)
    }

    // MARK: trace text

    func testTraceShowsXattrNamesOpenHowAndRwfFlags() {
        let k = TestKernel()
        let f = SyscallTraceFormatter()
        let path = k.pokeString("/f", at: 0), name = k.pokeString("user.a", at: 64)
        let value = k.poke(b("hello"), at: 128)
        XCTAssertEqual(f.call(SyscallArguments(number: SyscallNumber.setxattr.rawValue, path, name, value, 5, 1),
                              result: .success(0), memory: k.space),
                       "setxattr(\"/f\", \"user.a\", \"hello\", 5, XATTR_CREATE)")
        var how = ByteWriter()
        how.u64(0); how.u64(0); how.u64(0x18)
        let h = k.poke(how.bytes, at: 256)
        XCTAssertEqual(f.call(SyscallArguments(number: SyscallNumber.openat2.rawValue, UInt64(bitPattern: -100), path, h, 24),
                              result: .success(3), memory: k.space),
                       "openat2(AT_FDCWD, \"/f\", {flags=O_RDONLY, resolve=RESOLVE_BENEATH|RESOLVE_IN_ROOT}, 24)")
        XCTAssertEqual(f.call(SyscallArguments(number: SyscallNumber.preadv2.rawValue, 3, 0, 0, UInt64(bitPattern: -1), 0, 0x9),
                              result: .success(0), memory: k.space),
                       "preadv2(3, NULL, 0, -1, RWF_HIPRI|RWF_NOWAIT)")
    }
}
