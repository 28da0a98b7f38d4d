// MemFD — memfd_create(2) and file seals, fcntl(2) F_ADD_SEALS / F_GET_SEALS
// (KernelCore/VFS, with the syscall handlers beside the logic they use).
//
// A memfd is an unnamed tmpfs regular file (mm/memfd.c): link count 0, mode 0777, opened
// O_RDWR|O_LARGEFILE, its bytes FileData blocks like any other file, so it can be written,
// truncated and mapped shared (Process/FileMappingFaults.swift). Seals live on the file
// (FileData.seals): every tmpfs file starts with F_SEAL_SEAL (shmem_get_inode), and only a
// memfd made with MFD_ALLOW_SEALING starts without it. The checks that seals impose sit where
// Linux puts them: write(2) (shmem_write_begin), truncate (shmem_setattr), fallocate
// (shmem_fallocate), mmap (memfd_check_seals_mmap); this file holds the rules they share.
import LinuxABI

public enum MemFD {
    // include/uapi/linux/fcntl.h
    public static let sealSeal: UInt32 = 0x01, sealShrink: UInt32 = 0x02, sealGrow: UInt32 = 0x04
    public static let sealWrite: UInt32 = 0x08, sealFutureWrite: UInt32 = 0x10, sealExec: UInt32 = 0x20
    public static let allSeals: UInt32 = 0x3F
    // include/uapi/linux/memfd.h
    static let cloexec: UInt64 = 0x01, allowSealing: UInt64 = 0x02, hugeTLB: UInt64 = 0x04
    static let noExecSeal: UInt64 = 0x08, exec: UInt64 = 0x10
    /// MFD_NAME_MAX_LEN: NAME_MAX minus the "memfd:" prefix.
    static let nameMaximum = 249

    /// shmem_write_begin: writing [start, start+count) to a sealed file.
    public static func checkWrite(_ data: FileData, start: Int, count: Int) -> Errno? {
        if data.seals & (sealWrite | sealFutureWrite) != 0 { return .EPERM }
        if data.seals & sealGrow != 0 && start + count > data.size { return .EPERM }
        return nil
    }

    /// shmem_setattr: changing the size of a sealed file.
    public static func checkResize(_ data: FileData, to length: Int) -> Errno? {
        if length < data.size && data.seals & sealShrink != 0 { return .EPERM }
        if length > data.size && data.seals & sealGrow != 0 { return .EPERM }
        return nil
    }

    /// memfd_add_seals: the description must be writable (EPERM), the seals known (EINVAL),
    /// the file not sealed against sealing (EPERM); F_SEAL_WRITE is EBUSY while a writable
    /// shared mapping exists (mapping_deny_writable). F_SEAL_EXEC on an executable file
    /// implies the write seals.
    public static func addSeals(_ data: FileData, _ seals: UInt64, permissions: UInt32, writable: Bool) -> Errno? {
        guard writable else { return .EPERM }
        guard seals & ~UInt64(allSeals) == 0 else { return .EINVAL }
        if data.seals & sealSeal != 0 { return .EPERM }
        var adding = UInt32(seals)
        if adding & sealWrite != 0 && data.seals & sealWrite == 0 && data.hasWritableSharedMapping { return .EBUSY }
        if adding & sealExec != 0 && permissions & 0o111 != 0 {
            adding |= sealShrink | sealGrow | sealWrite | sealFutureWrite
        }
        data.seals |= adding
        return nil
    }
}

extension FileData {
    /// Whether an address space maps this file shared and writable (F_SEAL_WRITE's EBUSY).
    var hasWritableSharedMapping: Bool {
        guard mappingHandle != 0 else { return false }
        for space in mappingSpaces {
            for area in space.map.areas where area.shared && area.protection.contains(.write) {
                if case .file(let handle, _) = area.backing, handle == mappingHandle { return true }
            }
        }
        return false
    }
}

enum MemFDSyscalls {
    /// memfd_create(2): flags MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL, MFD_EXEC;
    /// other bits, or NOEXEC_SEAL with EXEC, are EINVAL; a name longer than 249 bytes is
    /// EINVAL, an unreadable one EFAULT. MFD_HUGETLB needs hugetlbfs, which egg does not
    /// have: ENOSYS, hugetlb_file_setup's answer on a kernel built without it.
    static func memfdCreate(_ k: KernelState, _ a: SyscallArguments) throws(Errno) -> Int {
        let flags = UInt64(a.uint32(1))
        if flags & MemFD.hugeTLB != 0 {
            // The huge page size bits (MFD_HUGE_SHIFT 26) are only valid with MFD_HUGETLB.
            guard flags & ~(MemFD.cloexec | MemFD.allowSealing | MemFD.hugeTLB | MemFD.noExecSeal
                            | MemFD.exec | (0x3F << 26)) == 0 else { throw .EINVAL }
            throw .ENOSYS
        }
        guard flags & ~(MemFD.cloexec | MemFD.allowSealing | MemFD.noExecSeal | MemFD.exec) == 0,
              flags & (MemFD.noExecSeal | MemFD.exec) != MemFD.noExecSeal | MemFD.exec else { throw .EINVAL }
        let name: [UInt8]
        switch k.memory.readCString(a.address(0), maximum: MemFD.nameMaximum + 1) {
        case .success(let n): name = n
        case .failure(.ENAMETOOLONG): throw .EINVAL
        case .failure(let e): throw e
        }
        guard name.count <= MemFD.nameMaximum else { throw .EINVAL }
        guard k.files.fileSystem.canMakeInode else { throw .ENFILE }
        _ = k.fileBlocks
        var permissions: UInt32 = 0o777
        let inode = k.files.fileSystem.makeInode(.regular, permissions: permissions)
        inode.linkCount = 0
        inode.mount = .tmpfs
        let data = inode.contents
        if flags & MemFD.noExecSeal != 0 {
            permissions &= ~0o111
            inode.permissions = permissions
            data.seals = MemFD.sealExec
        } else if flags & MemFD.allowSealing != 0 {
            data.seals = 0
        }
        let file = OpenFile(inode: inode, statusFlags: 2 | FileSyscalls.oLargefile)
        return try k.files.install(file, closeOnExec: flags & MemFD.cloexec != 0).get()
    }

    /// fcntl(2) F_ADD_SEALS (1033) and F_GET_SEALS (1034) (mm/memfd.c memfd_fcntl): only for
    /// tmpfs regular files (EINVAL otherwise); F_ADD_SEALS's argument must fit 32 bits.
    static func fcntlSeals(_ k: KernelState, _ f: OpenFile, command: Int32, argument: UInt64) throws(Errno) -> Int {
        guard f.kind == .inode, let inode = f.inode, inode.isRegular, inode.synthetic == nil,
              !inode.readOnly else { throw .EINVAL }
        let data = inode.contents
        if command == 1034 { return Int(data.seals) }
        guard argument <= UInt64(UInt32.max) else { throw .EINVAL }
        if let e = MemFD.addSeals(data, argument, permissions: inode.permissions, writable: f.canWrite) { throw e }
        return 0
    }
}
