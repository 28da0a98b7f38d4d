// ResolveRules — openat2(2)'s RESOLVE_* restrictions on one path walk (KernelCore/VFS, pure
// logic; host-tested in Tests/KernelCoreTests/ResolveRulesTests.swift).
//
// FileSystem.walk (FileSystem.swift) asks these at three points: an absolute path (or an
// absolute symlink target), each step from a directory to a child or to "..", and each
// symbolic link it is about to follow. The rules are fs/namei.c's LOOKUP_BENEATH,
// LOOKUP_IN_ROOT, LOOKUP_NO_XDEV, LOOKUP_NO_SYMLINKS and LOOKUP_NO_MAGICLINKS as
// openat2(2) describes them: escaping the starting directory under RESOLVE_BENEATH is EXDEV
// (an absolute path, a ".." above it); RESOLVE_IN_ROOT makes the starting directory the
// root ("/" and ".." stop there: FileSystem.lookupRoot); crossing a mount under
// RESOLVE_NO_XDEV is EXDEV; following any symlink under RESOLVE_NO_SYMLINKS is ELOOP; a
// /proc magic link (fd/N, exe, cwd, root: nd_jump_link) is ELOOP under
// RESOLVE_NO_MAGICLINKS and EXDEV in a scoped (BENEATH or IN_ROOT) lookup.
import LinuxABI

public struct ResolveRules {
    /// RESOLVE_NO_XDEV, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_BENEATH,
    /// RESOLVE_IN_ROOT, RESOLVE_CACHED (include/uapi/linux/openat2.h).
    public static let noXdev: UInt64 = 0x01, noMagicLinks: UInt64 = 0x02, noSymlinks: UInt64 = 0x04
    public static let beneath: UInt64 = 0x08, inRoot: UInt64 = 0x10, cached: UInt64 = 0x20
    public static let valid: UInt64 = 0x3F

    /// RESOLVE_IN_ROOT's directory: "/" and ".." stop there.
    public var root: Inode?
    /// RESOLVE_BENEATH's directory: the walk may not leave it.
    public var beneathOf: Inode?
    public var forbidsCrossingMounts = false
    public var forbidsSymlinks = false
    public var forbidsMagicLinks = false

    /// The rules for `resolve` bits starting at `start`; EINVAL for unknown bits or for
    /// RESOLVE_BENEATH with RESOLVE_IN_ROOT (build_open_flags).
    public static func make(_ resolve: UInt64, start: Inode) -> Result<ResolveRules, Errno> {
        guard resolve & ~valid == 0 else { return .failure(.EINVAL) }
        guard resolve & (beneath | inRoot) != (beneath | inRoot) else { return .failure(.EINVAL) }
        var r = ResolveRules()
        if resolve & inRoot != 0 { r.root = start }
        if resolve & beneath != 0 { r.beneathOf = start }
        r.forbidsCrossingMounts = resolve & noXdev != 0
        r.forbidsSymlinks = resolve & noSymlinks != 0
        r.forbidsMagicLinks = resolve & noMagicLinks != 0
        return .success(r)
    }

    var isScoped: Bool { root != nil || beneathOf != nil }

    /// An absolute path or symlink target: it would jump out of a RESOLVE_BENEATH walk.
    func absolute() -> Errno? { beneathOf != nil ? .EXDEV : nil }

    /// A step from `from` to `to` (a child, or the parent for ".."). ".." at the start of a
    /// BENEATH walk escapes it; a step onto another mount breaks NO_XDEV.
    func step(from: Inode, to: Inode, dotDot: Bool) -> Errno? {
        if dotDot, let b = beneathOf, from === b { return .EXDEV }
        if forbidsCrossingMounts && from.mount != to.mount { return .EXDEV }
        return nil
    }

    /// /proc's magic links: a process directory's fd/N, exe, cwd and root (the symlinks
    /// "self" and "thread-self" are ordinary ones).
    static func isMagicLink(_ link: Inode, name: [UInt8]) -> Bool {
        guard link.mount == .proc else { return false }
        return name != Array("self".utf8) && name != Array("thread-self".utf8)
    }

    /// About to follow the symbolic link `link` (named `name` in its directory).
    func following(_ link: Inode, name: [UInt8]) -> Errno? {
        if forbidsSymlinks { return .ELOOP }
        if ResolveRules.isMagicLink(link, name: name) {
            if forbidsMagicLinks { return .ELOOP }
            if isScoped { return .EXDEV }
        }
        return nil
    }
}
