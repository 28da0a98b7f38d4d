// FramebufferNode — /dev/fb0 as a character-device inode of the VFS (KernelCore layer, pure
// logic).
//
// The device logic is FramebufferDevice.swift. This file makes it reachable: `install(in:)`
// (called once at boot by Sources/Kernel/Main.swift when there is a framebuffer) places a
// character-device inode at /dev/fb0 — major 29, minor 0, crw-rw---- as on Linux
// (Documentation/admin-guide/devices.txt) — whose driver is the FramebufferDevice
// (Sources/KernelCore/VFS/CharacterDevice.swift). open(2) of the path then gives an
// ordinary inode description, `ls -l /dev` lists it, stat(2) reports S_IFCHR and rdev 29:0,
// and read/write/ioctl/mmap on the descriptor reach the device through FileSyscalls.swift.
import LinuxABI

extension FramebufferDevice: CharacterDevice {
    public static let path: [UInt8] = Array("/dev/fb0".utf8)

    /// Places the /dev/fb0 node (replacing a plain node of that name, e.g. from a --files
    /// archive, whose major:minor 29:0 names the same device); returns it.
    @discardableResult
    public func install(in k: KernelState) -> Inode {
        let fs = k.files.fileSystem
        let dev = fs.makeDirectories(Array("/dev".utf8))
        let name = Array("fb0".utf8)
        if let old = dev.lookup(name) {
            if old.characterDevice === self { return old }
            dev.unlink(name, now: fs.clock())
            fs.detach(old)
        }
        let node = fs.makeInode(.device(.framebuffer), permissions: 0o660)
        node.characterDevice = self
        dev.link(name, node, now: fs.clock())
        return node
    }
}
