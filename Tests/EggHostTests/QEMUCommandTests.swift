// QEMUCommandTests — the QEMU command line and where egg looks for the kernel (tests for
// Sources/EggHost/QEMUCommand.swift and KernelLocator.swift).

import EggHost
import XCTest

final class QEMUCommandTests: XCTestCase {
    let base = QEMUConfiguration(kernelPath: "/k/kernel.elf", bundlePath: "/t/bundle", controlPath: "/t/control")

    /// The value after `option`, for options given once.
    func value(_ args: [String], _ option: String) -> String? {
        guard let i = args.firstIndex(of: option), i + 1 < args.count else { return nil }
        return args[i + 1]
    }

    func testDefaultCommandLine() {
        let args = base.arguments
        XCTAssertEqual(value(args, "-M"), "pc")
        XCTAssertEqual(value(args, "-accel"), "tcg")
        XCTAssertEqual(value(args, "-cpu"), "max")
        XCTAssertEqual(value(args, "-m"), "256M")
        XCTAssertEqual(value(args, "-smp"), "1")
        XCTAssertEqual(value(args, "-kernel"), "/k/kernel.elf")
        XCTAssertEqual(value(args, "-initrd"), "/t/bundle")
        XCTAssertEqual(value(args, "-serial"), "chardev:console")
        XCTAssertTrue(args.contains("-nodefaults"))
        XCTAssertTrue(args.contains("-no-reboot"))
        XCTAssertTrue(args.contains("stdio,id=console"))
        XCTAssertTrue(args.contains("file,id=control,path=/t/control"))
        XCTAssertTrue(args.contains("isa-debugcon,iobase=0xe9,chardev=control"))
        XCTAssertTrue(args.contains("isa-debug-exit,iobase=0xf4,iosize=0x04"))
    }

    func testKVMMemorySMPAndMachine() {
        var c = base
        c.accelerator = .kvm
        c.memoryMiB = 1024
        c.cpus = 4
        c.machine = .q35
        let args = c.arguments
        XCTAssertEqual(value(args, "-accel"), "kvm")
        XCTAssertEqual(value(args, "-cpu"), "max,-arch-capabilities")
        XCTAssertEqual(value(args, "-m"), "1024M")
        XCTAssertEqual(value(args, "-smp"), "4")
        XCTAssertEqual(value(args, "-M"), "q35")
        c.machine = .microvm
        XCTAssertTrue(value(c.arguments, "-M")!.hasPrefix("microvm,"))
    }

    func testShellQuoting() {
        XCTAssertEqual(shellQuoted(["qemu", "-m", "256M", "a b", "it's", ""]), "qemu -m 256M 'a b' 'it'\\''s' ''")
    }

    // MARK: kernel lookup

    func testKernelOptionComesFirstAndMustExist() {
        let all: (String) -> Bool = { _ in true }
        XCTAssertEqual(locateKernel(option: "/x/k.elf", environmentValue: "/y/k.elf", executablePath: "/p/bin/egg", exists: all),
                       .success(KernelLocation(path: "/x/k.elf", source: "--kernel")))
        XCTAssertEqual(locateKernel(option: "/x/k.elf", environmentValue: nil, executablePath: "/p/bin/egg", exists: { _ in false }),
                       .failure(.kernelOptionMissing("/x/k.elf")))
    }

    func testEnvironmentThenInstalledThenBuildTree() {
        let files: Set<String> = ["/e/k.elf", "/opt/egg/share/egg/kernel.elf", "/repo/build/kernel/kernel.elf"]
        let exists: (String) -> Bool = { files.contains($0) }
        XCTAssertEqual(locateKernel(option: nil, environmentValue: "/e/k.elf", executablePath: "/opt/egg/bin/egg", exists: exists).map(\.path),
                       .success("/e/k.elf"))
        XCTAssertEqual(locateKernel(option: nil, environmentValue: nil, executablePath: "/opt/egg/bin/egg", exists: exists).map(\.path),
                       .success("/opt/egg/share/egg/kernel.elf"))
        XCTAssertEqual(locateKernel(option: nil, environmentValue: "", executablePath: "/repo/.build/release/egg", exists: exists).map(\.path),
                       .success("/repo/build/kernel/kernel.elf"))
        XCTAssertEqual(locateKernel(option: nil, environmentValue: "/missing", executablePath: "/opt/egg/bin/egg", exists: exists),
                       .failure(.kernelEnvironmentMissing("/missing")))
    }

    func testNoKernelSaysRunMakeKernel() {
        let result = locateKernel(option: nil, environmentValue: nil, executablePath: "/a/b/egg", exists: { _ in false })
        guard case .failure(let error) = result else { return XCTFail("found a kernel") }
        XCTAssertTrue(error.message.contains("make kernel"), error.message)
        XCTAssertTrue(error.message.contains("/a/share/egg/kernel.elf"), error.message)
    }

    // MARK: KVM probe cache

    func testProbeCacheKeepsOneLinePerKey() {
        var text = updatedCache("", with: ProbeCacheEntry(key: "k1", passed: false, detail: "no\texit"))
        text = updatedCache(text, with: ProbeCacheEntry(key: "k2", passed: true, detail: "exit 42"))
        text = updatedCache(text, with: ProbeCacheEntry(key: "k1", passed: true, detail: "exit 42"))
        XCTAssertEqual(text.split(separator: "\n").count, 2)
        XCTAssertEqual(cachedVerdict(in: text, key: "k1")?.passed, true)
        XCTAssertEqual(cachedVerdict(in: text, key: "k2")?.detail, "exit 42")
        XCTAssertNil(cachedVerdict(in: text, key: "k3"))
        XCTAssertNil(cachedVerdict(in: "garbage\nk3\tmaybe\tx\n", key: "k3"))
    }

    func testProbeCachePathFollowsXDG() {
        XCTAssertEqual(probeCachePath(environment: ["XDG_CACHE_HOME": "/c", "HOME": "/h"]), "/c/egg/kvm-probe")
        XCTAssertEqual(probeCachePath(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/h"]), "/h/.cache/egg/kvm-probe")
        XCTAssertNil(probeCachePath(environment: [:]))
    }
}
