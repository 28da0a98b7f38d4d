// FlagRenderingTests — the strace-style rendering of LinuxABI flag sets and constants.
// Every expected string below was printed by strace 6.1 on Linux x86-64 for the same raw
// argument value (a C program issuing raw syscalls, traced with `strace`). Values are also
// cross-checked against glibc's constants where Swift's Glibc module exposes them.
// Neighbours: NameTableTests.swift, StructLayoutTests.swift.

import Glibc
import LinuxABI
import XCTest

final class FlagRenderingTests: XCTestCase {
    func testOpenFlags() {
        XCTAssertEqual(OpenFlags([.O_RDONLY, .O_CLOEXEC]).straceDescription, "O_RDONLY|O_CLOEXEC")
        XCTAssertEqual(OpenFlags.O_RDONLY.straceDescription, "O_RDONLY")
        XCTAssertEqual(OpenFlags.O_WRONLY.straceDescription, "O_WRONLY")
        XCTAssertEqual(OpenFlags([.O_RDWR, .O_TMPFILE]).straceDescription, "O_RDWR|O_TMPFILE")
        XCTAssertEqual(OpenFlags(rawValue: 0o1 | 0o100 | 0o1000 | 0x8000_0000).straceDescription,
                       "O_WRONLY|O_CREAT|O_TRUNC|0x80000000")
        XCTAssertEqual(OpenFlags([.O_PATH, .O_NOFOLLOW, .O_DIRECTORY]).straceDescription,
                       "O_RDONLY|O_NOFOLLOW|O_PATH|O_DIRECTORY")
        XCTAssertEqual(OpenFlags([.O_RDWR, .O_SYNC, .O_NONBLOCK, .O_APPEND, .O_EXCL, .O_NOCTTY]).straceDescription,
                       "O_RDWR|O_EXCL|O_NOCTTY|O_APPEND|O_NONBLOCK|O_SYNC")
        XCTAssertEqual(OpenFlags(rawValue: 3 | 0o10000 | 0o40000 | 0o1000000 | 0o20000).straceDescription,
                       "O_ACCMODE|O_DSYNC|O_DIRECT|O_NOATIME|FASYNC")
        // Every bit from 2 to 30 set: shows O_LARGEFILE and the leftover bits.
        XCTAssertEqual(OpenFlags(rawValue: 0x7fff_ffff & ~3).straceDescription,
                       "O_RDONLY|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_SYNC|O_DIRECT"
                       + "|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|O_TMPFILE|FASYNC|0x7f80003c")
        XCTAssertEqual(OpenFlags([.O_RDWR, .O_NONBLOCK]).straceDescription, "O_RDWR|O_NONBLOCK")
    }

    func testOpenFlagValuesMatchGlibc() {
        XCTAssertEqual(OpenFlags.O_CLOEXEC.rawValue, UInt32(O_CLOEXEC))
        XCTAssertEqual(OpenFlags.O_DIRECTORY.rawValue, UInt32(O_DIRECTORY))
        XCTAssertEqual(OpenFlags.O_NONBLOCK.rawValue, UInt32(O_NONBLOCK))
        XCTAssertEqual(OpenFlags.O_APPEND.rawValue, UInt32(O_APPEND))
        XCTAssertEqual(OpenFlags.O_EXCL.rawValue, UInt32(O_EXCL))
        XCTAssertEqual(OpenFlags.O_SYNC.rawValue, UInt32(O_SYNC))
        XCTAssertEqual(OpenFlags.O_LARGEFILE.rawValue, 0o100000)
        XCTAssertEqual(OpenFlags([.O_RDWR, .O_CREAT, .O_DIRECTORY]).unknownBits, 0)
        XCTAssertEqual(OpenFlags(rawValue: 0x8000_0004).unknownBits, 0x8000_0004)
        XCTAssertTrue(OpenFlags.O_RDWR.isWritable && OpenFlags.O_RDWR.isReadable)
        XCTAssertFalse(OpenFlags.O_WRONLY.isReadable)
    }

