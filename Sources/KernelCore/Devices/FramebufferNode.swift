// FramebufferNode — /dev/fb0 as a descriptor until the VFS has device nodes (KernelCore
// layer, pure logic).
//
// The device logic is FramebufferDevice.swift. This file makes it reachable: each open of
// "/dev/fb0" installs a FramebufferNode (a PollableObject, like pipes and eventfds in
// Sources/KernelCore/Events/) at the lowest free descriptor, and `install(in:)` wraps the
// open, openat, ioctl and mmap handlers through the syscall table's own `register`, which
// returns the handler it replaces: a call on anything else goes on to the original. When
// the VFS registers device nodes, the node's open/ioctl/mmap/read/write hooks call the same
// FramebufferDevice methods and this bridge goes away.
import LinuxABI

/// One open file description of /dev/fb0, with its own file position.
public final class FramebufferNode: PollableObject {
    public let device: FramebufferDevice
    var position = 0

    init(device: FramebufferDevice) { self.device = device }

    public func pollEvents(_ k: KernelState) -> UInt32 { PollEvents.input | PollEvents.output }

    public func read(_ k: KernelState, into address: UserAddress, count: Int, nonblocking: Bool) -> SyscallResult {
        let result = device.read(k, into: address, count: count, offset: position)
        if case .success(let n) = result { position += n }
        return result
    }

    public func write(_ k: KernelState, from address: UserAddress, count: Int, nonblocking: Bool) -> SyscallResult {
        let result = device.write(k, from: address, count: count, offset: position)
        if case .success(let n) = result { position += n }
        return result
    }

    public func closed(_ k: KernelState) {
        device.nodes.removeAll { $0 === self }
    }

    /// S_IFCHR | 0660 (a character device, major 29 on Linux).
    public var fileMode: UInt32 { 0o020660 }
}

extension FramebufferDevice {
    public static let path: [UInt8] = Array("/dev/fb0".utf8)

    /// The node behind descriptor `fd`, if it is one of ours.
    func node(_ k: KernelState, _ fd: Int32) -> FramebufferNode? {
        guard fd >= 0, Int(fd) < k.files.count, let object = k.files[Int(fd)]?.object else { return nil }
        return nodes.first { $0 === object }
    }

    func open(_ k: KernelState, path address: UserAddress, flags: UInt64) -> SyscallResult? {
        guard case .success(let path) = k.memory.readCString(address), path == FramebufferDevice.path else { return nil }
        // O_DIRECTORY (0o200000) on a character device is ENOTDIR; O_CREAT|O_EXCL is EEXIST.
        if flags & 0o200000 != 0 { return .failure(.ENOTDIR) }
        if flags & 0o300 == 0o300 { return .failure(.EEXIST) }
        let node = FramebufferNode(device: self)
        let result = k.installObject(node, flags: flags & ~0o2000000, closeOnExec: flags & 0o2000000 != 0)
        if case .success = result { nodes.append(node) }
        return result
    }

    /// Wraps open, openat, ioctl and mmap so /dev/fb0 works (called once at boot by
    /// Sources/Kernel/Main.swift when there is a framebuffer).
    public func install(in k: KernelState) {
        let previousOpen = k.syscalls.handler(for: SyscallNumber.open.rawValue)
        k.syscalls.register(.open) { [self] k, a in
            if let result = open(k, path: a.address(0), flags: a[1]) { return result }
            return previousOpen?(k, a) ?? .failure(.ENOSYS)
        }
        let previousOpenat = k.syscalls.handler(for: SyscallNumber.openat.rawValue)
        k.syscalls.register(.openat) { [self] k, a in
            if let result = open(k, path: a.address(1), flags: a[2]) { return result }
            return previousOpenat?(k, a) ?? .failure(.ENOSYS)
        }
        let previousIoctl = k.syscalls.handler(for: SyscallNumber.ioctl.rawValue)
        k.syscalls.register(.ioctl) { [self] k, a in
            if node(k, a.int32(0)) != nil { return ioctl(k, request: a[1], argument: a[2]) }
            return previousIoctl?(k, a) ?? .failure(.ENOSYS)
        }
        let previousMmap = k.syscalls.handler(for: SyscallNumber.mmap.rawValue)
        k.syscalls.register(.mmap) { [self] k, a in
            // mmap(addr, length, prot, flags, fd, offset); MAP_ANONYMOUS (0x20) ignores fd.
            guard a[3] & 0x20 == 0, node(k, a.int32(4)) != nil else {
                return previousMmap?(k, a) ?? .failure(.ENOSYS)
            }
            return mmapSyscall(k, a)
        }
    }

    /// The argument checks of mmap(2) for a device mapping, then mmap(...) above.
    func mmapSyscall(_ k: KernelState, _ a: SyscallArguments) -> SyscallResult {
        let flags = a[3]
        guard case .success(let protection) = MemorySyscalls.protection(a[2]) else { return .failure(.EINVAL) }
        let type = flags & 0x03
        guard type == MemorySyscalls.mapShared || type == MemorySyscalls.mapPrivate
                || type == MemorySyscalls.mapSharedValidate else { return .failure(.EINVAL) }
        if type == MemorySyscalls.mapSharedValidate && flags & ~MemorySyscalls.mapKnown != 0 { return .failure(.EOPNOTSUPP) }
        let placement: MappingPlacement = flags & MemorySyscalls.mapFixedNoReplace != 0 ? .fixedNoReplace
            : (flags & MemorySyscalls.mapFixed != 0 ? .fixed : .hint)
        return mmap(k, address: a[0], length: a[1], protection: protection, placement: placement,
                    offset: a[5], handle: 0xFB00 + UInt64(a.int32(4)))
    }
}
