// ISOImageTests — the pure parts of `egg pack` and `egg run app.iso`
// (Sources/EggHost/ISOImage.swift, ISORun.swift): grub.cfg, the grub-mkrescue command,
// platform checks, ISO detection and the QEMU command line. Booting the images is
// Tests/integration/iso.sh.
import XCTest
import Foundation
@testable import EggHost

final class ISOImageTests: XCTestCase {
    func testGrubConfigurationBootsTheKernelWithTheBundleOnSerialAndScreen() {
        let cfg = grubConfiguration(title: "/hello")
        let lines = cfg.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertTrue(lines.contains("serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"))
        XCTAssertTrue(lines.contains("terminal_input serial console"))
        XCTAssertTrue(lines.contains("terminal_output serial console"))
        XCTAssertTrue(lines.contains("set timeout=0"))
        XCTAssertTrue(lines.contains("multiboot2 /boot/egg/kernel.elf"))
        XCTAssertTrue(lines.contains("module2 /boot/egg/bundle egg-bundle /hello"))
        // Order: the terminal type is set before the serial terminal starts (no escape
        // sequences on the guest's stdout), the module after the kernel, boot last.
        let index = { (prefix: String) in lines.firstIndex { $0.hasPrefix(prefix) } ?? -1 }
        XCTAssertLessThan(index("terminfo serial dumb"), index("terminal_output"))
        XCTAssertLessThan(index("multiboot2"), index("module2"))
        XCTAssertEqual(lines.last { !$0.isEmpty }, "boot")
        XCTAssertFalse(cfg.contains("menuentry"), "a menu entry makes GRUB print 'Booting' on the serial line")
    }

    func testGrubConfigurationTitleCannotInjectCommands() {
        let cfg = grubConfiguration(title: "/x\"\nreboot\n$y\\")
        XCTAssertFalse(cfg.contains("\nreboot"))
        XCTAssertFalse(cfg.contains("$y"))
    }

    func testGrubMkrescueTakesEveryInstalledPlatform() {
        let args = grubMkrescueArguments(output: "/tmp/a.iso", root: "/tmp/tree")
        XCTAssertEqual(args, ["--compress=xz", "-o", "/tmp/a.iso", "/tmp/tree"])
        XCTAssertFalse(args.contains("--directory"), "--directory would restrict the image to one platform")
    }

    func testMissingPlatformsNameTheirPackages() {
        let only = availableGrubPlatforms(grubLibrary: "/g", exists: { $0 == "/g/i386-pc/modinfo.sh" })
        XCTAssertEqual(only.found, ["/g/i386-pc"])
        XCTAssertEqual(only.missing.count, 1)
        XCTAssertTrue(only.missing[0].contains("grub-efi-amd64-bin"))
        XCTAssertTrue(only.missing[0].contains("UEFI"))
        let none = availableGrubPlatforms(grubLibrary: "/g", exists: { _ in false })
        XCTAssertTrue(none.found.isEmpty)
        XCTAssertTrue(none.missing[0].contains("grub-pc-bin"))
    }

    func testISODetectionLooksForTheVolumeDescriptor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("egg-iso-test-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var image = [UInt8](repeating: 0, count: 0x8800)
        image[0x8000] = 1
        image.replaceSubrange(0x8001..<0x8006, with: Array("CD001".utf8))
        let iso = dir.appendingPathComponent("a.iso").path
        let elf = dir.appendingPathComponent("a.elf").path
        XCTAssertTrue(FileManager.default.createFile(atPath: iso, contents: Data(image)))
        XCTAssertTrue(FileManager.default.createFile(atPath: elf, contents: Data([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 64))))
        XCTAssertTrue(isISOImage(atPath: iso))
        XCTAssertFalse(isISOImage(atPath: elf))
        XCTAssertFalse(isISOImage(atPath: dir.appendingPathComponent("missing").path))
    }

    func testImageQEMUCommandKeepsTheControlChannelAndAddsAScreen() {
        let args = ISOQEMUConfiguration(imagePath: "/i.iso", controlPath: "/c").arguments
        let joined = args.joined(separator: " ")
        XCTAssertTrue(joined.contains("-drive file=/i.iso,media=cdrom,readonly=on"))
        XCTAssertTrue(joined.contains("-device isa-debugcon,iobase=0xe9,chardev=control"))
        XCTAssertTrue(joined.contains("-device isa-debug-exit,iobase=0xf4,iosize=0x04"))
        XCTAssertTrue(joined.contains("-serial chardev:console"))
        XCTAssertTrue(joined.contains("-vga std"))
        XCTAssertFalse(args.contains("-kernel"))
        XCTAssertFalse(args.contains("-bios"))
        let uefi = ISOQEMUConfiguration(imagePath: "/i.iso", controlPath: "/c", uefiFirmware: "/OVMF.fd").arguments
        XCTAssertEqual(uefi[uefi.firstIndex(of: "-bios")! + 1], "/OVMF.fd")
        let micro = ISOQEMUConfiguration(imagePath: "/i.iso", controlPath: "/c", machine: .microvm).arguments
        XCTAssertEqual(micro[1], "pc", "microvm has no firmware to boot a CD-ROM")
    }
}
