// TraceDecodingTests — --trace decoding of epoll, poll/ppoll, statx and the termios ioctls
// (Sources/KernelCore/Trace/EventTraceText.swift). Every expected string was printed by
// strace 6.1 on Linux for the same call (a throwaway C program, and Guest/c/trace_events.c),
// with addresses replaced by the test's own.
@testable import KernelCore
import LinuxABI
import XCTest

final class TraceDecodingTests: XCTestCase {
    var k: TestKernel!
    let formatter = SyscallTraceFormatter()

    override func setUp() {
        k = TestKernel()
    }

    func args(_ n: SyscallNumber, _ a: UInt64...) -> SyscallArguments {
        var v = a
        while v.count < 6 { v.append(0) }
        return SyscallArguments(number: n.rawValue, v[0], v[1], v[2], v[3], v[4], v[5])
    }

    func line(_ a: SyscallArguments, _ result: SyscallResult?) -> String {
        formatter.line(a, result: result, memory: k.space)
    }

    func le(_ v: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
    }

    func epollEvent(_ events: UInt32, _ data: UInt64) -> [UInt8] { le(UInt64(events), 4) + le(data, 8) }
    func pollfd(_ fd: Int32, _ events: UInt16, _ revents: UInt16) -> [UInt8] {
        le(UInt64(UInt32(bitPattern: fd)), 4) + le(UInt64(events), 2) + le(UInt64(revents), 2)
    }

    // MARK: epoll

    func testEpollCtlShowsTheEvent() {
        let ev = k.poke(epollEvent(0x8000_0001, 4))
        XCTAssertEqual(line(args(.epoll_ctl, 5, 1, 3, ev), .success(0)),
                       "epoll_ctl(5, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data={u32=4, u64=4}}) = 0")
        XCTAssertEqual(line(args(.epoll_ctl, 5, 2, 4, 0), .success(0)),
                       "epoll_ctl(5, EPOLL_CTL_DEL, 4, NULL)    = 0")
        XCTAssertEqual(formatter.call(args(.epoll_ctl, 5, 9, 4, 0), result: .failure(.EINVAL), memory: k.space),
                       "epoll_ctl(5, 0x9 /* EPOLL_CTL_??? */, 4, NULL)")
        let big = k.poke(epollEvent(4, 0x1_0000_0007), at: 64)
        XCTAssertEqual(formatter.call(args(.epoll_ctl, 5, 3, 7, big), result: .success(0), memory: k.space),
                       "epoll_ctl(5, EPOLL_CTL_MOD, 7, {events=EPOLLOUT, data={u32=7, u64=4294967303}})")
    }

    func testEpollPwaitShowsTheReadyEventsAfterTheCall() {
        let out = k.poke(epollEvent(1, 4) + epollEvent(4, 9))
        XCTAssertEqual(line(args(.epoll_pwait, 5, out, 8, UInt64(bitPattern: -1), 0, 8), .success(1)),
                       "epoll_pwait(5, [{events=EPOLLIN, data={u32=4, u64=4}}], 8, -1, NULL, 8) = 1")
        XCTAssertEqual(line(args(.epoll_pwait, 5, out, 8, 0, 0, 8), .success(0)),
                       "epoll_pwait(5, [], 8, 0, NULL, 8)       = 0")
        let mask = k.poke(le(0, 8), at: 256)
        XCTAssertEqual(formatter.call(args(.epoll_pwait, 5, out, 8, 0, mask, 8), result: .success(2), memory: k.space),
                       "epoll_pwait(5, [{events=EPOLLIN, data={u32=4, u64=4}}, {events=EPOLLOUT, data={u32=9, u64=9}}], 8, 0, [], 8)")
        XCTAssertEqual(formatter.call(args(.epoll_wait, 5, out, 8, 100), result: .failure(.EINTR), memory: k.space),
                       "epoll_wait(5, \(hexString(out)), 8, 100)")
    }

    // MARK: poll

