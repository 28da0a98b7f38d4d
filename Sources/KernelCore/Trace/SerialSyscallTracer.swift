// SerialSyscallTracer — the --trace tracer: one strace line per system call, handed to an
// output function (KernelCore/Trace). The kernel passes a writer for the trace serial port,
// COM2 (Sources/Kernel/TraceSerial.swift); egg reads that port and prints the lines
// (Sources/EggHost/TraceRelay.swift). Lines are formatted by SyscallTraceFormatter.swift.
//
// Lines are printed when a call returns, so that output arguments can be decoded; calls that
// never return (exit, exit_group) print at entry with "= ?", then strace's
// "+++ exited with N +++". With more than one thread each line starts with "[pid TID] "
// (width 5, as strace pads to pid_max's digits on a default Linux). --trace-time adds the
// entry time of day (UTC, microseconds, like strace -tt); the summary mode adds the call's
// duration as " <seconds.nanoseconds>" (strace -T --syscall-times=ns), which egg turns into
// the strace -c table and strips.
import LinuxABI

public struct TraceOptions: Equatable {
    public var filter: SyscallFilter = .all
    /// strace -tt: "HH:MM:SS.uuuuuu " before each line.
    public var timeOfDay = false
    /// strace -T with nanoseconds: " <0.000001234>" after each line.
    public var durations = false
    public var stringLimit = 32

    public init() {}

    /// The trace options among the bundle's kernel options ("trace=1", "trace-filter=...",
    /// "trace-time=1", "trace-durations=1", "trace-strsize=N"); nil when tracing is off.
    public static func parse(_ options: [String]) -> TraceOptions? {
        var enabled = false
        var result = TraceOptions()
        for option in options {
            let bytes = Array(option.utf8)
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let key = String(decoding: bytes[0..<eq], as: UTF8.self)
            let value = String(decoding: bytes[(eq + 1)...], as: UTF8.self)
            switch key {
            case "trace": enabled = value != "0"
            case "trace-filter":
                if case .success(let filter) = SyscallFilter.parse(value) { result.filter = filter }
            case "trace-time": result.timeOfDay = value != "0"
            case "trace-durations": result.durations = value != "0"
            case "trace-strsize":
                if let n = Int(value), n > 0 { result.stringLimit = n }
            default: break
            }
        }
        return enabled ? result : nil
    }
}

public final class SerialSyscallTracer: SyscallTracer {
    public let options: TraceOptions
    let formatter: SyscallTraceFormatter
    let output: (String) -> Void
    /// Entry times of calls in progress, one per thread (tid, monotonic ns, realtime ns).
    var inProgress: [(tid: Int, start: UInt64, realtime: Int64)] = []

    public init(options: TraceOptions, output: @escaping (String) -> Void) {
        self.options = options
        self.formatter = SyscallTraceFormatter(stringLimit: options.stringLimit)
        self.output = output
    }

    public func willDispatch(_ k: KernelState, _ arguments: SyscallArguments) {
        guard options.filter.contains(arguments.number) else { return }
        let realtime = options.timeOfDay ? k.platform.realtimeNanoseconds() : 0
        if SyscallTraceFormatter.returnStyle(arguments.number) == .never {
            let lastThread = k.process.threads.count <= 1
            let prefix = linePrefix(k, realtime: realtime)
            var text = formatter.line(arguments, result: nil, memory: k.memory, prefix: prefix) + "\n"
            if arguments.number == SyscallNumber.exit_group.rawValue || lastThread {
                text += prefix + "+++ exited with " + decimalString(Int64(arguments.int32(0) & 0xff)) + " +++\n"
            }
            output(text)
            return
        }
        let tid = k.currentThread.tid
        let start = k.platform.monotonicNanoseconds()
        for i in 0..<inProgress.count where inProgress[i].tid == tid {
            inProgress[i] = (tid, start, realtime)
            return
        }
        inProgress.append((tid, start, realtime))
    }

    public func didDispatch(_ k: KernelState, _ arguments: SyscallArguments, _ result: SyscallResult) {
        guard options.filter.contains(arguments.number) else { return }
        let end = k.platform.monotonicNanoseconds()
        let tid = k.currentThread.tid
        var start = end
        var realtime: Int64 = 0
        for i in 0..<inProgress.count where inProgress[i].tid == tid {
            start = inProgress[i].start
            realtime = inProgress[i].realtime
            inProgress.remove(at: i)
            break
        }
        var text = formatter.line(arguments, result: result, memory: k.memory, prefix: linePrefix(k, realtime: realtime))
        if options.durations { text += " <" + SerialSyscallTracer.seconds(end &- start) + ">" }
        output(text + "\n")
    }

    /// "[pid     2] " (the thread id, as strace -f) when several threads or processes
    /// exist, then "12:34:56.123456 " with --trace-time.
    func linePrefix(_ k: KernelState, realtime: Int64) -> String {
        var prefix = ""
        if k.scheduler.threads.count > 1 || k.processes.count > 1 {
            let tid = decimalString(Int64(k.currentThread.tid))
            prefix = "[pid " + String(repeating: " ", count: max(0, 5 - tid.utf8.count)) + tid + "] "
        }
        if options.timeOfDay { prefix += SerialSyscallTracer.timeOfDay(realtime) + " " }
        return prefix
    }

    /// "HH:MM:SS.uuuuuu" (UTC) of a realtime clock value in nanoseconds.
    public static func timeOfDay(_ nanoseconds: Int64) -> String {
        let total = nanoseconds < 0 ? 0 : nanoseconds
        let secondOfDay = (total / 1_000_000_000) % 86_400
        let micro = (total / 1_000) % 1_000_000
        return twoDigits(secondOfDay / 3600) + ":" + twoDigits(secondOfDay / 60 % 60) + ":"
            + twoDigits(secondOfDay % 60) + "." + padded(micro, width: 6)
    }

    /// "0.000001234": nanoseconds as seconds with nine decimals.
    public static func seconds(_ nanoseconds: UInt64) -> String {
        unsignedDecimalString(nanoseconds / 1_000_000_000) + "." + padded(Int64(nanoseconds % 1_000_000_000), width: 9)
    }

    static func twoDigits(_ v: Int64) -> String { padded(v, width: 2) }

    static func padded(_ v: Int64, width: Int) -> String {
        let digits = decimalString(v)
        return String(repeating: "0", count: max(0, width - digits.utf8.count)) + digits
    }
}