    func testMmapProtections() {
        XCTAssertEqual(MmapProt([.PROT_READ, .PROT_WRITE]).straceDescription, "PROT_READ|PROT_WRITE")
        XCTAssertEqual(MmapProt.PROT_NONE.straceDescription, "PROT_NONE")
        XCTAssertEqual(MmapProt(rawValue: 1 | 4 | 0x10).straceDescription, "PROT_READ|PROT_EXEC|0x10")
        XCTAssertEqual(MmapProt(rawValue: 0x10).straceDescription, "0x10 /* PROT_??? */")
        XCTAssertEqual(MmapProt([.PROT_READ, .PROT_GROWSDOWN]).straceDescription, "PROT_READ|PROT_GROWSDOWN")
        XCTAssertEqual(MmapProt.PROT_GROWSDOWN.rawValue, UInt32(PROT_GROWSDOWN))
    }

    func testMmapFlags() {
        XCTAssertEqual(MmapFlags([.MAP_PRIVATE, .MAP_ANONYMOUS]).straceDescription, "MAP_PRIVATE|MAP_ANONYMOUS")
        XCTAssertEqual(MmapFlags([.MAP_PRIVATE, .MAP_ANONYMOUS, .MAP_NORESERVE, .MAP_STACK, .MAP_GROWSDOWN])
                        .straceDescription,
                       "MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE|MAP_GROWSDOWN|MAP_STACK")
        XCTAssertEqual(MmapFlags(rawValue: 0x01 | 0x100000 | 0x8000 | 0x200).straceDescription,
                       "MAP_SHARED|MAP_POPULATE|MAP_FIXED_NOREPLACE|0x200")
        XCTAssertEqual(MmapFlags(rawValue: 0x02 | 0x40000 | 21 << 26).straceDescription,
                       "MAP_PRIVATE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT")
        XCTAssertEqual(MmapFlags([.MAP_SHARED_VALIDATE, .MAP_SYNC, .MAP_FIXED, .MAP_DENYWRITE, .MAP_32BIT])
                        .straceDescription,
                       "MAP_SHARED_VALIDATE|MAP_FIXED|MAP_32BIT|MAP_DENYWRITE|MAP_SYNC")
        XCTAssertEqual(MmapFlags(rawValue: 0).straceDescription, "MAP_FILE")
        XCTAssertEqual(MmapFlags.MAP_ANONYMOUS.straceDescription, "MAP_FILE|MAP_ANONYMOUS")
        XCTAssertEqual(MmapFlags(rawValue: 0x4000000 | 0x02).straceDescription, "MAP_PRIVATE|1<<MAP_HUGE_SHIFT")
        XCTAssertEqual(MmapFlags(rawValue: 0x4 | 0x20).straceDescription, "0x4 /* MAP_??? */|MAP_ANONYMOUS")
        XCTAssertEqual(MmapFlags.MAP_FIXED_NOREPLACE.rawValue, UInt32(MAP_FIXED_NOREPLACE))
        XCTAssertEqual(MmapFlags.MAP_STACK.rawValue, UInt32(MAP_STACK))
        XCTAssertEqual(MmapFlags.MAP_POPULATE.rawValue, UInt32(MAP_POPULATE))
        XCTAssertEqual(MmapFlags.MAP_NORESERVE.rawValue, UInt32(MAP_NORESERVE))
        XCTAssertEqual(MmapFlags.MAP_GROWSDOWN.rawValue, UInt32(MAP_GROWSDOWN))
    }

    func testMremapAndMadvise() {
        XCTAssertEqual(MremapFlags(rawValue: 1 | 2 | 4 | 8).straceDescription,
                       "MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP|0x8")
        XCTAssertEqual(MadviseAdvice.MADV_DONTNEED.straceDescription, "MADV_DONTNEED")
        XCTAssertEqual(MadviseAdvice.MADV_NORMAL.straceDescription, "MADV_NORMAL")
        XCTAssertEqual(MadviseAdvice.MADV_HWPOISON.straceDescription, "MADV_HWPOISON")
        XCTAssertEqual(MadviseAdvice(77).straceDescription, "0x4d /* MADV_??? */")
        XCTAssertEqual(MadviseAdvice.MADV_DONTNEED.rawValue, UInt32(MADV_DONTNEED))
    }

