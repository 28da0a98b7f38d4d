// ProgramLoader — builds a program image in a user address space (KernelCore layer): at boot
// from the boot bundle (Sources/Kernel/Main.swift), and for execve from a file in the VFS
// (Syscalls/ExecSyscalls.swift). One code path for both: `plan` parses and validates the ELF
// (Sources/ELF), `populate` maps it — file bytes copied eagerly into new frames, .bss past
// the last file page demand-zero, the brk heap reserved, an 8 MiB demand-zero stack, the
// vDSO (VDSO.swift) — and
// `writeInitialStack` puts argv/envp/auxv on the stack as Linux's fs/binfmt_elf.c
// create_elf_tables does (layout built by ELF's InitialStack). The bytes come from any
// ExecutableBytes: the bundle's physical memory, or a file's blocks (FileImage).
import ELF
import LinuxABI

public struct LoadedProgram {
    public let process: Process
    public let entry: UInt64
    public let stackPointer: UInt64
    /// Where the bundle's root file-system archive lies (--files), if egg packed one: the
    /// kernel reads it in place (VFS/RootFileSystem.swift), never copying it to the heap.
    public let fileArchive: BootBundleRecord?
    /// The bundle's "key=value" kernel options (e.g. trace=...).
    public let options: [String]
    /// Where the executable lies in the bundle: Main makes it the process's executable file
    /// (what /proc/self/exe opens and execs) without copying it.
    public let executable: BootBundleRecord
}

public enum LoadError: Error {
    case bundle(BootBundleError)
    case elf(ELFError)
    case outOfMemory
    case stackTooLarge

    public var message: String {
        switch self {
        case .bundle(let e): return "bad boot bundle (\(e))"
        case .elf(let e): return e.message
        case .outOfMemory: return "not enough memory for the program image (try a larger -m)"
        case .stackTooLarge: return "arguments and environment do not fit on the stack"
        }
    }
}

/// A window onto part of another ByteSource (the ELF inside the bundle).
public struct ByteWindow<Base: ByteSource>: ByteSource {
    public let base: Base
    public let offset: Int
    public let byteCount: Int
    public init(_ base: Base, offset: Int, count: Int) {
        self.base = base
        self.offset = offset
        self.byteCount = count
    }
    public func byte(at i: Int) -> UInt8 { base.byte(at: offset + i) }
}

/// An executable's bytes: readable one at a time (for the parser), and copyable in runs
/// straight into physical frames (for the loader).
public protocol ExecutableBytes: ByteSource {
    /// Copies file bytes [offset, offset+count) to physical `destination`, which the caller
    /// zeroed (holes may be skipped).
    func copy(from offset: UInt64, count: Int, to destination: UInt64, memory: any PhysicalMemory)
}

/// An executable lying contiguously in physical memory (the boot bundle's record).
public struct PhysicalImage: ExecutableBytes {
    let memory: any PhysicalMemory
    let base: UInt64
    public let byteCount: Int
    public init(memory: any PhysicalMemory, base: UInt64, count: Int) {
        self.memory = memory
        self.base = base
        self.byteCount = count
    }
    public func byte(at i: Int) -> UInt8 { memory.load8(base + UInt64(i)) }
    public func copy(from offset: UInt64, count: Int, to destination: UInt64, memory: any PhysicalMemory) {
        memory.copy(from: base + offset, to: destination, count: count)
    }
}

/// A regular file of the VFS as an executable: its blocks and bundle backing (FileData), with
/// the first page read once so that parsing the headers does not walk the block map per byte.
public struct FileImage: ExecutableBytes {
    let data: FileData
    /// The file's first bytes (up to one page): the ELF header, usually the program headers,
    /// and the "#!" line.
    public let head: [UInt8]
    public init(_ data: FileData) {
        self.data = data
        head = data.bytes(at: 0, count: min(data.size, 4096))
    }
    public var byteCount: Int { data.size }
    public func byte(at i: Int) -> UInt8 {
        if i < head.count { return head[i] }
        return data.bytes(at: i, count: 1).first ?? 0
    }
    public func copy(from offset: UInt64, count: Int, to destination: UInt64, memory: any PhysicalMemory) {
        let start = Int(offset), end = min(start + count, data.size)
        var at = start
        while at < end {
            let s = data.segment(at: at)
            let n = min(s.count, end - at)
            if let p = s.physical { memory.copy(from: p, to: destination + UInt64(at - start), count: n) }
            at += n
        }
    }
}