    func testPollShowsEventsBeforeAndReventsAfter() {
        let fds = k.poke(pollfd(3, 1, 1) + pollfd(4, 5, 4))
        XCTAssertEqual(line(args(.poll, fds, 2, 1000), .success(2)),
                       "poll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, 1000) = 2 ([{fd=3, revents=POLLIN}, {fd=4, revents=POLLOUT}])")
        XCTAssertEqual(line(args(.poll, fds, 1, 0), .success(1)),
                       "poll([{fd=3, events=POLLIN}], 1, 0)     = 1 ([{fd=3, revents=POLLIN}])")
        let idle = k.poke(pollfd(0, 1, 0) + pollfd(-1, 1, 0), at: 64)
        XCTAssertEqual(line(args(.poll, idle, 2, 10), .success(0)),
                       "poll([{fd=0, events=POLLIN}, {fd=-1}], 2, 10) = 0 (Timeout)")
        XCTAssertEqual(line(args(.poll, idle, 1, 10), .failure(.EINTR)),
                       "poll([{fd=0, events=POLLIN}], 1, 10)    = -1 EINTR (Interrupted system call)")
    }

    func testPpollShowsTheTimeLeft() {
        let fds = k.poke(pollfd(3, 1, 1) + pollfd(4, 5, 4))
        let ts = k.poke(le(0, 16), at: 128)
        XCTAssertEqual(line(args(.ppoll, fds, 2, ts, 0, 8), .success(2)),
                       "ppoll([{fd=3, events=POLLIN}, {fd=4, events=POLLIN|POLLOUT}], 2, {tv_sec=0, tv_nsec=0}, NULL, 8) = 2 ([{fd=3, revents=POLLIN}, {fd=4, revents=POLLOUT}], left {tv_sec=0, tv_nsec=0})")
        XCTAssertEqual(line(args(.ppoll, fds, 1, 0, 0, 8), .success(1)),
                       "ppoll([{fd=3, events=POLLIN}], 1, NULL, NULL, 8) = 1 ([{fd=3, revents=POLLIN}])")
    }

    // MARK: statx

    func statxBuffer(mask: UInt32, mode: UInt32, size: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 256)
        for (i, byte) in le(UInt64(mask), 4).enumerated() { b[i] = byte }
        for (i, byte) in le(UInt64(mode), 2).enumerated() { b[28 + i] = byte }
        for (i, byte) in le(size, 8).enumerated() { b[40 + i] = byte }
        return b
    }

    func testStatxShowsTheAbbreviatedStruct() {
        let path = k.pokeString("/etc/passwd", at: 512)
        let buf = k.poke(statxBuffer(mask: 0x1fff, mode: FileMode.S_IFREG | 0o644, size: 1221))
        XCTAssertEqual(line(args(.statx, UInt64(bitPattern: -100), path, 0, 0xfff, buf), .success(0)),
                       "statx(AT_FDCWD, \"/etc/passwd\", AT_STATX_SYNC_AS_STAT, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFREG|0644, stx_size=1221, ...}) = 0")
        let empty = k.pokeString("", at: 600)
        let fifo = k.poke(statxBuffer(mask: 0x17ff, mode: FileMode.S_IFIFO | 0o600, size: 0), at: 1024)
        XCTAssertEqual(formatter.call(args(.statx, 3, empty, 0x1000, 0x201, fifo), result: .success(0), memory: k.space),
                       "statx(3, \"\", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH, STATX_TYPE|STATX_SIZE, {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFIFO|0600, stx_size=0, ...})")
        XCTAssertEqual(formatter.call(args(.statx, UInt64(bitPattern: -100), path, 0x100, 0x7ff, buf), result: .failure(.ENOENT), memory: k.space),
                       "statx(AT_FDCWD, \"/etc/passwd\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, \(hexString(buf)))")
    }

    // MARK: termios

    func termios(_ i: UInt32, _ o: UInt32, _ c: UInt32, _ l: UInt32) -> [UInt8] {
        le(UInt64(i), 4) + le(UInt64(o), 4) + le(UInt64(c), 4) + le(UInt64(l), 4) + [UInt8](repeating: 0, count: 20)
    }

    /// The console's cooked defaults: ICRNL|IXON, OPOST|ONLCR, B38400|CS8|CREAD, ISIG|ICANON|...
    var cooked: [UInt8] { termios(0o2400, 0o5, 0o277, 0o105073) }

    func testTcgetsShowsTheTermiosAfterTheCall() {
        let t = k.poke(cooked)
        XCTAssertEqual(line(args(.ioctl, 0, 0x5401, t), .success(0)),
                       "ioctl(0, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0")
        XCTAssertEqual(line(args(.ioctl, 3, 0x5401, t), .failure(.ENOTTY)),
                       "ioctl(3, TCGETS, \(hexString(t)))        = -1 ENOTTY (Inappropriate ioctl for device)")
    }

    func testTcsetsNamesAndZeroFieldsAsStraceDoes() {
        let t = k.poke(cooked)
        XCTAssertEqual(formatter.call(args(.ioctl, 0, 0x5402, t), result: .success(0), memory: k.space),
                       "ioctl(0, SNDCTL_TMR_START or TCSETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...})")
        let raw = k.poke(termios(0o60001, 0, 0, 0), at: 64)
        XCTAssertEqual(formatter.call(args(.ioctl, 0, 0x5402, raw), result: .success(0), memory: k.space),
                       "ioctl(0, SNDCTL_TMR_START or TCSETS, {c_iflag=IGNBRK|IMAXBEL|IUTF8, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|, c_cflag=B0|CS5|, c_lflag=, ...})")
        // B9600 with input speed B4800, TAB3 printed as XTABS, the unusual local flags.
        let odd = k.poke(termios(0o60001, 0o14300, 0o30000001455 | (0o14 << 16), 0o252704), at: 128)
        XCTAssertEqual(formatter.call(args(.ioctl, 0, 0x5404, odd), result: .success(0), memory: k.space),
                       "ioctl(0, SNDCTL_TMR_CONTINUE or TCSETSF, {c_iflag=IGNBRK|IMAXBEL|IUTF8, c_oflag=NL0|CR0|XTABS|BS0|VT0|FF0|OFILL|OFDEL, c_cflag=B9600|B4800<<IBSHIFT|CS7|PARENB|PARODD|CMSPAR|CRTSCTS, c_lflag=XCASE|ECHONL|NOFLSH|ECHOPRT|FLUSHO|PENDIN|TOSTOP|EXTPROC, ...})")
        XCTAssertTrue(formatter.call(args(.ioctl, 0, 0x5403, odd), result: .success(0), memory: k.space)
                        .hasPrefix("ioctl(0, SNDCTL_TMR_STOP or TCSETSW, {c_iflag=IGNBRK|"))
    }
}