    func testAtFlagsAndDirfd() {
        XCTAssertEqual(LinuxABI.AT_FDCWD, Glibc.AT_FDCWD)
        XCTAssertEqual(renderDirfd(LinuxABI.AT_FDCWD), "AT_FDCWD")
        XCTAssertEqual(renderDirfd(5), "5")
        XCTAssertEqual(AtFlags.AT_REMOVEDIR.straceDescription, "AT_REMOVEDIR")
        XCTAssertEqual(AtFlags(rawValue: 0x1000 | 0x100 | 0x8).straceDescription,
                       "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH|0x8")
        XCTAssertEqual(AtFlags(rawValue: 0).straceDescription, "0")
        XCTAssertEqual(AtFlags(rawValue: 1).straceDescription, "0x1 /* AT_??? */")
        XCTAssertEqual(AtFlags.AT_EACCESS.straceDescriptionForFaccessat, "AT_EACCESS")
        XCTAssertEqual(AtFlags.AT_NO_AUTOMOUNT.straceDescriptionForStatx,
                       "AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT")
        XCTAssertEqual(AtFlags([.AT_REMOVEDIR, .AT_SYMLINK_NOFOLLOW]).unknownBits, 0)
        XCTAssertEqual(AtFlags(rawValue: 0x1).unknownBits, 0x1)
    }

    func testFutexOperations() {
        XCTAssertEqual(FutexOperation(128).straceDescription, "FUTEX_WAIT_PRIVATE")
        XCTAssertEqual(FutexOperation(1).straceDescription, "FUTEX_WAKE")
        XCTAssertEqual(FutexOperation(9 | 128 | 256).straceDescription,
                       "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME")
        XCTAssertEqual(FutexOperation(77).straceDescription, "0x4d /* FUTEX_??? */")
        XCTAssertEqual(FutexOperation(77 | 128 | 256).straceDescription, "0x1cd /* FUTEX_??? */")
        XCTAssertEqual(FutexOperation(9 | 128).command, FutexOperation.FUTEX_WAIT_BITSET)
    }

    func testCloneFlags() {
        let thread = CloneFlags(rawValue: 0x800 | 0x10000 | 0x80000 | 0x100000 | 0x200000 | 17)
        XCTAssertEqual(thread.straceDescription,
                       "CLONE_SIGHAND|CLONE_THREAD|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD")
        XCTAssertEqual(CloneFlags(rawValue: 0x800 | 17).straceDescription, "CLONE_SIGHAND|SIGCHLD")
        XCTAssertEqual(CloneFlags(rawValue: 0x800).straceDescription, "CLONE_SIGHAND")
        XCTAssertEqual(CloneFlags(rawValue: 0x800 | 77).straceDescription, "CLONE_SIGHAND|77")
        XCTAssertEqual(CloneFlags(rawValue: 17).straceDescription, "SIGCHLD")
        XCTAssertEqual(CloneFlags.threadCreation.rawValue, 0x3d0f00)
        XCTAssertEqual(thread.exitSignal, SIGCHLD)
    }

    func testProcessConstants() {
        XCTAssertEqual(ArchPrctlCode.ARCH_SET_FS.rawValue, 0x1002)
        XCTAssertEqual(ArchPrctlCode.ARCH_GET_FS.straceDescription, "ARCH_GET_FS")
        XCTAssertEqual(ArchPrctlCode(0x9999).straceDescription, "0x9999 /* ARCH_??? */")
        XCTAssertEqual(ClockId.CLOCK_MONOTONIC.straceDescription, "CLOCK_MONOTONIC")
        XCTAssertEqual(ClockId.CLOCK_TAI.straceDescription, "CLOCK_TAI")
        XCTAssertEqual(ClockId(55).straceDescription, "0x37 /* CLOCK_??? */")
        XCTAssertEqual(ClockId.CLOCK_TAI.rawValue, UInt32(CLOCK_TAI))
        XCTAssertEqual(ClockId.CLOCK_BOOTTIME.rawValue, UInt32(CLOCK_BOOTTIME))
        XCTAssertEqual(RlimitResource.RLIMIT_STACK.straceDescription, "RLIMIT_STACK")
        XCTAssertEqual(RlimitResource(99).straceDescription, "0x63 /* RLIMIT_??? */")
        XCTAssertEqual(RlimitResource.RLIMIT_NOFILE.rawValue, RLIMIT_NOFILE.rawValue)
        XCTAssertEqual(WaitOptions.__WALL.straceDescription, "__WALL")
        XCTAssertEqual(GetrandomFlags(rawValue: 1 | 2 | 4 | 8).straceDescription,
                       "GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE|0x8")
        XCTAssertEqual(GetrandomFlags(rawValue: 8).straceDescription, "0x8 /* GRND_??? */")
        XCTAssertEqual(GetrandomFlags(rawValue: 0).straceDescription, "0")
    }

