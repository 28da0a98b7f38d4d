// ISORun — `egg run app.iso`: boots an image made by `egg pack` in QEMU from a CD-ROM
// (EggHost layer, host only).
//
// The machine is wired like a -kernel run (QEMUCommand.swift): COM1 on egg's stdin/stdout,
// the control channel on port 0xE9 and isa-debug-exit at 0xF4, so the guest's exit status
// comes back the same way (ControlChannel.swift). Differences: firmware (SeaBIOS, or OVMF
// when $EGG_UEFI_FIRMWARE names its image) and GRUB run first, the display adapter is QEMU's standard VGA
// (so the kernel has a framebuffer, headless with -display none unless --display:
// DisplayOptions.swift), and the
// accelerator is TCG unless --accel kvm is given (the KVM probe boots a kernel, not an image).

import Foundation

/// Whether `path` is an ISO 9660 image: "CD001" at byte 0x8001 (ECMA-119 §8.4.2).
public func isISOImage(atPath path: String) -> Bool {
    guard isRegularFile(atPath: path) else { return false }  // a FIFO would block the open
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    guard (try? handle.seek(toOffset: 0x8001)) != nil,
          let bytes = try? handle.read(upToCount: 5) else { return false }
    return Array(bytes) == Array("CD001".utf8)
}

public struct ISOQEMUConfiguration: Equatable {
    public var imagePath: String
    public var controlPath: String
    public var memoryMiB: Int
    public var cpus: Int
    public var accelerator: Accelerator
    public var machine: MachineType
    /// OVMF firmware image for a UEFI boot (nil: SeaBIOS).
    public var uefiFirmware: String?
    /// The network card (NetworkOptions.swift); the kernel in the image configures it by DHCP.
    public var network: GuestNetwork? = nil
    /// A raw disk image from `egg pack --format raw` (RawDiskImage.swift): the first IDE
    /// hard disk, writable (a copy-on-write snapshot, so the file stays as packed), not a CD.
    public var hardDisk = false
    /// egg's stdin a terminal or not: COM1's chardev options (ConsoleMode.swift).
    public var console = ConsoleMode(stdinIsTerminal: false)
    /// --display: a window or VNC (DisplayOptions.swift); nil: headless.
    public var display: DisplayPlan? = nil

    public init(imagePath: String, controlPath: String, memoryMiB: Int = 256, cpus: Int = 1,
                accelerator: Accelerator = .tcg, machine: MachineType = .pc, uefiFirmware: String? = nil) {
        self.imagePath = imagePath
        self.controlPath = controlPath
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.accelerator = accelerator
        self.machine = machine
        self.uefiFirmware = uefiFirmware
    }

    public var arguments: [String] {
        var arguments = [
            "-M", machine == .microvm ? MachineType.pc.rawValue : machine.rawValue,
            "-accel", accelerator.rawValue,
            "-cpu", accelerator == .kvm ? "max,-arch-capabilities" : "max",
            "-m", "\(memoryMiB)M",
            "-smp", "\(cpus)",
            "-nodefaults", "-no-reboot",
        ] + (display?.qemuArguments ?? ["-display", "none", "-vga", "std"])
        if let uefiFirmware { arguments += ["-bios", uefiFirmware] }
        arguments += hardDisk
            ? ["-drive", "file=\(imagePath),format=raw,if=ide,index=0,snapshot=on", "-boot", "c"]
            : ["-drive", "file=\(imagePath),media=cdrom,readonly=on,if=ide,index=2", "-boot", "d"]
        arguments += [
            "-chardev", console.chardev,
            "-serial", "chardev:console",
            "-chardev", "file,id=control,path=\(controlPath)",
            "-device", "isa-debugcon,iobase=0xe9,chardev=control",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ]
        return arguments + (network?.qemuArguments ?? [])
    }
}

