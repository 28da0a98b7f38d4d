// EggRun — `egg run` from checked options to exit status (EggHost layer, host only).
//
// Order: validate the program (ExecutableValidation.swift), build the guest environment
// (RunSettings.swift), find the kernel and QEMU (KernelLocator.swift), choose the
// accelerator (AcceleratorProbe.swift), write the bundle (GuestBundle.swift) into a fresh
// temporary directory, run QEMU (QEMUCommand.swift, GuestRunner.swift), then turn the
// control channel into egg's status (ControlChannel.swift). Sources/egg/Egg.swift only parses
// the command line into a RunRequest.

import Foundation

public struct RunRequest: Equatable {
    public var binaryPath: String
    public var arguments: [String]
    public var memoryMiB: Int
    public var cpus: Int
    public var environmentEntries: [String]
    public var accelerator: AcceleratorChoice
    public var machine: MachineType
    public var kernelPath: String?
    public var timeoutSeconds: Double?
    public var verbose: Bool
    /// --trace and friends (TraceOptions.swift); nil when off.
    public var trace: TraceRequest? = nil
    /// --gdb [PORT] (GDBSession.swift).
    public var gdbPort: Int? = nil
    /// --syscalls FILE.swift: a kernel with the user's handlers (CustomSyscallKernel.swift).
    public var syscallsSource: String? = nil
    /// --files DIR: packed as the guest's root file system (FileArchive.swift).
    public var filesDirectory: String? = nil
    /// -p/--publish values and --net (NetworkOptions.swift); nil mode: the default, a card.
    public var publish: [String] = []
    public var networkMode: String? = nil
    /// --stop-timeout: seconds between a forwarded SIGTERM and killing the guest (HostStreams.swift).
    public var stopTimeoutSeconds = 10

    public init(binaryPath: String, arguments: [String] = [], memoryMiB: Int = 256, cpus: Int = 1,
                environmentEntries: [String] = [], accelerator: AcceleratorChoice = .auto,
                machine: MachineType = .pc, kernelPath: String? = nil, timeoutSeconds: Double? = nil,
                verbose: Bool = false) {
        self.binaryPath = binaryPath
        self.arguments = arguments
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.environmentEntries = environmentEntries
        self.accelerator = accelerator
        self.machine = machine
        self.kernelPath = kernelPath
        self.timeoutSeconds = timeoutSeconds
        self.verbose = verbose
    }
}

/// Writes "egg: TEXT" to stderr.
public func complain(_ text: String) {
    FileHandle.standardError.write(Data(("egg: " + text + "\n").utf8))
}

