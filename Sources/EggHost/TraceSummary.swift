// TraceSummary — strace -c's table from the kernel's trace lines (EggHost layer, host only).
//
// With --trace-summary the kernel appends each call's duration, " <0.000001234>", to its
// line (Sources/KernelCore/Trace/SerialSyscallTracer.swift). egg parses every line here and
// prints the table in strace 6.1's format (src/count.c: "%6.2f %11.6f %11lu %9u %9.u %s",
// sorted by time, then by syscall number). Calls that never return (exit_group = ?) are
// not counted, as in strace.

import Foundation
import LinuxABI

/// One trace line taken apart.
public struct TraceLine: Equatable {
    public var name: String
    public var failed: Bool
    public var nanoseconds: UInt64?

    public init(name: String, failed: Bool, nanoseconds: UInt64?) {
        self.name = name
        self.failed = failed
        self.nanoseconds = nanoseconds
    }

    /// Parses "[pid N] HH:MM:SS.uuuuuu name(args) = result <s.nnnnnnnnn>"; nil for lines
    /// that are not calls ("+++ exited with 0 +++") or never returned ("= ?").
    public init?(parsing line: String) {
        var rest = Substring(line)
        if rest.hasPrefix("[pid "), let close = rest.firstIndex(of: "]") {
            rest = rest[rest.index(after: close)...].drop(while: { $0 == " " })
        }
        // Optional time of day: digits, colons and a dot, then a space.
        if let space = rest.firstIndex(of: " "), rest[..<space].allSatisfy({ $0.isNumber || $0 == ":" || $0 == "." }),
           rest[..<space].contains(":") {
            rest = rest[rest.index(after: space)...]
        }
        guard let open = rest.firstIndex(of: "("), open > rest.startIndex else { return nil }
        let name = rest[..<open]
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        var durationText: Substring? = nil
        var body = rest
        if body.hasSuffix(">"), let lt = body.range(of: " <", options: .backwards) {
            durationText = body[lt.upperBound..<body.index(before: body.endIndex)]
            body = body[..<lt.lowerBound]
        }
        guard let equals = body.range(of: " = ", options: .backwards) ?? body.range(of: ") =", options: .backwards) else { return nil }
        let result = body[equals.upperBound...].drop(while: { $0 == " " })
        if result.hasPrefix("?") && !result.hasPrefix("? E") { return nil }
        self.name = String(name)
        self.failed = result.hasPrefix("-1 ") || result.hasPrefix("? E")
        self.nanoseconds = durationText.flatMap(TraceLine.parseSeconds)
    }

    /// "0.000001234" → 1234.
    static func parseSeconds(_ text: Substring) -> UInt64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let whole = UInt64(parts[0]), parts[1].count <= 9,
              let fraction = UInt64(parts[1] + String(repeating: "0", count: 9 - parts[1].count)) else { return nil }
        return whole * 1_000_000_000 + fraction
    }
}

/// Removes the " <seconds>" duration the kernel adds in summary mode.
public func stripDuration(_ line: String) -> String {
    guard line.hasSuffix(">"), let lt = line.range(of: " <", options: .backwards) else { return line }
    let inside = line[lt.upperBound..<line.index(before: line.endIndex)]
    guard inside.allSatisfy({ $0.isNumber || $0 == "." }) else { return line }
    return String(line[..<lt.lowerBound])
}

public struct TraceSummary {
    struct Row {
        var name: String
        var calls = 0
        var errors = 0
        var nanoseconds: UInt64 = 0
    }
    var rows: [Row] = []

    /// Per process, when the guest started others (issue 16: the summary names them): the
    /// thread → process map and each process's program are followed from the trace itself —
    /// fork/vfork/clone results (a clone with CLONE_THREAD adds a thread to its caller's
    /// process) and successful execve/execveat paths.
    struct ProcessRow {
        var pid: Int
        var program: String
        var calls = 0
        var errors = 0
        var nanoseconds: UInt64 = 0
    }
    var processes: [Int: ProcessRow] = [:]
    var processOfThread: [Int: Int] = [:]
    /// The first program's name (PID 1: lines before the first "[pid N]" prefix are its).
    public var firstProgram: String

    public init(firstProgram: String = "") { self.firstProgram = firstProgram }

