// SysVSharedMemory — one System V shared memory segment (shmget(2)) and its attach count
// (KernelCore layer, pure logic; host-tested in Tests/KernelCoreTests/SysVSharedMemoryTests.swift).
//
// Linux backs a segment with a file on its internal shm mount (ipc/shm.c newseg,
// shmem_kernel_file_setup) and shmat maps that file MAP_SHARED. egg does the same with a
// FileData (VFS/FileData.swift) that no directory names: its blocks are the segment's one set
// of frames, allocated at the first touch (shmem_fault), so every attach, in this process or
// in a forked child, maps the same frames through the file-mapping fault path
// (Process/FileMappingFaults.swift), and teardown at exit or exec drops the attaches with the
// rest of the address space (Process/AddressSpaceTeardown.swift).
//
// shm_nattch counts the mapping areas of the segment's file in every address space, as
// Linux counts vmas (shm_open on fork and on a vma split, shm_close on unmap). After
// IPC_RMID with attaches left (SHM_DEST), the segment keeps no strong reference to the file:
// the file lives only in FileBlockStore.mappedFiles while some address space maps it, so
// the last detach (shmdt, exit or exec) frees the frames (shm_destroy at the last shm_close).
// The ids, keys and permissions are IPC/SysVIPC.swift; the syscalls
// Syscalls/SysVSharedMemorySyscalls.swift.
import LinuxABI

public final class SysVSharedMemorySegment {
    /// shm_segsz as asked for (the mappings are whole pages).
    public let size: Int
    /// The segment's file while it is not destroyed (nil once IPC_RMID left it to its attaches).
    public private(set) var data: FileData?
    let store: FileBlockStore
    /// FileData.mappingHandle once attached (0 before): finds the file after IPC_RMID.
    var handle: UInt64 = 0
    public var attachTime: Int64 = 0, detachTime: Int64 = 0, changeTime: Int64
    public var creatorPID: Int, lastPID = 0
    /// SHM_DEST: IPC_RMID came while attaches were left.
    public private(set) var destroyed = false
    /// SHM_LOCKED (SHM_LOCK): recorded only, egg never swaps.
    public var locked = false

    public static let modeDestroyed: UInt32 = 0o1000, modeLocked: UInt32 = 0o2000   // SHM_DEST, SHM_LOCKED

    public init(size: Int, store: FileBlockStore, pid: Int, now: Int64) {
        self.size = size
        self.store = store
        let file = FileData(store: store)
        file.resize(to: size)
        data = file
        creatorPID = pid
        changeTime = now
    }

    /// The file while anything can still reach it: held by the segment, or by its attaches.
    public var file: FileData? {
        if let data { return data }
        guard handle != 0 else { return nil }
        return store.mappedFiles[handle]
    }

    /// Pages the segment spans (shm_tot counts these).
    public var pageCount: Int { (size + FileBlockStore.blockSize - 1) / FileBlockStore.blockSize }

    /// shm_nattch: areas mapping the segment's file, in every address space that maps it.
    public var attachCount: Int {
        guard let f = file, f.mappingHandle != 0 else { return 0 }
        var n = 0
        for space in f.mappingSpaces {
            for area in space.map.areas {
                if case .file(let h, _) = area.backing, h == f.mappingHandle { n += 1 }
            }
        }
        return n
    }

    /// Called after the segment's file was mapped (registerFileMapping gave it its handle).
    func attached(handle h: UInt64) { handle = h }

    /// IPC_RMID: from now on only the attaches keep the file (and its frames) alive.
    /// Returns whether the segment can go at once (nothing attached).
    func markDestroyed() -> Bool {
        destroyed = true
        data = nil
        return attachCount == 0
    }

    /// The mode bits IPC_STAT reports: permissions plus SHM_DEST and SHM_LOCKED.
    public var statusBits: UInt32 { (destroyed ? Self.modeDestroyed : 0) | (locked ? Self.modeLocked : 0) }
}