/// Runs the request and returns egg's exit status; every message has been printed.
public func runGuest(_ request: RunRequest) -> Int32 {
    installSignalHandlers()
    let hostEnvironment = ProcessInfo.processInfo.environment
    let verbose: (String) -> Void = { if request.verbose { complain($0) } }

    let executable: ValidatedExecutable
    switch validateExecutable(atPath: request.binaryPath) {
    case .success(let checked): executable = checked
    case .failure(let problem):
        complain("\(request.binaryPath): \(problem.message)")
        return EggStatus.badInput
    }
    let environment: [String]
    switch mergeEnvironment(base: defaultGuestEnvironment(hostTERM: hostEnvironment["TERM"]),
                            overrides: request.environmentEntries, hostValue: { hostEnvironment[$0] }) {
    case .success(let merged): environment = merged
    case .failure(let problem):
        complain(problem.message)
        return EggStatus.badInput
    }
    if let problem = request.trace?.validationProblem() {
        complain(problem)
        return EggStatus.badInput
    }
    let network: GuestNetwork?
    switch planGuestNetwork(mode: request.networkMode, publish: request.publish, machine: request.machine,
                            checkHostPort: checkHostPortFree) {
    case .success(let planned): network = planned
    case .failure(let problem):
        complain(problem.message)
        return EggStatus.badInput
    }
    var kernel: KernelLocation
    switch locateKernel(option: request.kernelPath, environmentValue: hostEnvironment["EGG_KERNEL"],
                        executablePath: currentExecutablePath(), exists: fileExists) {
    case .success(let found): kernel = found
    case .failure(let problem):
        complain(problem.message)
        return request.kernelPath == nil ? EggStatus.bootFailure : EggStatus.badInput
    }
    let qemu: String
    switch locateQEMU(environment: hostEnvironment) {
    case .success(let found): qemu = found
    case .failure(let problem):
        complain(problem.message)
        return EggStatus.bootFailure
    }
    verbose("kernel: \(kernel.path) (\(kernel.source))")

    let directory: TemporaryRunDirectory
    do { directory = try TemporaryRunDirectory() } catch {
        if case .failed(let text) = error { complain(text) }
        return EggStatus.bootFailure
    }
    defer { directory.remove() }
    if let source = request.syscallsSource {  // CustomSyscallKernel.swift
        switch buildKernelWithSyscalls(source: source, baseKernel: kernel.path, output: directory.file("kernel-custom.elf"),
                                       verbose: request.verbose) {
        case .success(let path): kernel = KernelLocation(path: path, source: "built with --syscalls \(source)")
        case .failure(let problem):
            complain(problem.message)
            return EggStatus.badInput
        }
    }

    let decision: AcceleratorDecision
    switch request.accelerator {
    case .tcg:
        decision = AcceleratorDecision(accelerator: .tcg, reason: "--accel tcg")
    case .kvm:
        if let problem = kvmDeviceProblem() {
            complain("--accel kvm: \(problem); use --accel tcg (or auto)")
            return EggStatus.badInput
        }
        decision = AcceleratorDecision(accelerator: .kvm, reason: "--accel kvm (not probed)")
    case .auto:
        decision = decideAccelerator(qemu: qemu, kernel: kernel, machine: request.machine,
                                     directory: directory, environment: hostEnvironment)
        if let signal = receivedSignal() { return 128 + signal }
    }
    verbose("accelerator: \(decision.accelerator.rawValue) (\(decision.reason))")

    let bundlePath = directory.file("bundle")
    let controlPath = directory.file("control")
    let stderrPath = directory.file("qemu-stderr")
    var fileArchive: [UInt8]? = nil
    if let filesDirectory = request.filesDirectory {
        switch packFileArchive(directory: filesDirectory) {
        case .success(let archive): fileArchive = archive
        case .failure(let problem):
            complain(problem.message)
            return EggStatus.badInput
        }
    }
    // stdin/stdout/stderr over virtio unless both are terminals (HostStreams.swift).
    let useHostStreams = HostStreamPlan.wantedNow(machine: request.machine)
    let bundle = makeGuestBundle(executable: executable.bytes, hostPath: request.binaryPath,
                                 arguments: request.arguments, environment: environment,
                                 options: (request.trace?.kernelOptions ?? []) + networkKernelOptions(network)
                                     + ConsoleMode.current().kernelOptions
                                     + (useHostStreams ? [HostStreamPlan.kernelOption] : []),
                                 fileArchive: fileArchive)
    guard FileManager.default.createFile(atPath: bundlePath, contents: Data(bundle)) else {
        complain("cannot write \(bundlePath): \(String(cString: strerror(errno)))")
        return EggStatus.bootFailure
    }
    var configuration = QEMUConfiguration(kernelPath: kernel.path, bundlePath: bundlePath, controlPath: controlPath,
                                          memoryMiB: request.memoryMiB, cpus: request.cpus,
                                          accelerator: decision.accelerator, machine: request.machine)
    var relay: TraceRelay? = nil  // TraceRelay.swift
    if let trace = request.trace {
        configuration.tracePath = directory.file("trace")
        do { relay = try TraceRelay(request: trace, path: directory.file("trace")) } catch {
            if case .failed(let text) = error { complain(text) }
            return EggStatus.badInput
        }
    }
    configuration.gdbPort = request.gdbPort
    configuration.console = .current()  // ConsoleMode.swift: ^C to the guest when stdin is a tty
    configuration.network = network
    configuration.hostStreams = useHostStreams  // HostStreams.swift
    verbose("qemu: " + shellQuoted([qemu] + configuration.arguments))
    if let port = request.gdbPort {  // GDBSession.swift
        complain(gdbInstructions(kernelPath: kernel.path, guestPath: request.binaryPath,
                                 guestLoadBase: guestLoadBase(executable.bytes), port: port))
    }
    relay?.start()

    var streams: HostStreamRelay? = nil
    if useHostStreams {
        do { streams = try HostStreamRelay(stopTimeout: request.stopTimeoutSeconds) } catch {
            if case .failed(let text) = error { complain(text) }
            return EggStatus.bootFailure
        }
    }
    return superviseQEMU(qemu, arguments: configuration.arguments, controlPath: controlPath,
                         stderrPath: stderrPath, request: request,
                         bootFailureHint: "boot failure", relay: relay, streams: streams) { report in
        symbolizedReport(report, guestPath: request.binaryPath, guest: executable.bytes, kernelPath: kernel.path)
    }
}