extension TraceDecodingTests {
    // MARK: the flags of epoll_create1, eventfd2 and timerfd_create

    func testEventFdFlagsUseTheirOwnNames() {
        XCTAssertEqual(formatter.call(args(.epoll_create1, 0), result: .success(5), memory: k.space), "epoll_create1(0)")
        XCTAssertEqual(formatter.call(args(.epoll_create1, 0o2000000), result: .success(5), memory: k.space),
                       "epoll_create1(EPOLL_CLOEXEC)")
        XCTAssertEqual(formatter.call(args(.eventfd2, 0, 0), result: .success(3), memory: k.space), "eventfd2(0, 0)")
        XCTAssertEqual(formatter.call(args(.eventfd2, 3, 0o2004001), result: .success(4), memory: k.space),
                       "eventfd2(3, EFD_SEMAPHORE|EFD_CLOEXEC|EFD_NONBLOCK)")
        XCTAssertEqual(formatter.call(args(.timerfd_create, 1, 0), result: .success(6), memory: k.space),
                       "timerfd_create(CLOCK_MONOTONIC, 0)")
        XCTAssertEqual(formatter.call(args(.timerfd_create, 0, 0o2004000), result: .success(7), memory: k.space),
                       "timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC|TFD_NONBLOCK)")
    }
}

extension TraceDecodingTests {
    func testPipe2AndDup3FlagsHaveNoAccessMode() {
        let fds = k.poke(le(3, 4) + le(4, 4))
        XCTAssertEqual(formatter.call(args(.pipe2, fds, 0), result: .success(0), memory: k.space), "pipe2([3, 4], 0)")
        XCTAssertEqual(formatter.call(args(.pipe2, fds, 0o2004000), result: .success(0), memory: k.space),
                       "pipe2([3, 4], O_NONBLOCK|O_CLOEXEC)")
        XCTAssertEqual(formatter.call(args(.dup3, 3, 9, 0o2000000), result: .success(9), memory: k.space),
                       "dup3(3, 9, O_CLOEXEC)")
        XCTAssertEqual(formatter.call(args(.dup3, 3, 9, 0), result: .success(9), memory: k.space), "dup3(3, 9, 0)")
    }
}
