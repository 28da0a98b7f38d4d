// egg — the host command line (host only; swift-argument-parser).
//
// Only parsing lives here: options become an EggHost.RunRequest and Sources/EggHost/EggRun.swift
// does the work. Usage errors exit 125, docker's status for options egg refuses, rather than
// the parser's default 64 (EggStatus in Sources/EggHost/ControlChannel.swift).

import ArgumentParser
import EggHost
import Foundation

@main
struct Egg {
    static func main() {
        do {
            // --trace=LIST and --gdb [PORT] take optional values (Sources/EggHost/TraceOptions.swift).
            var command = try EggCommand.parseAsRoot(rewriteOptionalValueOptions(Array(CommandLine.arguments.dropFirst())))
            if var run = command as? Run {
                exit(run.execute())
            }
            if let pack = command as? Pack { exit(pack.execute()) }
            if let build = command as? Build { exit(build.execute()) }
            try command.run()
        } catch {
            let code = EggCommand.exitCode(for: error)
            let text = EggCommand.fullMessage(for: error)
            if code == .success {
                if !text.isEmpty { print(text) }
                exit(0)
            }
            var message = text.hasPrefix("Error: ") ? "egg: " + text.dropFirst(7) : Substring(text)
            if message.contains("unexpected argument") {
                message += "\nThe program's own arguments go after --: egg run [options] BINARY -- ARGS..."
            }
            if !message.isEmpty { writeStandardError(message + "\n") }
            exit(EggStatus.eggFailure)
        }
    }
}

