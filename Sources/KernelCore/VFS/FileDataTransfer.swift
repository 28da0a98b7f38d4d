// FileDataTransfer — copies between a file's blocks (FileData.swift) and guest memory, one
// page-sized piece at a time, with no kernel buffer at all (KernelCore/VFS).
//
// Each piece is bounded by the guest page and the file page it touches; the guest side goes
// through AddressSpace.physicalAddress(of:write:), the same checked translation (fault-in
// included) that copyIn/copyOut use, so a bad guest address is EFAULT and never a kernel
// fault. As Linux's copy_page_to_iter / generic_perform_write do, a fault after some bytes
// moved ends the call with the count so far; a fault before any is EFAULT. For writes the
// guest page is checked before a block is taken, so a bad pointer allocates nothing.
// Callers (Syscalls/FileSyscalls.swift) clip counts to MAX_RW_COUNT and the file size first.
import LinuxABI

extension FileData {
    /// Guest `address` ← file bytes [offset, offset+count); `offset + count` ≤ size.
    func copyOut(to space: AddressSpace, _ address: UserAddress, from offset: Int, count: Int) -> Result<Int, Errno> {
        let memory = space.memory
        var done = 0
        while done < count {
            let va = address.value &+ UInt64(done)
            guard va >= address.value, let guest = space.physicalAddress(of: va, write: true) else {
                return done > 0 ? .success(done) : .failure(.EFAULT)
            }
            let inGuestPage = Int(pageSize - (va & (pageSize - 1)))
            let s = segment(at: offset + done)
            let n = min(inGuestPage, s.count, count - done)
            if let source = s.physical { memory.copy(from: source, to: guest, count: n) }
            else { memory.fill(guest, count: n, value: 0) }
            done += n
        }
        return .success(done)
    }

    /// File bytes [offset, offset+count) ← guest `address`; grows the file. ENOSPC (or the
    /// count so far) when a block cannot be had; EFAULT (or the count so far) on a bad address.
    func copyIn(from space: AddressSpace, _ address: UserAddress, at offset: Int, count: Int) -> Result<Int, Errno> {
        let memory = space.memory
        var done = 0
        while done < count {
            let va = address.value &+ UInt64(done)
            guard va >= address.value, let guest = space.physicalAddress(of: va, write: false) else {
                return done > 0 ? .success(done) : .failure(.EFAULT)
            }
            let at = offset + done
            guard let block = writableBlock(at: at) else { return done > 0 ? .success(done) : .failure(.ENOSPC) }
            let within = at % FileBlockStore.blockSize
            let inGuestPage = Int(pageSize - (va & (pageSize - 1)))
            let n = min(inGuestPage, FileBlockStore.blockSize - within, count - done)
            memory.copy(from: guest, to: block + UInt64(within), count: n)
            done += n
            extend(to: at + n)
        }
        return .success(done)
    }
}

extension KernelState {
    /// The file system's block store, connected to RAM the first time it is needed (the
    /// file system is made before the kernel state it lives in; tests use it the same way).
    public var fileBlocks: FileBlockStore {
        let store = files.fileSystem.blocks
        if !store.isBound { store.bind(memory: memory.memory, frames: frames) }
        return store
    }
}
