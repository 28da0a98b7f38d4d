// HostStreams — the guest's stdin, stdout and stderr as separate binary-safe streams over a
// virtio console, and signals forwarded to the guest's handlers (EggHost layer, host only).
//
// Used unless egg's stdin and stdout are both terminals (then the UART terminal of
// ConsoleMode.swift stays: line discipline, ^C as a byte, window size). QEMU gets a
// virtio-serial-pci device with four ports, each a `-chardev socket,fd=N` on one end of a
// socket pair whose other end egg keeps (QEMU 7.2: socket_get_fd in util/qemu-sockets.c takes
// a descriptor number when no monitor is involved):
//   egg.stdin    egg copies its stdin in; at end of input it shuts its end down, QEMU sees
//                the socket close and sends VIRTIO_CONSOLE_PORT_OPEN 0, which the kernel
//                turns into read() = 0 (Sources/KernelCore/Devices/HostStream.swift)
//   egg.stdout   copied to egg's stdout, byte for byte
//   egg.stderr   copied to egg's stderr
//   egg.control  lines egg writes: "signal N" (forwarded signals, below)
// COM1 (kernel diagnostics, panics, "killed by SIGSEGV") is a fifth socket, copied to egg's
// stderr. The kernel learns the mode from the bundle option "stdio=virtio"
// (Sources/Kernel/HostStreamSetup.swift). On microvm (no PCI) the device is a
// virtio-serial-device on QEMU's virtio-mmio transport instead (QEMUCommand.swift).
//
// Signals (docker stop semantics): SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent
// to egg are written to the control port, and the guest's handlers run (in terminal mode too,
// over a control-only device: HostStreamPlan.controlOnlyWanted); its exit status is
// egg's. A second SIGTERM, or --stop-timeout seconds (default 10) after the first, kills
// QEMU: egg then exits 137 (128+SIGKILL, as `docker stop` reports).
import Foundation

public enum HostStreamPlan {
    public static let kernelOption = "stdio=virtio"
    public static let portNames = ["egg.stdin", "egg.stdout", "egg.stderr", "egg.control"]
    /// QEMU's ends sit at descriptors 3...7 in QEMU: the four ports, then COM1.
    public static let firstChildDescriptor: Int32 = 3
    /// docker's status when `docker stop` had to kill: 128 + SIGKILL.
    public static let killedStatus: Int32 = 137

    /// Whether a run uses the virtio streams.
    public static func wanted(stdinIsTerminal: Bool, stdoutIsTerminal: Bool, machine: MachineType) -> Bool {
        !(stdinIsTerminal && stdoutIsTerminal)
    }

    public static func wantedNow(machine: MachineType) -> Bool {
        wanted(stdinIsTerminal: isatty(0) == 1, stdoutIsTerminal: isatty(1) == 1, machine: machine)
    }

    /// COM1's backend in this mode.
    public static var consoleChardev: String { "socket,id=console,fd=\(firstChildDescriptor + 4)" }

    /// The device and its four ports (virtserialport: `nr` fixes the port number, `name` is
    /// what VIRTIO_CONSOLE_PORT_NAME carries).
    public static var qemuArguments: [String] {
        var a = ["-device", "virtio-serial-pci,id=eggstdio,max_ports=\(portNames.count + 1)"]
        for (i, name) in portNames.enumerated() {
            a += ["-chardev", "socket,id=eggport\(i),fd=\(Int(firstChildDescriptor) + i)",
                  "-device", "virtserialport,bus=eggstdio.0,nr=\(i + 1),chardev=eggport\(i),name=\(name)"]
        }
        return a
    }

    /// Terminal mode (egg's stdin and stdout both terminals, pc or q35): the UART terminal
    /// keeps stdio and the virtio console carries egg.control alone, so signals sent to egg
    /// and SIGWINCH (as "winsize ROWS COLS") still reach the guest. QEMU's end is descriptor 3.
    public static let controlOnlyKernelOption = "hostcontrol=virtio"

    public static func controlOnlyWanted(stdinIsTerminal: Bool, stdoutIsTerminal: Bool, machine: MachineType) -> Bool {
        stdinIsTerminal && stdoutIsTerminal
    }

