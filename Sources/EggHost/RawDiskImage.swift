// RawDiskImage — `egg pack --format raw -o app.img ./bin`: a partitioned disk image that
// boots the egg kernel with the guest bundle on BIOS and UEFI machines (EggHost layer, host
// only). `dd` it to a USB stick, or boot it with `egg run app.img` (ISORun.swift).
//
// Layout (GPT, UEFI 2.10 §5.2-5.3; 512-byte sectors, partitions 1 MiB aligned):
//   LBA 0         protective MBR (one 0xEE entry) whose first 440 bytes are GRUB's boot.img
//   LBA 1-33      GPT header and 128 partition entries
//   partition 1   BIOS boot partition (21686148-6449-6E6F-744E-656564454649): GRUB's i386-pc
//                 core.img, raw, as grub-install embeds it on a GPT disk
//   partition 2   EFI system partition (C12A7328-F81F-11D2-BA4B-00A0C93EC93B), FAT made with
//                 mtools: EFI/BOOT/BOOTX64.EFI (GRUB x86_64-efi), boot/grub/grub.cfg (the
//                 ISO's, ISOImage.swift), boot/egg/kernel.elf, boot/egg/bundle
//   last 33 LBAs  backup entries and header
// Both GRUBs read grub.cfg from the ESP: core.img's prefix is "(,gpt2)/boot/grub" (the boot
// drive, partition 2), BOOTX64.EFI's "/boot/grub" (the device it was loaded from).
// boot.img and core.img are patched as grub-bios-setup does (util/setup.c): boot.img gets the
// LBA of core.img's first sector at 0x5C and its drive check (0x66) replaced by NOPs, the
// MBR keeps its partition table; core.img's first sector (diskboot.img) ends with a
// blocklist whose start becomes the LBA of core.img's second sector (grub-mkimage has
// filled in the length and the load segment 0x820).
// The pure parts (GUIDs, CRC-32, GPT and MBR bytes, GRUB patching, the layout) are tested in
// Tests/EggHostTests/RawDiskImageTests.swift; Tests/integration/iso.sh boots the images under
// SeaBIOS and OVMF.

import Foundation

// MARK: pure logic

public enum RawDisk {
    public static let sectorSize = 512
    /// Sectors per MiB: partitions start on MiB boundaries, as parted and sgdisk align them.
    public static let alignment: UInt64 = 2048
    public static let entryCount = 128
    public static let entrySize = 128
    /// Header (1) plus entries (128 × 128 bytes = 32 sectors).
    public static let gptSectors: UInt64 = 33

    public static let biosBootType = "21686148-6449-6E6F-744E-656564454649"
    public static let efiSystemType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
    /// Where GRUB's BIOS core finds its configuration: partition 2 of the boot drive.
    public static let biosPrefix = "(,gpt2)/boot/grub"
    public static let efiPrefix = "/boot/grub"
    public static let efiLoaderPath = "EFI/BOOT/BOOTX64.EFI"
    /// GRUB modules built into both images (the ESP carries no module directories).
    public static let grubModules = ["part_gpt", "fat", "normal", "multiboot2", "serial", "terminfo",
                                     "terminal", "all_video", "configfile", "test", "echo"]
    public static let biosModules = ["biosdisk"] + grubModules
}

