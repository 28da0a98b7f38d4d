// Main — kmain, the first Swift code after boot.S, and the boot sequence (Kernel layer).
//
// Order matters: CPU tables → boot info → frame allocator (boot modules and the kernel image
// reserved, so the bundle is never overwritten) → the kernel's own page tables (direct map
// of all RAM, kernel image with W^X) → more heap → clock → the guest. Then the guest runs
// until exit_group; every later entry into the kernel comes through Traps.swift.
import HW
import Drivers
import KernelArch
import KernelCore

let kernelVirtualOffset: UInt64 = directMapBase
let console = UART16550(io: X86PortIO(), base: 0x3F8)
nonisolated(unsafe) var kernel: KernelState? = nil
nonisolated(unsafe) var kernelPageTable: PageTable? = nil
nonisolated(unsafe) var bootTSC: UInt64 = 0
nonisolated(unsafe) var machine: MachinePlatform? = nil

@_cdecl("kmain")
public func kmain(_ magic: UInt64, _ info: UInt64) {
    bootTSC = hw_rdtsc()
    hw_kernel_lock()  // held whenever kernel code runs; released on the way to user mode
    console.configure()
    CPU.setUp()
    LegacyPIC.remapAndMask()
    let memory = DirectMapMemory()
    guard let boot = BootInfo.parse(magic: magic, info: info, memory: memory) else {
        panic("unknown boot protocol (magic \(hex(magic)))")
    }
    guard let module = boot.modules.first else {
        panic("no boot module: egg passes the guest bundle as the initrd")
    }

    // Physical memory: everything usable minus the kernel image and the modules.
    let kernelPhysicalStart = hw_kernel_start() - kernelVirtualOffset
    let kernelPhysicalEnd = (hw_kernel_end() - kernelVirtualOffset + 0xFFF) & ~0xFFF
    var reserved = [AddressRange(start: kernelPhysicalStart, end: kernelPhysicalEnd)]
    for m in boot.modules { reserved.append(AddressRange(start: m.start & ~0xFFF, end: (m.end + 0xFFF) & ~0xFFF)) }
    let frames = FramePool(PhysicalFrameAllocator(usable: boot.usableMemory, reserved: reserved))

    // The kernel's own page tables, from frames boot.S's map reaches (BootFrameSource.swift).
    let tableFrames = BootFrameSource(pool: frames)
    guard let root = tableFrames.allocateFrame() else { panic("out of memory building page tables") }
    memory.fill(root, count: 4096, value: 0)
    let table = PageTable(root: root, memory: memory, frames: tableFrames, noExecuteSupported: CPU.features.noExecute)
    var highest: UInt64 = 0
    for r in boot.usableMemory { highest = max(highest, r.end) }
    highest = max(highest, 0x1_0000_0000)  // also cover the 32-bit MMIO hole (APIC, PCI)
    // RAM in 2 MiB pages, except the 2 MiB chunks holding the kernel image, which get 4 KiB
    // pages so text is read-only+executable and everything else non-executable (W^X).
    var pa: UInt64 = 0
    while pa < highest {
        let chunkEnd = pa + 0x20_0000
        if chunkEnd <= kernelPhysicalStart || pa >= kernelPhysicalEnd {
            guard table.mapLarge(physicalToVirtual(pa), to: pa, flags: [.writable, .noExecute, .global]) else {
                panic("out of memory building the direct map")
            }
        } else {
            var page = pa
            while page < chunkEnd {
                let va = physicalToVirtual(page)
                var flags: PageFlags = [.global]
                if va >= hw_text_start() && va < hw_text_end() {
                    // kernel text: read-only, executable
                } else if va >= hw_kernel_start() && va < hw_text_start() {
                    // boot code and headers (boot.S runs from here)
                } else if va >= hw_rodata_start() && va < hw_rodata_end() {
                    flags.insert(.noExecute)
                } else {
                    flags.formUnion([.writable, .noExecute])
                }
                guard table.map(va, to: page, flags: flags) else { panic("out of memory mapping the kernel") }
                page += 4096
            }
        }
        pa = chunkEnd
    }
    memory.activate(root: root)
    tableFrames.bootMapOnly = false   // all RAM is mapped now
    hw_write_cr0(hw_read_cr0() | (1 << 16))  // WP: the kernel honours read-only pages too
    kernelPageTable = table

    // Grow the heap: an eighth of RAM, at least 8 MiB, at most 256 MiB.
    let heapBytes = min(max(frames.totalBytes / 8, 8 << 20), 256 << 20)
    let heapFrames = Int(heapBytes / 4096)
    if let start = frames.allocator.allocateContiguous(frameCount: heapFrames) {
        egg_heap_add_region(physicalToVirtual(start), UInt64(heapFrames) * 4096)
    }
    heapFramePool = frames  // the heap may grow later (HeapGrowth.swift)

    Screen.setUp(bootFramebuffer: boot.framebuffer)  // FramebufferSetup.swift: needs the heap and direct map

    Clock.calibrate()
    let platform = MachinePlatform()
    machine = platform
    SMP.setUpBootCPU()
    if SMP.usingAPICTimer {
        LegacyPIC.remapAndMask(except: (1 << 1) | (1 << 4))  // keyboard, COM1; the APIC timer ticks
    } else {
        Clock.startTicks(hz: 250)
        LegacyPIC.remapAndMask(except: (1 << 0) | (1 << 1) | (1 << 4))  // PIT timer, keyboard, COM1
    }
    Clock.checkTicking(hz: 250)
    ACPIPowerOff.remember(rsdp: boot.acpiRSDP, memory: memory)  // for a power-off without egg
    let cpusOnline = SMP.startApplicationProcessors(apicIDs: SMP.processorAPICIDs(rsdp: boot.acpiRSDP, memory: memory),
                                                   kernelTable: table, memory: memory)

    VDSOSetup.install(frames: frames, memory: memory)  // before the first image maps it (VDSOSetup.swift)
    let bundleBytes = PhysicalBytes(memory: memory, base: module.start, count: Int(module.end - module.start))
    let loaded: LoadedProgram
    switch ProgramLoader.load(bundle: bundleBytes, kernelTable: table, memory: memory, frames: frames, platform: platform) {
    case .success(let program): loaded = program
    case .failure(let error): 
        platform.diagnostic("egg: cannot start the guest: \(error.message)\n")
        HostChannel.exit(status: 126)
    }
    // The boot thread: its kernel stack holds the first user frame; trap_return pops it.
    let stackBytes = 64 * 1024
    let stack = CPU.permanentAllocation(bytes: stackBytes, alignment: 16)
    let top = stack + UInt64(stackBytes)
    CPU.setKernelStack(top: top)
    ThreadSwitch.current = ArchThread(stackBase: stack, stackTop: top, owned: false)
    let state = KernelState(platform: platform, process: loaded.process, frames: frames)
    registerUserSyscalls(&state.syscalls)  // egg run --syscalls (UserSyscalls.swift)
    state.kernelRoot = root  // idle contexts run on it (Threads/Scheduler.swift)
    state.cpuCount = cpusOnline
    HostChannel.write("info boot \(boot.protocolName) memory \(frames.totalBytes >> 20) MiB tsc \(Clock.tscHz / 1_000_000) MHz (\(Clock.calibrationSource)), timer \(Clock.ticking ? (SMP.usingAPICTimer ? "local APIC" : "PIT") : "polled"), cpus \(cpusOnline) (\(SMP.cpuSource))\n")
    // The idle context: blocked threads (console reads among them) wait there, not the CPU.
    let idle = ThreadSwitch.makeKernelThread(entry: idleEntryAddress())
    state.scheduler.idleThread = Thread(tid: 0, context: idle)
    state.configureConsole(options: loaded.options)  // "console=pipe" (Devices/ConsoleTerminal.swift)
    state.bootRealtimeSeconds = Clock.bootUnixSeconds
    // egg run --hostname NAME (Sources/EggHost/GuestSystemFiles.swift): before the root file
    // system, which writes /etc/hostname from it.
    if let name = BootBundle.optionValue("hostname", in: loaded.options) { state.hostname = Array(name.utf8) }
    kernel = state
    Screen.device?.install(in: state)  // /dev/fb0 (Sources/KernelCore/Devices/FramebufferNode.swift)
    if let r = loaded.fileArchive {   // read in place: the module stays reserved (VFS/FileData.swift)
        let base = module.start + UInt64(r.offset)
        state.installRootFileSystem(archive: PhysicalBytes(memory: memory, base: base, count: r.length), physicalBase: base)
    } else {
        state.installRootFileSystem(archive: nil)
    }
    // The boot executable as a file (read in place, like --files members): what execve of
    // /proc/self/exe runs again. It is in no directory, as an unlinked file would be.
    let exe = loaded.executable
    state.process.executableInode = Inode(kind: .regular, number: 0, permissions: 0o755, now: state.files.fileSystem.clock(),
                                          store: state.files.fileSystem.blocks,
                                          backing: FileBacking(base: module.start + UInt64(exe.offset), length: exe.length))
    // egg run -w DIR: the program starts there, created if missing as docker run -w does.
    if let workdir = BootBundle.optionValue("workdir", in: loaded.options) {
        let path = Array(workdir.utf8), fs = state.files.fileSystem
        _ = fs.makeDirectories(path)
        if case .success(let directory) = fs.resolve(path, from: fs.root), directory.isDirectory {
            state.files.workingDirectory = directory
        } else {
            platform.diagnostic("egg: -w \(workdir): not a directory in the guest; starting in /\n")
        }
    }
    state.configureTracing(options: loaded.options, output: TraceSerial.write)
    // egg run --profile: per-call kernel time, printed at power-off (Profiler.swift).
    if BootBundle.optionValue("profile", in: loaded.options) == "1" { Profiler.start(cpus: cpusOnline) }
    // sysretq instead of iretq after system calls: off by default (CPU.setUpSyscalls says why).
    if BootBundle.optionValue("sysret", in: loaded.options) == "1" { CPU.enableSysret() }
    NetworkDevice.setUp(state: state, options: loaded.options, kernelTable: table)  // NetworkSetup.swift
    HostStreamDevice.setUp(state: state, options: loaded.options, kernelTable: table)  // HostStreamSetup.swift
    NinePDevice.setUp(state: state, options: loaded.options, kernelTable: table)  // NinePSetup.swift (volumes)
    memory.activate(root: loaded.process.addressSpace.pageTable.root)

    HostChannel.write("boot-tsc \(hw_rdtsc() &- bootTSC)\n")

    // The first user frame sits at the top of the kernel stack; trap_return pops it.
    let frameAddress = top - UInt64(MemoryLayout<trap_frame>.size)
    // SAFETY: the frame lies inside the stack allocated just above, which nothing else uses yet.
    let frame = UnsafeMutablePointer<trap_frame>(bitPattern: UInt(frameAddress))!
    frame.initialize(to: trap_frame())
    frame.pointee.rip = loaded.entry
    frame.pointee.rsp = loaded.stackPointer
    frame.pointee.cs = UInt64(Selector.userCode)
    frame.pointee.ss = UInt64(Selector.userData)
    frame.pointee.rflags = 0x202
    hw_kernel_unlock()
    egg_enter_user(frame)
}

@_cdecl("egg_idle_entry")
func idleEntry() {
    guard let state = kernel else { CPU.halt() }
    state.scheduler.idleLoop(state)
}

func idleEntryAddress() -> UInt64 {
    let entry: @convention(c) () -> Void = idleEntry
    return UInt64(UInt(bitPattern: unsafeBitCast(entry, to: UnsafeRawPointer.self)))
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
