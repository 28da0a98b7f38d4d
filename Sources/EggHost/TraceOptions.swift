// TraceOptions — `egg run --trace[=LIST] --trace-time --trace-summary --trace-file F`
// turned into kernel options (EggHost layer, host only).
//
// The kernel reads them from the boot bundle's option records
// (Sources/KernelCore/Trace/SerialSyscallTracer.swift, TraceOptions.parse) and writes one
// strace line per call to COM2; egg relays them (TraceRelay.swift) and, for --trace-summary,
// builds strace -c's table from them (TraceSummary.swift). The LIST syntax is strace's
// `-e trace=` (Sources/KernelCore/Trace/SyscallFilter.swift), checked here before booting.

import KernelCore

public struct TraceRequest: Equatable, Sendable {
    /// Print the lines (--trace); false with --trace-summary alone, like strace -c.
    public var showLines: Bool
    /// strace -e trace= list, nil for every call.
    public var filter: String?
    /// --trace-time: time of day before each line.
    public var timeOfDay: Bool
    /// --trace-summary: the count/errors/time table at the end.
    public var summary: Bool
    /// --trace-file: where lines and table go instead of stderr.
    public var outputPath: String?

    public init(showLines: Bool = true, filter: String? = nil, timeOfDay: Bool = false, summary: Bool = false,
                outputPath: String? = nil) {
        self.showLines = showLines
        self.filter = filter
        self.timeOfDay = timeOfDay
        self.summary = summary
        self.outputPath = outputPath
    }

    /// nil when the options ask for no tracing at all.
    public static func from(trace: Bool, filter: String?, timeOfDay: Bool, summary: Bool,
                            outputPath: String?) -> TraceRequest? {
        guard trace || filter != nil || summary else { return nil }
        return TraceRequest(showLines: trace || filter != nil || !summary, filter: filter,
                            timeOfDay: timeOfDay, summary: summary, outputPath: outputPath)
    }

    /// A problem with the filter list, as a message for the user; nil when it is fine.
    public func validationProblem() -> String? {
        guard let filter else { return nil }
        if case .failure(let error) = SyscallFilter.parse(filter) {
            return "--trace=\(filter): \(error.message)"
        }
        return nil
    }

    /// The bundle's option records for the kernel.
    public var kernelOptions: [String] {
        var options = ["trace=1"]
        if let filter { options.append("trace-filter=" + filter) }
        if timeOfDay { options.append("trace-time=1") }
        if summary { options.append("trace-durations=1") }
        return options
    }
}

/// Rewrites the command line words strace-style options need before the argument parser
/// sees them: `--trace=LIST` becomes `--trace --trace-filter LIST`, and `--gdb` followed by
/// a port number becomes `--gdb-port N` (a bare `--gdb` uses the default port). Words after
/// `--` (the guest's own arguments) are left alone.
public func rewriteOptionalValueOptions(_ words: [String]) -> [String] {
    var out: [String] = []
    var index = 0
    while index < words.count {
        let word = words[index]
        if word == "--" {
            out.append(contentsOf: words[index...])
            break
        }
        if word.hasPrefix("--trace=") {
            out.append(contentsOf: ["--trace", "--trace-filter", String(word.dropFirst("--trace=".count))])
        } else if word.hasPrefix("--gdb=") {
            out.append(contentsOf: ["--gdb-port", String(word.dropFirst("--gdb=".count))])
        } else if word == "--gdb" {
            if index + 1 < words.count, let _ = Int(words[index + 1]) {
                out.append(contentsOf: ["--gdb-port", words[index + 1]])
                index += 1
            } else {
                out.append(contentsOf: ["--gdb-port", String(defaultGDBPort)])
            }
        } else {
            out.append(word)
        }
        index += 1
    }
    return out
}

public let defaultGDBPort = 1234
