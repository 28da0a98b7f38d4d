// RootFileSystem — mounting the guest's root from the bundle's archive (KernelCore/VFS).
// Placeholder until the VFS lands: there is no file system yet.

extension KernelState {
    /// Called once at boot (Sources/Kernel/Main.swift) with the --files archive, if any.
    public func installRootFileSystem(archive: [UInt8]?) {}
}
