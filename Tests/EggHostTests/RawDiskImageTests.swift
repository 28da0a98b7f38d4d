// RawDiskImageTests — the pure parts of `egg pack --format raw` (Sources/EggHost/
// RawDiskImage.swift): GUID encoding, CRC-32, the protective MBR, GPT headers and entries
// (read back and checked field by field, CRCs recomputed), the layout, and the patches to
// GRUB's boot.img and core.img that grub-bios-setup would make. Booting the images is
// Tests/integration/iso.sh.
import XCTest
@testable import EggHost

final class RawDiskImageTests: XCTestCase {
    func u32(_ b: [UInt8], _ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[o + $1]) << (8 * UInt32($1)) } }
    func u64(_ b: [UInt8], _ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[o + $1]) << (8 * UInt64($1)) } }

    func testGUIDsUseTheMixedEndianDiskForm() {
        // The ESP type as it appears on disk (UEFI 2.10 appendix A; what sgdisk writes).
        XCTAssertEqual(guidBytes(RawDisk.efiSystemType),
                       [0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B])
        XCTAssertEqual(guidBytes(RawDisk.biosBootType), Array("Hah!IdontNeedEFI".utf8), "the BIOS boot type's famous bytes")
        XCTAssertNil(guidBytes("C12A7328-F81F-11D2-BA4B"))
        XCTAssertNil(guidBytes("G12A7328-F81F-11D2-BA4B-00A0C93EC93B"))
    }

    func testCRC32MatchesTheIEEECheckValue() {
        XCTAssertEqual(crc32(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(crc32([]), 0)
    }

    func testLayoutAlignsPartitionsToMiB() {
        let layout = RawDiskLayout(coreImageBytes: 158_118, espBytes: 16 << 20)
        XCTAssertEqual(layout.biosBootFirst, 2048)
        XCTAssertEqual(layout.biosBootLast, 4095)
        XCTAssertEqual(layout.espFirst, 4096)
        XCTAssertEqual(layout.espLast, 4096 + 32768 - 1)
        XCTAssertEqual(layout.totalSectors, 38912, "ESP end rounded to a MiB, plus a MiB for the backup GPT")
        // A core.img over 1 MiB gets a bigger BIOS boot partition.
        let big = RawDiskLayout(coreImageBytes: (1 << 20) + 1, espBytes: 16 << 20)
        XCTAssertEqual(big.biosBootLast, 2048 + 4096 - 1)
        XCTAssertEqual(espSize(contentBytes: 1000), 16 << 20)
        XCTAssertEqual(espSize(contentBytes: 40 << 20), 47 << 20, "40 MiB + 1/8 + 2 MiB, whole MiB")
    }

    func testGPTHeadersEntriesAndProtectiveMBR() {
        let layout = RawDiskLayout(coreImageBytes: 100_000, espBytes: 16 << 20)
        let disk = [UInt8](repeating: 0x11, count: 16), a = [UInt8](repeating: 0x22, count: 16), b = [UInt8](repeating: 0x33, count: 16)
        let gpt = makeGPTDisk(totalSectors: layout.totalSectors, partitions: layout.partitions(biosUnique: a, espUnique: b), diskGUID: disk)
        XCTAssertEqual(gpt.primary.count, 34 * 512)
        XCTAssertEqual(gpt.backup.count, 33 * 512)
        // Protective MBR: one 0xEE partition from LBA 1 over the whole disk, signature.
        let mbr = Array(gpt.primary[0..<512])
        XCTAssertEqual(mbr[0x1BE + 4], 0xEE)
        XCTAssertEqual(mbr[0x1BE], 0, "not marked bootable (UEFI 2.10 §5.2.3)")
        XCTAssertEqual(u32(mbr, 0x1BE + 8), 1)
        XCTAssertEqual(u32(mbr, 0x1BE + 12), UInt32(layout.totalSectors - 1))
        XCTAssertEqual(Array(mbr[510...]), [0x55, 0xAA])
        XCTAssertEqual(Array(mbr[0x1CE..<0x1FE]), [UInt8](repeating: 0, count: 48), "the other three entries are empty")
        // Both headers: signature, positions, CRCs over header and entries.
        let entries = Array(gpt.primary[1024..<(34 * 512)])
        XCTAssertEqual(Array(gpt.backup[0..<(32 * 512)]), entries, "the backup entries are a copy")
        for (header, my, alternate, entryLBA) in [(Array(gpt.primary[512..<1024]), UInt64(1), layout.totalSectors - 1, UInt64(2)),
                                                 (Array(gpt.backup[(32 * 512)...]), layout.totalSectors - 1, UInt64(1), layout.totalSectors - 33)] {
            XCTAssertEqual(Array(header[0..<8]), Array("EFI PART".utf8))
            XCTAssertEqual(u32(header, 8), 0x10000)
            XCTAssertEqual(u32(header, 12), 92)
            var zeroed = Array(header[0..<92])
            zeroed[16] = 0; zeroed[17] = 0; zeroed[18] = 0; zeroed[19] = 0
            XCTAssertEqual(u32(header, 16), crc32(zeroed), "header CRC")
            XCTAssertEqual(u64(header, 24), my)
            XCTAssertEqual(u64(header, 32), alternate)
            XCTAssertEqual(u64(header, 40), 34)
            XCTAssertEqual(u64(header, 48), layout.totalSectors - 34)
            XCTAssertEqual(Array(header[56..<72]), disk)
            XCTAssertEqual(u64(header, 72), entryLBA)
            XCTAssertEqual([u32(header, 80), u32(header, 84)], [128, 128])
            XCTAssertEqual(u32(header, 88), crc32(entries), "entries CRC")
            XCTAssertEqual(Array(header[92...]), [UInt8](repeating: 0, count: 420))
        }
        // Entry 1: BIOS boot; entry 2: the ESP with its name in UTF-16LE; entry 3 empty.
        XCTAssertEqual(Array(entries[0..<16]), guidBytes(RawDisk.biosBootType))
        XCTAssertEqual(Array(entries[16..<32]), a)
        XCTAssertEqual([u64(entries, 32), u64(entries, 40)], [layout.biosBootFirst, layout.biosBootLast])
        XCTAssertEqual(Array(entries[128..<144]), guidBytes(RawDisk.efiSystemType))
        XCTAssertEqual([u64(entries, 160), u64(entries, 168)], [layout.espFirst, layout.espLast])
        XCTAssertEqual(Array(entries[128 + 56..<128 + 62]), [0x45, 0, 0x46, 0, 0x49, 0], "\"EFI\" in UTF-16LE")
        XCTAssertEqual(Array(entries[256..<384]), [UInt8](repeating: 0, count: 128))
    }

    func testGrubBootSectorAndCoreImagePatches() throws {
        var mbr = protectiveMBR(totalSectors: 40960)
        var boot = [UInt8](repeating: 0xCC, count: 512)
        boot[0x66] = 0xEB; boot[0x67] = 0x05
        try installGrubBootSector(into: &mbr, bootImage: boot, coreImageLBA: 2048)
        XCTAssertEqual(u64(mbr, 0x5C), 2048, "kernel sector")
        XCTAssertEqual([mbr[0x66], mbr[0x67]], [0x90, 0x90], "drive check replaced by NOPs")
        XCTAssertEqual(mbr[0], 0xCC)
        XCTAssertEqual(mbr[0x1BE + 4], 0xEE, "the partition table survives")
        XCTAssertEqual(Array(mbr[510...]), [0x55, 0xAA])
        XCTAssertThrowsError(try installGrubBootSector(into: &mbr, bootImage: [0], coreImageLBA: 1))

        // A 3-sector core.img as grub-mkimage leaves it: blocklist start 2, length 2, segment 0x820.
        var core = [UInt8](repeating: 0, count: 2 * 512 + 100)
        core[0x1F4] = 2; core[0x1FC] = 2; core[0x1FE] = 0x20; core[0x1FF] = 0x08
        core[0x1E8] = 0x77   // garbage where the terminator must be
        try patchGrubCoreImage(&core, firstLBA: 2048)
        XCTAssertEqual(u64(core, 0x1F4), 2049, "the rest of core.img follows its first sector")
        XCTAssertEqual(Int(core[0x1FC]) | Int(core[0x1FD]) << 8, 2)
        XCTAssertEqual(Array(core[0x1E8..<0x1F4]), [UInt8](repeating: 0, count: 12), "terminator")
        var odd = [UInt8](repeating: 0, count: 1024)
        XCTAssertThrowsError(try patchGrubCoreImage(&odd, firstLBA: 1)) { error in
            XCTAssertEqual(error as? GrubPatchError, .unexpectedBlocklist(segment: 0))
        }
    }

    func testWrittenDiskIsRecognizedAndSparse() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-raw-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("d.img").path
        let layout = RawDiskLayout(coreImageBytes: 512, espBytes: 1 << 20)
        let gpt = makeGPTDisk(totalSectors: layout.totalSectors, partitions: layout.partitions(biosUnique: randomGUID(), espUnique: randomGUID()),
                              diskGUID: randomGUID())
        try writeDisk(path: path, totalSectors: layout.totalSectors,
                      pieces: [(0, Data(gpt.primary)), (layout.espFirst, Data([1, 2, 3])), (layout.totalSectors - 33, Data(gpt.backup))])
        XCTAssertEqual(fileSize(path), Int(layout.totalSectors) * 512)
        XCTAssertTrue(isRawDiskImage(atPath: path))
        XCTAssertFalse(isISOImage(atPath: path))
        let bytes = Array(FileManager.default.contents(atPath: path)!)
        XCTAssertEqual(Array(bytes[Int(layout.espFirst) * 512..<Int(layout.espFirst) * 512 + 3]), [1, 2, 3])
        XCTAssertEqual(Array(bytes[(bytes.count - 512)..<(bytes.count - 504)]), Array("EFI PART".utf8), "backup header last")
        let elf = dir.appendingPathComponent("x").path
        FileManager.default.createFile(atPath: elf, contents: Data([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 600)))
        XCTAssertFalse(isRawDiskImage(atPath: elf))
    }

    func testRawImagesBootFromTheFirstHardDisk() {
        var c = ISOQEMUConfiguration(imagePath: "/x/app.img", controlPath: "/x/control")
        c.hardDisk = true
        let args = c.arguments.joined(separator: " ")
        XCTAssertTrue(args.contains("-drive file=/x/app.img,format=raw,if=ide,index=0,snapshot=on -boot c"), args)
        XCTAssertFalse(args.contains("media=cdrom"))
        c.hardDisk = false
        XCTAssertTrue(c.arguments.joined(separator: " ").contains("media=cdrom,readonly=on,if=ide,index=2 -boot d"))
    }
}