struct EggCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "egg",
        abstract: "Run a statically linked x86-64 Linux program as the only program on a machine under QEMU.",
        version: "egg 0.1.0",
        subcommands: [Run.self, Pack.self, Build.self])
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the egg kernel under QEMU with BINARY as its only program.",
        usage: "egg run [options] BINARY [-- ARGS...]",
        discussion: """
            BINARY must be a statically linked x86-64 Linux executable (musl-gcc -static, \
            gcc -static, gcc -static-pie, ...). ARGS after `--` become its argv[1...]; argv[0] \
            is "/" + the basename of BINARY. Standard input, output and error are the guest's \
            console.

            BINARY may also be an ISO image made by `egg pack`: it boots from a CD-ROM through \
            the firmware and GRUB (SeaBIOS; OVMF when $EGG_UEFI_FIRMWARE names its image), with \
            a screen (-vga std, not shown) and TCG unless --accel kvm.

            The kernel is found through --kernel, $EGG_KERNEL, <egg>/../share/egg/kernel.elf, \
            or build/kernel/kernel.elf above egg's directory. $EGG_QEMU overrides \
            qemu-system-x86_64 on $PATH.

            Exit status (125, 126 and 127 as docker run uses them):
              0-255  the guest's exit status
              128+N  the guest died of signal N (139: SIGSEGV), or egg got
                     SIGINT, SIGTERM or SIGHUP (N) and stopped QEMU; 141
                     when egg's stdout is a pipe whose reader went away
              124    --timeout expired (QEMU was stopped, or never started)
              125    egg refused its options or failed itself: usage error,
                     bad -m/-p/-e/-v/--hostname/-w, --files missing, program
                     and --files too large for -m, no kernel or QEMU,
                     --syscalls file does not compile
              126    BINARY cannot run: not ELF, 32-bit, dynamically linked,
                     truncated, a directory, FIFO or device, not readable
              127    BINARY does not exist
              250    kernel panic
              251    boot failure or QEMU error (no status from the kernel)
            """)

    @Option(name: [.short, .long], help: ArgumentHelp("Guest memory: 256M, 1G, or a number of MiB (\(minimumMemoryMiB) MiB to \(maximumMemoryMiB >> 10) GiB); the program and --files must fit in it.", valueName: "size"))
    var memory: String = "256M"

    @Option(name: .long, help: ArgumentHelp("Number of CPUs.", valueName: "n"))
    var smp: Int = 1

    @Option(name: [.customShort("e"), .long],
            help: ArgumentHelp("Set KEY=VALUE in the guest environment (repeatable; KEY alone copies the host's value). The defaults are PATH=/usr/local/bin:/usr/bin:/bin, HOME=/, TERM=$TERM or vt100.", valueName: "key=value"))
    var env: [String] = []

    @Option(name: .long, help: ArgumentHelp("auto (KVM if /dev/kvm works and a probe boot succeeds, else TCG), tcg or kvm.", valueName: "accel"))
    var accel: String = "auto"

    @Option(name: .long, help: ArgumentHelp("QEMU machine type: pc, q35 or microvm.", valueName: "type"))
    var machine: String = "pc"

    @Option(name: .long, help: ArgumentHelp("Kernel image to boot instead of the installed or built one.", valueName: "path"))
    var kernel: String?

    @Option(name: .long, help: ArgumentHelp("Stop QEMU after this many seconds and exit 124.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .customLong("stop-timeout"), help: ArgumentHelp("After a SIGTERM forwarded to the program, kill it after this many seconds (exit 137), as docker stop.", valueName: "seconds"))
    var stopTimeout: Int = 10

    @Option(name: .long, help: ArgumentHelp("Pack DIR (files, directories, symlinks, modes) as the guest's root file system; it is writable in memory during the run.", valueName: "dir"))
    var files: String?

    @Option(name: [.customShort("v"), .long],
            help: ArgumentHelp("Share a host directory with the guest, two-way and kept after the run: HOST_DIR:GUEST_PATH or HOST_DIR:GUEST_PATH:ro (repeatable), e.g. -v $PWD/data:/data. The guest sees the directory as it was at start; its changes reach the host at fsync, sync and exit.", valueName: "host:guest[:ro]"))
    var volume: [String] = []

    // Networking (Sources/EggHost/NetworkOptions.swift).
    @Option(name: [.customShort("p"), .long],
            help: ArgumentHelp("Publish a guest port on the host: HOST:GUEST, HOST:GUEST/udp or ADDRESS:HOST:GUEST (repeatable), e.g. -p 8080:80.", valueName: "host:guest"))
    var publish: [String] = []
    @Option(name: .long, help: ArgumentHelp("user (default: a virtio-net card on QEMU user networking, guest 10.0.2.15, outbound NAT) or none.", valueName: "mode"))
    var net: String?

    // The guest's identity (Sources/EggHost/GuestSystemFiles.swift).
    @Option(name: .long, help: ArgumentHelp("The guest's hostname (uname, /etc/hostname, /etc/hosts; default egg).", valueName: "name"))
    var hostname: String?
    @Option(name: [.customShort("w"), .long], help: ArgumentHelp("The program's working directory in the guest (absolute; created if missing; default /).", valueName: "dir"))
    var workdir: String?

    @Flag(name: .long, help: "Show the guest's screen (/dev/fb0, the kernel's text console): QEMU's gtk or sdl window when there is a graphical session ($DISPLAY) and QEMU has one, else a VNC server on 127.0.0.1 at the first free port from 5900 (printed on stderr). Keys typed there reach the guest's console.")
    var display = false

    @Flag(name: .long, help: "Print the QEMU command line, the accelerator and why, and the kernel's diagnostics to stderr.")
    var verbose = false

    // Observability and extension (Sources/EggHost/TraceOptions.swift, GDBSession.swift,
    // CustomSyscallKernel.swift).
    @Flag(name: .long, help: ArgumentHelp("Print one strace-style line per system call to stderr. --trace=LIST traces only those calls and classes, like strace -e trace= (e.g. --trace=read,write,%file,%net,%memory,%process,%signal).", valueName: "list"))
    var trace = false
    @Option(name: .customLong("trace-filter"), help: .hidden)
    var traceFilter: String?
    @Flag(name: .long, help: "With --trace: the time of day (UTC) before each line, like strace -tt.")
    var traceTime = false
    @Flag(name: .long, help: "Print strace -c's table of calls, errors and time per system call at the end (alone: only the table).")
    var traceSummary = false
    @Option(name: .long, help: ArgumentHelp("Write the trace (and the summary) to this file instead of stderr.", valueName: "file"))
    var traceFile: String?
    @Flag(name: .long, help: "Print the kernel's profile at the end: calls and kernel time per system call (average ns, lock wait), page faults, interrupts, context switches.")
    var profile = false
    @Option(name: .customLong("gdb-port"), help: ArgumentHelp("--gdb [PORT]: start QEMU stopped with a gdb stub (default port \(defaultGDBPort)) and print the gdb command that loads the kernel's and the program's symbols.", valueName: "port"))
    var gdbPort: Int?
    @Option(name: .long, help: ArgumentHelp("A Swift file defining registerSyscalls(_ table: inout SyscallTable): boot a kernel built with these handlers (see README, Custom system calls).", valueName: "file.swift"))
    var syscalls: String?

    @Argument(help: ArgumentHelp("The static x86-64 program to run.", valueName: "binary"))
    var binary: String

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Arguments for the program, after --.", valueName: "args"))
    var arguments: [String] = []

    func validate() throws {
        if let gdbPort, !(1...65535).contains(gdbPort) { throw ValidationError("--gdb \(gdbPort): expected a TCP port, 1 to 65535") }
        if let problem = memorySizeProblem(memory) { throw ValidationError(problem) }
        if let hostname, let problem = hostnameProblem(hostname) { throw ValidationError(problem) }
        if let workdir, let problem = workdirProblem(workdir) { throw ValidationError(problem) }
        guard (1...255).contains(smp) else { throw ValidationError("--smp \(smp): expected 1 to 255") }
        guard AcceleratorChoice(rawValue: accel) != nil else {
            throw ValidationError("--accel \(accel): expected auto, tcg or kvm")
        }
        guard MachineType(rawValue: machine) != nil else {
            throw ValidationError("--machine \(machine): expected pc, q35 or microvm")
        }
        if let timeout, !(timeout > 0 && timeout < 1e7) {
            throw ValidationError("--timeout \(timeout): expected a positive number of seconds")
        }
    }

    mutating func execute() -> Int32 {
        // An image from `egg pack` boots from a CD-ROM (Sources/EggHost/ISORun.swift).
        // ... and so does a raw disk image from `egg pack --format raw`, as a hard disk.
        let boot = isISOImage(atPath: binary) || isRawDiskImage(atPath: binary) ? runImage : runGuest
        var request = RunRequest(
            binaryPath: binary, arguments: arguments, memoryMiB: parseMemorySize(memory)!, cpus: smp,
            environmentEntries: env, accelerator: AcceleratorChoice(rawValue: accel)!,
            machine: MachineType(rawValue: machine)!, kernelPath: kernel, timeoutSeconds: timeout,
            verbose: verbose)
        request.trace = TraceRequest.from(trace: trace, filter: traceFilter, timeOfDay: traceTime,
                                          summary: traceSummary, outputPath: traceFile)
        request.gdbPort = gdbPort
        request.profile = profile
        request.syscallsSource = syscalls
        request.filesDirectory = files
        request.publish = publish
        request.networkMode = net
        request.hostname = hostname
        request.workdir = workdir
        request.volumes = volume
        request.stopTimeoutSeconds = max(0, stopTimeout)
        request.display = display
        return boot(request)
    }

    mutating func run() throws {
        throw ExitCode(execute())
    }
}

/// `egg pack`: a bootable image (Sources/EggHost/ISOImage.swift).
struct Pack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a bootable ISO (BIOS and UEFI, GRUB) that runs BINARY as the only program.",
        usage: "egg pack -o app.iso [--format iso|raw] [options] BINARY [-- ARGS...]",
        discussion: """
            The image holds GRUB, the egg kernel and the same bundle `egg run` would boot \
            (BINARY, ARGS, environment). Write it to a USB stick or boot it with `egg run app.iso`. \
            GRUB and the kernel use COM1 at 115200 baud and the screen. Needs grub-mkrescue, \
            grub-pc-bin (BIOS), grub-efi-amd64-bin and mtools (UEFI), xorriso. \
            --format raw writes a partitioned (GPT) disk image instead, for dd to a disk or \
            `egg run app.img`; it needs grub-mkimage and mtools, not grub-mkrescue or xorriso.

            --files DIR puts DIR in the image as the guest's root file system (in memory when \
            it runs), as `egg run --files` does.

            Exit status: 0 the image was written; 125 a usage error, a missing tool, a \
            missing --files directory or a failed grub-mkrescue; 126 BINARY cannot run under egg; 127 BINARY does not exist.
            """)

    @Option(name: [.short, .long], help: ArgumentHelp("The image to write.", valueName: "file.iso"))
    var output: String

    @Option(name: [.customShort("e"), .long],
            help: ArgumentHelp("Set KEY=VALUE in the guest environment (repeatable).", valueName: "key=value"))
    var env: [String] = []

    @Option(name: .long, help: ArgumentHelp("Kernel image to put in the image instead of the installed or built one.", valueName: "path"))
    var kernel: String?

    @Option(name: .long, help: ArgumentHelp("Pack DIR (files, directories, symlinks, modes) as the guest's root file system, as egg run --files does.", valueName: "dir"))
    var files: String?

    @Flag(name: .long, help: "Show grub-mkrescue's own messages.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("iso (default: a hybrid CD/USB image from grub-mkrescue) or raw (a GPT disk image with a BIOS boot partition and an EFI system partition; Sources/EggHost/RawDiskImage.swift).", valueName: "format"))
    var format: String = "iso"

    func validate() throws {
        guard format == "iso" || format == "raw" else { throw ValidationError("--format \(format): expected iso or raw") }
    }

    @Argument(help: ArgumentHelp("The static x86-64 program to run.", valueName: "binary"))
    var binary: String

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Arguments for the program, after --.", valueName: "args"))
    var arguments: [String] = []

    func execute() -> Int32 {
        var request = PackRequest(binaryPath: binary, arguments: arguments, outputPath: output,
                                  environmentEntries: env, kernelPath: kernel, verbose: verbose)
        request.filesDirectory = files
        return (format == "raw" ? packRawDisk : packImage)(request)
    }

    mutating func run() throws {
        throw ExitCode(execute())
    }
}
