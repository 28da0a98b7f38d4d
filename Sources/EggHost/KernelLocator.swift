// KernelLocator — finds the kernel image and QEMU for `egg run` (EggHost layer, host only).
//
// Kernel order: --kernel, $EGG_KERNEL, <egg's dir>/../share/egg/kernel.elf (the layout of
// `make install PREFIX=dir`), then the build tree: from egg's directory upwards, the first
// build/kernel/kernel.elf (egg itself lives at <repo>/.build/release/egg). The search is
// pure over an `exists` predicate so tests need no files.

import Foundation

public struct KernelLocation: Equatable {
    public var path: String
    /// Where it came from, for --verbose.
    public var source: String

    public init(path: String, source: String) {
        self.path = path
        self.source = source
    }
}

public enum LookupError: Error, Equatable {
    case kernelOptionMissing(String)
    case kernelEnvironmentMissing(String)
    case kernelNotFound(searched: [String])
    case qemuNotFound

    public var message: String {
        switch self {
        case .kernelOptionMissing(let path):
            return "--kernel \(path): no such file; give the path of a kernel.elf built by `make kernel`"
        case .kernelEnvironmentMissing(let path):
            return "EGG_KERNEL=\(path): no such file; fix or unset EGG_KERNEL"
        case .kernelNotFound(let searched):
            return "no kernel image found (looked in \(searched.joined(separator: ", "))); run make kernel, or pass --kernel PATH"
        case .qemuNotFound:
            return "qemu-system-x86_64 not found on PATH; install it (apt-get install qemu-system-x86) or set EGG_QEMU"
        }
    }
}

public func locateKernel(option: String?, environmentValue: String?, executablePath: String,
                         exists: (String) -> Bool) -> Result<KernelLocation, LookupError> {
    if let option {
        return exists(option) ? .success(KernelLocation(path: option, source: "--kernel"))
                              : .failure(.kernelOptionMissing(option))
    }
    if let value = environmentValue, !value.isEmpty {
        return exists(value) ? .success(KernelLocation(path: value, source: "EGG_KERNEL"))
                             : .failure(.kernelEnvironmentMissing(value))
    }
    let binDirectory = parentDirectory(of: executablePath)
    let installed = normalized(binDirectory + "/../share/egg/kernel.elf")
    if exists(installed) { return .success(KernelLocation(path: installed, source: "installed beside egg")) }
    var directory = binDirectory
    while true {
        let candidate = (directory == "/" ? "" : directory) + "/build/kernel/kernel.elf"
        if exists(candidate) { return .success(KernelLocation(path: candidate, source: "build tree")) }
        if directory == "/" || directory == "." || directory.isEmpty { break }
        directory = parentDirectory(of: directory)
    }
    let searched = [installed, "build/kernel/kernel.elf in \(binDirectory) and its parents"]
    return .failure(.kernelNotFound(searched: searched))
}

func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

/// Folds "dir/../" so messages show a clean path (no symlink resolution).
func normalized(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
        parts.append(part)
    }
    return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
}

/// The running egg's own path (symlinks resolved, so an installed symlink still finds
/// share/egg beside the real binary).
public func currentExecutablePath() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    if n > 0 { return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    return CommandLine.arguments.first ?? "egg"
}

/// $EGG_QEMU, else qemu-system-x86_64 on $PATH.
public func locateQEMU(environment: [String: String]) -> Result<String, LookupError> {
    if let explicit = environment["EGG_QEMU"], !explicit.isEmpty { return .success(explicit) }
    let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = String(directory) + "/qemu-system-x86_64"
        if access(candidate, X_OK) == 0 { return .success(candidate) }
    }
    return .failure(.qemuNotFound)
}

public func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
}
