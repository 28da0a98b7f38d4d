// ProgramLoader — turns the boot bundle into a runnable process (KernelCore layer).
//
// Reads the bundle (BootBundle.swift), parses and plans the ELF (Sources/ELF), builds a
// fresh user address space, copies the image's file bytes straight from the boot module
// into new frames (eager; .bss and the rest of the last page zeroed), reserves the brk heap
// and an 8 MiB demand-zero stack, and writes argv/envp/auxv as Linux's
// fs/binfmt_elf.c create_elf_tables does (layout built by ELF's InitialStack).
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

public enum ProgramLoader {
    /// Linux's TASK_SIZE is 2^47 - 4 KiB; egg's guest space ends one page below the kernel
    /// window instead (127.5 TiB), with the stack at the top and mmap below it.
    public static let stackTop: UInt64 = kernelWindowBase - pageSize
    public static let stackSize: UInt64 = 8 << 20
    public static let layout = AddressSpaceLayout(mmapMin: 0x1_0000, mmapBase: stackTop - (1 << 30), userTop: stackTop)

    public static func load<M: PhysicalMemory>(bundle source: PhysicalBytes<M>, kernelTable: PageTable,
                                               memory: M, frames: FramePool, platform: any Platform,
                                               hardwareCapabilities: UInt64 = 0) -> Result<LoadedProgram, LoadError> {
        let bundle: BootBundle
        do { bundle = try BootBundle(parsing: source) } catch { return .failure(.bundle(error)) }
        guard let exe = bundle.first(.executable) else { return .failure(.bundle(.missingExecutable)) }
        let window = ByteWindow(source, offset: exe.offset, count: exe.length)
        let plan: LoadPlan
        do {
            let image = try ELFImage(window)
            plan = try image.makeLoadPlan()
        } catch {
            return .failure(.elf(error))
        }

        guard let table = PageTable.makeUserSpace(sharingKernelHalfOf: kernelTable) else { return .failure(.outOfMemory) }
        let space = AddressSpace(map: VirtualMemoryMap(layout: layout), pageTable: table, memory: memory, frames: frames)

        // Image pages: union rights per page (LoadMapping), file bytes copied per segment.
        let imageBase = source.base + UInt64(exe.offset)
        for m in plan.mappings {
            var protection: MemoryProtection = []
            if m.readable { protection.insert(.read) }
            if m.writable { protection.insert(.write) }
            if m.executable { protection.insert(.execute) }
            // Pages past the last one holding file bytes are pure .bss: demand-zero anonymous
            // memory, as Linux maps them (fs/binfmt_elf.c set_brk/vm_brk_flags), so a huge
            // .bss costs nothing until touched instead of failing the load.
            var filePagesEnd = m.start
            for s in plan.segments where s.fileSize > 0 {
                let fileStart = s.virtualAddress, fileEnd = s.virtualAddress + s.fileSize
                if fileStart < m.end && fileEnd > m.start {
                    let end = min(MemoryPage.roundUp(fileEnd) ?? m.end, m.end)
                    if end > filePagesEnd { filePagesEnd = end }
                }
            }
            let fileOffset = fileOffsetOfPage(m.start, plan: plan)
            if filePagesEnd > m.start, case .failure = space.map.map(
                at: m.start, length: filePagesEnd - m.start, protection: protection, placement: .fixed,
                backing: .image(offset: fileOffset), shared: false, name: "") {
                return .failure(.outOfMemory)
            }
            if filePagesEnd < m.end, case .failure = space.map.map(
                at: filePagesEnd, length: m.end - filePagesEnd, protection: protection, placement: .fixed,
                backing: .anonymous, shared: false, name: "") {
                return .failure(.outOfMemory)
            }
            var page = m.start
            while page < filePagesEnd {
                guard let frame = frames.allocateFrame() else { return .failure(.outOfMemory) }
                memory.fill(frame, count: Int(pageSize), value: 0)
                for s in plan.segments where s.fileSize > 0 {
                    let fileStart = s.virtualAddress, fileEnd = s.virtualAddress + s.fileSize
                    let lo = max(page, fileStart), hi = min(page + pageSize, fileEnd)
                    if lo < hi {
                        memory.copy(from: imageBase + s.fileOffset + (lo - fileStart), to: frame + (lo - page), count: Int(hi - lo))
                    }
                }
                guard space.install(frame: frame, at: page, protection: protection) else { return .failure(.outOfMemory) }
                page += pageSize
            }
        }
        space.map.initializeBreak(imageEnd: plan.programBreakStart)

        // Stack: demand-zero, grows down from stackTop.
        if case .failure = space.map.map(at: stackTop - stackSize, length: stackSize, protection: [.read, .write],
                                          placement: .fixed, backing: .stack, shared: false, name: VirtualMemoryMap.stackName) {
            return .failure(.outOfMemory)
        }

        // Arguments and environment are copied into the kernel heap and onto the stack:
        // check their size first, with Linux's execve limits (fs/exec.c: each string at most
        // MAX_ARG_STRLEN, 32 pages; all of them at most a quarter of the 8 MiB stack).
        var argumentBytes = 0
        for r in bundle.records(of: .argument) + bundle.records(of: .environment) {
            guard r.length < 32 * Int(pageSize) else { return .failure(.stackTooLarge) }
            argumentBytes += r.length + 1 + 8
        }
        guard argumentBytes <= Int(stackSize / 4) else { return .failure(.stackTooLarge) }

        var arguments: [[UInt8]] = []
        for r in bundle.records(of: .argument) { arguments.append(source.bytes(at: r.offset, count: r.length)) }
        var environment: [[UInt8]] = []
        for r in bundle.records(of: .environment) { environment.append(source.bytes(at: r.offset, count: r.length)) }
        var path: [UInt8] = Array("/program".utf8)
        if let r = bundle.first(.executablePath) { path = source.bytes(at: r.offset, count: r.length) }
        if arguments.isEmpty { arguments = [path] }

        var random = [UInt8](repeating: 0, count: 16)
        platform.fillRandom(&random, count: 16)
        let auxv = plan.standardAuxiliaryVector(hardwareCapabilities: hardwareCapabilities)
        let stack: InitialStack
        do {
            stack = try buildInitialStack(stackTop: stackTop, arguments: arguments, environment: environment,
                                          executableName: path, platform: Array("x86_64".utf8),
                                          randomBytes: random, auxiliaryVector: auxv)
        } catch {
            return .failure(.stackTooLarge)
        }
        if space.copyOut(UserAddress(stack.stackPointer), from: stack.bytes) != nil { return .failure(.outOfMemory) }

        let process = Process(pid: 1, addressSpace: space, executablePath: path)
        process.startStack = stack.stackPointer   // /proc/PID/cmdline, environ, auxv
        let archive = bundle.first(.fileArchive)
        var options: [String] = []
        for r in bundle.records(of: .option) { options.append(String(decoding: source.bytes(at: r.offset, count: r.length), as: UTF8.self)) }
        return .success(LoadedProgram(process: process, entry: plan.entry, stackPointer: stack.stackPointer,
                                      fileArchive: archive, options: options))
    }

    static func fileOffsetOfPage(_ page: UInt64, plan: LoadPlan) -> UInt64 {
        for s in plan.segments where s.pageStart <= page && page < s.pageEnd {
            let segmentPage = s.virtualAddress & ~(pageSize - 1)
            return (s.fileOffset & ~(pageSize - 1)) + (page - segmentPage)
        }
        return 0
    }
}
