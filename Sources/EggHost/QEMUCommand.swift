// QEMUCommand — the qemu-system-x86_64 command line for one guest run (EggHost layer,
// host only). Pure: Tests/EggHostTests checks it; GuestRunner.swift executes it.
//
// Wiring (matches Sources/Kernel/MachinePlatform.swift):
//   COM1       -serial on a stdio chardev: egg's stdin (or a pipe egg fills) in, stdout out;
//              signal=off when stdin is a terminal, so ^C reaches the guest (ConsoleMode.swift)
//   port 0xE9  isa-debugcon → <tmp>/control, the control channel (ControlChannel.swift)
//   port 0xF4  isa-debug-exit, so the kernel can end QEMU
// -no-reboot turns a triple fault into QEMU exiting (a boot failure egg reports) rather than
// an endless reboot loop; -nodefaults drops the monitor, NIC and VGA QEMU would add.

import Foundation

public enum Accelerator: String, Equatable, Sendable {
    case tcg, kvm
}

public struct QEMUConfiguration: Equatable {
    public var kernelPath: String
    public var bundlePath: String
    public var controlPath: String
    public var memoryMiB: Int
    public var cpus: Int
    public var accelerator: Accelerator
    public var machine: MachineType
    /// --trace: COM2 (0x2F8) into this file (Sources/Kernel/TraceSerial.swift, TraceRelay.swift).
    public var tracePath: String? = nil
    /// --gdb: QEMU's gdb stub on this TCP port, CPU stopped until gdb continues (GDBSession.swift).
    public var gdbPort: Int? = nil
    /// The virtio-net card on user networking (NetworkOptions.swift); nil: --net none.
    public var network: GuestNetwork? = nil
    /// egg's stdin a terminal or not: COM1's chardev options (ConsoleMode.swift).
    public var console = ConsoleMode(stdinIsTerminal: false)
    /// stdin/stdout/stderr over virtio-serial and COM1 to a relayed socket (HostStreams.swift).
    public var hostStreams = false
    /// Terminal mode: a virtio console with the control port only (signals, SIGWINCH), the
    /// UART keeps stdio (HostStreamPlan.controlOnlyWanted). Ignored with hostStreams.
    public var hostControl = false
    /// --display: a window or VNC and the standard VGA (DisplayOptions.swift); nil: headless.
    public var display: DisplayPlan? = nil
    /// -v volumes: one virtio-9p-pci device each, tagged egg.volN (RunSettings.swift).
    public var volumes: [VolumeMount] = []

    public init(kernelPath: String, bundlePath: String, controlPath: String, memoryMiB: Int = 256,
                cpus: Int = 1, accelerator: Accelerator = .tcg, machine: MachineType = .pc) {
        self.kernelPath = kernelPath
        self.bundlePath = bundlePath
        self.controlPath = controlPath
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.accelerator = accelerator
        self.machine = machine
    }

    /// "max": every feature TCG can emulate, or under KVM the host's. Under KVM without
    /// arch-capabilities: on the nested KVM of our CI hosts QEMU 7.2 aborts with "failed to
    /// set MSR 0x10a" (IA32_ARCH_CAPABILITIES) for max and host alike; the kernel does not
    /// read that MSR. Whatever else KVM gets wrong, the probe (AcceleratorProbe.swift) finds.
    public var cpuModel: String {
        accelerator == .kvm ? "max,-arch-capabilities" : "max"
    }

    /// The arguments after the QEMU program name.
    public var arguments: [String] {
        var machineOption = machine.rawValue
        if machine == .microvm {
            // microvm has no PIT/PIC/RTC unless asked; the kernel's clock and serial need the
            // ISA ones (the UART still carries early boot, diagnostics and panics).
            machineOption += ",isa-serial=on,rtc=on,pit=on,pic=on"
        }
        return [
            "-M", machineOption,
            "-accel", accelerator.rawValue,
            "-cpu", cpuModel,
            "-m", "\(memoryMiB)M",
            "-smp", "\(cpus)",
            "-nodefaults", "-no-reboot",
        ] + (display?.qemuArguments ?? ["-display", "none", "-vga", "none"]) + [
            "-kernel", kernelPath,
            "-initrd", bundlePath,
            "-chardev", hostStreams ? HostStreamPlan.consoleChardev : console.chardev,
            "-serial", "chardev:console",
            "-chardev", "file,id=control,path=\(controlPath)",
            "-device", "isa-debugcon,iobase=0xe9,chardev=control",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ] + hostStreamArguments + (network?.qemuArguments ?? []) + volumeArguments + traceAndDebugArguments
    }

    /// The virtio console of HostStreams.swift: PCI on pc and q35; on microvm (no PCI) the
    /// same device on QEMU's virtio-mmio transport, modern (version 2) as the kernel's
    /// VirtioMMIOTransport requires (the network card asks for the same global).
    var hostStreamArguments: [String] {
        var a = hostStreams ? HostStreamPlan.qemuArguments : hostControl ? HostStreamPlan.controlOnlyQEMUArguments : []
        guard machine == .microvm, !a.isEmpty else { return a }
        a = a.map { $0.hasPrefix("virtio-serial-pci,") ? "virtio-serial-device," + $0.dropFirst(18) : $0 }
        let legacyOff = "virtio-mmio.force-legacy=false"
        return (network?.qemuArguments.contains(legacyOff) ?? false) ? a : ["-global", legacyOff] + a
    }

    /// QEMU's local 9p backend on each host directory (docs/system/qemu-manpage: -fsdev):
    /// security_model=none keeps the host's ownership and modes as they are (files the guest
    /// makes belong to the user running egg); readonly=on for ":ro". A comma in the path is
    /// doubled, QEMU's option escaping.
    var volumeArguments: [String] {
        var out: [String] = []
        for (i, v) in volumes.enumerated() {
            let path = v.hostPath.replacingOccurrences(of: ",", with: ",,")
            out += ["-fsdev", "local,id=vol\(i),path=\(path),security_model=none" + (v.readOnly ? ",readonly=on" : ""),
                    "-device", "virtio-9p-pci,fsdev=vol\(i),mount_tag=\(volumeTag(i))"]
        }
        return out
    }

    /// The second serial port (COM2) and the gdb stub, only when asked for.
    var traceAndDebugArguments: [String] {
        var extra: [String] = []
        if let tracePath {
            extra += ["-chardev", "file,id=trace,path=\(tracePath)", "-serial", "chardev:trace"]
        }
        if let gdbPort { extra += ["-S", "-gdb", "tcp::\(gdbPort)"] }
        return extra
    }
}

/// One line a person can paste into a shell (for --verbose).
public func shellQuoted(_ words: [String]) -> String {
    words.map { word in
        let safe = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }
        return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }.joined(separator: " ")
}
