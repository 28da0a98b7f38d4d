// EggRun — `egg run` from checked options to exit status (EggHost layer, host only).
//
// Order: start --timeout's clock, validate the program (ExecutableValidation.swift; refused
// before it is read if it cannot fit in -m), build the guest environment (RunSettings.swift),
// find the kernel and QEMU (KernelLocator.swift), build the bundle (GuestBundle.swift) with
// --files and the generated /etc files (GuestSystemFiles.swift) and check it against -m,
// then in a fresh temporary directory choose the accelerator (AcceleratorProbe.swift), build
// or reuse a --syscalls kernel (CustomSyscallKernel.swift), run QEMU (QEMUCommand.swift,
// GuestRunner.swift) and turn the control channel into egg's status (ControlChannel.swift).
// Every refusal happens before QEMU starts and exits 125, 126 or 127 (EggStatus).
// Sources/egg/Egg.swift only parses the command line into a RunRequest.

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
    /// --profile: the kernel's per-syscall time table on stderr at the end
    /// (Sources/Kernel/Profiler.swift, Sources/KernelCore/Trace/SyscallProfile.swift).
    public var profile = false
    /// --gdb [PORT] (GDBSession.swift).
    public var gdbPort: Int? = nil
    /// --syscalls FILE.swift: a kernel with the user's handlers (CustomSyscallKernel.swift).
    public var syscallsSource: String? = nil
    /// --files DIR: packed as the guest's root file system (FileArchive.swift).
    public var filesDirectory: String? = nil
    /// -p/--publish values and --net (NetworkOptions.swift); nil mode: the default, a card.
    public var publish: [String] = []
    public var networkMode: String? = nil
    /// --hostname and -w/--workdir (GuestSystemFiles.swift); nil: the defaults ("egg", "/").
    public var hostname: String? = nil
    public var workdir: String? = nil
    /// -v/--volume values as given (RunSettings.swift parses them).
    public var volumes: [String] = []
    /// --stop-timeout: seconds between a forwarded SIGTERM and killing the guest (HostStreams.swift).
    public var stopTimeoutSeconds = 10
    /// --display: show the screen in a window or over VNC (DisplayOptions.swift).
    public var display = false

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
    writeStandardError("egg: " + text + "\n")
}

/// Writes to stderr with write(2), ignoring failure: a closed pipe (EPIPE; SIGPIPE is
/// ignored) must not end egg, which still has QEMU to reap. FileHandle.write traps there.
public func writeStandardError(_ text: String) {
    writeIgnoringErrors(2, Array(text.utf8))
}

/// All of `bytes` to `fd`, retrying short writes and EINTR, giving up silently on an error.
public func writeIgnoringErrors(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}

