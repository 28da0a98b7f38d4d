// AcceleratorProbe — decides between KVM and TCG for `--accel auto` (EggHost layer, host only).
//
// /dev/kvm on some hosts is a nested, paravirtual KVM that fails on instructions the kernel
// uses, so "openable" is not enough: egg boots the real kernel once under KVM with the
// minimal exit(42) program (MinimalExecutable.swift) and trusts KVM only if the control
// channel then says `exit 42` within 10 s. The verdict is cached in
// $XDG_CACHE_HOME/egg/kvm-probe (else ~/.cache/egg/kvm-probe), one line per key; the key
// covers the kernel file's size and mtime (not its path: the same kernel installed or
// copied elsewhere needs no new probe), QEMU's version, the host kernel release, /dev/kvm's
// device number and the machine type, so a rebuilt kernel or an upgraded QEMU is probed
// again. `egg run --syscalls` probes the base kernel, before building its own
// (EggRun.swift): the custom kernel's path is new on every run and used to miss the cache.

import Foundation

public struct AcceleratorDecision: Equatable {
    public var accelerator: Accelerator
    public var reason: String
}

public let kvmProbeTimeoutSeconds = 10.0

/// One cache line: "<key>\t<ok|fail>\t<detail>".
public struct ProbeCacheEntry: Equatable {
    public var key: String
    public var passed: Bool
    public var detail: String

    public init(key: String, passed: Bool, detail: String) {
        self.key = key
        self.passed = passed
        self.detail = detail
    }

    public init?(line: Substring) {
        let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, fields[1] == "ok" || fields[1] == "fail" else { return nil }
        self.init(key: String(fields[0]), passed: fields[1] == "ok", detail: String(fields[2]))
    }

    public var line: String {
        let clean = detail.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
        return "\(key)\t\(passed ? "ok" : "fail")\t\(clean)"
    }
}

/// The cached verdict for `key` in a cache file's text.
public func cachedVerdict(in text: String, key: String) -> ProbeCacheEntry? {
    text.split(separator: "\n").compactMap(ProbeCacheEntry.init(line:)).last { $0.key == key }
}

/// The cache text with `entry` replacing any line for the same key; keeps the newest 16.
public func updatedCache(_ text: String, with entry: ProbeCacheEntry) -> String {
    var entries = text.split(separator: "\n").compactMap(ProbeCacheEntry.init(line:)).filter { $0.key != entry.key }
    entries.append(entry)
    return entries.suffix(16).map(\.line).joined(separator: "\n") + "\n"
}

public func probeCachePath(environment: [String: String]) -> String? {
    if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/egg/kvm-probe" }
    if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/egg/kvm-probe" }
    return nil
}

/// Whether /dev/kvm can be opened read-write; nil when it can, else why not.
public func kvmDeviceProblem() -> String? {
    let fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)
    if fd < 0 { return "/dev/kvm: \(String(cString: strerror(errno)))" }
    close(fd)
    return nil
}

/// The decision for `--accel auto`. Runs the probe (about a second) only on a cache miss.
func decideAccelerator(qemu: String, kernel: KernelLocation, machine: MachineType,
                       directory: TemporaryRunDirectory, environment: [String: String]) -> AcceleratorDecision {
    if let problem = kvmDeviceProblem() {
        return AcceleratorDecision(accelerator: .tcg, reason: "auto: \(problem)")
    }
    let key = probeKey(qemu: qemu, kernel: kernel.path, machine: machine)
    let cachePath = probeCachePath(environment: environment)
    let cacheText = cachePath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? ""
    if let entry = cachedVerdict(in: cacheText, key: key) {
        let whereCached = "cached in \(cachePath!); delete it to probe again"
        return entry.passed
            ? AcceleratorDecision(accelerator: .kvm, reason: "auto: KVM probe passed earlier (\(whereCached))")
            : AcceleratorDecision(accelerator: .tcg, reason: "auto: KVM probe failed earlier: \(entry.detail) (\(whereCached))")
    }
    let (passed, detail) = runKVMProbe(qemu: qemu, kernel: kernel.path, machine: machine, directory: directory)
    var note = "not cached"
    // A probe cut short by --timeout or a signal to egg says nothing about KVM: not cached.
    let interrupted = deadlineHasPassed() || receivedSignal() != nil
    if let cachePath, !interrupted {
        let entry = ProbeCacheEntry(key: key, passed: passed, detail: detail)
        try? FileManager.default.createDirectory(atPath: parentDirectory(of: cachePath), withIntermediateDirectories: true)
        if (try? updatedCache(cacheText, with: entry).write(toFile: cachePath, atomically: true, encoding: .utf8)) != nil {
            note = "cached in \(cachePath)"
        }
    }
    return passed
        ? AcceleratorDecision(accelerator: .kvm, reason: "auto: /dev/kvm is usable and the KVM probe passed (\(note))")
        : AcceleratorDecision(accelerator: .tcg, reason: "auto: KVM probe failed: \(detail) (\(note))")
}

