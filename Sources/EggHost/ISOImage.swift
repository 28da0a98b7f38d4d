// ISOImage — `egg pack -o app.iso ./bin [-- args]`: a GRUB rescue image that boots the egg
// kernel with the guest bundle on BIOS and UEFI machines (EggHost layer, host only).
//
// Steps (one progress line each on stderr): check the program (ExecutableValidation.swift),
// build the same bundle `egg run` passes as the initrd (GuestBundle.swift), find the kernel
// (KernelLocator.swift), lay out a tree —
//   boot/grub/grub.cfg    multiboot2 /boot/egg/kernel.elf, module2 /boot/egg/bundle
//   boot/egg/kernel.elf   the kernel (boot.S has the multiboot2 header)
//   boot/egg/bundle       executable, argv, envp, options
// — and run grub-mkrescue on it, which builds an El Torito image with GRUB for i386-pc
// (grub-pc-bin) and an EFI system partition with GRUB for x86_64-efi (grub-efi-amd64-bin,
// mtools), written by xorriso. `egg run app.iso` boots the result (ISORun.swift).
// The pure parts (grub.cfg text, the grub-mkrescue command, platform checks) are tested in
// Tests/EggHostTests/ISOImageTests.swift; Tests/integration/iso.sh boots the images.

import Foundation

public struct PackRequest: Equatable {
    public var binaryPath: String
    public var arguments: [String]
    public var outputPath: String
    public var environmentEntries: [String]
    public var kernelPath: String?
    public var verbose: Bool
    /// --files DIR: the guest's root file system, packed into the bundle as `egg run` does.
    public var filesDirectory: String? = nil

    public init(binaryPath: String, arguments: [String] = [], outputPath: String, environmentEntries: [String] = [],
                kernelPath: String? = nil, verbose: Bool = false) {
        self.binaryPath = binaryPath
        self.arguments = arguments
        self.outputPath = outputPath
        self.environmentEntries = environmentEntries
        self.kernelPath = kernelPath
        self.verbose = verbose
    }
}

/// Where the pieces go inside the image.
public enum ISOLayout {
    public static let kernel = "boot/egg/kernel.elf"
    public static let bundle = "boot/egg/bundle"
    public static let grubConfiguration = "boot/grub/grub.cfg"
}

/// GRUB's configuration: its own console on COM1 (115200 8N1, what the kernel uses) and the
/// screen ("dumb" terminfo: no clear-screen or cursor sequences on the serial line), then multiboot2 with the bundle as the first module — at the top level rather
/// than in a menu entry, so GRUB neither draws a menu nor prints "Booting ..." on the serial
/// line, which carries the guest's standard output. `all_video` gives
/// the multiboot2 loader a video driver (VBE on BIOS, GOP on UEFI) so the framebuffer
/// request in boot.S is honoured. `title` names the menu entry (the guest's path).
public func grubConfiguration(title: String) -> String {
    let safeTitle = title.filter { $0 != "\"" && $0 != "\\" && $0 != "$" && !$0.isNewline }
    return """
        # grub.cfg — written by `egg pack`; boots the egg kernel with the guest bundle.
        serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
        terminfo serial dumb
        terminal_input serial console
        terminal_output serial console
        set timeout=0
        set timeout_style=hidden
        insmod all_video
        multiboot2 /\(ISOLayout.kernel)
        module2 /\(ISOLayout.bundle) egg-bundle \(safeTitle)
        boot

        """
}

/// The grub-mkrescue command for a tree at `root`. No --directory: that option names ONE
/// platform directory, while without it grub-mkrescue takes every platform installed under
/// /usr/lib/grub (i386-pc and x86_64-efi here), so one image boots both ways.
/// --compress=xz keeps GRUB's modules small.
public func grubMkrescueArguments(output: String, root: String) -> [String] {
    ["--compress=xz", "-o", output, root]
}

/// GRUB platforms an image wants and the Debian package that provides each.
public let grubPlatforms: [(directory: String, firmware: String, package: String)] = [
    ("i386-pc", "BIOS", "grub-pc-bin"),
    ("x86_64-efi", "UEFI", "grub-efi-amd64-bin"),
]

