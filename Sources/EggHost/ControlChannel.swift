// ControlChannel — the kernel → egg status protocol, decoded (EggHost layer, host only).
//
// The kernel writes text lines to I/O port 0xE9; QEMU's isa-debugcon appends them to a
// file egg reads after QEMU ends (Sources/Kernel/MachinePlatform.swift, HostChannel):
//   exit N          the guest's status, 0...255 (128+signal when it died of a signal)
//   panic MESSAGE   the kernel gave up
//   anything else   diagnostics (boot-tsc ..., info ...), shown with --verbose only
// Then the kernel writes N to isa-debug-exit (port 0xF4) and QEMU exits with (N<<1)|1;
// egg uses that code only as a cross-check. Mapping text to egg's own status is pure here.

import Foundation

/// egg's exit statuses besides the guest's own (documented in `egg run --help` and the
/// README). 125-127 are docker's reserved statuses (docker run reference, "Exit status"),
/// so a script can tell egg's own refusals from a program's status 2.
public enum EggStatus {
    /// egg itself failed or refused its options (usage error, bad -m/-p/-e, --files missing,
    /// no kernel or QEMU, --syscalls does not compile, ...).
    public static let eggFailure: Int32 = 125
    /// The file exists but egg cannot run it: not ELF, 32-bit, dynamically linked, truncated,
    /// a directory, FIFO or device, not readable.
    public static let notRunnable: Int32 = 126
    /// The file does not exist.
    public static let notFound: Int32 = 127
    public static let timeout: Int32 = 124
    public static let kernelPanic: Int32 = 250
    public static let bootFailure: Int32 = 251
}

/// What the control channel said.
public struct ControlReport: Equatable {
    /// The first `exit N` line's N, if any.
    public var exitStatus: Int?
    /// The first `panic` line's message, if any.
    public var panicMessage: String?
    /// Every other line, in order.
    public var diagnostics: [String]

    public init(exitStatus: Int? = nil, panicMessage: String? = nil, diagnostics: [String] = []) {
        self.exitStatus = exitStatus
        self.panicMessage = panicMessage
        self.diagnostics = diagnostics
    }

    /// Parses the channel's whole text. A malformed `exit` line (no number, out of 0...255) is
    /// kept as a diagnostic rather than trusted. A last line without a newline still counts:
    /// the kernel may have stopped mid-line.
    public init(parsing text: String) {
        self.init()
        // isNewline: "\r\n" is one Character in Swift, so splitting on "\n" alone would miss it.
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            if line.hasPrefix("exit "), exitStatus == nil, panicMessage == nil,
               let value = Int(line.dropFirst(5).trimmingCharacters(in: .whitespaces)),
               (0...255).contains(value) {
                exitStatus = value
            } else if line == "panic" || line.hasPrefix("panic ") {
                if panicMessage == nil {
                    panicMessage = String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)
                }
            } else {
                diagnostics.append(String(line))
            }
        }
    }
}

/// How one run ended, as egg reports it.
public enum RunOutcome: Equatable {
    case guestExited(Int32)
    case kernelPanic(String)
    case bootFailure
    case timedOut
    case interrupted(signal: Int32)

    public var exitStatus: Int32 {
        switch self {
        case .guestExited(let status): return status
        case .kernelPanic: return EggStatus.kernelPanic
        case .bootFailure: return EggStatus.bootFailure
        case .timedOut: return EggStatus.timeout
        case .interrupted(let signal): return 128 + signal
        }
    }
}

/// Decides the outcome from the control channel and how QEMU ended. A timeout or a signal
/// sent to egg wins; then a panic (even if an exit line followed: the panic is the news);
/// then the exit line; no status at all is a boot failure.
public func decideOutcome(report: ControlReport, timedOut: Bool, interruptedBy signal: Int32?) -> RunOutcome {
    if timedOut { return .timedOut }
    if let signal { return .interrupted(signal: signal) }
    if let message = report.panicMessage { return .kernelPanic(message) }
    if let status = report.exitStatus { return .guestExited(Int32(status)) }
    return .bootFailure
}

/// isa-debug-exit makes QEMU exit with (v<<1)|1; true when QEMU's code agrees with `status`.
public func debugExitAgrees(qemuExitCode: Int32, status: Int) -> Bool {
    qemuExitCode == Int32((((status & 0xFF) << 1) | 1) & 0xFF)
}