func probeKey(qemu: String, kernel: String, machine: MachineType) -> String {
    var info = stat()
    var kernelPart = "?"
    if stat(kernel, &info) == 0 {
        kernelPart = "\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }
    var device = stat()
    let kvm = stat("/dev/kvm", &device) == 0 ? "\(device.st_rdev)" : "none"
    var names = utsname()
    uname(&names)
    let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let cpu = QEMUConfiguration(kernelPath: "", bundlePath: "", controlPath: "", accelerator: .kvm).cpuModel
    return "kernel=\(kernelPart) kvm=\(kvm) qemu=\(qemuVersion(qemu)) host=\(release) machine=\(machine.rawValue) cpu=\(cpu)"
}

/// QEMU's "QEMU emulator version X" line (or its path if that fails).
func qemuVersion(_ qemu: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: qemu)
    process.arguments = ["--version"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return qemu }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let first = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? qemu
    return first.replacingOccurrences(of: "QEMU emulator version ", with: "")
}

/// Boots the kernel under KVM with the minimal program; passes iff the channel says exit 42.
func runKVMProbe(qemu: String, kernel: String, machine: MachineType,
                 directory: TemporaryRunDirectory) -> (Bool, String) {
    let bundle = makeGuestBundle(executable: minimalExitExecutable(), hostPath: "/probe",
                                 arguments: [], environment: [])
    let bundlePath = directory.file("probe-bundle")
    let controlPath = directory.file("probe-control")
    guard FileManager.default.createFile(atPath: bundlePath, contents: Data(bundle)) else {
        return (false, "cannot write \(bundlePath)")
    }
    let configuration = QEMUConfiguration(kernelPath: kernel, bundlePath: bundlePath, controlPath: controlPath,
                                          memoryMiB: 256, cpus: 1, accelerator: .kvm, machine: machine)
    let result: ChildResult
    do {
        result = try runChild(program: qemu, arguments: configuration.arguments, stdin: .null,
                              discardStdout: true, stderrPath: directory.file("probe-stderr"),
                              timeout: kvmProbeTimeoutSeconds)
    } catch {
        if case .failed(let text) = error { return (false, text) }
        return (false, "cannot start QEMU")
    }
    let report = ControlReport(parsing: (try? String(contentsOfFile: controlPath, encoding: .utf8)) ?? "")
    if report.exitStatus == minimalExecutableStatus && report.panicMessage == nil {
        return (true, "exit \(minimalExecutableStatus)")
    }
    if result.timedOut { return (false, "no exit status within \(Int(kvmProbeTimeoutSeconds)) s") }
    if let panic = report.panicMessage { return (false, "kernel panic: \(panic)") }
    if let status = report.exitStatus { return (false, "exit \(status) instead of \(minimalExecutableStatus)") }
    let stderrText = (try? String(contentsOfFile: directory.file("probe-stderr"), encoding: .utf8)) ?? ""
    let firstError = stderrText.split(separator: "\n").first.map { ": " + $0 } ?? ""
    return (false, "no exit status (QEMU status \(result.exitCode.map(String.init) ?? "signal"))\(firstError)")
}
