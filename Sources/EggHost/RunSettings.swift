// RunSettings — pure parsing of `egg run` option values (EggHost layer, host only).
//
// Memory sizes, the guest environment and accelerator/machine choices. Kept free of I/O so
// Tests/EggHostTests pins each rule; Sources/egg only hands strings over.

import Foundation

/// `-m/--memory`: "256M", "1G", "512" (MiB), "65536K"; result in MiB. nil when malformed,
/// not a whole number of MiB, or outside 16 MiB ... 1 TiB.
public func parseMemorySize(_ text: String) -> Int? {
    var digits = Substring(text.trimmingCharacters(in: .whitespaces))
    var unitShift = 20 // bytes = value << shift; plain numbers are MiB as for QEMU's -m
    var suffix = ""
    while let last = digits.last, last.isLetter {
        suffix = String(last).uppercased() + suffix
        digits = digits.dropLast()
    }
    switch suffix {
    case "": unitShift = 20
    case "K", "KB", "KIB": unitShift = 10
    case "M", "MB", "MIB": unitShift = 20
    case "G", "GB", "GIB": unitShift = 30
    case "T", "TB", "TIB": unitShift = 40
    default: return nil
    }
    guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
          let value = Int(digits), value > 0, value < (1 << 40) else { return nil }
    let (bytes, overflow) = value.multipliedReportingOverflow(by: 1 << unitShift)
    guard !overflow, bytes % (1 << 20) == 0 else { return nil }
    let mib = bytes >> 20
    guard mib >= minimumMemoryMiB, mib <= 1 << 20 else { return nil }
    return mib
}

public let minimumMemoryMiB = 16

/// The most guest memory `egg run` accepts from the kernel's side: it maps all RAM into a
/// 512 GiB window (PML4 slot 255, Sources/Kernel/Main.swift), and on `pc` RAM above 3 GiB
/// moves above the 4 GiB hole; 256 GiB keeps well inside. (Measured on a 23 GiB host:
/// -m 23G boots; hosts with more RAM were not available.)
public let maximumMemoryMiB = 256 << 10

/// How much guest RAM this host lets QEMU allocate, in MiB; nil when it does not limit it.
/// QEMU reserves all of -m at start: with the kernel's default heuristic overcommit
/// (vm.overcommit_memory = 0, proc(5)) one allocation larger than RAM + swap fails
/// ("cannot set up guest memory 'pc.ram'"), which used to end as a boot failure (251);
/// with 2 (strict) the limit is CommitLimit; with 1 there is none.
public func hostMemoryLimitMiB(overcommitMode: String?, meminfo: String?) -> Int? {
    let mode = overcommitMode?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0"
    if mode == "1" { return nil }
    var fields: [String: Int] = [:]
    for line in (meminfo ?? "").split(separator: "\n") {
        let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
        if parts.count >= 2, let kB = Int(parts[1]) { fields[String(parts[0])] = kB }
    }
    if mode == "2" { return fields["CommitLimit"].map { $0 >> 10 } }
    guard let total = fields["MemTotal"] else { return nil }
    return (total + (fields["SwapTotal"] ?? 0)) >> 10
}

/// This machine's limit (reads /proc).
public func currentHostMemoryLimitMiB() -> Int? {
    hostMemoryLimitMiB(overcommitMode: try? String(contentsOfFile: "/proc/sys/vm/overcommit_memory", encoding: .utf8),
                       meminfo: try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8))
}

/// Why `-m` is refused, nil when QEMU and the kernel can boot it: malformed, below
/// 16 MiB, above what the kernel maps, or more than this host lets QEMU allocate.
public func memorySizeProblem(_ text: String, hostLimitMiB: Int? = currentHostMemoryLimitMiB()) -> String? {
    guard let mib = parseMemorySize(text) else {
        return "-m \(text): expected a size such as 64M, 256M or 1G, from \(minimumMemoryMiB) MiB to \(maximumMemoryMiB >> 10) GiB"
    }
    if mib > maximumMemoryMiB {
        return "-m \(text): egg boots guests with at most \(maximumMemoryMiB >> 10) GiB of memory; give -m \(maximumMemoryMiB >> 10)G or less"
    }
    if let hostLimitMiB, mib > hostLimitMiB {
        return "-m \(text): this host lets QEMU allocate at most \(hostLimitMiB) MiB (RAM + swap, or CommitLimit; QEMU reserves all of -m at start); give -m \(hostLimitMiB)M or less"
    }
    return nil
}

