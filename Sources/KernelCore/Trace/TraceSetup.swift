// TraceSetup — turning on the syscall trace from the bundle's options (KernelCore/Trace).
//
// egg puts "trace=1" (and trace-filter=, trace-time=, trace-durations=) into the boot bundle
// as option records (Sources/EggHost/TraceOptions.swift); without them no tracer is
// installed and KernelState.dispatch pays one nil check per call.

extension KernelState {
    /// Called once at boot (Sources/Kernel/Main.swift) with the bundle's kernel options;
    /// `output` writes trace text to the trace port (COM2).
    public func configureTracing(options: [String], output: @escaping (String) -> Void) {
        guard let traceOptions = TraceOptions.parse(options) else { return }
        tracer = SerialSyscallTracer(options: traceOptions, output: output)
    }
}