/// A GUID in its on-disk form (UEFI 2.10 appendix A): the first three fields little-endian,
/// the last two as written. nil for text that is not 8-4-4-4-12 hexadecimal digits.
public func guidBytes(_ text: String) -> [UInt8]? {
    let groups = text.split(separator: "-", omittingEmptySubsequences: false)
    guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return nil }
    var fields: [[UInt8]] = []
    for g in groups {
        var bytes: [UInt8] = []
        var i = g.startIndex
        while i < g.endIndex {
            let j = g.index(i, offsetBy: 2)
            guard let b = UInt8(g[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        fields.append(bytes)
    }
    return fields[0].reversed() + fields[1].reversed() + fields[2].reversed() + fields[3] + fields[4]
}

/// CRC-32 as GPT uses it (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor ~0).
public func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

public func crc32(_ bytes: [UInt8]) -> UInt32 { crc32(bytes[...]) }

public struct GPTPartition: Equatable {
    public var type: [UInt8]
    public var unique: [UInt8]
    public var firstLBA: UInt64
    public var lastLBA: UInt64
    public var attributes: UInt64 = 0
    public var name: String

    public init(type: [UInt8], unique: [UInt8], firstLBA: UInt64, lastLBA: UInt64, attributes: UInt64 = 0, name: String) {
        self.type = type
        self.unique = unique
        self.firstLBA = firstLBA
        self.lastLBA = lastLBA
        self.attributes = attributes
        self.name = name
    }
}

struct LittleEndianWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt16(i)))) } }
    mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func pad(to count: Int) { if bytes.count < count { bytes += [UInt8](repeating: 0, count: count - bytes.count) } }
}

