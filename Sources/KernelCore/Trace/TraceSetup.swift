// TraceSetup — turning on the syscall trace from the bundle's options (KernelCore/Trace).
// Placeholder until the tracer lands.

extension KernelState {
    /// Called once at boot (Sources/Kernel/Main.swift) with the bundle's kernel options;
    /// `output` writes trace text to the trace port (COM2).
    public func configureTracing(options: [String], output: @escaping (String) -> Void) {}
}
