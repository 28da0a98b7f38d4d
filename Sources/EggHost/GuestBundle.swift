// GuestBundle — builds the boot bundle egg passes to the kernel as QEMU's -initrd
// (EggHost layer, host only). The format and its parser live in
// Sources/KernelCore/BootBundle.swift; this file only chooses the records.

import KernelCore

/// The path the guest sees for its own executable: "/" + the host file's basename, so that
/// argv[0], AT_EXECFN and /proc/self/exe agree and reveal nothing of the host's layout.
public func guestExecutablePath(forHostPath path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    let base = trimmed.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? trimmed
    return "/" + base
}

/// Records in a fixed order: the executable, its guest path, argv (argv[0] first), envp,
/// kernel options, then the root file-system archive if there is one.
public func makeGuestBundle(executable: [UInt8], hostPath: String, arguments: [String],
                            environment: [String], options: [String] = [], fileArchive: [UInt8]? = nil) -> [UInt8] {
    let guestPath = guestExecutablePath(forHostPath: hostPath)
    var records: [(BootBundleRecordKind, [UInt8])] = [
        (.executable, executable),
        (.executablePath, Array(guestPath.utf8)),
        (.argument, Array(guestPath.utf8)),
    ]
    for argument in arguments { records.append((.argument, Array(argument.utf8))) }
    for entry in environment { records.append((.environment, Array(entry.utf8))) }
    for option in options { records.append((.option, Array(option.utf8))) }
    if let fileArchive { records.append((.fileArchive, fileArchive)) }  // --files (FileArchive.swift)
    return BootBundle.build(records)
}