/// Run QEMU to the end and turn what the kernel reported on the control channel into egg's
/// exit status, with the messages for each outcome. Shared by `egg run` of a program and of
/// an `egg pack` image (ISORun.swift).
func superviseQEMU(_ qemu: String, arguments: [String], controlPath: String, stderrPath: String,
                   request: RunRequest, bootFailureHint: String, relay: TraceRelay? = nil,
                   streams: HostStreamRelay? = nil,
                   symbolize: (ControlReport) -> [String] = { _ in [] }) -> Int32 {
    func verbose(_ text: String) { if request.verbose { complain(text) } }
    let child: ChildResult
    do {
        child = try runChild(program: qemu, arguments: arguments,
                             stdin: streams != nil ? .null : isatty(0) == 1 ? .inherit : .pump, discardStdout: false,
                             stderrPath: stderrPath, timeout: request.timeoutSeconds,
                             inheriting: streams?.childDescriptors ?? [], started: { streams?.start(child: $0) })
    } catch {
        streams?.abandon()
        relay?.finish()
        if case .failed(let text) = error { complain(text) }
        return EggStatus.bootFailure
    }
    relay?.finish()
    streams?.finish()
    if guestKilledAfterStop {  // HostStreams.swift: the guest did not stop in time
        complain("the program did not stop after SIGTERM; killed")
        return HostStreamPlan.killedStatus
    }

    let controlText = (try? String(contentsOfFile: controlPath, encoding: .utf8)) ?? ""
    let qemuStderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
    let report = ControlReport(parsing: controlText)
    let outcome = decideOutcome(report: report, timedOut: child.timedOut, interruptedBy: child.forwardedSignal)

    if request.verbose {
        for line in report.diagnostics { complain("kernel: \(line)") }
        let how = child.exitCode.map { "exit code \($0)" } ?? "signal \(child.terminatingSignal ?? 0)"
        var note = "qemu ended with \(how)"
        if let status = report.exitStatus, let code = child.exitCode {
            note += debugExitAgrees(qemuExitCode: code, status: status)
                ? " (agrees with isa-debug-exit for exit \(status))"
                : " (isa-debug-exit would give \(((status << 1) | 1) & 0xFF) for exit \(status): QEMU ended another way)"
        }
        complain(note)
        if !qemuStderr.isEmpty && outcome != .bootFailure { complain("qemu stderr:\n" + qemuStderr) }
    }
    // Function names for a crash report or a kernel panic (CrashSymbolizer.swift).
    for line in symbolize(report) {
        complain(line)
    }
    switch outcome {
    case .guestExited(let status):
        verbose("guest exit status \(status)")
    case .kernelPanic(let message):
        complain("kernel panic: \(message)")
    case .bootFailure:
        complain("the kernel did not report an exit status (\(bootFailureHint)); rerun with --verbose")
        if !qemuStderr.isEmpty { FileHandle.standardError.write(Data(qemuStderr.utf8)) }
    case .timedOut:
        complain("timed out after \(formatSeconds(request.timeoutSeconds ?? 0)) s; QEMU was stopped")
    case .interrupted(let signal):
        verbose("stopped by signal \(signal)")
    }
    return outcome.exitStatus
}

func formatSeconds(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}