public enum ProgramLoader {
    /// Linux's TASK_SIZE is 2^47 - 4 KiB; egg's guest space ends one page below the kernel
    /// window instead (127.5 TiB), with the stack at the top and mmap below it.
    public static let stackTop: UInt64 = kernelWindowBase - pageSize
    public static let stackSize: UInt64 = 8 << 20
    public static let layout = AddressSpaceLayout(mmapMin: 0x1_0000, mmapBase: stackTop - (1 << 30), userTop: stackTop)
    /// Linux's execve limits (fs/exec.c): each string at most MAX_ARG_STRLEN (32 pages); all
    /// of them, with their pointers, at most a quarter of the stack limit (8 MiB here).
    public static let maximumStringLength = 32 * Int(pageSize)
    public static let maximumArgumentBytes = Int(stackSize / 4)

    /// The boot path: the bundle's executable, argv and envp into a fresh address space.
    public static func load<M: PhysicalMemory>(bundle source: PhysicalBytes<M>, kernelTable: PageTable,
                                               memory: M, frames: FramePool, platform: any Platform,
                                               hardwareCapabilities: UInt64 = 0) -> Result<LoadedProgram, LoadError> {
        let bundle: BootBundle
        do { bundle = try BootBundle(parsing: source) } catch { return .failure(.bundle(error)) }
        guard let exe = bundle.first(.executable) else { return .failure(.bundle(.missingExecutable)) }
        let image = PhysicalImage(memory: memory, base: source.base + UInt64(exe.offset), count: exe.length)
        let plan: LoadPlan
        switch ProgramLoader.plan(image) {
        case .success(let p): plan = p
        case .failure(let e): return .failure(.elf(e))
        }

        guard let table = PageTable.makeUserSpace(sharingKernelHalfOf: kernelTable) else { return .failure(.outOfMemory) }
        let space = AddressSpace(map: VirtualMemoryMap(layout: layout), pageTable: table, memory: memory, frames: frames)
        if let e = populate(space, from: image, plan: plan) { return .failure(e) }

        var arguments: [[UInt8]] = []
        for r in bundle.records(of: .argument) {
            guard r.length < maximumStringLength else { return .failure(.stackTooLarge) }
            arguments.append(source.bytes(at: r.offset, count: r.length))
        }
        var environment: [[UInt8]] = []
        for r in bundle.records(of: .environment) {
            guard r.length < maximumStringLength else { return .failure(.stackTooLarge) }
            environment.append(source.bytes(at: r.offset, count: r.length))
        }
        var path: [UInt8] = Array("/program".utf8)
        if let r = bundle.first(.executablePath) { path = source.bytes(at: r.offset, count: r.length) }
        if arguments.isEmpty { arguments = [path] }
        guard argumentsFit(arguments, environment) else { return .failure(.stackTooLarge) }
        let stack: InitialStack
        switch initialStack(plan: plan, arguments: arguments, environment: environment, executableName: path,
                            platform: platform, hardwareCapabilities: hardwareCapabilities) {
        case .success(let s): stack = s
        case .failure(let e): return .failure(e)
        }
        if space.copyOut(UserAddress(stack.stackPointer), from: stack.bytes) != nil { return .failure(.outOfMemory) }

        let process = Process(pid: 1, addressSpace: space, executablePath: path)
        process.startStack = stack.stackPointer   // /proc/PID/cmdline, environ, auxv
        let archive = bundle.first(.fileArchive)
        var options: [String] = []
        for r in bundle.records(of: .option) { options.append(String(decoding: source.bytes(at: r.offset, count: r.length), as: UTF8.self)) }
        return .success(LoadedProgram(process: process, entry: plan.entry, stackPointer: stack.stackPointer,
                                      fileArchive: archive, options: options, executable: exe))
    }

    /// Parses and validates an executable and decides where it goes (static-PIE at Linux's
    /// ELF_ET_DYN_BASE-like default). Nothing is touched: safe before exec's point of no return.
    public static func plan<S: ByteSource>(_ source: S) -> Result<LoadPlan, ELFError> {
        do {
            let image = try ELFImage(source)
            return .success(try image.makeLoadPlan())
        } catch {
            return .failure(error)
        }
    }

    /// Frames the image's file-backed pages take (exec checks them before its point of no return).
    public static func imageFrameCount(_ plan: LoadPlan) -> Int {
        var pages = 0
        for m in plan.mappings {
            let end = filePagesEnd(of: m, plan: plan)
            if end > m.start { pages += Int((end - m.start) / pageSize) }
        }
        return pages
    }

    /// Whether argv and envp fit Linux's execve limits (E2BIG otherwise).
    public static func argumentsFit(_ arguments: [[UInt8]], _ environment: [[UInt8]]) -> Bool {
        var total = 0
        for s in arguments {
            guard s.count < maximumStringLength else { return false }
            total += s.count + 1 + 8
        }
        for s in environment {
            guard s.count < maximumStringLength else { return false }
            total += s.count + 1 + 8
        }
        return total <= maximumArgumentBytes
    }

