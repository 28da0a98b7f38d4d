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

    public init(stdinIsTerminal: Bool) { self.stdinIsTerminal = stdinIsTerminal }

    /// egg's own standard input, now.
    public static func current() -> ConsoleMode { ConsoleMode(stdinIsTerminal: isatty(0) == 1) }

    /// Kernel options for the boot bundle (Sources/KernelCore/Devices/ConsoleTerminal.swift).
    public var kernelOptions: [String] { stdinIsTerminal ? [] : ["console=pipe"] }

    /// The -chardev value for COM1's stdio backend.
    public var chardev: String { stdinIsTerminal ? "stdio,id=console,signal=off" : "stdio,id=console" }
}
