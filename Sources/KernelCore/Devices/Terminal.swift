// Terminal — the console's line discipline (KernelCore layer, pure logic, host-tested).
//
// Bytes typed on the serial line or the PS/2 keyboard are pushed in by the kernel's
// interrupt handlers (Sources/Kernel/Traps.swift → KernelState.receiveConsoleInput in
// TerminalSyscalls.swift, which also owns read/poll/ioctl on the console). This file decides
// what each byte means under the termios settings and returns what must happen: bytes to
// echo, signals to send. It never blocks and never touches the machine.
//
// Behaviour follows Linux's N_TTY line discipline (drivers/tty/n_tty.c: n_tty_receive_char,
// n_tty_receive_char_special, eraser, echo_char, isig, canon_copy_from_read_buf,
// n_tty_set_termios, input_available_p) and termios(3):
//  - input: ISTRIP, IGNCR / ICRNL for CR, INLCR for NL; IUTF8 keeps erase from splitting a
//    multibyte character.
//  - ISIG: VINTR → SIGINT, VQUIT → SIGQUIT, VSUSP → SIGTSTP; the input queue is flushed
//    first unless NOFLSH, then the character is echoed ("^C" with ECHOCTL).
//  - ICANON: VERASE erases a character ("\b \b" with ECHOE; a control character echoed as
//    "^X" takes two), VWERASE (IEXTEN) a word (alphanumerics and '_' after any trailing
//    other characters, BSD ALTWERASE as Linux does), VKILL the line (erased one character at
//    a time with ECHOKE, else the kill character and, with ECHOK, a newline); '\n', VEOL and
//    VEOL2 end a line; VEOF ends it without being stored — at the start of a line the read
//    returns 0 (end of file); with piped input (configureForPipedInput) that end is final
//    and every later read returns 0 too, as from a pipe. A line holds at most 4095
//    characters (N_TTY_BUF_SIZE - 1); more are dropped, as Linux does, unless
//    `deliversLongLines` (piped input) is set.
//  - non-canonical: every byte is stored; VMIN/VTIME are applied by the reader
//    (TerminalSyscalls.swift), `pollReadable` uses MIN as input_available_p does.
//  - echo: ECHO echoes ordinary characters (ECHOCTL shows a control character c as '^'
//    followed by c ^ 0x40, DEL as "^?", except tab and newline); ECHONL echoes '\n' even
//    without ECHO in canonical mode.
// A control character of 0 is disabled (_POSIX_VDISABLE). Not implemented: IXON flow
// control (^S/^Q are ordinary characters), VLNEXT, VREPRINT, ECHOPRT, PARMRK, and output
// processing — the kernel writes echo and program output unchanged and the host terminal's
// OPOST/ONLCR (QEMU's stdio keeps it) turns "\n" into "\r\n"; TCGETS still reports
// OPOST|ONLCR as Linux does.
import LinuxABI

/// What receiving input requires of the kernel: bytes to write to the console, in order,
/// and signals to send to the foreground process group, in order.
public struct TerminalEffects: Equatable {
    public var echo: [UInt8] = []
    public var signals: [Int] = []
    public init(echo: [UInt8] = [], signals: [Int] = []) {
        self.echo = echo
        self.signals = signals
    }
}

public final class Terminal {
    /// Linux's N_TTY_BUF_SIZE - 1: the longest canonical line.
    public static let lineLimit = 4095
    public static let sigint = 2, sigquit = 3, sigtstp = 20

    public private(set) var settings: Termios
    public var windowSize: Winsize
    /// TIOCGPGRP/TIOCSPGRP and TIOCGSID: one process, so its own pid (set by the kernel).
    public var foregroundProcessGroup: Int = 1
    public var session: Int = 1
    /// Piped input (egg's stdin is not a terminal): a canonical line that reaches the limit is
    /// handed to the reader as it is instead of losing characters.
    public var deliversLongLines = false
    /// Piped input: the end-of-file mark is the end of the stream, not one ^D typed on a
    /// keyboard. On a terminal a read after ^D waits for more typing (n_tty: the EOF is
    /// consumed); on a pipe or a file every later read returns 0 (pipe_read with no writer),
    /// which is what a program whose stdin is egg's pipe expects.
    public var endOfFileIsFinal = false
    /// Set once piped input has ended (`endOfFileIsFinal`): reads return 0 for ever.
    public private(set) var inputEnded = false

