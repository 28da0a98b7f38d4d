// PollableObject — descriptor-backed objects that are not files: pipes, eventfd, timerfd,
// epoll instances (KernelCore/Events). Each reports its readiness for poll/epoll and does
// its own read/write. Any change in readiness wakes KernelState.pollWaiters; pollers
// re-scan (simple, and correct with spurious wake-ups).
import LinuxABI

public enum PollEvents {
    public static let input: UInt32 = 0x001      // EPOLLIN / POLLIN
    public static let priority: UInt32 = 0x002
    public static let output: UInt32 = 0x004     // EPOLLOUT
    public static let error: UInt32 = 0x008      // EPOLLERR
    public static let hangUp: UInt32 = 0x010     // EPOLLHUP
    public static let readHangUp: UInt32 = 0x2000  // EPOLLRDHUP
}

public protocol PollableObject: AnyObject {
    /// Current readiness (PollEvents bits).
    func pollEvents(_ k: KernelState) -> UInt32
    func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int
    func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) throws(Errno) -> Int
    /// The last descriptor referring to it was closed.
    func closed(_ k: KernelState)
    /// st_mode for fstat (S_IFIFO for pipes, 0 for anonymous inodes).
    var fileMode: UInt32 { get }
}

extension KernelState {
    /// Something's readiness changed: let every poll/epoll waiter look again.
    public func notifyPollers() { wake(pollWaiters) }

    /// Install `object` at the lowest free descriptor.
    func installObject(_ object: any PollableObject, flags: UInt64, closeOnExec: Bool) throws(Errno) -> Int {
        guard let fd = FileSyscalls.lowestFreeDescriptor(self, from: 0) else { throw .EMFILE }
        let file = OpenFile(kind: .object, statusFlags: flags)
        file.object = object
        file.closeOnExec = closeOnExec
        files[fd] = file
        return fd
    }
}

let nonblockFlag: UInt64 = 0o4000, cloexecFlag: UInt64 = 0o2000000