/// Bytes of the guest's RAM the kernel keeps for itself before any of the bundle: its
/// image and page tables (4 MiB covers both with room) and its heap, which Main.swift
/// sizes as an eighth of RAM, at least 8 MiB, at most 256 MiB.
public func kernelReservedBytes(memoryMiB: Int) -> UInt64 {
    let ram = UInt64(memoryMiB) << 20
    return (4 << 20) + min(max(ram / 8, 8 << 20), 256 << 20)
}

/// The largest bundle (program + --files archive + arguments) the guest's RAM can hold
/// next to the kernel: QEMU loads the bundle into guest RAM as a boot module.
public func bundleCapacityBytes(memoryMiB: Int) -> UInt64 {
    let ram = UInt64(memoryMiB) << 20
    let reserved = kernelReservedBytes(memoryMiB: memoryMiB)
    return ram > reserved ? ram - reserved : 0
}

/// Why a bundle of `bytes` cannot boot with `-m memoryMiB`, nil when it fits.
public func bundleSizeProblem(bytes: UInt64, memoryMiB: Int) -> String? {
    let capacity = bundleCapacityBytes(memoryMiB: memoryMiB)
    guard bytes > capacity else { return nil }
    var needed = memoryMiB
    while bundleCapacityBytes(memoryMiB: needed) < bytes && needed <= maximumMemoryMiB { needed += 16 }
    return "the program and --files come to \(describeBytes(bytes)), more than the guest's memory can hold "
        + "(-m \(memoryMiB)M leaves \(describeBytes(capacity)) after the kernel's own \(describeBytes(kernelReservedBytes(memoryMiB: memoryMiB)))); "
        + (needed <= maximumMemoryMiB ? "give -m \(needed)M or more" : "it cannot be booted at any -m")
}

/// The environment the guest starts with when egg is given no `-e`.
public func defaultGuestEnvironment(hostTERM: String?) -> [String] {
    let term = (hostTERM?.isEmpty == false) ? hostTERM! : "vt100"
    return ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "TERM=\(term)"]
}

public enum EnvironmentError: Error, Equatable {
    case malformed(String)

    public var message: String {
        switch self {
        case .malformed(let entry):
            return "-e \(entry): expected KEY=VALUE with a non-empty KEY; for example -e LANG=C.UTF-8"
        }
    }
}

/// Applies `-e` entries to `base`, in order: KEY=VALUE replaces KEY where it already is (so
/// the order stays stable) or is appended; a bare KEY copies the host's value if it has one
/// (as `docker run -e KEY` does) and is otherwise ignored.
public func mergeEnvironment(base: [String], overrides: [String],
                             hostValue: (String) -> String? = { _ in nil })
    -> Result<[String], EnvironmentError> {
    var result = base
    for entry in overrides {
        var pair = entry
        if let eq = entry.firstIndex(of: "=") {
            if eq == entry.startIndex { return .failure(.malformed(entry)) }
        } else {
            if entry.isEmpty { return .failure(.malformed(entry)) }
            guard let value = hostValue(entry) else { continue }
            pair = entry + "=" + value
        }
        let key = pair[..<pair.firstIndex(of: "=")!]
        if let at = result.firstIndex(where: { $0.split(separator: "=", maxSplits: 1).first == key }) {
            result[at] = pair
        } else {
            result.append(pair)
        }
    }
    return .success(result)
}

/// `--accel`.
public enum AcceleratorChoice: String, CaseIterable, Sendable {
    case auto, tcg, kvm
}