/// Which of the platform directories exist under `grubLibrary` (usually /usr/lib/grub), and
/// a message for those missing.
public func availableGrubPlatforms(grubLibrary: String, exists: (String) -> Bool) -> (found: [String], missing: [String]) {
    var found: [String] = [], missing: [String] = []
    for platform in grubPlatforms {
        let path = grubLibrary + "/" + platform.directory
        if exists(path + "/modinfo.sh") || exists(path + "/kernel.img") {
            found.append(path)
        } else {
            missing.append("\(platform.firmware) boot needs \(platform.package) (\(path) is missing)")
        }
    }
    return (found, missing)
}

/// A program on $PATH, or nil.
public func findOnPath(_ name: String, environment: [String: String]) -> String? {
    let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") where !directory.isEmpty {
        let candidate = directory + "/" + name
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

func describeSize(_ bytes: Int) -> String {
    if bytes >= 1 << 20 {
        let tenths = (bytes * 10) >> 20
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
    return "\((bytes + 1023) >> 10) KiB"
}

/// What every image format holds: the checked program, its bundle and the kernel.
public struct PackInputs {
    public var executable: ValidatedExecutable
    public var bundle: [UInt8]
    public var kernel: KernelLocation
    /// The path the guest sees (the menu title).
    public var guestPath: String
}

/// Writes one progress line of `egg pack` on stderr.
func packStep(_ text: String) { writeStandardError("egg pack: " + text + "\n") }

/// Steps 1-3 of `egg pack` for any format (one progress line each): check the program,
/// build the same bundle `egg run` passes as the initrd, find the kernel. On failure the
/// message has been printed and the exit status is returned.
public func preparePackInputs(_ request: PackRequest) -> Result<PackInputs, PackFailure> {
    let hostEnvironment = ProcessInfo.processInfo.environment
    let step = packStep

    // 1. The program.
    let executable: ValidatedExecutable
    switch validateExecutable(atPath: request.binaryPath) {
    case .success(let checked): executable = checked
    case .failure(let problem):
        complain("\(request.binaryPath): \(problem.message)")
        return .failure(PackFailure(status: problem.exitStatus))
    }
    step("program \(request.binaryPath) (\(describeSize(executable.bytes.count)), static x86-64 ELF)")

    // 2. The bundle, exactly as `egg run` builds it (no host TERM: the image boots elsewhere).
    let environment: [String]
    switch mergeEnvironment(base: defaultGuestEnvironment(hostTERM: nil), overrides: request.environmentEntries,
                            hostValue: { hostEnvironment[$0] }) {
    case .success(let merged): environment = merged
    case .failure(let problem):
        complain(problem.message)
        return .failure(PackFailure(status: EggStatus.eggFailure))
    }
    var fileArchive: [UInt8]? = nil
    if let directory = request.filesDirectory {   // FileArchive.swift, as `egg run --files`
        switch packFileArchive(directory: directory) {
        case .success(let archive): fileArchive = archive
        case .failure(let problem):
            complain(problem.message)
            return .failure(PackFailure(status: EggStatus.eggFailure))
        }
        step("files \(directory) (\(describeSize(fileArchive?.count ?? 0)) archive)")
    }
    let bundle = makeGuestBundle(executable: executable.bytes, hostPath: request.binaryPath,
                                 arguments: request.arguments, environment: environment, fileArchive: fileArchive)
    step("bundle \(describeSize(bundle.count)): \(guestExecutablePath(forHostPath: request.binaryPath)) with \(request.arguments.count) argument(s)")

    // 3. The kernel.
    let kernel: KernelLocation
    switch locateKernel(option: request.kernelPath, environmentValue: hostEnvironment["EGG_KERNEL"],
                        executablePath: currentExecutablePath(), exists: fileExists) {
    case .success(let found): kernel = found
    case .failure(let problem):
        complain(problem.message)
        return .failure(PackFailure(status: EggStatus.eggFailure))
    }
    step("kernel \(kernel.path) (\(kernel.source))")
    return .success(PackInputs(executable: executable, bundle: bundle, kernel: kernel,
                               guestPath: guestExecutablePath(forHostPath: request.binaryPath)))
}

/// `egg pack` stopped; the message is printed, `status` is egg's exit status.
public struct PackFailure: Error, Equatable {
    public var status: Int32
}

/// Runs `egg pack`; returns egg's exit status with every message printed.
public func packImage(_ request: PackRequest) -> Int32 {
    let hostEnvironment = ProcessInfo.processInfo.environment
    let step = packStep
    let inputs: PackInputs
    switch preparePackInputs(request) {
    case .success(let prepared): inputs = prepared
    case .failure(let failure): return failure.status
    }
    let bundle = inputs.bundle, kernel = inputs.kernel

    // 4. The tools.
    guard let mkrescue = findOnPath("grub-mkrescue", environment: hostEnvironment) else {
        complain("grub-mkrescue not found on PATH: install grub-common, grub-pc-bin, grub-efi-amd64-bin, xorriso and mtools (scripts/setup.sh does)")
        return EggStatus.eggFailure
    }
    guard findOnPath("xorriso", environment: hostEnvironment) != nil else {
        complain("xorriso not found on PATH: grub-mkrescue needs it to write the ISO (apt-get install xorriso)")
        return EggStatus.eggFailure
    }
    let platforms = availableGrubPlatforms(grubLibrary: hostEnvironment["EGG_GRUB_LIB"] ?? "/usr/lib/grub", exists: fileExists)
    guard !platforms.found.isEmpty else {
        complain("no GRUB platform files: " + platforms.missing.joined(separator: "; "))
        return EggStatus.eggFailure
    }
    for problem in platforms.missing { step("warning: \(problem); the image will not boot that way") }
    if platforms.found.contains(where: { $0.hasSuffix("x86_64-efi") }) && findOnPath("mformat", environment: hostEnvironment) == nil {
        complain("mformat not found on PATH: grub-mkrescue needs mtools for the UEFI boot partition (apt-get install mtools)")
        return EggStatus.eggFailure
    }

    // 5. The tree.
    let staging: String
    do { staging = try makeStagingDirectory() } catch {
        complain("cannot create a temporary directory: \(error)")
        return EggStatus.eggFailure
    }
    defer { try? FileManager.default.removeItem(atPath: staging) }
    do {
        let fm = FileManager.default
        try fm.createDirectory(atPath: staging + "/boot/egg", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: staging + "/boot/grub", withIntermediateDirectories: true)
        try fm.copyItem(atPath: kernel.path, toPath: staging + "/" + ISOLayout.kernel)
        try Data(bundle).write(to: URL(fileURLWithPath: staging + "/" + ISOLayout.bundle))
        try Data(grubConfiguration(title: inputs.guestPath).utf8)
            .write(to: URL(fileURLWithPath: staging + "/" + ISOLayout.grubConfiguration))
    } catch {
        complain("cannot lay out the image tree in \(staging): \(error.localizedDescription)")
        return EggStatus.eggFailure
    }
    step("grub.cfg: multiboot2 /\(ISOLayout.kernel), module2 /\(ISOLayout.bundle), serial COM1 115200 and screen")

    // 6. grub-mkrescue.
    let firmware = grubPlatforms.filter { p in platforms.found.contains { $0.hasSuffix(p.directory) } }.map(\.firmware)
    step("grub-mkrescue (\(firmware.joined(separator: " + "))) -> \(request.outputPath)")
    let arguments = grubMkrescueArguments(output: request.outputPath, root: staging)
    let logPath = staging + ".log"
    defer { try? FileManager.default.removeItem(atPath: logPath) }
    guard runTool(mkrescue, arguments, log: logPath, what: "grub-mkrescue") else { return EggStatus.eggFailure }
    guard fileExists(request.outputPath) else {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        complain("grub-mkrescue succeeded but wrote no \(request.outputPath):\n" + log)
        return EggStatus.eggFailure
    }
    if request.verbose, let log = try? String(contentsOfFile: logPath, encoding: .utf8), !log.isEmpty {
        complain("grub-mkrescue said:\n" + log)
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: request.outputPath)[.size] as? Int) ?? 0
    step("wrote \(request.outputPath) (\(describeSize(size))); boot it with `egg run \(request.outputPath)` or write it to a USB stick")
    return 0
}

func makeStagingDirectory() throws -> String {
    let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((base + "/egg-pack.XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard made != nil else { throw CocoaError(.fileWriteUnknown) }
    return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
