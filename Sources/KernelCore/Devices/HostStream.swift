// HostStream — standard input, output and error as byte streams to the host over a
// multiport console device, instead of the terminal on the UART (KernelCore layer).
//
// When egg's own stdin or stdout is not a terminal it boots the kernel with "stdio=virtio"
// and a virtio console whose ports are named egg.stdin, egg.stdout, egg.stderr and
// egg.control (Sources/EggHost/HostStreams.swift). The kernel's side of the device is
// Sources/Kernel/HostStreamSetup.swift (driver: Sources/Drivers/VirtioConsole.swift); it
// hands KernelCore a HostStreamChannel and descriptors 0, 1 and 2 become HostStreams:
// pollable objects that behave like the ends of pipes (pipe(7)): binary-safe, read returns 0
// once the host closed the port and every byte was taken, isatty() is false because the
// terminal ioctls answer ENOTTY (FileSyscalls.ioctl only serves .console descriptions),
// writing after the host closed its side raises SIGPIPE and fails with EPIPE.
// The control port carries host→guest requests as text lines: "signal N" posts signal N to
// the process (docker stop / kill forwarding), "winsize ROWS COLS" resizes the console
// terminal (egg's own terminal was resized: SIGWINCH), parsed by HostControlParser below.
// In terminal mode (egg's stdin and stdout both terminals) the console stays the UART
// terminal and the device carries the control port alone (bundle option
// "hostcontrol=virtio"), so signals and resizes still reach the guest.
import LinuxABI

/// The kernel's view of the device, implemented in Sources/Kernel/HostStreamSetup.swift
/// (the driver underneath is host-tested in Tests/NetTests/VirtioConsoleTests.swift).
public protocol HostStreamChannel: AnyObject {
    /// Collect what the device delivered since the last look.
    func refresh()
    func inputAvailable(port: Int) -> Int
    /// Copies up to `maximum` received bytes of `port` straight into guest memory at
    /// `address` (no kernel array in between: under TCG every copy costs); 0 when none.
    func receive(_ k: KernelState, port: Int, into address: UserAddress, maximum: Int) throws(Errno) -> Int
    /// The host closed `port` and every byte was taken.
    func inputEnded(port: Int) -> Bool
    /// Copies up to one device buffer from guest memory at `address` and sends it; 0 when
    /// the device holds every buffer (wait and retry).
    func transmit(_ k: KernelState, port: Int, from address: UserAddress, count: Int) throws(Errno) -> Int
    /// The host side of `port` went away after having been there (the reader of egg's
    /// output is gone).
    func outputClosed(port: Int) -> Bool
}

public final class HostStream: PollableObject {
    let channel: any HostStreamChannel
    let port: Int
    let isInput: Bool
    /// How long a blocked reader or writer sleeps before looking at the device again when
    /// no interrupt wakes it first.
    static let pollSlice: UInt64 = 4_000_000

    public init(channel: any HostStreamChannel, port: Int, isInput: Bool) {
        self.channel = channel
        self.port = port
        self.isInput = isInput
    }

    public var fileMode: UInt32 { 0o010600 }  // S_IFIFO: a pipe, as `egg run ... | x` suggests

    public func pollEvents(_ k: KernelState) -> UInt32 {
        channel.refresh()
        if isInput {
            if channel.inputAvailable(port: port) > 0 { return PollEvents.input }
            return channel.inputEnded(port: port) ? PollEvents.input | PollEvents.hangUp : 0
        }
        return channel.outputClosed(port: port) ? PollEvents.error : PollEvents.output
    }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard isInput else { throw .EBADF }
        if count == 0 { return 0 }
        while true {
            channel.refresh()
            if channel.inputAvailable(port: port) > 0 {
                return try channel.receive(k, port: port, into: address, maximum: min(count, 1 << 20))
            }
            if channel.inputEnded(port: port) { return 0 }
            if nonblocking { throw .EAGAIN }
            guard k.wait(on: k.pollWaiters, deadline: k.platform.monotonicNanoseconds() + HostStream.pollSlice) else {
                throw .EINTR
            }
        }
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int {
        guard !isInput else { throw .EBADF }
        var done = 0
        while done < count {
            if channel.outputClosed(port: port) {
                k.postThreadSignal(13, to: k.currentThread)  // SIGPIPE, as a pipe without reader
                if done > 0 { return done } else { throw .EPIPE }
            }
            let n: Int
            do { n = try channel.transmit(k, port: port, from: address.advanced(by: done), count: count - done) } catch {
                if done > 0 { return done } else { throw error }
            }
            if n > 0 {
                done += n
                continue
            }
            // Every buffer is with the device (the host reads slowly): wait for one.
            if nonblocking { if done > 0 { return done } else { throw .EAGAIN } }
            channel.refresh()
            guard k.wait(on: k.pollWaiters, deadline: k.platform.monotonicNanoseconds() + HostStream.pollSlice) else {
                if done > 0 { return done } else { throw .EINTR }
            }
        }
        return done
    }

