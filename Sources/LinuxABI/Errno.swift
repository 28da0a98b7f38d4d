// Errno — Linux error numbers (LinuxABI layer; shared by kernel, trace formatter and tests).
// Values from Linux include/uapi/asm-generic/errno-base.h and errno.h.

public struct Errno: Error, Equatable, Hashable {
    public let rawValue: Int32
    @inline(__always) public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let EPERM = Errno(1)
    public static let ENOENT = Errno(2)
    public static let ESRCH = Errno(3)
    public static let EINTR = Errno(4)
    public static let EIO = Errno(5)
    public static let ENXIO = Errno(6)
    public static let E2BIG = Errno(7)
    public static let ENOEXEC = Errno(8)
    public static let EBADF = Errno(9)
    public static let ECHILD = Errno(10)
    public static let EAGAIN = Errno(11)
    public static let ENOMEM = Errno(12)
    public static let EACCES = Errno(13)
    public static let EFAULT = Errno(14)
    public static let EBUSY = Errno(16)
    public static let EEXIST = Errno(17)
    public static let ENODEV = Errno(19)
    public static let ENOTDIR = Errno(20)
    public static let EISDIR = Errno(21)
    public static let EINVAL = Errno(22)
    public static let ENFILE = Errno(23)
    public static let EMFILE = Errno(24)
    public static let ENOTTY = Errno(25)
    public static let EFBIG = Errno(27)
    public static let ENOSPC = Errno(28)
    public static let ESPIPE = Errno(29)
    public static let EROFS = Errno(30)
    public static let EPIPE = Errno(32)
    public static let ERANGE = Errno(34)
    public static let ENAMETOOLONG = Errno(36)
    public static let ENOSYS = Errno(38)
    public static let ENOTEMPTY = Errno(39)
    public static let ELOOP = Errno(40)
    public static let ETIMEDOUT = Errno(110)
}
