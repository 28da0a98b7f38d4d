// VolumeOptionTests — `-v HOST_DIR:GUEST_PATH[:ro]` parsing, refusals, the kernel options
// and QEMU's -fsdev/-device arguments (Sources/EggHost/RunSettings.swift, QEMUCommand.swift).
import XCTest
@testable import EggHost

final class VolumeOptionTests: XCTestCase {
    let dirs: Set<String> = ["/srv/data", "/work/rel"]
    func parse(_ text: String) -> Result<VolumeMount, EggRefusal> {
        parseVolume(text, currentDirectory: "/work", isDirectory: { self.dirs.contains($0) })
    }

    func testAbsoluteRelativeAndModes() {
        XCTAssertEqual(try parse("/srv/data:/data").get(), VolumeMount(hostPath: "/srv/data", guestPath: "/data", readOnly: false))
        XCTAssertEqual(try parse("rel:/x/y/:ro").get(), VolumeMount(hostPath: "/work/rel", guestPath: "/x/y", readOnly: true))
        XCTAssertEqual(try parse("/srv/data://a//b:rw").get().guestPath, "/a/b")
    }

    func testRefusals() {
        func message(_ text: String) -> String {
            if case .failure(let e) = parse(text) { return e.message }
            return "accepted"
        }
        XCTAssertTrue(message("/nope:/data").contains("not an existing directory"))
        XCTAssertTrue(message("/srv/data:data").contains("must be absolute"))
        XCTAssertTrue(message("/srv/data:/data:rx").contains("unknown mode"))
        XCTAssertTrue(message("/srv/data:/").contains("root"))
        XCTAssertTrue(message("/srv/data:/a/../b").contains("plain absolute path"))
        XCTAssertTrue(message("/srv/data").contains("expected HOST_DIR:GUEST_PATH"))
        XCTAssertTrue(message(":/data").contains("expected HOST_DIR:GUEST_PATH"))
        if case .success = parseVolumes(["/srv/data:/d", "/work/rel:/d/"], currentDirectory: "/", isDirectory: { self.dirs.contains($0) }) {
            XCTFail("two volumes at one guest path accepted")
        }
    }

    func testKernelOptionsAndQEMUArguments() {
        let v = [VolumeMount(hostPath: "/srv/a,b", guestPath: "/data", readOnly: false),
                 VolumeMount(hostPath: "/srv/c", guestPath: "/ro", readOnly: true)]
        XCTAssertEqual(volumeKernelOptions(v), ["volume=egg.vol0:rw:/data", "volume=egg.vol1:ro:/ro"])
        var c = QEMUConfiguration(kernelPath: "k", bundlePath: "b", controlPath: "c")
        c.volumes = v
        let args = c.arguments.joined(separator: " ")
        XCTAssertTrue(args.contains("-fsdev local,id=vol0,path=/srv/a,,b,security_model=none -device virtio-9p-pci,fsdev=vol0,mount_tag=egg.vol0"))
        XCTAssertTrue(args.contains("-fsdev local,id=vol1,path=/srv/c,security_model=none,readonly=on"))
        XCTAssertFalse(QEMUConfiguration(kernelPath: "k", bundlePath: "b", controlPath: "c").arguments.contains("-fsdev"))
    }
}

final class ConsoleWindowSizeOptionTests: XCTestCase {
    func testTheTerminalSizeBecomesAKernelOption() {
        XCTAssertEqual(ConsoleMode(stdinIsTerminal: true, windowSize: (50, 132)).kernelOptions, ["winsize=50x132"])
        XCTAssertEqual(ConsoleMode(stdinIsTerminal: true).kernelOptions, [])
        XCTAssertEqual(ConsoleMode(stdinIsTerminal: false).kernelOptions, ["console=pipe"])
    }
}