/// `--machine`: QEMU machine types the kernel boots on.
public enum MachineType: String, CaseIterable, Sendable {
    case pc, q35, microvm
}

/// `-v/--volume HOST_DIR:GUEST_PATH[:ro|:rw]`: a host directory shared two-way with the
/// guest through virtio-9p (QEMUCommand.swift; the guest side is Sources/Kernel/NinePSetup
/// .swift and Sources/Drivers/NinePVolume.swift).
public struct VolumeMount: Equatable, Sendable {
    /// Absolute (a relative HOST_DIR is taken from the current directory).
    public var hostPath: String
    public var guestPath: String
    public var readOnly: Bool
    public init(hostPath: String, guestPath: String, readOnly: Bool) {
        self.hostPath = hostPath
        self.guestPath = guestPath
        self.readOnly = readOnly
    }
}

/// Parses one -v value; the error is the message egg prints before exiting 125.
public func parseVolume(_ text: String, currentDirectory: String,
                        isDirectory: (String) -> Bool) -> Result<VolumeMount, EggRefusal> {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let usage = "expected HOST_DIR:GUEST_PATH or HOST_DIR:GUEST_PATH:ro (or :rw), for example -v $PWD/data:/data"
    guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
        return .failure(EggRefusal("-v \(text): \(usage)"))
    }
    var readOnly = false
    if parts.count == 3 {
        switch parts[2] {
        case "ro": readOnly = true
        case "rw": readOnly = false
        default: return .failure(EggRefusal("-v \(text): unknown mode \"\(parts[2])\"; the mode is ro or rw"))
        }
    }
    let guest = parts[1]
    guard guest.hasPrefix("/") else {
        return .failure(EggRefusal("-v \(text): the guest path \(guest) must be absolute (start with /)"))
    }
    let guestComponents = guest.split(separator: "/")
    guard !guestComponents.isEmpty else {
        return .failure(EggRefusal("-v \(text): a volume cannot be mounted over the guest's root /; give a directory such as /data"))
    }
    guard !guestComponents.contains(where: { $0 == "." || $0 == ".." }), guest.utf8.count <= 4095,
          !guest.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
        return .failure(EggRefusal("-v \(text): the guest path must be a plain absolute path (no . or .., no control characters)"))
    }
    var host = parts[0]
    if !host.hasPrefix("/") { host = (currentDirectory.hasSuffix("/") ? currentDirectory : currentDirectory + "/") + host }
    guard isDirectory(host) else {
        return .failure(EggRefusal("-v \(text): \(parts[0]) is not an existing directory on the host"))
    }
    return .success(VolumeMount(hostPath: host, guestPath: "/" + guestComponents.joined(separator: "/"), readOnly: readOnly))
}

/// All -v values; two volumes at one guest path are refused.
public func parseVolumes(_ texts: [String], currentDirectory: String,
                         isDirectory: (String) -> Bool) -> Result<[VolumeMount], EggRefusal> {
    var out: [VolumeMount] = []
    for text in texts {
        switch parseVolume(text, currentDirectory: currentDirectory, isDirectory: isDirectory) {
        case .failure(let e): return .failure(e)
        case .success(let v):
            if out.contains(where: { $0.guestPath == v.guestPath }) {
                return .failure(EggRefusal("-v \(text): \(v.guestPath) already has a volume"))
            }
            out.append(v)
        }
    }
    return .success(out)
}

/// The kernel options naming each volume's mount tag, mode and guest path (NinePSetup.swift).
public func volumeKernelOptions(_ volumes: [VolumeMount]) -> [String] {
    volumes.enumerated().map { "volume=\(volumeTag($0.offset)):\($0.element.readOnly ? "ro" : "rw"):\($0.element.guestPath)" }
}

/// The virtio-9p mount tag of the i-th volume.
public func volumeTag(_ index: Int) -> String { "egg.vol\(index)" }

/// A refusal message (exit 125).
public struct EggRefusal: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
