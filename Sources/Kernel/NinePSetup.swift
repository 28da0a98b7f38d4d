// NinePSetup — volumes (egg run -v HOST:GUEST[:ro]) over QEMU's virtio-9p devices (Kernel
// layer). egg passes one bundle option per volume, "volume=TAG:MODE:GUEST_PATH" (MODE rw
// or ro), and one virtio-9p-pci device whose mount tag is TAG (Sources/EggHost/
// QEMUCommand.swift). Here: find each device (vendor 1AF4, device 1049, or transitional 1009
// with subsystem 9), map its registers, start the transport (Drivers/NinePVirtio.swift),
// load the tree (Drivers/NinePVolume.swift), register it as a 9p mount (VFS/VolumeMount
// .swift: /proc/mounts, statfs, st_dev), and keep it live: the wrapped calls of
// Drivers/NinePSyncCalls.swift send changes to the host as they are made and pick up the
// host's at open/lookup; power-off writes back what is left (MachinePlatform.powerOff).
import HW
import Drivers
import KernelArch
import KernelCore
import LinuxABI

typealias KernelNinePVirtio = NinePVirtio<KernelVirtioTransport, FrameDMAMemory>

enum NinePDevice {
    nonisolated(unsafe) static var volumes: [NinePVolume] = []
    nonisolated(unsafe) static var devices: [KernelNinePVirtio] = []

    /// 9P messages up to this size: a Tread/Twrite carries msize - 24 bytes of data. Each
    /// exchange costs a round trip through QEMU's 9p server, so fewer, larger messages move
    /// a file faster (Linux's virtio client goes up to about 500 KiB: net/9p/trans_virtio.c,
    /// maxsize PAGE_SIZE * (VIRTQUEUE_NUM - 3)).
    static let messageSize = 512 << 10
    /// How long one request may take before the volume is given up (the host's disk, under TCG).
    static let requestTimeout: UInt64 = 30_000_000_000

    static func isNinePDevice(_ f: PCIFunction, _ pci: PCIBus<PCIConfigPorts>) -> Bool {
        guard f.vendorID == 0x1AF4 else { return false }
        if f.deviceID == 0x1049 { return true }
        return f.deviceID == 0x1009 && pci.access.read16(f.address, offset: 0x2E) == 9
    }

    /// The volumes the options ask for: (tag, read-only, guest path).
    static func requested(_ options: [String]) -> [(tag: [UInt8], readOnly: Bool, path: [UInt8])] {
        var out: [(tag: [UInt8], readOnly: Bool, path: [UInt8])] = []
        for option in options where option.hasPrefix("volume=") {
            let parts = Array(option.utf8.dropFirst(7)).split(separator: 0x3A, maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].first == 0x2F else { continue }
            out.append((Array(parts[0]), Array(parts[1]) == Array("ro".utf8), Array(parts[2])))
        }
        return out
    }

