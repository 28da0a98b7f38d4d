// ConsoleMode — how egg's standard input reaches the guest's console (EggHost layer, host
// only; pure apart from `current()`).
//
// The kernel's console is a terminal with Linux's line discipline
// (Sources/KernelCore/Devices/Terminal.swift). Two cases:
//  - egg's stdin is a terminal: QEMU's stdio chardev reads it in raw mode; `signal=off`
//    makes QEMU clear ISIG too, so ^C and ^\ travel to the guest as bytes and the guest's
//    terminal turns them into SIGINT/SIGQUIT (a program that does not catch them dies, egg
//    exits 130 or 131 as a shell would report). GuestRunner.swift restores the host
//    terminal's settings after QEMU, however it ended.
//  - egg's stdin is a pipe, a file or /dev/null: the bundle carries the kernel option
//    "console=pipe" and the guest's terminal starts without echo and without editing or
//    signal characters (Terminal.configureForPipedInput), like a serial line that nobody
//    types on, so `printf 'abc\n' | egg run ./prog` prints exactly what ./prog prints on
//    Linux. GuestRunner.swift ends such input with ^D.
import Foundation

public struct ConsoleMode: Equatable, Sendable {
    public var stdinIsTerminal: Bool
    /// egg's terminal size (TIOCGWINSZ on its stdout) when stdin and stdout are both
    /// terminals: the guest's console starts with it instead of 80x24. Resizes during the
    /// run are not forwarded yet (no SIGWINCH).
    public var windowSize: (rows: Int, columns: Int)? = nil

    public init(stdinIsTerminal: Bool, windowSize: (rows: Int, columns: Int)? = nil) {
        self.stdinIsTerminal = stdinIsTerminal
        self.windowSize = windowSize
    }

    public static func == (a: ConsoleMode, b: ConsoleMode) -> Bool {
        a.stdinIsTerminal == b.stdinIsTerminal && a.windowSize?.rows == b.windowSize?.rows
            && a.windowSize?.columns == b.windowSize?.columns
    }

    /// egg's own standard input (and the size of its terminal), now.
    public static func current() -> ConsoleMode {
        var size: (rows: Int, columns: Int)? = nil
        if isatty(0) == 1 && isatty(1) == 1 {
            var w = winsize()
            if ioctl(1, UInt(TIOCGWINSZ), &w) == 0 && w.ws_row > 0 && w.ws_col > 0 { size = (Int(w.ws_row), Int(w.ws_col)) }
        }
        return ConsoleMode(stdinIsTerminal: isatty(0) == 1, windowSize: size)
    }

    /// Kernel options for the boot bundle (Sources/KernelCore/Devices/ConsoleTerminal.swift).
    public var kernelOptions: [String] {
        var options = stdinIsTerminal ? [] : ["console=pipe"]
        if let windowSize { options.append("winsize=\(windowSize.rows)x\(windowSize.columns)") }
        return options
    }

    /// The -chardev value for COM1's stdio backend.
    public var chardev: String { stdinIsTerminal ? "stdio,id=console,signal=off" : "stdio,id=console" }
}