    public func closed(_ k: KernelState) {}
}

/// Lines on the control port: "signal N" (1 ≤ N ≤ 64) and "winsize ROWS COLS" (each
/// 1...65535). Anything else is ignored, so a newer egg can add requests without breaking
/// an older kernel.
public struct HostControlParser {
    var line: [UInt8] = []
    /// The last "winsize" line's size not yet taken (only the newest one matters).
    public var pendingWindowSize: Winsize? = nil

    public init() {}

    /// Feeds bytes; returns the signals requested by the lines they complete.
    public mutating func feed(_ bytes: [UInt8]) -> [Int] {
        var signals: [Int] = []
        for b in bytes {
            if b != 0x0A {
                if line.count < 64 { line.append(b) }
                continue
            }
            let text = String(decoding: line, as: UTF8.self)
            line.removeAll()
            if text.hasPrefix("winsize ") {
                let parts = text.dropFirst(8).split(separator: " ")
                if parts.count == 2, let rows = UInt16(parts[0]), let columns = UInt16(parts[1]), rows > 0, columns > 0 {
                    pendingWindowSize = Winsize(rows: rows, columns: columns)
                }
                continue
            }
            guard text.hasPrefix("signal "), let n = Int(text.dropFirst(7)), n >= 1, n <= 64 else { continue }
            signals.append(n)
        }
        return signals
    }
}

extension KernelState {
    /// egg's terminal now has `size` (a "winsize" control line): as Linux's tty_do_resize
    /// (drivers/tty/tty_io.c) on TIOCSWINSZ, a change is stored for TIOCGWINSZ and SIGWINCH
    /// goes to the terminal's processes, the way ConsoleTerminal's TIOCSWINSZ sends it; the
    /// same size again sends nothing.
    public func resizeConsole(_ size: Winsize) {
        guard size.rows != terminal.windowSize.rows || size.columns != terminal.windowSize.columns else { return }
        terminal.windowSize = Winsize(rows: size.rows, columns: size.columns,
                                      xPixels: terminal.windowSize.xPixels, yPixels: terminal.windowSize.yPixels)
        signalConsoleForegroundGroup(28)  // SIGWINCH to the foreground group, as tty_do_resize
    }

    /// Makes descriptors 0, 1 and 2 the host streams on `channel`'s ports (see the header).
    public func installHostStreams(channel: any HostStreamChannel, stdin: Int, stdout: Int, stderr: Int) {
        let ends = [(stdin, true, UInt64(0)), (stdout, false, UInt64(1)), (stderr, false, UInt64(1))]
        for (fd, (port, isInput, access)) in ends.enumerated() {
            let file = OpenFile(kind: .object, statusFlags: access)
            file.object = HostStream(channel: channel, port: port, isInput: isInput)
            files[fd] = file
        }
    }
}

extension AddressSpace {
    /// Copies `count` bytes of guest memory at `address` to physical memory (a device
    /// buffer), a page at a time through the checked translation; EFAULT on a bad address.
    public func copyIn(_ address: UserAddress, count: Int, toPhysical destination: UInt64) -> Errno? {
        var done = 0
        while done < count {
            let va = address.value &+ UInt64(done)
            if va < address.value { return .EFAULT }
            let chunk = min(Int(pageSize - (va & (pageSize - 1))), count - done)
            guard let pa = physicalAddress(of: va, write: false) else { return .EFAULT }
            memory.copy(from: pa, to: destination + UInt64(done), count: chunk)
            done += chunk
        }
        return nil
    }

    /// Copies `count` bytes of physical memory (a device buffer) to guest memory at `address`.
    public func copyOut(_ address: UserAddress, count: Int, fromPhysical source: UInt64) -> Errno? {
        var done = 0
        while done < count {
            let va = address.value &+ UInt64(done)
            if va < address.value { return .EFAULT }
            let chunk = min(Int(pageSize - (va & (pageSize - 1))), count - done)
            guard let pa = physicalAddress(of: va, write: true) else { return .EFAULT }
            memory.copy(from: source + UInt64(done), to: pa, count: chunk)
            done += chunk
        }
        return nil
    }
}