    static func setUp(state: KernelState, options: [String], kernelTable: PageTable) {
        let wanted = requested(options)
        guard !wanted.isEmpty else { return }
        let pci = PCIBus(access: PCIConfigPorts())
        var mounted = 0
        for function in pci.enumerate() where isNinePDevice(function, pci) {
            guard mapRegisters(pci, function, kernelTable) else {
                report("cannot map a virtio-9p device's registers")
                continue
            }
            // Two message buffers plus the ring of 16 entries.
            guard let dma = FrameDMAMemory(frames: state.frames, bytes: 2 * messageSize + 16 << 10) else {
                report("not enough memory for a virtio-9p device")
                return
            }
            let device: KernelNinePVirtio
            do {
                pci.enableMemoryAndBusMaster(function.address)
                let transport = try VirtioPCITransport(pci: pci, bus: KernelMMIO(), address: function.address)
                device = try NinePVirtio(transport: KernelVirtioTransport.pci(transport), memory: dma,
                                         messageSize: messageSize, wait: waiter())
            } catch {
                report("virtio-9p device failed to start (\(NetworkDevice.describe(error)))")
                continue
            }
            guard let request = wanted.first(where: { $0.tag == device.tag }) else { continue }
            let client = NinePClient(exchange: { device.exchange($0) }, messageSize: UInt32(messageSize))
            let fs = state.files.fileSystem
            // At most three quarters of what the file store has left, so the program keeps room.
            let limit = fs.blocks.isBound ? fs.blocks.freeBlocks * FileBlockStore.blockSize / 4 * 3 : Int.max
            let volume = NinePVolume(client: client, fileSystem: fs, guestPath: request.path,
                                     readOnly: request.readOnly, loadLimit: limit)
            // The index is the volume's position in both lists (NinePSyncCalls.volume(of:)).
            volume.mount = .volume(index: volumes.count, readOnly: request.readOnly)
            do {
                try volume.load()
            } catch {
                report("volume \(String(decoding: request.path, as: UTF8.self)) failed to load (errno \(error.errno.rawValue))")
                continue
            }
            for s in volume.skipped {
                report("volume \(String(decoding: request.path, as: UTF8.self)): \(String(decoding: s, as: UTF8.self)) left out (guest memory)")
            }
            devices.append(device)
            volumes.append(volume)
            fs.volumeMounts.append(VolumeMount(path: request.path, source: request.tag, readOnly: request.readOnly,
                                               statistics: { volumeStatistics(volume) }))
            mounted += 1
        }
        if mounted > 0 { NinePSyncCalls.install(on: state, volumes: volumes) }
        if mounted < wanted.count {
            report("\(wanted.count - mounted) of \(wanted.count) volumes not mounted")
        }
        HostChannel.write("info volumes \(mounted) mounted\n")
    }

    /// statfs(2) figures from the host's Rstatfs (f_type is set by the caller to V9FS_MAGIC).
    static func volumeStatistics(_ volume: NinePVolume) -> Statfs? {
        guard let h = volume.statistics() else { return nil }
        var s = Statfs()
        s.blockSize = Int64(h.blockSize)
        s.fragmentSize = Int64(h.blockSize)
        s.blocks = h.blocks
        s.freeBlocks = h.blocksFree
        s.availableBlocks = h.blocksAvailable
        s.files = h.files
        s.freeFiles = h.filesFree
        s.nameLength = Int64(h.nameLength)
        return s
    }

    /// Maps every virtio capability window of the function uncached (the registers).
    static func mapRegisters(_ pci: PCIBus<PCIConfigPorts>, _ function: PCIFunction, _ kernelTable: PageTable) -> Bool {
        for cap in pci.capabilities(of: function.address) where cap.id == 0x09 {
            let bar = Int(pci.access.read8(function.address, offset: cap.offset + 4))
            let offset = UInt64(pci.access.read32(function.address, offset: cap.offset + 8))
            let length = UInt64(pci.access.read32(function.address, offset: cap.offset + 12))
            guard let base = pci.memoryBAR(of: function.address, index: bar) else { continue }
            guard KernelMMIO.mapUncached(base + offset, length: length, in: kernelTable) else { return false }
        }
        return true
    }

    /// A wait closure: pause, give up `requestTimeout` after a request's first wait.
    static func waiter() -> (Int) -> Bool {
        var start: UInt64 = 0
        return { waits in
            let now = Clock.nanosecondsSinceBoot()
            if waits == 0 { start = now }
            if now &- start > requestTimeout { return false }
            hw_pause()
            return true
        }
    }

    static func report(_ text: String) {
        machine?.diagnostic("egg: " + text + "\n")
    }

    /// Before power-off: every volume written back to the host.
    static func synchronizeBeforeExit() {
        for v in volumes {
            if let e = v.synchronize() {
                report("volume \(String(decoding: v.guestPath, as: UTF8.self)): write-back failed (errno \(e.rawValue))")
            }
        }
    }
}
