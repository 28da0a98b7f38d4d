// GuestSystemFiles — the files egg writes into the guest's /etc, and the checks of
// --hostname and -w/--workdir (EggHost layer, host only; pure apart from `lstat` of the
// --files directory).
//
// As docker does for a container, the guest gets /etc/resolv.conf (QEMU user networking's
// DNS forwarder, 10.0.2.3; no file with --net none, so the C library fails at once instead
// of waiting out a resolver that is not there) and /etc/hosts (localhost for IPv4 and IPv6,
// and the hostname), unless --files provides them. They travel as cpio members appended to
// the --files archive (FileArchive.swift builds it; Sources/KernelCore/VFS/CpioArchive.swift
// is the format). The hostname and the working directory are kernel options in the boot
// bundle ("hostname=NAME", "workdir=/PATH"; Sources/KernelCore/BootBundle.swift), which
// Sources/Kernel/Main.swift applies before the program starts.
// resolv.conf(5), hosts(5); docker run reference (--hostname, -w).

import Foundation
import KernelCore

/// QEMU user networking's fixed plan (QEMU docs, "Network options", -netdev user).
public let slirpDNSAddress = "10.0.2.3"
public let slirpGuestAddress = "10.0.2.15"

/// The default hostname (the kernel's KernelState.hostname).
public let defaultGuestHostname = "egg"

/// Why --hostname is refused, nil when it is acceptable: RFC 1123 labels of letters,
/// digits and '-', separated by dots, at most 64 bytes (uname's nodename holds 64 + NUL).
public func hostnameProblem(_ name: String) -> String? {
    let why = "--hostname \(name): expected letters, digits, '-' and '.' (RFC 1123), at most 64 characters"
    guard !name.isEmpty, name.utf8.count <= 64 else { return why }
    for label in name.split(separator: ".", omittingEmptySubsequences: false) {
        guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-",
              label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return why }
    }
    return nil
}

/// Why -w/--workdir is refused, nil when acceptable: an absolute guest path, as docker
/// requires, without NUL or control characters (it travels as a bundle option).
public func workdirProblem(_ path: String) -> String? {
    guard path.hasPrefix("/") else { return "-w \(path): the working directory must be an absolute path" }
    guard path.utf8.count <= 4095, !path.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
        return "-w: the working directory must be a path of at most 4095 bytes without control characters"
    }
    return nil
}

/// The kernel options for the hostname and working directory.
public func identityKernelOptions(hostname: String?, workdir: String?) -> [String] {
    var options: [String] = []
    if let hostname { options.append("hostname=" + hostname) }
    if let workdir { options.append("workdir=" + workdir) }
    return options
}

/// /etc/resolv.conf's text, nil without a network card.
public func resolvConfText(networked: Bool) -> String? {
    networked ? "# written by egg: QEMU user networking's DNS forwarder\nnameserver \(slirpDNSAddress)\n" : nil
}

/// /etc/hosts's text. The hostname resolves to the guest's address on QEMU's network, or
/// to 127.0.1.1 without one (Debian's convention for a host without a fixed address).
public func hostsText(hostname: String, networked: Bool) -> String {
    var text = "# written by egg\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    if hostname != "localhost" { text += "\(networked ? slirpGuestAddress : "127.0.1.1")\t\(hostname)\n" }
    return text
}

/// The members egg adds: etc/ (unless the directory gives one) and each file it does not
/// provide. `provided(relativePath)` says whether --files has that path (any kind of file).
public func generatedSystemFiles(hostname: String, networked: Bool,
                                 provided: (String) -> Bool) -> [CpioMember] {
    var members: [CpioMember] = []
    if !provided("etc") {
        members.append(CpioMember(name: Array("etc".utf8), mode: UInt32(S_IFDIR) | 0o755, data: []))
    }
    var files: [(String, String)] = []
    if let resolv = resolvConfText(networked: networked) { files.append(("etc/resolv.conf", resolv)) }
    files.append(("etc/hosts", hostsText(hostname: hostname, networked: networked)))
    let now = UInt32(truncatingIfNeeded: time(nil))
    for (path, text) in files where !provided(path) {
        members.append(CpioMember(name: Array(path.utf8), mode: UInt32(S_IFREG) | 0o644, mtime: now, data: Array(text.utf8)))
    }
    return members
}

/// Whether `relative` exists under the --files directory `root` (lstat: a symlink counts).
/// An etc/ that is not a directory makes every etc/ file "provided": egg adds nothing there.
public func filesDirectoryProvides(root: String?) -> (String) -> Bool {
    guard let root else { return { _ in false } }
    return { relative in
        var info = stat()
        if lstat(root + "/" + relative, &info) == 0 { return true }
        if relative.hasPrefix("etc/"), lstat(root + "/etc", &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR {
            return true
        }
        return false
    }
}

/// Adds `members` at the end of `archive` (nil: none yet), in place: a --files archive can
/// be a gigabyte, so it is not copied. A newc archive ends with a TRAILER!!! member; it is
/// cut off and the new members (with their own trailer) follow. The kernel ignores inode
/// numbers, so the second run of numbers does not matter.
public func appendMembers(_ members: [CpioMember], to archive: inout [UInt8]?) {
    guard !members.isEmpty else { return }
    guard archive != nil else {
        archive = CpioArchive.build(members)
        return
    }
    let trailer = CpioArchive.build([])
    let count = archive!.count
    guard count >= trailer.count, archive![(count - trailer.count)...].elementsEqual(trailer) else {
        return  // not the shape FileArchive.swift writes: leave it as it is
    }
    archive!.removeLast(trailer.count)
    archive!.append(contentsOf: CpioArchive.build(members))
}