    func testFileConstants() {
        XCTAssertEqual(FcntlCommand.F_SETFD.straceDescription, "F_SETFD")
        XCTAssertEqual(FcntlCommand.F_DUPFD_CLOEXEC.straceDescription, "F_DUPFD_CLOEXEC")
        XCTAssertEqual(FcntlCommand(5000).straceDescription, "0x1388 /* F_??? */")
        XCTAssertEqual(FcntlCommand.F_DUPFD_CLOEXEC.rawValue, UInt32(F_DUPFD_CLOEXEC))
        XCTAssertEqual(FdFlags.FD_CLOEXEC.straceDescription, "FD_CLOEXEC")
        XCTAssertEqual(FdFlags(rawValue: 3).straceDescription, "FD_CLOEXEC|0x2")
        XCTAssertEqual(FdFlags(rawValue: 0).straceDescription, "0")
        XCTAssertEqual(SeekWhence.SEEK_END.straceDescription, "SEEK_END")
        XCTAssertEqual(SeekWhence.SEEK_SET.straceDescription, "SEEK_SET")
        XCTAssertEqual(SeekWhence(5).straceDescription, "0x5 /* SEEK_??? */")
        XCTAssertEqual(FileMode(FileMode.S_IFREG | 0o644).straceDescription, "S_IFREG|0644")
        XCTAssertEqual(FileMode(FileMode.S_IFCHR | FileMode.S_ISUID | 0o755).straceDescription,
                       "S_IFCHR|S_ISUID|0755")
        XCTAssertEqual(FileMode(0o600).straceDescription, "0600")
        XCTAssertEqual(FileMode(1).straceDescription, "001")
        XCTAssertEqual(FileMode.S_IFREG, UInt32(S_IFREG))
        XCTAssertEqual(FileMode.S_IFDIR, UInt32(S_IFDIR))
        XCTAssertEqual(FileMode.S_IFLNK, UInt32(S_IFLNK))
        XCTAssertEqual(DirentType.from(mode: FileMode(FileMode.S_IFDIR | 0o755)), DirentType.DT_DIR)
        XCTAssertEqual(AccessMode.R_OK.straceDescription, "R_OK")
        XCTAssertEqual(StatxMask.STATX_BASIC_STATS.straceDescription, "STATX_BASIC_STATS")
    }

    func testIoctlRequests() {
        XCTAssertEqual(IoctlRequest.TCGETS.rawValue, UInt32(TCGETS))
        XCTAssertEqual(IoctlRequest.TCSETS.rawValue, UInt32(TCSETS))
        XCTAssertEqual(IoctlRequest.TCSETSW.rawValue, UInt32(TCSETSW))
        XCTAssertEqual(IoctlRequest.TCSETSF.rawValue, UInt32(TCSETSF))
        XCTAssertEqual(IoctlRequest.TIOCGWINSZ.rawValue, UInt32(TIOCGWINSZ))
        XCTAssertEqual(IoctlRequest.TIOCSWINSZ.rawValue, UInt32(TIOCSWINSZ))
        XCTAssertEqual(IoctlRequest.TIOCGPGRP.rawValue, UInt32(TIOCGPGRP))
        XCTAssertEqual(IoctlRequest.FIONREAD.rawValue, UInt32(FIONREAD))
        XCTAssertEqual(IoctlRequest.FIONBIO.rawValue, UInt32(FIONBIO))
        XCTAssertEqual(IoctlRequest.FIOCLEX.rawValue, UInt32(FIOCLEX))
        XCTAssertEqual(IoctlRequest.TCGETS.straceDescription, "TCGETS")
        XCTAssertEqual(IoctlRequest.TIOCGWINSZ.straceDescription, "TIOCGWINSZ")
        XCTAssertEqual(IoctlRequest.FIOCLEX.straceDescription, "FIOCLEX")
        XCTAssertEqual(IoctlRequest(0x1234_5678).straceDescription, "_IOC(_IOC_NONE, 0x56, 0x78, 0x1234)")
        let tiocgptn = IoctlRequest.encode(direction: IoctlRequest._IOC_READ, type: UInt8(ascii: "T"),
                                           number: 0x30, size: 4)
        XCTAssertEqual(tiocgptn, .TIOCGPTN)
        XCTAssertEqual(tiocgptn.size, 4)
    }