func store(_ value: UInt64, bytes count: Int, in buffer: inout [UInt8], at offset: Int) {
    for i in 0..<count { buffer[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
}

/// The protective MBR (UEFI 2.10 §5.2.3): one partition of type 0xEE from LBA 1 to the end
/// of the disk (capped at 2^32 - 1 sectors), not bootable, and the 0x55AA signature.
public func protectiveMBR(totalSectors: UInt64) -> [UInt8] {
    var mbr = [UInt8](repeating: 0, count: RawDisk.sectorSize)
    let entry = 0x1BE
    mbr[entry] = 0x00                                      // boot indicator
    mbr[entry + 1] = 0x00; mbr[entry + 2] = 0x02; mbr[entry + 3] = 0x00   // CHS of LBA 1
    mbr[entry + 4] = 0xEE                                  // GPT protective
    mbr[entry + 5] = 0xFF; mbr[entry + 6] = 0xFF; mbr[entry + 7] = 0xFF   // CHS: beyond reach
    store(1, bytes: 4, in: &mbr, at: entry + 8)
    store(min(totalSectors - 1, 0xFFFF_FFFF), bytes: 4, in: &mbr, at: entry + 12)
    mbr[510] = 0x55
    mbr[511] = 0xAA
    return mbr
}

/// The partition entry array (128 entries of 128 bytes, UEFI 2.10 §5.3.3).
public func gptEntries(_ partitions: [GPTPartition]) -> [UInt8] {
    var w = LittleEndianWriter()
    for p in partitions.prefix(RawDisk.entryCount) {
        let start = w.bytes.count
        w.raw(p.type)
        w.raw(p.unique)
        w.u64(p.firstLBA)
        w.u64(p.lastLBA)
        w.u64(p.attributes)
        for unit in p.name.utf16.prefix(36) { w.u16(unit) }  // UTF-16LE, 36 code units
        w.pad(to: start + RawDisk.entrySize)
    }
    w.pad(to: RawDisk.entryCount * RawDisk.entrySize)
    return w.bytes
}

/// A GPT header sector (UEFI 2.10 §5.3.2) with both CRCs.
public func gptHeader(myLBA: UInt64, alternateLBA: UInt64, totalSectors: UInt64, diskGUID: [UInt8],
                      entriesLBA: UInt64, entries: [UInt8]) -> [UInt8] {
    var w = LittleEndianWriter()
    w.raw(Array("EFI PART".utf8))
    w.u32(0x0001_0000)                              // revision 1.0
    w.u32(92)                                       // header size
    w.u32(0)                                        // header CRC32, filled in below
    w.u32(0)                                        // reserved
    w.u64(myLBA)
    w.u64(alternateLBA)
    w.u64(RawDisk.gptSectors + 1)                   // first usable LBA: 34
    w.u64(totalSectors - RawDisk.gptSectors - 1)    // last usable LBA
    w.raw(diskGUID)
    w.u64(entriesLBA)
    w.u32(UInt32(RawDisk.entryCount))
    w.u32(UInt32(RawDisk.entrySize))
    w.u32(crc32(entries))
    var header = w.bytes
    store(UInt64(crc32(header)), bytes: 4, in: &header, at: 16)
    header += [UInt8](repeating: 0, count: RawDisk.sectorSize - header.count)
    return header
}

/// Everything a raw image holds besides the partitions' contents.
public struct GPTDisk: Equatable {
    /// LBA 0 to 33: the protective MBR, the primary header, the entries.
    public var primary: [UInt8]
    /// The last 33 LBAs: the backup entries, then the backup header.
    public var backup: [UInt8]
}

public func makeGPTDisk(totalSectors: UInt64, partitions: [GPTPartition], diskGUID: [UInt8]) -> GPTDisk {
    let entries = gptEntries(partitions)
    let last = totalSectors - 1
    let primaryHeader = gptHeader(myLBA: 1, alternateLBA: last, totalSectors: totalSectors, diskGUID: diskGUID,
                                  entriesLBA: 2, entries: entries)
    let backupHeader = gptHeader(myLBA: last, alternateLBA: 1, totalSectors: totalSectors, diskGUID: diskGUID,
                                 entriesLBA: last - RawDisk.gptSectors + 1, entries: entries)
    return GPTDisk(primary: protectiveMBR(totalSectors: totalSectors) + primaryHeader + entries,
                   backup: entries + backupHeader)
}

/// Where everything goes, in sectors.
public struct RawDiskLayout: Equatable {
    public var biosBootFirst: UInt64
    public var biosBootLast: UInt64
    public var espFirst: UInt64
    public var espLast: UInt64
    public var totalSectors: UInt64

    /// `coreImageBytes`: GRUB's i386-pc core.img; `espBytes`: the FAT image.
    public init(coreImageBytes: Int, espBytes: Int) {
        func sectors(_ bytes: Int) -> UInt64 { UInt64((bytes + RawDisk.sectorSize - 1) / RawDisk.sectorSize) }
        func aligned(_ s: UInt64) -> UInt64 { (s + RawDisk.alignment - 1) / RawDisk.alignment * RawDisk.alignment }
        biosBootFirst = RawDisk.alignment
        biosBootLast = biosBootFirst + max(aligned(sectors(coreImageBytes)), RawDisk.alignment) - 1
        espFirst = biosBootLast + 1
        espLast = espFirst + sectors(espBytes) - 1
        // 1 MiB after the ESP holds the backup GPT (and keeps the size a whole MiB).
        totalSectors = aligned(espLast + 1) + RawDisk.alignment
    }

    public func partitions(biosUnique: [UInt8], espUnique: [UInt8]) -> [GPTPartition] {
        [GPTPartition(type: guidBytes(RawDisk.biosBootType)!, unique: biosUnique,
                      firstLBA: biosBootFirst, lastLBA: biosBootLast, name: "BIOS boot partition"),
         GPTPartition(type: guidBytes(RawDisk.efiSystemType)!, unique: espUnique,
                      firstLBA: espFirst, lastLBA: espLast, name: "EFI system partition")]
    }
}

public enum GrubPatchError: Error, Equatable {
    case bootImageSize(Int)
    case coreImageTooSmall(Int)
    case unexpectedBlocklist(segment: UInt16)
}

/// GRUB's boot.img as the MBR's code (grub-bios-setup): bytes 0..<440 from boot.img, the
/// rest (disk signature, partition table, 0x55AA) from `mbr`; the LBA of core.img at 0x5C;
/// the drive check at 0x66 replaced by two NOPs, as for any hard disk (BIOSes that pass a
/// wrong boot drive).
public func installGrubBootSector(into mbr: inout [UInt8], bootImage: [UInt8], coreImageLBA: UInt64) throws(GrubPatchError) {
    guard bootImage.count == RawDisk.sectorSize else { throw .bootImageSize(bootImage.count) }
    mbr.replaceSubrange(0..<440, with: bootImage[0..<440])
    store(coreImageLBA, bytes: 8, in: &mbr, at: 0x5C)   // GRUB_BOOT_MACHINE_KERNEL_SECTOR
    mbr[0x66] = 0x90                                    // GRUB_BOOT_MACHINE_DRIVE_CHECK
    mbr[0x67] = 0x90
}

/// core.img read from consecutive sectors starting at `firstLBA`: its first blocklist
/// (the 12 bytes before the end of the first sector: start u64, length u16, segment u16)
/// starts at the second sector; the entry below it stays the zero terminator.
public func patchGrubCoreImage(_ core: inout [UInt8], firstLBA: UInt64) throws(GrubPatchError) {
    guard core.count > RawDisk.sectorSize else { throw .coreImageTooSmall(core.count) }
    let list = RawDisk.sectorSize - 12
    let segment = UInt16(core[list + 10]) | UInt16(core[list + 11]) << 8
    guard segment == 0x820 else { throw .unexpectedBlocklist(segment: segment) }
    let remaining = UInt64((core.count + RawDisk.sectorSize - 1) / RawDisk.sectorSize - 1)
    store(firstLBA + 1, bytes: 8, in: &core, at: list)
    store(remaining, bytes: 2, in: &core, at: list + 8)
    for i in (list - 12)..<list { core[i] = 0 }
}

/// The ESP's size for `contentBytes` of files: room for FAT overhead and slack, whole MiB,
/// at least 16 MiB (FAT16 rather than FAT12, which some firmware dislikes on an ESP).
public func espSize(contentBytes: Int) -> Int {
    let wanted = contentBytes + contentBytes / 8 + (2 << 20)
    return max(16 << 20, (wanted + (1 << 20) - 1) / (1 << 20) * (1 << 20))
}

/// Whether `path` is a disk image with a GPT (the "EFI PART" signature at LBA 1) — what
/// `egg run` boots as a hard disk.
public func isRawDiskImage(atPath path: String) -> Bool {
    guard isRegularFile(atPath: path) else { return false }  // a FIFO would block the open
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    guard let bytes = try? handle.read(upToCount: 520), bytes.count == 520 else { return false }
    let b = Array(bytes)
    return b[510] == 0x55 && b[511] == 0xAA && Array(b[512..<520]) == Array("EFI PART".utf8)
}

// MARK: making the image

func randomGUID() -> [UInt8] { guidBytes(UUID().uuidString)! }

/// Runs a tool to completion (egg pack's grub-mkrescue, grub-mkimage, mtools); on failure
/// prints the command and its messages and returns false.
func runTool(_ program: String, _ arguments: [String], log: String, what: String) -> Bool {
    do {
        let child = try runChild(program: program, arguments: arguments, stdin: .null, discardStdout: true,
                                 stderrPath: log, timeout: 300)
        if child.exitCode == 0 { return true }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        complain("\(what) failed (\(child.exitCode.map { "status \($0)" } ?? "killed")): \(shellQuoted([program] + arguments))\n" + text)
    } catch {
        if case .failed(let text) = error { complain(text) }
    }
    return false
}

/// Runs `egg pack --format raw`; returns egg's exit status with every message printed.
public func packRawDisk(_ request: PackRequest) -> Int32 {
    let hostEnvironment = ProcessInfo.processInfo.environment
    let step = packStep
    let inputs: PackInputs
    switch preparePackInputs(request) {
    case .success(let prepared): inputs = prepared
    case .failure(let failure): return failure.status
    }

    // 4. The tools.
    var tools: [String: String] = [:]
    for (name, package) in [("grub-mkimage", "grub-common"), ("mformat", "mtools"), ("mmd", "mtools"), ("mcopy", "mtools")] {
        guard let found = findOnPath(name, environment: hostEnvironment) else {
            complain("\(name) not found on PATH: install \(package) (scripts/setup.sh does)")
            return EggStatus.eggFailure
        }
        tools[name] = found
    }
    let grubLibrary = hostEnvironment["EGG_GRUB_LIB"] ?? "/usr/lib/grub"
    let platforms = availableGrubPlatforms(grubLibrary: grubLibrary, exists: fileExists)
    guard !platforms.found.isEmpty else {
        complain("no GRUB platform files: " + platforms.missing.joined(separator: "; "))
        return EggStatus.eggFailure
    }
    for problem in platforms.missing { step("warning: \(problem); the image will not boot that way") }
    let biosDirectory = grubLibrary + "/i386-pc", efiDirectory = grubLibrary + "/x86_64-efi"
    let bios = platforms.found.contains(biosDirectory), efi = platforms.found.contains(efiDirectory)

    let staging: String
    do { staging = try makeStagingDirectory() } catch {
        complain("cannot create a temporary directory: \(error)")
        return EggStatus.eggFailure
    }
    defer { try? FileManager.default.removeItem(atPath: staging) }
    let log = staging + "/tool.log"

    // 5. GRUB for BIOS: core.img for the BIOS boot partition, boot.img for the MBR.
    var core: [UInt8] = [], bootImage: [UInt8] = []
    if bios {
        let corePath = staging + "/core.img"
        guard runTool(tools["grub-mkimage"]!, ["-O", "i386-pc", "-d", biosDirectory, "-o", corePath, "-p", RawDisk.biosPrefix]
                      + RawDisk.biosModules, log: log, what: "grub-mkimage (i386-pc)") else { return EggStatus.eggFailure }
        guard let c = FileManager.default.contents(atPath: corePath),
              let b = FileManager.default.contents(atPath: biosDirectory + "/boot.img") else {
            complain("cannot read GRUB's core.img or \(biosDirectory)/boot.img")
            return EggStatus.eggFailure
        }
        core = Array(c)
        bootImage = Array(b)
        step("grub-mkimage i386-pc: core.img \(describeSize(core.count)) for the BIOS boot partition, prefix \(RawDisk.biosPrefix)")
    }

    // 6. GRUB for UEFI, and the EFI system partition (FAT) with everything on it.
    let files = staging + "/files"
    do {
        let fm = FileManager.default
        try fm.createDirectory(atPath: files, withIntermediateDirectories: true)
        try fm.copyItem(atPath: inputs.kernel.path, toPath: files + "/kernel.elf")
        try Data(inputs.bundle).write(to: URL(fileURLWithPath: files + "/bundle"))
        try Data(grubConfiguration(title: inputs.guestPath).utf8).write(to: URL(fileURLWithPath: files + "/grub.cfg"))
    } catch {
        complain("cannot stage the image's files in \(files): \(error.localizedDescription)")
        return EggStatus.eggFailure
    }
    var efiBytes = 0
    if efi {
        guard runTool(tools["grub-mkimage"]!, ["-O", "x86_64-efi", "-d", efiDirectory, "-o", files + "/BOOTX64.EFI",
                                               "-p", RawDisk.efiPrefix] + RawDisk.grubModules,
                      log: log, what: "grub-mkimage (x86_64-efi)") else { return EggStatus.eggFailure }
        efiBytes = fileSize(files + "/BOOTX64.EFI")
        step("grub-mkimage x86_64-efi: \(RawDisk.efiLoaderPath) \(describeSize(efiBytes)), prefix \(RawDisk.efiPrefix)")
    }
    let content = efiBytes + inputs.bundle.count + fileSize(files + "/kernel.elf") + 4096
    let espBytes = espSize(contentBytes: content)
    let layout = RawDiskLayout(coreImageBytes: core.count, espBytes: espBytes)
    let esp = staging + "/esp.img"
    let image = "-i"
    guard runTool(tools["mformat"]!, ["-C", image, esp, "-T", String(espBytes / RawDisk.sectorSize), "-h", "64", "-s", "32",
                                      "-H", String(layout.espFirst), "-v", "EGG", "::"],
                  log: log, what: "mformat") else { return EggStatus.eggFailure }
    var directories = ["::/boot", "::/boot/grub", "::/boot/egg"]
    if efi { directories = ["::/EFI", "::/EFI/BOOT"] + directories }
    guard runTool(tools["mmd"]!, [image, esp] + directories, log: log, what: "mmd") else { return EggStatus.eggFailure }
    var copies = [("grub.cfg", "/" + ISOLayout.grubConfiguration), ("kernel.elf", "/" + ISOLayout.kernel),
                  ("bundle", "/" + ISOLayout.bundle)]
    if efi { copies.append(("BOOTX64.EFI", "/" + RawDisk.efiLoaderPath)) }
    for (name, target) in copies {
        guard runTool(tools["mcopy"]!, [image, esp, files + "/" + name, "::" + target], log: log, what: "mcopy") else {
            return EggStatus.eggFailure
        }
    }
    step("EFI system partition: FAT, \(describeSize(espBytes)): \(efi ? RawDisk.efiLoaderPath + ", " : "")/\(ISOLayout.grubConfiguration), /\(ISOLayout.kernel), /\(ISOLayout.bundle)")

    // 7. The partition table and GRUB's boot code, then the disk.
    var gpt = makeGPTDisk(totalSectors: layout.totalSectors,
                          partitions: layout.partitions(biosUnique: randomGUID(), espUnique: randomGUID()),
                          diskGUID: randomGUID())
    if bios {
        do throws(GrubPatchError) {
            var mbr = Array(gpt.primary[0..<RawDisk.sectorSize])
            try installGrubBootSector(into: &mbr, bootImage: bootImage, coreImageLBA: layout.biosBootFirst)
            gpt.primary.replaceSubrange(0..<RawDisk.sectorSize, with: mbr)
            try patchGrubCoreImage(&core, firstLBA: layout.biosBootFirst)
        } catch {
            complain("GRUB's boot images are not what egg expects (\(error)); is grub-pc-bin 2.x installed?")
            return EggStatus.eggFailure
        }
    }
    step("GPT: BIOS boot partition LBA \(layout.biosBootFirst)-\(layout.biosBootLast), EFI system partition LBA \(layout.espFirst)-\(layout.espLast)\(bios ? "; GRUB boot code in the protective MBR" : "")")
    guard let espData = FileManager.default.contents(atPath: esp) else {
        complain("cannot read the FAT image \(esp)")
        return EggStatus.eggFailure
    }
    do {
        try writeDisk(path: request.outputPath, totalSectors: layout.totalSectors, pieces: [
            (0, Data(gpt.primary)),
            (layout.biosBootFirst, Data(core)),
            (layout.espFirst, espData),
            (layout.totalSectors - RawDisk.gptSectors, Data(gpt.backup)),
        ])
    } catch {
        complain("cannot write \(request.outputPath): \(error.localizedDescription)")
        return EggStatus.eggFailure
    }
    let firmware = (bios ? ["BIOS"] : []) + (efi ? ["UEFI"] : [])
    step("wrote \(request.outputPath) (\(describeSize(Int(layout.totalSectors) * RawDisk.sectorSize)), GPT, \(firmware.joined(separator: " + "))); boot it with `egg run \(request.outputPath)` or dd it to a USB stick")
    return 0
}

func fileSize(_ path: String) -> Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
}

/// Writes the pieces at their sectors into a file of `totalSectors` (the gaps are holes).
func writeDisk(path: String, totalSectors: UInt64, pieces: [(UInt64, Data)]) throws {
    let fm = FileManager.default
    if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
    guard fm.createFile(atPath: path, contents: nil) else { throw CocoaError(.fileWriteNoPermission) }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    for (lba, data) in pieces where !data.isEmpty {
        try handle.seek(toOffset: lba * UInt64(RawDisk.sectorSize))
        try handle.write(contentsOf: data)
    }
    try handle.truncate(atOffset: totalSectors * UInt64(RawDisk.sectorSize))
}