    public static var controlOnlyQEMUArguments: [String] {
        ["-device", "virtio-serial-pci,id=eggstdio,max_ports=2",
         "-chardev", "socket,id=eggport3,fd=\(firstChildDescriptor)",
         "-device", "virtserialport,bus=eggstdio.0,nr=1,chardev=eggport3,name=egg.control"]
    }

    /// The "winsize" line for the control port (HostControlParser in
    /// Sources/KernelCore/Devices/HostStream.swift).
    public static func windowSizeLine(rows: Int, columns: Int) -> [UInt8] { Array("winsize \(rows) \(columns)\n".utf8) }

    /// The line for the control port.
    public static func signalLine(_ signal: Int32) -> [UInt8] { Array("signal \(signal)\n".utf8) }
}

// Signal-handler state (read by GuestRunner's handler; async-signal-safe use only: write,
// kill, clock_gettime).
nonisolated(unsafe) var guestControlDescriptor: Int32 = -1
nonisolated(unsafe) var guestTerminationsForwarded: Int32 = 0
nonisolated(unsafe) var guestStopDeadline: Int = 0         // CLOCK_MONOTONIC seconds, 0 = none
nonisolated(unsafe) public var guestKilledAfterStop = false
nonisolated(unsafe) var guestStopTimeout = 10
nonisolated(unsafe) var guestStopWatcherRunning = false
nonisolated(unsafe) private var signalLines = UnsafeMutablePointer<UInt8>.allocate(capacity: 65 * 16)

/// Room for "winsize 65535 65535\n", filled by the SIGWINCH handler without allocating.
nonisolated(unsafe) private var windowSizeLine = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)

/// SIGWINCH (egg's terminal was resized), terminal mode only: read the new size from egg's
/// stdout (TIOCGWINSZ, tty_ioctl(4)) and send it on the control port. ioctl and write are
/// async-signal-safe; the digits are written by hand.
private func windowChanged(_: Int32) {
    let saved = errno
    defer { errno = saved }
    guard guestControlDescriptor >= 0 else { return }
    var size = winsize()
    guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 else { return }
    var n = 0
    for b in "winsize ".utf8 { windowSizeLine[n] = b; n += 1 }
    func put(_ value: UInt16) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
        var v = value, count = 0
        repeat {
            let d = UInt8(48 + v % 10)
            switch count { case 0: digits.0 = d; case 1: digits.1 = d; case 2: digits.2 = d; case 3: digits.3 = d; default: digits.4 = d }
            v /= 10; count += 1
        } while v > 0
        while count > 0 {
            count -= 1
            switch count { case 0: windowSizeLine[n] = digits.0; case 1: windowSizeLine[n] = digits.1; case 2: windowSizeLine[n] = digits.2
                           case 3: windowSizeLine[n] = digits.3; default: windowSizeLine[n] = digits.4 }
            n += 1
        }
    }
    put(size.ws_row)
    windowSizeLine[n] = 0x20; n += 1
    put(size.ws_col)
    windowSizeLine[n] = 0x0A; n += 1
    _ = write(guestControlDescriptor, windowSizeLine, n)
}

/// From the signal handler: true when the signal went to the guest (QEMU keeps running),
/// false when QEMU should get it (no control port, or a second SIGTERM).
func forwardSignalToGuest(_ signal: Int32, child: pid_t) -> Bool {
    guard guestControlDescriptor >= 0, signal > 0, signal < 65 else { return false }
    if signal == SIGTERM {
        guestTerminationsForwarded += 1
        if guestTerminationsForwarded > 1 {
            guestKilledAfterStop = true
            kill(child, SIGKILL)
            return true
        }
    }
    let line = signalLines + Int(signal) * 16
    var n = 0
    while n < 16 && line[n] != 0 { n += 1 }
    _ = write(guestControlDescriptor, line, n)
    if signal == SIGTERM && guestStopDeadline == 0 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        guestStopDeadline = now.tv_sec + guestStopTimeout
    }
    return true
}