    func testSignalRendering() {
        XCTAssertEqual(SignalSet(rawValue: 1 << 1 | 1 << 14 | 1 << 31 | 1 << 32 | 1 << 33).straceDescription,
                       "[INT TERM RTMIN RT_1 RT_2]")
        XCTAssertEqual(SignalSet(rawValue: ~(1 << 8 | 1 << 9)).straceDescription, "~[KILL USR1]")
        XCTAssertEqual(SignalSet.full.straceDescription, "~[]")
        XCTAssertEqual(SignalSet.empty.straceDescription, "[]")
        XCTAssertEqual(SigprocmaskHow.SIG_BLOCK.straceDescription, "SIG_BLOCK")
        XCTAssertEqual(SigprocmaskHow(7).straceDescription, "0x7 /* SIG_??? */")
        XCTAssertEqual(SigactionFlags(rawValue: 0x0400_0000 | 0x1000_0000 | 4 | 0x0800_0000 | 0x4000_0000
                                      | 0x8000_0000 | 1 | 2 | 0x400).straceDescription,
                       "SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_NODEFER|SA_RESETHAND|SA_SIGINFO|SA_NOCLDSTOP"
                       + "|SA_NOCLDWAIT|0x400")
        XCTAssertEqual(SigactionFlags([.SA_RESTORER, .SA_RESTART]).straceDescription, "SA_RESTORER|SA_RESTART")
    }

    func testPollEpollWaitAndAccessRendering() {
        XCTAssertEqual(PollEvents(rawValue: 0x1 | 0x4 | 0x40 | 0x2000 | 0x8 | 0x2).straceDescription,
                       "POLLIN|POLLPRI|POLLOUT|POLLERR|POLLRDNORM|POLLRDHUP")
        XCTAssertEqual(EpollEvents([.EPOLLIN, .EPOLLOUT, .EPOLLET, .EPOLLONESHOT, .EPOLLRDHUP, .EPOLLEXCLUSIVE])
                        .straceDescription,
                       "EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLEXCLUSIVE|EPOLLONESHOT|EPOLLET")
        XCTAssertEqual(WaitOptions([.WUNTRACED, .WNOHANG, .WCONTINUED]).straceDescription,
                       "WNOHANG|WSTOPPED|WCONTINUED")
        XCTAssertEqual(AccessMode([.R_OK, .W_OK, .X_OK]).straceDescription, "R_OK|W_OK|X_OK")
        XCTAssertEqual(AccessMode.F_OK.straceDescription, "F_OK")
    }

    func testSocketRendering() {
        XCTAssertEqual(SocketType.renderFlagsOnly(SocketType.SOCK_CLOEXEC | SocketType.SOCK_NONBLOCK),
                       "SOCK_CLOEXEC|SOCK_NONBLOCK")
        XCTAssertEqual(SocketType(SocketType.SOCK_STREAM | SocketType.SOCK_CLOEXEC).straceDescription,
                       "SOCK_STREAM|SOCK_CLOEXEC")
        XCTAssertEqual(SockaddrIn(port: 80, address: 0x0a00_0202).straceDescription,
                       "{sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr(\"10.0.2.2\")}")
    }

    func testNumberFormatting() {
        XCTAssertEqual(hexString(0), "0")
        XCTAssertEqual(hexString(0xdead_beef), "0xdeadbeef")
        XCTAssertEqual(hexString(UInt64.max), "0xffffffffffffffff")
        XCTAssertEqual(decimalString(Int64.min), "-9223372036854775808")
        XCTAssertEqual(decimalString(-100), "-100")
        XCTAssertEqual(octalModeString(0), "000")
        XCTAssertEqual(octalModeString(0o4755), "04755")
        XCTAssertEqual(lookupValue(named: "MAP_STACK", in: MmapFlags.names), 0x20000)
    }
}