    /// Counts a line in its process's row as well as in the table.
    public mutating func add(_ line: TraceLine, raw: String) {
        add(line)
        let tid = TraceSummary.threadID(in: raw) ?? 1
        let pid = processOfThread[tid] ?? tid
        if processes[pid] == nil { processes[pid] = ProcessRow(pid: pid, program: pid == 1 ? firstProgram : "?") }
        processes[pid]!.calls += 1
        if line.failed { processes[pid]!.errors += 1 }
        processes[pid]!.nanoseconds += line.nanoseconds ?? 0
        switch line.name {
        case "execve", "execveat":
            if !line.failed, let path = TraceSummary.firstString(in: raw) {
                processes[pid]!.program = String(path.split(separator: "/").last ?? Substring(path))
            }
        case "fork", "vfork", "clone", "clone3":
            guard let child = TraceSummary.resultValue(in: raw), child > 0 else { break }
            if raw.contains("CLONE_THREAD") {
                processOfThread[child] = pid
            } else {
                processOfThread[child] = child
                processes[child] = ProcessRow(pid: child, program: processes[pid]!.program)
            }
        default:
            break
        }
    }

    /// "[pid    12] ..." → 12.
    static func threadID(in raw: String) -> Int? {
        guard raw.hasPrefix("[pid "), let close = raw.firstIndex(of: "]") else { return nil }
        return Int(raw[raw.index(raw.startIndex, offsetBy: 5)..<close].trimmingCharacters(in: .whitespaces))
    }

    /// The call's result: the number after the last " = " (before a " <seconds>" suffix).
    static func resultValue(in raw: String) -> Int? {
        let body = stripDuration(raw)
        guard let equals = body.range(of: " = ", options: .backwards) else { return nil }
        let text = body[equals.upperBound...].prefix { $0 == "-" || $0.isNumber }
        return Int(text)
    }

    /// The first double-quoted argument (execve's path), without its escapes resolved.
    static func firstString(in raw: String) -> String? {
        guard let open = raw.firstIndex(of: "(") else { return nil }
        let rest = raw[raw.index(after: open)...]
        guard let q1 = rest.firstIndex(of: "\"") else { return nil }
        let after = rest[rest.index(after: q1)...]
        guard let q2 = after.firstIndex(of: "\"") else { return nil }
        return String(after[..<q2])
    }

    public mutating func add(_ line: TraceLine) {
        let index: Int
        if let found = rows.firstIndex(where: { $0.name == line.name }) {
            index = found
        } else {
            rows.append(Row(name: line.name))
            index = rows.count - 1
        }
        rows[index].calls += 1
        if line.failed { rows[index].errors += 1 }
        rows[index].nanoseconds += line.nanoseconds ?? 0
    }

    public var isEmpty: Bool { rows.isEmpty }

    static func number(of name: String) -> Int {
        if let n = syscallNumber(named: name) { return n }
        if name.hasPrefix("syscall_0x"), let n = Int(name.dropFirst(10), radix: 16) { return n }
        return Int.max
    }

    /// strace -c's table, ending with a newline.
    public func render() -> String {
        let sorted = rows.sorted { a, b in
            a.nanoseconds != b.nanoseconds ? a.nanoseconds > b.nanoseconds
                                          : TraceSummary.number(of: a.name) < TraceSummary.number(of: b.name)
        }
        let totalNanoseconds = rows.reduce(UInt64(0)) { $0 + $1.nanoseconds }
        let totalCalls = rows.reduce(0) { $0 + $1.calls }
        let totalErrors = rows.reduce(0) { $0 + $1.errors }
        let rule = "------ ----------- ----------- --------- --------- ----------------\n"
        var text = "% time     seconds  usecs/call     calls    errors syscall\n" + rule
        func row(_ percent: Double, _ ns: UInt64, _ calls: Int, _ errors: Int, _ name: String) -> String {
            let usecs = calls == 0 ? 0 : ns / 1000 / UInt64(calls)
            let errorText = errors == 0 ? "" : String(errors)
            return String(format: "%6.2f %11.6f %11lu %9u ", percent, Double(ns) / 1e9, UInt(usecs), UInt32(calls))
                + String(repeating: " ", count: max(0, 9 - errorText.count)) + errorText + " " + name + "\n"
        }
        for r in sorted {
            let percent = totalNanoseconds == 0 ? 0 : Double(r.nanoseconds) * 100 / Double(totalNanoseconds)
            text += row(percent, r.nanoseconds, r.calls, r.errors, r.name)
        }
        text += rule
        text += row(100, totalNanoseconds, totalCalls, totalErrors, "total")
        if processes.count > 1 {
            // One line per process (pid order): its program, calls, errors and seconds.
            text += "\n    pid program              calls    errors     seconds\n"
            for p in processes.values.sorted(by: { $0.pid < $1.pid }) {
                let program = p.program.isEmpty ? "?" : p.program
                text += String(format: "%7d ", p.pid) + program.padding(toLength: max(16, program.count), withPad: " ", startingAt: 0)
                    + String(format: " %9u %9u %11.6f\n", UInt32(p.calls), UInt32(p.errors), Double(p.nanoseconds) / 1e9)
            }
        }
        return text
    }
}