    /// The initial stack's bytes (pure: nothing is written yet), with 16 fresh AT_RANDOM bytes.
    public static func initialStack(plan: LoadPlan, arguments: [[UInt8]], environment: [[UInt8]], executableName: [UInt8],
                                    platform: any Platform, hardwareCapabilities: UInt64 = 0) -> Result<InitialStack, LoadError> {
        var random = [UInt8](repeating: 0, count: 16)
        platform.fillRandom(&random, count: 16)
        var auxv = plan.standardAuxiliaryVector(hardwareCapabilities: hardwareCapabilities)
        // The vDSO (VDSO.swift), first as in Linux's ARCH_DLINFO (arch/x86/include/asm/elf.h).
        if vdso != nil { auxv.insert(AuxvEntry(.systemInfoEHDR, VDSOImage.codeAddress), at: 0) }
        do {
            return .success(try buildInitialStack(stackTop: stackTop, arguments: arguments, environment: environment,
                                                  executableName: executableName, platform: Array("x86_64".utf8),
                                                  randomBytes: random, auxiliaryVector: auxv))
        } catch {
            return .failure(.stackTooLarge)
        }
    }

    /// Maps the image of `plan` into `space` (whose map must be empty): image pages with the
    /// union of rights per page (LoadMapping) and file bytes copied per segment, the brk heap,
    /// and the demand-zero stack below stackTop.
    public static func populate<F: ExecutableBytes>(_ space: AddressSpace, from file: F, plan: LoadPlan) -> LoadError? {
        let memory = space.memory, frames = space.frames
        for m in plan.mappings {
            var protection: MemoryProtection = []
            if m.readable { protection.insert(.read) }
            if m.writable { protection.insert(.write) }
            if m.executable { protection.insert(.execute) }
            // Pages past the last one holding file bytes are pure .bss: demand-zero anonymous
            // memory, as Linux maps them (fs/binfmt_elf.c set_brk/vm_brk_flags), so a huge
            // .bss costs nothing until touched instead of failing the load.
            let filePagesEnd = filePagesEnd(of: m, plan: plan)
            let fileOffset = fileOffsetOfPage(m.start, plan: plan)
            if filePagesEnd > m.start, case .failure = space.map.map(
                at: m.start, length: filePagesEnd - m.start, protection: protection, placement: .fixed,
                backing: .image(offset: fileOffset), shared: false, name: "") {
                return .outOfMemory
            }
            if filePagesEnd < m.end, case .failure = space.map.map(
                at: filePagesEnd, length: m.end - filePagesEnd, protection: protection, placement: .fixed,
                backing: .anonymous, shared: false, name: "") {
                return .outOfMemory
            }
            var page = m.start
            while page < filePagesEnd {
                guard let frame = frames.allocateFrame() else { return .outOfMemory }
                memory.fill(frame, count: Int(pageSize), value: 0)
                for s in plan.segments where s.fileSize > 0 {
                    let fileStart = s.virtualAddress, fileEnd = s.virtualAddress + s.fileSize
                    let lo = max(page, fileStart), hi = min(page + pageSize, fileEnd)
                    if lo < hi {
                        file.copy(from: s.fileOffset + (lo - fileStart), count: Int(hi - lo), to: frame + (lo - page), memory: memory)
                    }
                }
                guard space.install(frame: frame, at: page, protection: protection) else {
                    frames.freeFrame(frame)
                    return .outOfMemory
                }
                page += pageSize
            }
        }
        space.map.initializeBreak(imageEnd: plan.programBreakStart)

        // Stack: demand-zero, grows down from stackTop.
        if case .failure = space.map.map(at: stackTop - stackSize, length: stackSize, protection: [.read, .write],
                                          placement: .fixed, backing: .stack, shared: false, name: VirtualMemoryMap.stackName) {
            return .outOfMemory
        }
        // [vvar] and [vdso] (VDSO.swift): a fresh mapping for every image, boot and execve.
        if let vdso, !vdso.map(into: space) { return .outOfMemory }
        return nil
    }

    /// The end of the pages of mapping `m` that hold file bytes (the rest is .bss).
    static func filePagesEnd(of m: LoadMapping, plan: LoadPlan) -> UInt64 {
        var end = m.start
        for s in plan.segments where s.fileSize > 0 {
            let fileStart = s.virtualAddress, fileEnd = s.virtualAddress + s.fileSize
            if fileStart < m.end && fileEnd > m.start {
                let e = min(MemoryPage.roundUp(fileEnd) ?? m.end, m.end)
                if e > end { end = e }
            }
        }
        return end
    }

    static func fileOffsetOfPage(_ page: UInt64, plan: LoadPlan) -> UInt64 {
        for s in plan.segments where s.pageStart <= page && page < s.pageEnd {
            let segmentPage = s.virtualAddress & ~(pageSize - 1)
            return (s.fileOffset & ~(pageSize - 1)) + (page - segmentPage)
        }
        return 0
    }
}