    /// A completed canonical line: its bytes (the '\n', VEOL or VEOL2 included; a VEOF
    /// terminator is not stored, `endsWithEOF` records it).
    struct Line {
        var bytes: [UInt8]
        var endsWithEOF: Bool
    }
    private var lines: [Line] = []
    /// Bytes of lines[0] already read (a short read leaves the rest for the next one).
    private var lineOffset = 0
    /// The canonical line being edited.
    private(set) var editing: [UInt8] = []
    /// Non-canonical input, not yet read.
    private var queue: [UInt8] = []
    private var queueStart = 0

    public init(settings: Termios = .linuxDefault, windowSize: Winsize = Winsize(rows: 24, columns: 80)) {
        self.settings = settings
        self.windowSize = windowSize
    }

    // MARK: settings

    public var isCanonical: Bool { settings.localFlags & TermiosBits.ICANON != 0 }

    /// TCSETS*: new settings; `flushInput` for TCSETSF. Switching canonical mode moves the
    /// pending input across as n_tty_set_termios does: to non-canonical, everything typed
    /// (complete lines and the line being edited) becomes readable bytes; to canonical,
    /// pending bytes become one line, readable at once.
    public func apply(_ new: Termios, flushInput: Bool = false) {
        if flushInput { self.flushInput() }
        let wasCanonical = isCanonical
        settings = new
        if wasCanonical && !isCanonical {
            var bytes: [UInt8] = []
            for (i, line) in lines.enumerated() { bytes += i == 0 ? Array(line.bytes[lineOffset...]) : line.bytes }
            bytes += editing
            lines.removeAll()
            lineOffset = 0
            editing.removeAll()
            queue = Array(queue[queueStart...]) + bytes
            queueStart = 0
        } else if !wasCanonical && isCanonical && queueStart < queue.count {
            lines.append(Line(bytes: Array(queue[queueStart...]), endsWithEOF: false))
            queue.removeAll()
            queueStart = 0
        }
    }

    /// TCFLSH(TCIFLUSH), TCSETSF, and the flush before a signal: all pending input goes.
    public func flushInput() {
        lines.removeAll()
        lineOffset = 0
        editing.removeAll()
        queue.removeAll()
        queueStart = 0
    }

    private func has(local flag: UInt32) -> Bool { settings.localFlags & flag != 0 }
    private func has(input flag: UInt32) -> Bool { settings.inputFlags & flag != 0 }

    /// Whether `c` is the (enabled) control character at `index` of c_cc.
    private func isControl(_ c: UInt8, _ index: Int) -> Bool {
        let v = settings.controlCharacters[index]
        return v != 0 && v == c
    }

    // MARK: input

    /// Feed typed bytes through the discipline.
    public func receive(_ bytes: [UInt8]) -> TerminalEffects {
        var effects = TerminalEffects()
        for b in bytes { receive(b, into: &effects) }
        return effects
    }

