// FileArchive — packs `egg run --files DIR` into the cpio (newc) archive the kernel unpacks
// as the guest's root file system (EggHost layer, host only). The format and the kernel's
// parser are Sources/KernelCore/VFS/CpioArchive.swift; this file only walks the host
// directory: regular files, directories, symlinks (targets kept as they are), their
// permission bits, owners and modification times. Other kinds (sockets, devices, FIFOs)
// are skipped; hard links become independent copies. newc stores a size in 8 hex digits, so
// a file of 4 GiB or more is refused with a message (the kernel reads members in place from
// the boot bundle, so large files cost the guest no heap: VFS/FileData.swift).

import Foundation
import KernelCore

public enum FileArchiveError: Error, Equatable {
    case notADirectory(String)
    case unreadable(String, String)
    case tooLarge(String, UInt64)

    public var message: String {
        switch self {
        case .notADirectory(let path): return "--files \(path): no such directory"
        case .unreadable(let path, let why): return "--files: cannot read \(path): \(why)"
        case .tooLarge(let path, let size):
            return "--files: \(path) is \(size) bytes; the archive format holds files below 4 GiB"
        }
    }
}

/// The archive of everything below `directory` (which becomes the guest's "/").
public func packFileArchive(directory: String) -> Result<[UInt8], FileArchiveError> {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        return .failure(.notADirectory(directory))
    }
    var members: [CpioMember] = []
    var info = stat()
    guard lstat(directory, &info) == 0 || stat(directory, &info) == 0 else {
        return .failure(.unreadable(directory, String(cString: strerror(errno))))
    }
    members.append(CpioMember(name: Array(".".utf8), mode: UInt32(S_IFDIR) | UInt32(info.st_mode) & 0o7777,
                              uid: info.st_uid, gid: info.st_gid, mtime: UInt32(truncatingIfNeeded: info.st_mtim.tv_sec)))
    if case .failure(let e) = walk(directory, relative: "", into: &members) { return .failure(e) }
    return .success(CpioArchive.build(members))
}

/// newc's filesize field: 8 hex digits (cpio(5)).
let maximumMemberSize: UInt64 = 0xFFFF_FFFF

private func walk(_ root: String, relative: String, into members: inout [CpioMember]) -> Result<Void, FileArchiveError> {
    let here = relative.isEmpty ? root : root + "/" + relative
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: here).sorted() } catch {
        return .failure(.unreadable(here, String(describing: error.localizedDescription)))
    }
    for name in names {
        let rel = relative.isEmpty ? name : relative + "/" + name
        let path = root + "/" + rel
        var info = stat()
        guard lstat(path, &info) == 0 else { return .failure(.unreadable(path, String(cString: strerror(errno)))) }
        let type = info.st_mode & S_IFMT
        var member = CpioMember(name: Array(rel.utf8), mode: UInt32(info.st_mode), uid: info.st_uid, gid: info.st_gid,
                                mtime: UInt32(truncatingIfNeeded: info.st_mtim.tv_sec))
        switch type {
        case S_IFDIR:
            members.append(member)
            if case .failure(let e) = walk(root, relative: rel, into: &members) { return .failure(e) }
        case S_IFREG:
            guard UInt64(info.st_size) <= maximumMemberSize else { return .failure(.tooLarge(path, UInt64(info.st_size))) }
            guard let data = FileManager.default.contents(atPath: path) else {
                return .failure(.unreadable(path, String(cString: strerror(errno))))
            }
            member.data = [UInt8](data)
            members.append(member)
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: 4097)
            let n = readlink(path, &buffer, 4096)
            guard n >= 0 else { return .failure(.unreadable(path, String(cString: strerror(errno)))) }
            member.data = buffer[0..<n].map { UInt8(bitPattern: $0) }
            members.append(member)
        default:
            continue
        }
    }
    return .success(())
}