/// The socket pairs and the threads that copy between them and egg's own descriptors.
public final class HostStreamRelay {
    /// egg's ends: stdin, stdout, stderr, control, console.
    var eggEnds: [Int32] = []
    /// QEMU's ends (moved to high numbers; posix_spawn dups them to 3...7).
    public private(set) var childEnds: [Int32] = []
    var outputThreadsDone = DispatchGroup()
    /// Terminal mode: one socket pair, the control port only (HostStreamPlan.controlOnlyWanted).
    public let controlOnly: Bool

    public init(stopTimeout: Int = 10, controlOnly: Bool = false) throws(SpawnError) {
        self.controlOnly = controlOnly
        for _ in 0..<(controlOnly ? 1 : 5) {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
                throw .failed("socketpair: \(String(cString: strerror(errno)))")
            }
            // High numbers, close-on-exec: the spawn's dup2 onto 3...7 cannot clobber a
            // source, and nothing else leaks into QEMU.
            let child = fcntl(pair[1], F_DUPFD_CLOEXEC, 64)
            close(pair[1])
            _ = fcntl(pair[0], F_SETFD, FD_CLOEXEC)
            eggEnds.append(pair[0])
            childEnds.append(child)
        }
        for s in 1..<65 {
            let bytes = HostStreamPlan.signalLine(Int32(s))
            for (i, b) in bytes.enumerated() { signalLines[s * 16 + i] = b }
            signalLines[s * 16 + bytes.count] = 0
        }
        guestStopTimeout = stopTimeout
        guestTerminationsForwarded = 0
        guestStopDeadline = 0
        guestKilledAfterStop = false
        guestControlDescriptor = eggEnds[controlOnly ? 0 : 3]
    }

    /// (source, target) pairs for the child's file actions.
    public var childDescriptors: [(Int32, Int32)] {
        childEnds.enumerated().map { ($0.element, HostStreamPlan.firstChildDescriptor + Int32($0.offset)) }
    }

    /// After QEMU started: drop egg's copies of QEMU's ends (so QEMU's exit is end of file
    /// here) and start copying.
    public func start(child: pid_t) {
        for fd in childEnds { close(fd) }
        childEnds = []
        if controlOnly {
            signal(SIGWINCH) { windowChanged($0) }
            startStopWatcher(child: child)
            return
        }
        let stdinEnd = eggEnds[0]
        Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                if !relayWrite(stdinEnd, buffer, n) { break }
            }
            // End of input: QEMU reads end of file and closes the port (see the header).
            shutdown(stdinEnd, Int32(SHUT_WR))
        }.start()
        for (source, target) in [(eggEnds[1], Int32(1)), (eggEnds[2], Int32(2)), (eggEnds[4], Int32(2))] {
            outputThreadsDone.enter()
            let group = outputThreadsDone
            Thread {
                var buffer = [UInt8](repeating: 0, count: 1 << 16)
                var open = true
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    // Our reader went away (`| head`): close the port, so the guest's next
                    // write fails with EPIPE and SIGPIPE as it would on Linux; keep draining.
                    if open && !relayWrite(target, buffer, n) { open = false; shutdown(source, Int32(SHUT_RDWR)) }
                }
                group.leave()
            }.start()
        }
        startStopWatcher(child: child)
    }

    /// --stop-timeout: kill QEMU once the deadline a forwarded signal set has passed.
    func startStopWatcher(child: pid_t) {
        guestStopWatcherRunning = true
        Thread {
            while guestStopWatcherRunning {
                usleep(100_000)
                var now = timespec()
                clock_gettime(CLOCK_MONOTONIC, &now)
                if guestStopDeadline != 0 && now.tv_sec >= guestStopDeadline && !guestKilledAfterStop {
                    guestKilledAfterStop = true
                    kill(child, SIGKILL)
                }
            }
        }.start()
    }

    /// After QEMU ended: wait (bounded) until every byte it wrote is copied out.
    public func finish() {
        guestStopWatcherRunning = false
        if controlOnly { signal(SIGWINCH, SIG_DFL) }
        guestControlDescriptor = -1
        _ = outputThreadsDone.wait(timeout: .now() + 5)
    }

    /// QEMU never started: close everything.
    public func abandon() {
        guestControlDescriptor = -1
        for fd in childEnds + eggEnds { close(fd) }
    }
}

private func relayWrite(_ fd: Int32, _ bytes: [UInt8], _ count: Int) -> Bool {
    var offset = 0
    while offset < count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}
