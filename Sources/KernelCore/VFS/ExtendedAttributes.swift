// ExtendedAttributes — one inode's extended attributes as tmpfs keeps them (KernelCore/VFS,
// pure logic; host-tested in Tests/KernelCoreTests/ExtendedAttributeTests.swift).
//
// The model is Linux 6.6's tmpfs (mm/shmem.c shmem_xattr_handler_set over fs/xattr.c's
// simple_xattr_*): the namespaces user.*, trusted.* and security.* (user.* on tmpfs since
// 6.6); system.* (POSIX ACLs) answers EOPNOTSUPP as a tmpfs built without
// CONFIG_TMPFS_POSIX_ACL does, and so does any other prefix (xattr_resolve_name finds no
// handler). Limits from include/uapi/linux/limits.h: names up to XATTR_NAME_MAX (255) bytes
// (ERANGE beyond), values up to XATTR_SIZE_MAX (65536: E2BIG beyond), lists up to
// XATTR_LIST_MAX. Space is charged as simple_xattr_space() does (40 + size + name length)
// against the file system's free_ispace (nr_inodes * 1024 less what inodes use): ENOSPC.
// Listing order is by name (simple_xattrs is an rbtree keyed by strcmp since 6.6).
// Who may read or write which namespace is XattrSyscalls (Syscalls/XattrSyscalls.swift).
import LinuxABI

/// The namespace an attribute name's prefix selects.
public enum XattrNamespace: Equatable {
    case user, trusted, security

    static var prefixes: [(XattrNamespace, [UInt8])] {
        [(.user, Array("user.".utf8)), (.trusted, Array("trusted.".utf8)), (.security, Array("security.".utf8))]
    }
}

public struct ExtendedAttributes {
    /// XATTR_NAME_MAX, XATTR_SIZE_MAX, XATTR_LIST_MAX.
    public static let nameMax = 255, sizeMax = 65536, listMax = 65536
    /// XATTR_CREATE, XATTR_REPLACE (setxattr(2)).
    public static let create: UInt64 = 1, replace: UInt64 = 2

    /// Names in strcmp order, with their values.
    public private(set) var names: [[UInt8]] = []
    public private(set) var values: [[UInt8]] = []

    public init() {}

    public var isEmpty: Bool { names.isEmpty }

    /// simple_xattr_space(): what one attribute costs against free_ispace.
    public static func space(name: [UInt8], size: Int) -> Int { 40 + size + name.count }

    /// xattr_resolve_name: the namespace of a full name; EOPNOTSUPP for an unknown prefix
    /// (system.* included, see above), EINVAL for a bare prefix ("user."), ERANGE for an
    /// empty name or one past XATTR_NAME_MAX (fs/xattr.c copies it with strncpy_from_user).
    public static func namespace(of name: [UInt8]) -> Result<XattrNamespace, Errno> {
        guard !name.isEmpty, name.count <= nameMax else { return .failure(.ERANGE) }
        for (space, prefix) in XattrNamespace.prefixes where name.count >= prefix.count && Array(name[0..<prefix.count]) == prefix {
            return name.count == prefix.count ? .failure(.EINVAL) : .success(space)
        }
        return .failure(.EOPNOTSUPP)
    }

    func index(of name: [UInt8]) -> Int? { names.firstIndex(of: name) }

    /// The value of `name`, or nil (ENODATA to the caller).
    public func value(of name: [UInt8]) -> [UInt8]? {
        guard let i = index(of: name) else { return nil }
        return values[i]
    }

    /// strcmp order of two names (bytes compared as unsigned char).
    static func precedes(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] }
        return a.count < b.count
    }

    /// simple_xattr_set with setxattr(2)'s flags: EEXIST for XATTR_CREATE of an existing
    /// name, ENODATA for XATTR_REPLACE of a missing one, E2BIG past XATTR_SIZE_MAX, ENOSPC
    /// when the change needs more than `available` bytes of space (nil: no limit). Returns
    /// the change in space used (negative when a smaller value replaced a larger one).
    public mutating func set(_ name: [UInt8], _ value: [UInt8], flags: UInt64, available: Int?) -> Result<Int, Errno> {
        guard flags & ~(ExtendedAttributes.create | ExtendedAttributes.replace) == 0 else { return .failure(.EINVAL) }
        guard value.count <= ExtendedAttributes.sizeMax else { return .failure(.E2BIG) }
        let existing = index(of: name)
        if existing != nil && flags & ExtendedAttributes.create != 0 { return .failure(.EEXIST) }
        if existing == nil && flags & ExtendedAttributes.replace != 0 { return .failure(.ENODATA) }
        let charge = ExtendedAttributes.space(name: name, size: value.count)
        let refund = existing.map { ExtendedAttributes.space(name: name, size: values[$0].count) } ?? 0
        if let available, charge - refund > available { return .failure(.ENOSPC) }
        if let i = existing {
            values[i] = value
        } else {
            var at = names.count
            for (i, n) in names.enumerated() where ExtendedAttributes.precedes(name, n) { at = i; break }
            names.insert(name, at: at)
            values.insert(value, at: at)
        }
        return .success(charge - refund)
    }

    /// Removes `name`; returns the space freed, or ENODATA.
    public mutating func remove(_ name: [UInt8]) -> Result<Int, Errno> {
        guard let i = index(of: name) else { return .failure(.ENODATA) }
        let freed = ExtendedAttributes.space(name: name, size: values[i].count)
        names.remove(at: i)
        values.remove(at: i)
        return .success(freed)
    }

    /// The space every attribute holds (returned to the file system when the inode goes).
    public var spaceUsed: Int {
        var total = 0
        for i in 0..<names.count { total += ExtendedAttributes.space(name: names[i], size: values[i].count) }
        return total
    }

    /// listxattr(2)'s buffer: each visible name followed by a NUL. trusted.* shows only to
    /// a caller with CAP_SYS_ADMIN (simple_xattr_list's trusted_xattr_permission).
    public func list(showTrusted: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for n in names {
            if !showTrusted, case .success(.trusted) = ExtendedAttributes.namespace(of: n) { continue }
            out += n
            out.append(0)
        }
        return out
    }
}