/// Runs an image; `request.binaryPath` is the ISO. Returns egg's exit status.
public func runImage(_ request: RunRequest) -> Int32 {
    installSignalHandlers()
    if let timeout = request.timeoutSeconds { armDeadline(seconds: timeout) }
    defer { disarmDeadline() }   // every way out stops the clock (EggRun.swift's runGuest)
    let hostEnvironment = ProcessInfo.processInfo.environment
    let verbose: (String) -> Void = { if request.verbose { complain($0) } }
    if !request.arguments.isEmpty || !request.environmentEntries.isEmpty {
        complain("\(request.binaryPath): an image carries its program's arguments and environment; give them to `egg pack`")
        return EggStatus.eggFailure
    }
    // Volumes need kernel options (the 9p mounts) that only `egg run PROGRAM` puts in the
    // bundle; an image carries its own, fixed by `egg pack`: refused before anything starts.
    if !request.volumes.isEmpty {
        complain("\(request.binaryPath): -v needs the kernel options egg run passes to a program; an image boots with its own (use --files with egg pack)")
        return EggStatus.eggFailure
    }
    let qemu: String
    switch locateQEMU(environment: hostEnvironment) {
    case .success(let found): qemu = found
    case .failure(let problem):
        complain(problem.message)
        return EggStatus.eggFailure
    }
    let directory: TemporaryRunDirectory
    do { directory = try TemporaryRunDirectory() } catch {
        if case .failed(let text) = error { complain(text) }
        return EggStatus.eggFailure
    }
    defer { directory.remove() }
    let accelerator: Accelerator = request.accelerator == .kvm ? .kvm : .tcg
    if accelerator == .kvm, let problem = kvmDeviceProblem() {
        complain("--accel kvm: \(problem); use --accel tcg (or auto)")
        return EggStatus.eggFailure
    }
    let controlPath = directory.file("control")
    let stderrPath = directory.file("qemu-stderr")
    var network: GuestNetwork?
    switch planGuestNetwork(mode: request.networkMode, publish: request.publish,
                            machine: request.machine == .microvm ? .pc : request.machine,
                            checkHostPort: checkHostPortFree) {
    case .success(let planned): network = planned
    case .failure(let problem):
        complain(problem.message)
        return EggStatus.eggFailure
    }
    // TCP -p: the same relay as egg run (PortRelay.swift): egg listens on the host port and
    // paces connections to QEMU's forward on a private loopback port.
    var portRelays: [PortRelay] = []
    if let planned = network {
        switch openPortRelays(planned) {
        case .success(let (relayed, relays)): network = relayed; portRelays = relays
        case .failure(let problem):
            complain(problem.message)
            return EggStatus.eggFailure
        }
    }
    defer { for relay in portRelays { relay.stop() } }
    var configuration = ISOQEMUConfiguration(imagePath: request.binaryPath, controlPath: controlPath,
                                             memoryMiB: request.memoryMiB, cpus: request.cpus,
                                             accelerator: accelerator, machine: request.machine,
                                             uefiFirmware: hostEnvironment["EGG_UEFI_FIRMWARE"].flatMap { $0.isEmpty ? nil : $0 })
    verbose("accelerator: \(accelerator.rawValue) (\(request.accelerator == .kvm ? "--accel kvm" : "images boot under TCG unless --accel kvm"))")
    configuration.console = .current()  // ConsoleMode.swift: ^C to the guest when stdin is a tty
    configuration.hardDisk = !isISOImage(atPath: request.binaryPath)
    configuration.network = network
    if request.display {
        switch planDisplay(environment: hostEnvironment, backends: availableDisplayBackends(qemu: qemu),
                           freeVNCPort: firstFreeVNCPort) {
        case .success(let plan): configuration.display = plan; complain(plan.message)
        case .failure(let problem):
            complain(problem.message)
            return EggStatus.eggFailure
        }
    }
    verbose("qemu: " + shellQuoted([qemu] + configuration.arguments))
    for portRelay in portRelays { portRelay.start() }

    return superviseQEMU(qemu, arguments: configuration.arguments, controlPath: controlPath,
                         stderrPath: stderrPath, request: request,
                         bootFailureHint: "boot failure: is \(request.binaryPath) an `egg pack` image?")
}