    public func receive(_ byte: UInt8, into effects: inout TerminalEffects) {
        var c = byte
        if has(input: TermiosBits.ISTRIP) { c &= 0x7F }
        if c == 0x0D {
            if has(input: TermiosBits.IGNCR) { return }
            if has(input: TermiosBits.ICRNL) { c = 0x0A }
        } else if c == 0x0A && has(input: TermiosBits.INLCR) {
            c = 0x0D
        }
        if has(local: TermiosBits.ISIG) {
            var signal = 0
            if isControl(c, TermiosBits.VINTR) { signal = Terminal.sigint }
            else if isControl(c, TermiosBits.VQUIT) { signal = Terminal.sigquit }
            else if isControl(c, TermiosBits.VSUSP) { signal = Terminal.sigtstp }
            if signal != 0 {
                // isig(): flush unless NOFLSH, signal, then echo the character.
                if !has(local: TermiosBits.NOFLSH) { flushInput() }
                effects.signals.append(signal)
                if has(local: TermiosBits.ECHO) { echoCharacter(c, into: &effects.echo) }
                return
            }
        }
        if isCanonical {
            if isControl(c, TermiosBits.VERASE) || isControl(c, TermiosBits.VKILL)
                || (isControl(c, TermiosBits.VWERASE) && has(local: TermiosBits.IEXTEN)) {
                erase(c, into: &effects.echo)
                return
            }
            if c == 0x0A {
                if has(local: TermiosBits.ECHO) || has(local: TermiosBits.ECHONL) { effects.echo.append(0x0A) }
                completeLine(with: c)
                return
            }
            if isControl(c, TermiosBits.VEOF) {
                completeLine(with: nil)
                return
            }
            if isControl(c, TermiosBits.VEOL) || (isControl(c, TermiosBits.VEOL2) && has(local: TermiosBits.IEXTEN)) {
                if has(local: TermiosBits.ECHO) { echoCharacter(c, into: &effects.echo) }
                completeLine(with: c)
                return
            }
            if editing.count >= Terminal.lineLimit {
                guard deliversLongLines else { return }  // n_tty drops it (a bell with IMAXBEL)
                lines.append(Line(bytes: editing, endsWithEOF: false))
                editing.removeAll()
            }
            if has(local: TermiosBits.ECHO) { echoCharacter(c, into: &effects.echo) }
            editing.append(c)
            return
        }
        if has(local: TermiosBits.ECHO) { echoCharacter(c, into: &effects.echo) }
        queue.append(c)
    }

    private func completeLine(with terminator: UInt8?) {
        if terminator == nil && editing.isEmpty && endOfFileIsFinal { inputEnded = true }
        var bytes = editing
        if let terminator { bytes.append(terminator) }
        lines.append(Line(bytes: bytes, endsWithEOF: terminator == nil))
        editing.removeAll()
    }

    /// echo_char: a control character other than tab and newline as "^X" under ECHOCTL.
    private func echoCharacter(_ c: UInt8, into echo: inout [UInt8]) {
        if has(local: TermiosBits.ECHOCTL) && Terminal.isControlCharacter(c) && c != 0x09 && c != 0x0A {
            echo.append(0x5E)  // '^'
            echo.append(c ^ 0x40)
        } else {
            echo.append(c)
        }
    }