/// Runs the request and returns egg's exit status; every message has been printed.
/// Refusals use docker's statuses (ControlChannel.swift, EggStatus): 125 for egg's options
/// and its own failures, 126 for a file it cannot run, 127 for one that does not exist.
public func runGuest(_ request: RunRequest) -> Int32 {
    installSignalHandlers()
    if let timeout = request.timeoutSeconds { armDeadline(seconds: timeout) }  // the whole run, not only QEMU
    // Every way out stops the clock: a refusal returned before QEMU ran must not leave
    // SIGALRM armed in a process that goes on (the host tests call runGuest many times; an
    // armed deadline ended the test runner minutes later with no message).
    defer { disarmDeadline() }
    let hostEnvironment = ProcessInfo.processInfo.environment
    let verbose: (String) -> Void = { if request.verbose { complain($0) } }
    func refuse(_ text: String) -> Int32 {
        complain(text)
        return EggStatus.eggFailure
    }

    let capacity = bundleCapacityBytes(memoryMiB: request.memoryMiB)
    let executable: ValidatedExecutable
    switch validateExecutable(atPath: request.binaryPath, maximumBytes: capacity) {
    case .success(let checked): executable = checked
    case .failure(let problem):
        complain("\(request.binaryPath): \(problem.message)")
        return problem.exitStatus
    }
    let environment: [String]
    switch mergeEnvironment(base: defaultGuestEnvironment(hostTERM: hostEnvironment["TERM"]),
                            overrides: request.environmentEntries, hostValue: { hostEnvironment[$0] }) {
    case .success(let merged): environment = merged
    case .failure(let problem): return refuse(problem.message)
    }
    if let problem = request.trace?.validationProblem() { return refuse(problem) }
    if let hostname = request.hostname, let problem = hostnameProblem(hostname) { return refuse(problem) }
    if let workdir = request.workdir, let problem = workdirProblem(workdir) { return refuse(problem) }
    var volumes: [VolumeMount] = []
    switch parseVolumes(request.volumes, currentDirectory: FileManager.default.currentDirectoryPath,
                        isDirectory: { path in
                            var directory: ObjCBool = false
                            return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
                        }) {
    case .success(let parsed): volumes = parsed
    case .failure(let problem): return refuse(problem.message)
    }
    if !volumes.isEmpty && request.machine == .microvm {
        return refuse("-v: volumes need a PCI bus (virtio-9p-pci); use --machine pc or q35")
    }
    var network: GuestNetwork?
    switch planGuestNetwork(mode: request.networkMode, publish: request.publish, machine: request.machine,
                            checkHostPort: checkHostPortFree) {
    case .success(let planned): network = planned
    case .failure(let problem): return refuse(problem.message)
    }
    // TCP -p: egg listens on the host port itself and relays to QEMU (PortRelay.swift).
    var portRelays: [PortRelay] = []
    if let planned = network {
        switch openPortRelays(planned) {
        case .success(let (relayed, relays)): network = relayed; portRelays = relays
        case .failure(let problem): return refuse(problem.message)
        }
    }
    defer { for relay in portRelays { relay.stop() } }
    var kernel: KernelLocation
    switch locateKernel(option: request.kernelPath, environmentValue: hostEnvironment["EGG_KERNEL"],
                        executablePath: currentExecutablePath(), exists: fileExists) {
    case .success(let found): kernel = found
    case .failure(let problem): return refuse(problem.message)
    }
    let qemu: String
    switch locateQEMU(environment: hostEnvironment) {
    case .success(let found): qemu = found
    case .failure(let problem): return refuse(problem.message)
    }
    verbose("kernel: \(kernel.path) (\(kernel.source))")

    // The root file system: --files, plus the /etc files egg generates (GuestSystemFiles.swift).
    var fileArchive: [UInt8]? = nil
    if let filesDirectory = request.filesDirectory {
        switch packFileArchive(directory: filesDirectory) {
        case .success(let archive): fileArchive = archive
        case .failure(let problem): return refuse(problem.message)
        }
    }
    appendMembers(generatedSystemFiles(hostname: request.hostname ?? defaultGuestHostname, networked: network != nil,
                                       provided: filesDirectoryProvides(root: request.filesDirectory)),
                  to: &fileArchive)
    // stdin/stdout/stderr over virtio unless both are terminals (HostStreams.swift).
    let useHostStreams = HostStreamPlan.wantedNow(machine: request.machine)
    // Terminal mode: the control port alone, for signals and SIGWINCH (HostStreams.swift).
    let useHostControl = HostStreamPlan.controlOnlyWanted(stdinIsTerminal: isatty(0) == 1, stdoutIsTerminal: isatty(1) == 1,
                                                          machine: request.machine)
    let bundle = makeGuestBundle(executable: executable.bytes, hostPath: request.binaryPath,
                                 arguments: request.arguments, environment: environment,
                                 options: (request.trace?.kernelOptions ?? []) + networkKernelOptions(network)
                                     + ConsoleMode.current().kernelOptions
                                     + identityKernelOptions(hostname: request.hostname, workdir: request.workdir)
                                     + (useHostStreams ? [HostStreamPlan.kernelOption] : [])
                                     + (useHostControl ? [HostStreamPlan.controlOnlyKernelOption] : [])
                                     + volumeKernelOptions(volumes)
                                     + (request.profile ? ["profile=1"] : []),
                                 fileArchive: fileArchive)
    fileArchive = nil
    // QEMU loads the bundle into guest RAM: refuse one that cannot fit before starting it.
    if let problem = bundleSizeProblem(bytes: UInt64(bundle.count), memoryMiB: request.memoryMiB) {
        return refuse(problem)
    }

    let directory: TemporaryRunDirectory
    do { directory = try TemporaryRunDirectory() } catch {
        if case .failed(let text) = error { complain(text) }
        return EggStatus.eggFailure
    }
    defer { directory.remove() }
    func timedOutBeforeStart() -> Int32 {
        complain("timed out after \(formatSeconds(request.timeoutSeconds ?? 0)) s (before the program started)")
        return EggStatus.timeout
    }

    // The accelerator is decided for the base kernel: a --syscalls kernel is the same
    // kernel plus the user's handlers, and its path is new every run (AcceleratorProbe.swift).
    let decision: AcceleratorDecision
    switch request.accelerator {
    case .tcg:
        decision = AcceleratorDecision(accelerator: .tcg, reason: "--accel tcg")
    case .kvm:
        if let problem = kvmDeviceProblem() {
            return refuse("--accel kvm: \(problem); use --accel tcg (or auto)")
        }
        decision = AcceleratorDecision(accelerator: .kvm, reason: "--accel kvm (not probed)")
    case .auto:
        decision = decideAccelerator(qemu: qemu, kernel: kernel, machine: request.machine,
                                     directory: directory, environment: hostEnvironment)
        if let signal = receivedSignal() { return 128 + signal }
        if deadlineHasPassed() { return timedOutBeforeStart() }
    }
    verbose("accelerator: \(decision.accelerator.rawValue) (\(decision.reason))")

    if let source = request.syscallsSource {  // CustomSyscallKernel.swift, cached by content
        switch cachedKernelWithSyscalls(source: source, baseKernel: kernel.path, workDirectory: directory,
                                        environment: hostEnvironment, verbose: request.verbose) {
        case .success(let built):
            kernel = KernelLocation(path: built.path, source: "built with --syscalls \(source)\(built.cached ? ", cached" : "")")
            verbose("kernel: \(kernel.path) (\(kernel.source))")
        case .failure(let problem):
            if let signal = receivedSignal() { return 128 + signal }
            if deadlineHasPassed() { return timedOutBeforeStart() }
            return refuse(problem.message)
        }
    }

    let bundlePath = directory.file("bundle")
    let controlPath = directory.file("control")
    let stderrPath = directory.file("qemu-stderr")
    guard FileManager.default.createFile(atPath: bundlePath, contents: Data(bundle)) else {
        return refuse("cannot write \(bundlePath): \(String(cString: strerror(errno)))")
    }
    var configuration = QEMUConfiguration(kernelPath: kernel.path, bundlePath: bundlePath, controlPath: controlPath,
                                          memoryMiB: request.memoryMiB, cpus: request.cpus,
                                          accelerator: decision.accelerator, machine: request.machine)
    var relay: TraceRelay? = nil  // TraceRelay.swift
    if let trace = request.trace {
        configuration.tracePath = directory.file("trace")
        let program = String(request.binaryPath.split(separator: "/").last ?? Substring(request.binaryPath))
        do { relay = try TraceRelay(request: trace, path: directory.file("trace"), firstProgram: program) } catch {
            if case .failed(let text) = error { complain(text) }
            return EggStatus.eggFailure
        }
    }
    configuration.gdbPort = request.gdbPort
    configuration.console = .current()  // ConsoleMode.swift: ^C to the guest when stdin is a tty
    configuration.network = network
    configuration.hostStreams = useHostStreams  // HostStreams.swift
    configuration.hostControl = useHostControl
    if request.display {  // DisplayOptions.swift: a window, else VNC (said on stderr)
        switch planDisplay(environment: hostEnvironment, backends: availableDisplayBackends(qemu: qemu),
                           freeVNCPort: firstFreeVNCPort) {
        case .success(let plan): configuration.display = plan; complain(plan.message)
        case .failure(let problem): return refuse(problem.message)
        }
    }
    configuration.volumes = volumes  // -v: virtio-9p (RunSettings.swift, Sources/Kernel/NinePSetup.swift)
    verbose("qemu: " + shellQuoted([qemu] + configuration.arguments))
    if let port = request.gdbPort {  // GDBSession.swift
        complain(gdbInstructions(kernelPath: kernel.path, guestPath: request.binaryPath,
                                 guestLoadBase: guestLoadBase(executable.bytes), port: port))
    }
    relay?.start()
    for portRelay in portRelays { portRelay.start() }

    var streams: HostStreamRelay? = nil
    if useHostStreams || useHostControl {
        do { streams = try HostStreamRelay(stopTimeout: request.stopTimeoutSeconds, controlOnly: !useHostStreams) } catch {
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
                             stdin: streams.map { !$0.controlOnly } == true ? .null : isatty(0) == 1 ? .inherit : .pump,
                             discardStdout: false,
                             stderrPath: stderrPath, timeout: request.timeoutSeconds,
                             inheriting: streams?.childDescriptors ?? [], started: { streams?.start(child: $0) })
        disarmDeadline()
    } catch {
        disarmDeadline()
        streams?.abandon()
        relay?.finish()
        if case .failed(let text) = error { complain(text) }
        return EggStatus.eggFailure  // QEMU could not be started: egg's own failure
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
    // A closed stdout pipe ends the run as SIGPIPE ends a program writing to it (141).
    let outcome = decideOutcome(report: report, timedOut: child.timedOut,
                                interruptedBy: child.forwardedSignal ?? (child.stdoutClosed ? SIGPIPE : nil))

    // --profile: the kernel sent its table as "profile ..." lines (Sources/Kernel/Profiler.swift).
    if request.profile {
        for line in report.diagnostics where line.hasPrefix("profile ") { writeStandardError(String(line.dropFirst(8)) + "\n") }
    }
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
        if !qemuStderr.isEmpty { writeStandardError(qemuStderr) }
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
