// CharacterDevice — the driver side of a character-device inode (KernelCore/VFS, pure logic).
//
// A device node in the tree (Inode.kind == .device) may carry a driver object; the file
// syscalls (Sources/KernelCore/Syscalls/FileSyscalls.swift: read, write, ioctl, mmap) and
// open (PathSyscalls.swift) hand calls on a descriptor of that node to it, as Linux's
// chrdev_open installs the driver's file_operations. The simple devices (/dev/null, zero,
// random, urandom, the console) are handled in FileSyscalls without a driver object. The one
// driver so far is /dev/fb0 (Sources/KernelCore/Devices/FramebufferDevice.swift; the node is
// placed by FramebufferNode.swift). Class-bound, so `any CharacterDevice` is fine in
// Embedded Swift.
import LinuxABI

public protocol CharacterDevice: AnyObject {
    /// read(2)/pread(2) at byte `offset` of the device.
    func read(_ k: KernelState, into address: UserAddress, count: Int, offset: Int) throws(Errno) -> Int
    /// write(2)/pwrite(2) at byte `offset` of the device.
    func write(_ k: KernelState, from address: UserAddress, count: Int, offset: Int) throws(Errno) -> Int
    /// ioctl(2): unknown requests are ENOTTY.
    func ioctl(_ k: KernelState, request: UInt64, argument: UInt64) throws(Errno) -> Int
    /// mmap(2) of the device, its argument checks done by the caller (MAP_SHARED or
    /// MAP_PRIVATE, known protection bits); `handle` names the mapping's backing.
    func mmap(_ k: KernelState, address: UInt64, length: UInt64, protection: MemoryProtection,
              placement: MappingPlacement, offset: UInt64, handle: UInt64) throws(Errno) -> Int
}