    static func isControlCharacter(_ c: UInt8) -> Bool { c < 0x20 || c == 0x7F }
    static func isWordCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }

    /// n_tty.c eraser(): VERASE, VWERASE or VKILL on the line being edited.
    private func erase(_ c: UInt8, into echo: inout [UInt8]) {
        if editing.isEmpty { return }
        let echoing = has(local: TermiosBits.ECHO)
        enum Kind { case character, word, line }
        var kind = Kind.line
        if isControl(c, TermiosBits.VERASE) { kind = .character }
        else if isControl(c, TermiosBits.VWERASE) { kind = .word }
        else {
            if !echoing { editing.removeAll(); return }
            if !has(local: TermiosBits.ECHOK) || !has(local: TermiosBits.ECHOKE) || !has(local: TermiosBits.ECHOE) {
                editing.removeAll()
                echoCharacter(c, into: &echo)
                if has(local: TermiosBits.ECHOK) { echo.append(0x0A) }
                return
            }
        }
        var seenWordCharacters = false
        while !editing.isEmpty {
            // One character, all of a UTF-8 sequence under IUTF8.
            var start = editing.count - 1
            if has(input: TermiosBits.IUTF8) {
                while start > 0 && editing[start] & 0xC0 == 0x80 { start -= 1 }
            }
            let erased = editing[start]
            if kind == .word {
                if Terminal.isWordCharacter(erased) { seenWordCharacters = true }
                else if seenWordCharacters { break }
            }
            editing.removeSubrange(start...)
            if echoing {
                if kind == .character && !has(local: TermiosBits.ECHOE) {
                    echoCharacter(c, into: &echo)
                } else if erased == 0x09 {
                    // Back to the tab's start: columns from the line's start (taken as
                    // column 0; Linux tracks the column where the line began).
                    let width = 8 - column(of: editing) % 8
                    for _ in 0..<width { echo.append(0x08) }
                } else {
                    let control = Terminal.isControlCharacter(erased)
                    let cells = control ? (has(local: TermiosBits.ECHOCTL) ? 2 : 0) : 1
                    for _ in 0..<cells { echo += [0x08, 0x20, 0x08] }
                }
            }
            if kind == .character { break }
        }
    }

    /// The screen column after echoing `bytes` from column 0.
    private func column(of bytes: [UInt8]) -> Int {
        var col = 0
        for b in bytes {
            if b == 0x09 { col = (col | 7) + 1 }
            else if Terminal.isControlCharacter(b) { col += has(local: TermiosBits.ECHOCTL) ? 2 : 0 }
            else if has(input: TermiosBits.IUTF8) && b & 0xC0 == 0x80 { continue }
            else { col += 1 }
        }
        return col
    }

    // MARK: reading

    /// Whether a read would return at once: canonical — a complete line or an end of file;
    /// non-canonical — a byte.
    public var hasInput: Bool { inputEnded || (isCanonical ? !lines.isEmpty : queueStart < queue.count) }

    /// poll/epoll readiness (input_available_p with poll = 1): non-canonical with VTIME 0
    /// and VMIN > 0 wants VMIN bytes.
    public var pollReadable: Bool {
        if inputEnded { return true }   // a read returns 0 at once
        if isCanonical { return !lines.isEmpty }
        let min = Int(settings.controlCharacters[TermiosBits.VMIN])
        let time = settings.controlCharacters[TermiosBits.VTIME]
        return queuedByteCount >= (time == 0 && min > 0 ? min : 1)
    }

    /// Non-canonical bytes waiting.
    public var queuedByteCount: Int { queue.count - queueStart }

    /// FIONREAD/TIOCINQ: canonical — the bytes of complete lines (EOF markers not counted,
    /// inq_canon); non-canonical — every byte waiting.
    public var readableByteCount: Int {
        if !isCanonical { return queuedByteCount }
        var n = 0
        for line in lines { n += line.bytes.count }
        return n - lineOffset
    }

    /// Canonical read: at most `maximum` bytes of the first complete line (the rest stays
    /// for the next read); an empty array is end of file; nil when no line is complete.
    /// Once piped input has ended, every read past the last line is end of file.
    public func readLine(maximum: Int) -> [UInt8]? {
        guard isCanonical, maximum > 0 else { return nil }
        if lines.isEmpty { return inputEnded ? [] : nil }
        let line = lines[0]
        let n = min(maximum, line.bytes.count - lineOffset)
        let out = Array(line.bytes[lineOffset..<(lineOffset + n)])
        lineOffset += n
        // A line read to its end goes, with its EOF marker if it has one.
        if lineOffset == line.bytes.count {
            lines.removeFirst()
            lineOffset = 0
        }
        return out
    }

    /// Non-canonical read: up to `maximum` of the waiting bytes (possibly none).
    public func takeQueued(maximum: Int) -> [UInt8] {
        let n = min(maximum, queuedByteCount)
        let out = Array(queue[queueStart..<(queueStart + n)])
        queueStart += n
        if queueStart == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueStart = 0
        }
        return out
    }

    // MARK: piped input

    /// egg's stdin is a pipe or a file, not a terminal (the bundle's "console=pipe" option):
    /// like a serial line that nobody types on, the terminal neither echoes nor edits — no
    /// ECHO/ECHONL, no ISIG, no CR→NL, erase/kill/word-erase disabled — so the bytes reach
    /// the program unchanged. ICANON and VEOF stay: egg ends the input with ^D
    /// (Sources/EggHost/GuestRunner.swift) and reads return line by line as from a pipe.
    public func configureForPipedInput() {
        var t = settings
        t.inputFlags &= ~(TermiosBits.ICRNL | TermiosBits.INLCR | TermiosBits.IGNCR | TermiosBits.ISTRIP)
        t.localFlags &= ~(TermiosBits.ECHO | TermiosBits.ECHONL | TermiosBits.ISIG | TermiosBits.IEXTEN)
        t.controlCharacters[TermiosBits.VERASE] = 0
        t.controlCharacters[TermiosBits.VKILL] = 0
        t.controlCharacters[TermiosBits.VWERASE] = 0
        apply(t)
        deliversLongLines = true
        endOfFileIsFinal = true
    }
}
